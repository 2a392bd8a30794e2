// A store whose disk fills, for real: the database lives on a small tmpfs
// (testing/small_disk.h), a filler file takes the rest of its space, and the
// kernel answers the WAL's writes with ENOSPC. The store refuses the write
// that does not fit with RESOURCE_EXHAUSTED, keeps everything it acknowledged
// before, and writes again by itself once the filler is gone — the same
// Store object, never reopened.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <thread>

#include "store_fixture.h"
#include "testing/small_disk.h"

namespace congvan::store::testing {
namespace {

using congvan::testing::IsOk;
using congvan::testing::SmallDisk;
using congvan::testing::StatusIs;
using congvan::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr uint64_t kDiskBytes = 48 << 20;
// How long the store may take to notice that space came back (RocksDB's
// SstFileManager looks every 5 s).
constexpr auto kRecoveryWindow = std::chrono::seconds(30);

// The node's tuning (node.cc): a 16 MiB memtable budget.
StoreOptions OptionsOn(const SmallDisk& disk) {
  StoreOptions o;
  o.path = disk.File("db");
  o.memtable_budget = size_t{16} << 20;
  return o;
}

std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string s(size, '\0');
  for (char& c : s) c = static_cast<char>(gen());
  return s;
}

std::string ReadWhole(Store& store, const std::string& message_id) {
  std::string out;
  const absl::Status read = store.ReadPart(message_id, 0, [&](std::string_view chunk) {
    out.append(chunk);
    return absl::OkStatus();
  });
  EXPECT_OK(read) << message_id;
  return out;
}

// Probes until the store writes again; false when the window passes first.
bool WritesAgainWithin(Store& store, std::chrono::seconds window) {
  const auto until = std::chrono::steady_clock::now() + window;
  while (std::chrono::steady_clock::now() < until) {
    if (store.Probe().ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

struct Issued {
  std::string message_id;
  std::string part;
};

TEST(StoreDiskFull, RefusesWhatDoesNotFitKeepsWhatItAcknowledgedAndWritesAgainWhenSpaceReturns) {
  TempDir dir;
  SmallDisk disk(dir.File("disk"), kDiskBytes);
  if (!disk.mounted()) GTEST_SKIP() << disk.why();
  std::vector<Issued> issued;
  {
    auto store = OpenOrDie(OptionsOn(disk));
    ASSERT_NE(store, nullptr);
    ASSERT_OK(disk.FillLeaving(3 << 20));

    // Documents of 256 KiB (random: nothing compresses them) until one does
    // not fit.
    absl::Status refused;
    for (uint32_t i = 0; i < 200 && refused.ok(); ++i) {
      std::string part = RandomBytes(256 << 10, i);
      absl::StatusOr<IssueResult> result = IssueDoc(*store, 2025, {part});
      if (!result.ok()) {
        refused = result.status();
        break;
      }
      EXPECT_EQ(result->number, issued.size() + 1);
      issued.push_back({result->message_id, std::move(part)});
    }
    ASSERT_FALSE(refused.ok()) << "3 MiB took 200 documents of 256 KiB";
    ASSERT_FALSE(issued.empty());
    EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted,
                                  AllOf(HasSubstr("disk is full"), HasSubstr("nothing was stored"),
                                        HasSubstr(disk.File("db")))));

    // Full: every change is refused the same way, and health says so.
    EXPECT_THAT(store->Probe(), StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_THAT(store->Enqueue({Delivery("m-full", kProvince, {kCommuneA})}),
                StatusIs(absl::StatusCode::kResourceExhausted));
    // ... and nothing acknowledged is lost, nor any number skipped.
    EXPECT_THAT(store->LastNumber(kSender, 2025), ::congvan::testing::IsOkAndHolds(issued.size()));
    for (const Issued& doc : issued) {
      ASSERT_OK(store->GetMessage(doc.message_id));
      EXPECT_EQ(ReadWhole(*store, doc.message_id), doc.part) << doc.message_id;
    }

    // Space returns: the same store writes again, with no reopen.
    disk.Free();
    ASSERT_TRUE(WritesAgainWithin(*store, kRecoveryWindow));
    std::string part = RandomBytes(256 << 10, 1000);
    ASSERT_OK_AND_ASSIGN(IssueResult next, IssueDoc(*store, 2025, {part}));
    EXPECT_EQ(next.number, issued.size() + 1);  // the refused one took no number
    issued.push_back({next.message_id, std::move(part)});
    EXPECT_OK(store->Enqueue({Delivery("m-after", kProvince, {kCommuneA})}));
    // RocksDB's own log said what happened, on the full disk (its lines, and
    // its failures to write them, never stop the process).
    EXPECT_THAT(congvan::testing::ReadTestFile(disk.File("db/LOG")), HasSubstr("No space left on device"));
  }

  // Everything acknowledged, before the disk filled and after, survives a
  // reopen: the WAL the failed write left behind hides nothing.
  auto store = OpenOrDie(OptionsOn(disk));
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->log_damage().empty()) << store->log_damage().ToString();
  EXPECT_THAT(store->LastNumber(kSender, 2025), ::congvan::testing::IsOkAndHolds(issued.size()));
  for (const Issued& doc : issued) EXPECT_EQ(ReadWhole(*store, doc.message_id), doc.part) << doc.message_id;
  ASSERT_OK_AND_ASSIGN(PartsUsage usage, store->Usage());
  EXPECT_EQ(usage.pending_uploads, 0u);
}

// A document larger than the space left, written past the WAL (as a large
// document is, wal_bypass_bytes) so that the flush of its blob files is what
// finds the disk full: the upload fails, its own delete fails too, and the
// store still gives the space back once it writes again — not only at the
// next reopen.
TEST(StoreDiskFull, ALargeDocumentThatDoesNotFitLeavesNothingBehindOnceSpaceReturns) {
  TempDir dir;
  SmallDisk disk(dir.File("disk"), kDiskBytes);
  if (!disk.mounted()) GTEST_SKIP() << disk.why();
  StoreOptions options = OptionsOn(disk);
  options.wal_bypass_bytes = size_t{1} << 20;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  ASSERT_OK(IssueDoc(*store, 2025, {"a small one first"}));
  ASSERT_OK(disk.FillLeaving(3 << 20));

  absl::Status refused;
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Upload> upload, store->BeginUpload());
    const std::string piece = RandomBytes(256 << 10, 7);
    for (int i = 0; i < 40 && refused.ok(); ++i) refused = upload->Append(0, piece);  // 10 MiB
    if (refused.ok()) refused = upload->Finish(1).status();
  }  // the upload's destructor cannot delete what it wrote either
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("disk is full")));
  EXPECT_THAT(store->Probe(), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_OK(store->GetMessage("msg-2025-1"));

  disk.Free();
  ASSERT_TRUE(WritesAgainWithin(*store, kRecoveryWindow));
  ASSERT_OK_AND_ASSIGN(PartsUsage usage, store->Usage());
  EXPECT_EQ(usage.pending_uploads, 0u);
  EXPECT_EQ(usage.chunks, 1u);  // the small document's
  ASSERT_OK_AND_ASSIGN(IssueResult next, IssueDoc(*store, 2025, {"and one after"}));
  EXPECT_EQ(next.number, 2u);
}

}  // namespace
}  // namespace congvan::store::testing
