// The audit log in the store: events written with their state changes,
// integrated into the Merkle tree, proven, kept across restarts, and a log
// changed behind the store's back found at the next Open.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "congvan/audit/merkle.h"
#include "rocksdb/db.h"
#include "store_fixture.h"

namespace congvan::store::testing {
namespace {

using congvan::testing::IsOk;
using congvan::testing::IsOkAndHolds;
using congvan::testing::StatusIs;
using congvan::testing::TempDir;
using ::testing::ElementsAre;

congvan::v1::AuditEvent Rejected(int i) {
  congvan::v1::AuditEvent e;
  e.set_kind(congvan::v1::AUDIT_EVENT_REJECTED);
  e.set_agency(kCommuneA);
  e.set_detail("bad input " + std::to_string(i));
  return e;
}

congvan::v1::AuditEvent EventAt(Store& store, uint64_t index) {
  auto proof = store.ProveInclusion(index, store.LogSize());
  EXPECT_THAT(proof, IsOk());
  congvan::v1::AuditEvent e;
  if (proof.ok()) EXPECT_TRUE(e.ParseFromString(proof->event()));
  return e;
}

TEST(StoreLog, AnIssuedDocumentIsLoggedInTheSameWriteAndIntegratedLater) {
  TempDir dir;
  StoreOptions options = OptionsIn(dir);
  options.now = [] { return T(42); };
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  ASSERT_OK(IssueDoc(*store, 2025, {"doc"}, {kCommuneA, kCommuneB}));
  EXPECT_THAT(store->PendingEvents(), IsOkAndHolds(1u));
  EXPECT_EQ(store->LogSize(), 0u);

  EXPECT_THAT(store->IntegrateLog(), IsOkAndHolds(1u));
  EXPECT_EQ(store->LogSize(), 1u);
  EXPECT_THAT(store->PendingEvents(), IsOkAndHolds(0u));
  EXPECT_THAT(store->MessageEvents("msg-2025-1"), IsOkAndHolds(ElementsAre(0u)));
  congvan::v1::AuditEvent issued = EventAt(*store, 0);
  EXPECT_EQ(issued.kind(), congvan::v1::AUDIT_EVENT_ISSUED);
  EXPECT_EQ(issued.agency(), kSender);
  EXPECT_THAT(issued.recipients(), ElementsAre(kCommuneA, kCommuneB));
  ASSERT_OK_AND_ASSIGN(StoredMessage message, store->GetMessage("msg-2025-1"));
  EXPECT_EQ(issued.body_sha256(), signer::Sha256(message.document.document().body()));
  EXPECT_EQ(issued.signature_sha256(), signer::Sha256(message.document.document().seal_signature()));
}

TEST(StoreLog, DeliveriesAndAnswersOfAMessageAreItsEvents) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK(IssueDoc(*store, 2025, {"doc"}, {kCommuneA}));
  ASSERT_OK(store->RecordEvent(Rejected(1)));  // not the message's
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> due, store->ListDue(T(0), 10));
  ASSERT_EQ(due.size(), 1u);
  ASSERT_OK(store->MarkDelivered(due[0].id, {Receipt("msg-2025-1", kCommuneA)}));
  ASSERT_OK(store->IntegrateLog());

  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> events, store->MessageEvents("msg-2025-1"));
  std::vector<congvan::v1::AuditEventKind> kinds;
  for (uint64_t i : events) kinds.push_back(EventAt(*store, i).kind());
  EXPECT_THAT(kinds, ::testing::UnorderedElementsAre(congvan::v1::AUDIT_EVENT_ISSUED,
                                                     congvan::v1::AUDIT_EVENT_FORWARDED,
                                                     congvan::v1::AUDIT_EVENT_ANSWER));
  for (uint64_t i : events) {
    congvan::v1::AuditEvent e = EventAt(*store, i);
    if (e.kind() == congvan::v1::AUDIT_EVENT_FORWARDED) EXPECT_EQ(e.agency(), kProvince);
    if (e.kind() == congvan::v1::AUDIT_EVENT_ANSWER) {
      EXPECT_EQ(e.agency(), kCommuneA);
      EXPECT_EQ(e.code(), congvan::v1::STATUS_CODE_ARRIVED);
      EXPECT_EQ(e.body_sha256(), signer::Sha256(Receipt("msg-2025-1", kCommuneA).answer.signed_().body()));
    }
  }
}

