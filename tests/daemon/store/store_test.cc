// Opening the store: options, storage errors as absl::Status.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "rocksdb/db.h"
#include "store_fixture.h"

namespace congvan::store::testing {
namespace {

using congvan::testing::IsOk;
using congvan::testing::StatusIs;
using congvan::testing::TempDir;

TEST(StoreOpen, RefusesOptionsWithoutAPathOrWithZeroSizes) {
  EXPECT_THAT(Store::Open(StoreOptions{}), StatusIs(absl::StatusCode::kInvalidArgument));
  TempDir dir;
  StoreOptions o = OptionsIn(dir);
  o.chunk_size = 0;
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(StoreOpen, SecondOpenOfTheSameDatabaseIsUnavailable) {
  TempDir dir;
  auto first = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(first, nullptr);
  EXPECT_THAT(Store::Open(OptionsIn(dir)), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(StoreOpen, DamagedManifestIsDataLoss) {
  TempDir dir;
  StoreOptions o = OptionsIn(dir);
  {
    auto store = OpenOrDie(o);
    ASSERT_NE(store, nullptr);
    ASSERT_OK(IssueDoc(*store, 2025, {"doc"}));
  }
  for (const auto& entry : std::filesystem::directory_iterator(o.path)) {
    if (entry.path().filename().string().rfind("MANIFEST-", 0) == 0) {
      congvan::testing::WriteTestFile(entry.path().string(), std::string(200, '\x5a'));
    }
  }
  EXPECT_THAT(Store::Open(o), StatusIs(absl::StatusCode::kDataLoss));
}

// A later version may add a column family; this one must still open the
// database (RocksDB refuses an open that does not name every CF).
TEST(StoreOpen, ReopensADatabaseWithAColumnFamilyItDoesNotKnow) {
  TempDir dir;
  StoreOptions o = OptionsIn(dir);
  {
    auto store = OpenOrDie(o);
    ASSERT_NE(store, nullptr);
    ASSERT_OK(IssueDoc(*store, 2025, {"doc"}));
  }
  {
    rocksdb::DBOptions options;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(options, o.path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const std::string& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, o.path, cfs, &handles, &db).ok());
    rocksdb::ColumnFamilyHandle* future = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "future", &future).ok());
    handles.push_back(future);
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  auto store = OpenOrDie(o);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->HasMessage("msg-2025-1").value_or(false), true);
}

TEST(StoreOpen, MalformedIdsAreInvalidArgumentNotStorageErrors) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->GetMessage(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->GetMessage(std::string(129, 'a')), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->ListInbox(InboxQuery{std::string("a\0b", 3)}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->MarkRetry("no-separator", T(0), "x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->GetMessage("unknown"), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace congvan::store::testing
