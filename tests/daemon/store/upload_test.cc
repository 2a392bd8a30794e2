// Uploads: streaming part data in, hashing it, reading it back, and the
// deletion of uploads that are never committed.
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "store_fixture.h"

namespace congvan::store::testing {
namespace {

using congvan::testing::IsOk;
using congvan::testing::StatusIs;
using congvan::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::Field;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen());
  return s;
}

// Small chunks and batches so that a few KiB cross many chunk and batch
// boundaries.
StoreOptions SmallChunks(const TempDir& dir) {
  StoreOptions o = OptionsIn(dir);
  o.chunk_size = 1000;
  o.flush_bytes = 5000;
  return o;
}

TEST(StoreUpload, MultiPartDocumentRoundTripsByteForByteInChunks) {
  TempDir dir;
  auto store = OpenOrDie(SmallChunks(dir));
  ASSERT_NE(store, nullptr);
  // Part 1 is empty (no chunk ever arrives for it); part 2 ends on a chunk
  // boundary; pieces of 777 bytes straddle the 1000-byte chunks.
  std::vector<std::string> parts = {RandomBytes(23456, 1), "", RandomBytes(5000, 2), "x"};
  std::unique_ptr<Upload> upload = Uploaded(*store, parts, 777);
  ASSERT_NE(upload, nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<PartDigest> digests, upload->Finish(4));  // idempotent
  ASSERT_EQ(digests.size(), 4u);
  for (size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(digests[i].size, parts[i].size()) << i;
    EXPECT_EQ(digests[i].sha256, signer::Sha256(parts[i])) << i;
  }
  EXPECT_EQ(upload->bytes(), 23456u + 5000u + 1u);

  ASSERT_OK_AND_ASSIGN(IssueResult issued,
                       store->Issue(IssueRequest{kSender, 2025, upload.get(), T(0)},
                                    [&](uint64_t n) -> absl::StatusOr<IssuedDocument> {
                                      IssuedDocument d;
                                      d.document = Sealed(Header("m-1", kSender, 2025, n, {kCommuneA}, digests));
                                      return d;
                                    }));
  ASSERT_OK_AND_ASSIGN(StoredMessage message, store->GetMessage(issued.message_id));
  ASSERT_EQ(message.parts.size(), 4u);
  EXPECT_TRUE(message.issued_here);
  for (uint32_t i = 0; i < parts.size(); ++i) {
    std::string back;
    size_t chunks = 0;
    ASSERT_OK(store->ReadPart("m-1", i, [&](std::string_view chunk) {
      EXPECT_LE(chunk.size(), 1000u);
      back.append(chunk);
      ++chunks;
      return absl::OkStatus();
    }));
    EXPECT_EQ(back, parts[i]) << i;
    EXPECT_EQ(chunks, (parts[i].size() + 999) / 1000) << i;
  }
  ASSERT_OK_AND_ASSIGN(PartsUsage usage, store->Usage());
  EXPECT_EQ(usage.pending_uploads, 0u);
  EXPECT_EQ(usage.bytes, 23456u + 5000u + 1u);
}

TEST(StoreUpload, SmallUploadIsWrittenOnlyWithItsCommit) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));  // flush_bytes 4 MiB
  ASSERT_NE(store, nullptr);
  std::unique_ptr<Upload> upload = Uploaded(*store, {RandomBytes(100000, 8)});
  ASSERT_OK_AND_ASSIGN(PartsUsage before, store->Usage());
  EXPECT_EQ(before.chunks, 0u);
  EXPECT_EQ(before.pending_uploads, 0u);
  ASSERT_OK(store->Issue(IssueRequest{kSender, 2025, upload.get(), T(0)},
                         [&](uint64_t n) -> absl::StatusOr<IssuedDocument> {
                           IssuedDocument d;
                           d.document = Sealed(Header("m-s", kSender, 2025, n, {kCommuneA},
                                                      DigestsOf({RandomBytes(100000, 8)})));
                           return d;
                         }));
  ASSERT_OK_AND_ASSIGN(PartsUsage after, store->Usage());
  EXPECT_EQ(after.bytes, 100000u);
  EXPECT_EQ(after.pending_uploads, 0u);
}

