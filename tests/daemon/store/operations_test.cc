// What operators watch of a real store: the outbox's depth by state through
// every transition and a reopen, the disk the database takes, and the write
// probe — which fails, for real, when the process may no longer grow a file
// (RLIMIT_FSIZE: the kernel refuses the WAL's next write with EFBIG, as it
// would refuse a full disk's).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>

#include "store_fixture.h"

namespace congvan::store::testing {
namespace {

using congvan::testing::IsOk;
using congvan::testing::StatusIs;
using congvan::testing::TempDir;

MATCHER_P2(CountsAre, pending, failed,
           "has " + ::testing::PrintToString(pending) + " pending and " + ::testing::PrintToString(failed) +
               " failed entries") {
  if (!arg.ok()) {
    *result_listener << arg.status().ToString();
    return false;
  }
  *result_listener << arg->pending << " pending, " << arg->failed << " failed";
  return arg->pending == static_cast<uint64_t>(pending) && arg->failed == static_cast<uint64_t>(failed);
}

std::string EntryOf(Store& store, const std::string& message_id, const std::string& peer) {
  auto entries = store.ListOutbox(message_id);
  EXPECT_OK(entries);
  for (const OutboxEntry& e : entries.value_or(std::vector<OutboxEntry>{})) {
    if (e.peer == peer) return e.id;
  }
  ADD_FAILURE() << "no entry of " << message_id << " for " << peer;
  return "";
}

TEST(StoreOperations, CountsTheOutboxByStateThroughEveryTransitionAndAReopen) {
  TempDir dir;
  {
    auto store = OpenOrDie(OptionsIn(dir));
    ASSERT_NE(store, nullptr);
    EXPECT_THAT(store->CountOutbox(), CountsAre(0, 0));
    ASSERT_OK(store->Enqueue({Delivery("m-1", "p-1", {kCommuneA}), Delivery("m-1", "p-2", {kCommuneB}),
                              Delivery("m-2", "p-1", {kCommuneA})}));
    EXPECT_THAT(store->CountOutbox(), CountsAre(3, 0));
    // A retry stays pending; a failure moves one; a delivery removes one.
    ASSERT_OK(store->MarkRetry(EntryOf(*store, "m-1", "p-1"), T(60), "connection refused"));
    EXPECT_THAT(store->CountOutbox(), CountsAre(3, 0));
    ASSERT_OK(store->MarkFailed(EntryOf(*store, "m-1", "p-2"), "deadline passed"));
    EXPECT_THAT(store->CountOutbox(), CountsAre(2, 1));
    ASSERT_OK(store->MarkDelivered(EntryOf(*store, "m-2", "p-1"), {}));
    EXPECT_THAT(store->CountOutbox(), CountsAre(1, 1));
  }
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->CountOutbox(), CountsAre(1, 1));
  ASSERT_OK(store->Rearm(EntryOf(*store, "m-1", "p-2"), T(100), T(7200)));
  EXPECT_THAT(store->CountOutbox(), CountsAre(2, 0));
  // Documents, inbox entries and the audit log are not outbox entries.
  ASSERT_OK(IssueDoc(*store, 2025, {"doc"}, {kCommuneA}, "p-3"));
  EXPECT_THAT(store->CountOutbox(), CountsAre(3, 0));
}

TEST(StoreOperations, DiskUsageIsEveryFileOfTheDatabaseAndGrowsWithADocument) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(uint64_t empty, store->DiskUsage());
  uint64_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.File("db"))) {
    if (entry.is_regular_file()) files += entry.file_size();
  }
  EXPECT_EQ(empty, files);
  EXPECT_GT(empty, 0u);  // a new database has its MANIFEST, OPTIONS and WAL already

  const std::string part(3 << 20, 'x');  // through the WAL (below wal_bypass_bytes)
  ASSERT_OK(IssueDoc(*store, 2025, {part}));
  ASSERT_OK_AND_ASSIGN(uint64_t after, store->DiskUsage());
  EXPECT_GE(after, empty + part.size());
}

TEST(StoreOperations, TheProbeWritesAndReadsBackWithoutTouchingAnyRecord) {
  TempDir dir;
  {
    auto store = OpenOrDie(OptionsIn(dir));
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 3; ++i) EXPECT_OK(store->Probe());
    EXPECT_THAT(store->CountOutbox(), CountsAre(0, 0));
    EXPECT_EQ(store->LogSize(), 0u);
    EXPECT_THAT(store->PendingEvents(), ::congvan::testing::IsOkAndHolds(0u));
  }
  auto store = OpenOrDie(OptionsIn(dir));  // a database that was probed opens as any other
  ASSERT_NE(store, nullptr);
  EXPECT_OK(store->Probe());
  EXPECT_TRUE(store->log_damage().empty());
}

// In a child process (a death test forks): the limit and the broken store
// stay there.
void ProbeWithAFileSizeLimit(const std::string& path) {
  StoreOptions options;
  options.path = path;
  auto store = Store::Open(options);
  if (!store.ok() || !(*store)->Probe().ok()) _exit(10);
  // A WAL larger than every other file, then a limit at its size: the WAL's
  // next write fails, while RocksDB's own log (which asserts on a second
  // failed write of its own) still has room to say so.
  if (!IssueDoc(**store, 2025, {std::string(2 << 20, 'x')}).ok()) _exit(11);
  uintmax_t wal = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() == ".log") wal = std::max(wal, entry.file_size());
  }
  signal(SIGXFSZ, SIG_IGN);  // the write fails with EFBIG instead of killing the process
  const rlimit limit{wal, wal};
  if (wal < (2 << 20) || setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(12);
  const absl::Status probed = (*store)->Probe();
  if (probed.code() != absl::StatusCode::kUnavailable && probed.code() != absl::StatusCode::kResourceExhausted) {
    _exit(13);
  }
  // A state change fails the same way: the probe tells the truth about them.
  const absl::Status queued = (*store)->Enqueue({Delivery("m-1", "p-1", {kCommuneA})});
  _exit(queued.ok() ? 14 : 0);
}

using StoreOperationsDeathTest = ::testing::Test;

TEST_F(StoreOperationsDeathTest, TheProbeFailsWhenTheStoreCannotWrite) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir dir;
  EXPECT_EXIT(ProbeWithAFileSizeLimit(dir.File("db")), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace congvan::store::testing