TEST(StoreLog, EveryInclusionAndConsistencyProofVerifies) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  std::vector<uint64_t> sizes;
  for (int batch = 0; batch < 6; ++batch) {
    for (int i = 0; i <= batch * 3; ++i) ASSERT_OK(store->RecordEvent(Rejected(batch * 100 + i)));
    ASSERT_OK(store->IntegrateLog());
    sizes.push_back(store->LogSize());
  }
  const uint64_t size = store->LogSize();
  ASSERT_EQ(size, 51u);
  ASSERT_OK_AND_ASSIGN(std::string root, store->LogRoot(size));
  for (uint64_t i = 0; i < size; ++i) {
    ASSERT_OK_AND_ASSIGN(congvan::v1::InclusionProof p, store->ProveInclusion(i, size));
    std::vector<std::string> path(p.hashes().begin(), p.hashes().end());
    EXPECT_OK(audit::VerifyInclusion(i, size, audit::LeafHash(p.event()), path, root)) << i;
  }
  for (uint64_t old_size : sizes) {
    ASSERT_OK_AND_ASSIGN(std::string old_root, store->LogRoot(old_size));
    ASSERT_OK_AND_ASSIGN(congvan::v1::ConsistencyProof p, store->ProveConsistency(old_size, size));
    std::vector<std::string> path(p.hashes().begin(), p.hashes().end());
    EXPECT_OK(audit::VerifyConsistency(old_size, size, old_root, root, path)) << old_size;
  }
  EXPECT_THAT(store->ProveInclusion(size, size), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->LogRoot(size + 1), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(StoreLog, PendingAndIntegratedEventsSurviveARestart) {
  TempDir dir;
  std::string root;
  {
    auto store = OpenOrDie(OptionsIn(dir));
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 5; ++i) ASSERT_OK(store->RecordEvent(Rejected(i)));
    ASSERT_OK(store->IntegrateLog());
    ASSERT_OK_AND_ASSIGN(root, store->LogRoot(5));
    for (int i = 5; i < 8; ++i) ASSERT_OK(store->RecordEvent(Rejected(i)));
  }
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->log_damage().empty()) << store->log_damage().ToString();
  EXPECT_EQ(store->LogSize(), 5u);
  EXPECT_THAT(store->LogRoot(5), IsOkAndHolds(root));
  ASSERT_OK(store->RecordEvent(Rejected(8)));  // after the ones pending from before
  EXPECT_THAT(store->IntegrateLog(), IsOkAndHolds(4u));
  for (uint64_t i = 0; i < 9; ++i) EXPECT_EQ(EventAt(*store, i).detail(), "bad input " + std::to_string(i));
}

TEST(StoreLog, TreeHeadsAreKeptByTheirSizeUntilTimestamped) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  auto head = [](uint64_t size) {
    congvan::v1::TreeHead body;
    body.set_agency(kSender);
    body.set_tree_size(size);
    congvan::v1::LoggedTreeHead h;
    h.mutable_head()->set_kind(congvan::v1::MESSAGE_KIND_TREE_HEAD);
    h.mutable_head()->set_body(body.SerializeAsString());
    return h;
  };
  ASSERT_OK_AND_ASSIGN(auto none, store->GetTreeHead(0));
  EXPECT_FALSE(none.has_value());
  ASSERT_OK(store->PutTreeHead(head(3)));
  ASSERT_OK(store->PutTreeHead(head(7)));
  EXPECT_THAT(store->PutTreeHead(congvan::v1::LoggedTreeHead{}), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(auto latest, store->GetTreeHead(0));
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->head().body(), head(7).head().body());
  ASSERT_OK_AND_ASSIGN(auto covering, store->TreeHeadCovering(4));
  ASSERT_TRUE(covering.has_value());
  EXPECT_EQ(covering->head().body(), head(7).head().body());
  ASSERT_OK_AND_ASSIGN(auto beyond, store->TreeHeadCovering(8));
  EXPECT_FALSE(beyond.has_value());
  EXPECT_THAT(store->HeadsWithoutTimestamp(10), IsOkAndHolds(::testing::SizeIs(2)));

  congvan::v1::LoggedTreeHead stamped = head(3);
  stamped.set_timestamp_token("token");
  ASSERT_OK(store->PutTreeHead(stamped));
  ASSERT_OK_AND_ASSIGN(auto waiting, store->HeadsWithoutTimestamp(10));
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].head().body(), head(7).head().body());
  EXPECT_THAT(store->GetTreeHead(3), IsOkAndHolds(::testing::Optional(::testing::Property(
                                         &congvan::v1::LoggedTreeHead::timestamp_token, "token"))));
}