TEST(StoreUpload, ReadPartStopsAtTheSinksError) {
  TempDir dir;
  auto store = OpenOrDie(SmallChunks(dir));
  ASSERT_NE(store, nullptr);
  std::vector<std::string> parts = {RandomBytes(5000, 3)};
  ASSERT_OK(IssueDoc(*store, 2025, parts));
  int calls = 0;
  EXPECT_THAT(store->ReadPart("msg-2025-1", 0,
                              [&](std::string_view) {
                                ++calls;
                                return absl::CancelledError("client went away");
                              }),
              StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(calls, 1);
  EXPECT_THAT(store->ReadPart("msg-2025-1", 1, [](std::string_view) { return absl::OkStatus(); }),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(StoreUpload, AbortedUploadLeavesNoPartData) {
  TempDir dir;
  auto store = OpenOrDie(SmallChunks(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Upload> upload, store->BeginUpload());
  ASSERT_OK(upload->Append(0, RandomBytes(20000, 4)));
  ASSERT_OK_AND_ASSIGN(PartsUsage during, store->Usage());
  EXPECT_EQ(during.pending_uploads, 1u);
  EXPECT_GT(during.chunks, 0u);
  ASSERT_OK(upload->Abort());
  EXPECT_THAT(upload->Append(0, "more"), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(PartsUsage after, store->Usage());
  EXPECT_EQ(after.pending_uploads, 0u);
  EXPECT_EQ(after.chunks, 0u);
  EXPECT_EQ(after.bytes, 0u);
}

TEST(StoreUpload, DestroyedUploadLeavesNoPartData) {
  TempDir dir;
  auto store = OpenOrDie(SmallChunks(dir));
  ASSERT_NE(store, nullptr);
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Upload> upload, store->BeginUpload());
    ASSERT_OK(upload->Append(0, RandomBytes(9000, 5)));
    ASSERT_OK(upload->Finish(1));
  }
  ASSERT_OK_AND_ASSIGN(PartsUsage after, store->Usage());
  EXPECT_EQ(after.pending_uploads, 0u);
  EXPECT_EQ(after.chunks, 0u);
}

TEST(StoreUpload, UncommittedUploadIsDeletedAtReopen) {
  TempDir dir;
  StoreOptions options = SmallChunks(dir);
  {
    auto store = OpenOrDie(options);
    ASSERT_NE(store, nullptr);
    ASSERT_OK(IssueDoc(*store, 2025, {RandomBytes(3000, 6)}));  // committed: stays
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Upload> upload, store->BeginUpload());
    ASSERT_OK(upload->Append(0, RandomBytes(20000, 7)));
    // The process "vanishes": the upload is neither committed nor aborted.
    // Leaking it skips its destructor, as a crash would; LeakSanitizer is
    // told the leak is meant (tests/sanitize/run.sh asan).
    Upload* vanished = upload.release();
#if defined(__SANITIZE_ADDRESS__)
    __lsan_ignore_object(vanished);
#else
    (void)vanished;
#endif
  }
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(PartsUsage usage, store->Usage());
  EXPECT_EQ(usage.pending_uploads, 0u);
  EXPECT_EQ(usage.bytes, 3000u);
  std::string back;
  ASSERT_OK(store->ReadPart("msg-2025-1", 0, [&](std::string_view c) {
    back.append(c);
    return absl::OkStatus();
  }));
  EXPECT_EQ(back, RandomBytes(3000, 6));
}

TEST(StoreUpload, PartsGoingBackAreRejected) {
  TempDir dir;
  auto store = OpenOrDie(SmallChunks(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Upload> upload, store->BeginUpload());
  ASSERT_OK(upload->Append(1, "b"));
  EXPECT_THAT(upload->Append(0, "a"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(upload->Finish(1), StatusIs(absl::StatusCode::kInvalidArgument));  // part 1 of 1?
  ASSERT_OK_AND_ASSIGN(std::vector<PartDigest> digests, upload->Finish(2));
  EXPECT_THAT(digests, ElementsAre(Field(&PartDigest::size, 0u), Field(&PartDigest::size, 1u)));
}

TEST(StoreUpload, CommitRejectsPartsThatDoNotMatchTheHeader) {
  TempDir dir;
  auto store = OpenOrDie(SmallChunks(dir));
  ASSERT_NE(store, nullptr);
  std::unique_ptr<Upload> upload = Uploaded(*store, {"the real bytes"});
  std::vector<PartDigest> claimed = DigestsOf({"other bytes"});
  EXPECT_THAT(store->Issue(IssueRequest{kSender, 2025, upload.get(), T(0)},
                           [&](uint64_t n) -> absl::StatusOr<IssuedDocument> {
                             IssuedDocument d;
                             d.document = Sealed(Header("m-x", kSender, 2025, n, {kCommuneA}, claimed));
                             return d;
                           }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(store->LastNumber(kSender, 2025).value_or(99), 0u);
  EXPECT_EQ(store->HasMessage("m-x").value_or(true), false);
}

}  // namespace
}  // namespace congvan::store::testing