// Deletes event `index` from the log column family, as someone with access
// to the database could.
void DeleteEventBehindTheStoresBack(const std::string& path, uint64_t index) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles, &db).ok());
  std::string key = "e";
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>((index >> shift) & 0xff));
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "log") EXPECT_TRUE(db->Delete(rocksdb::WriteOptions(), handles[i], key).ok());
  }
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  delete db;
}

TEST(StoreLog, AnEventDeletedBehindTheStoresBackIsFoundAtOpenAndBreaksConsistency) {
  TempDir dir;
  std::string old_root, old_root10;
  {
    auto store = OpenOrDie(OptionsIn(dir));
    ASSERT_NE(store, nullptr);
    ASSERT_OK(IssueDoc(*store, 2025, {"doc"}, {kCommuneA}));
    for (int i = 0; i < 9; ++i) ASSERT_OK(store->RecordEvent(Rejected(i)));
    ASSERT_OK(IssueDoc(*store, 2025, {"doc2"}, {kCommuneA}));
    ASSERT_OK(store->IntegrateLog());
    ASSERT_EQ(store->LogSize(), 11u);
    ASSERT_OK_AND_ASSIGN(old_root, store->LogRoot(11));
    ASSERT_OK_AND_ASSIGN(old_root10, store->LogRoot(10));
  }
  DeleteEventBehindTheStoresBack(OptionsIn(dir).path, 3);

  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  const LogDamage& damage = store->log_damage();
  EXPECT_FALSE(damage.empty());
  EXPECT_EQ(damage.size_before, 11u);
  EXPECT_EQ(damage.size_after, 10u);
  EXPECT_EQ(damage.events_moved, 7u);
  EXPECT_THAT(damage.ToString(), ::testing::HasSubstr("changed behind the node's back"));
  EXPECT_EQ(store->LogSize(), 10u);
  // The log now tells another history: nothing proves it extends the old one.
  ASSERT_OK(store->RecordEvent(Rejected(99)));
  ASSERT_OK(store->IntegrateLog());
  ASSERT_OK_AND_ASSIGN(std::string new_root, store->LogRoot(11));
  EXPECT_NE(new_root, old_root);
  ASSERT_OK_AND_ASSIGN(congvan::v1::ConsistencyProof p, store->ProveConsistency(10, 11));
  EXPECT_THAT(audit::VerifyConsistency(10, 11, old_root10, new_root, {p.hashes().begin(), p.hashes().end()}),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(audit::VerifyConsistency(11, 11, old_root, new_root, {}),
              StatusIs(absl::StatusCode::kUnauthenticated));
  // The moved events stay findable, and proofs of the repaired tree hold.
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> second, store->MessageEvents("msg-2025-2"));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(EventAt(*store, second[0]).kind(), congvan::v1::AUDIT_EVENT_ISSUED);
  ASSERT_OK_AND_ASSIGN(congvan::v1::InclusionProof proof, store->ProveInclusion(second[0], 11));
  std::vector<std::string> path(proof.hashes().begin(), proof.hashes().end());
  EXPECT_OK(audit::VerifyInclusion(second[0], 11, audit::LeafHash(proof.event()), path, new_root));
  // A second restart finds nothing more.
  store.reset();
  store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->log_damage().empty()) << store->log_damage().ToString();
}

}  // namespace
}  // namespace congvan::store::testing
