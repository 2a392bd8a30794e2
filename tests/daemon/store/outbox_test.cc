// The durable outbox: due lists, retry / failed / delivered / re-armed
// transitions, persistence across reopen, and the back-off function.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rocksdb/perf_context.h"
#include "rocksdb/perf_level.h"
#include "store_fixture.h"

namespace congvan::store::testing {
namespace {

using congvan::testing::IsOk;
using congvan::testing::StatusIs;
using congvan::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using namespace std::string_literals;

std::vector<std::string> Peers(const std::vector<OutboxEntry>& entries) {
  std::vector<std::string> peers;
  for (const OutboxEntry& e : entries) peers.push_back(e.peer);
  return peers;
}

congvan::v1::DeliveryState StateOf(Store& store, const std::string& message_id, const std::string& agency) {
  auto track = store.Track(message_id);
  if (!track.ok()) return congvan::v1::DELIVERY_STATE_UNSPECIFIED;
  for (const auto& r : track->recipients()) {
    if (r.agency() == agency) return r.state();
  }
  return congvan::v1::DELIVERY_STATE_UNSPECIFIED;
}

TEST(StoreOutbox, ListsDueEntriesEarliestFirstUpToNow) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->Enqueue({Delivery("m-1", "late", {kCommuneA}, T(30)), Delivery("m-1", "early", {kCommuneB}, T(10)),
                            Delivery("m-2", "middle", {kCommuneA}, T(20))}));
  EXPECT_THAT(store->ListDue(T(5), 10).value_or(std::vector<OutboxEntry>{}), IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> due, store->ListDue(T(20), 10));
  EXPECT_THAT(Peers(due), ElementsAre("early", "middle"));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> limited, store->ListDue(T(100), 1));
  EXPECT_THAT(Peers(limited), ElementsAre("early"));
  EXPECT_EQ(due[0].message_id, "m-1");
  EXPECT_THAT(due[0].recipients, ElementsAre(kCommuneB));
  EXPECT_EQ(due[0].deadline, T(3600));
  // The dispatcher's calls in flight are passed over and leave the limit to the others.
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> rest, store->ListDue(T(100), 1, {due[0].id}));
  EXPECT_THAT(Peers(rest), ElementsAre("middle"));
}

TEST(StoreOutbox, ListsOnlyTheHopsTheDispatcherWantsAndAsksOncePerCandidate) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->Enqueue({Delivery("m-1", "busy", {kCommuneA}, T(10)), Delivery("m-2", "free", {kCommuneA}, T(20)),
                            Delivery("m-3", "busy", {kCommuneB}, T(30)), Delivery("m-4", "free", {kCommuneB}, T(40)),
                            Delivery("m-5", "free", {kCommuneA}, T(50))}));
  std::vector<std::string> asked;
  int free_taken = 0;
  // The dispatcher: the "busy" hop has no free stream, "free" takes two.
  auto wanted = [&](std::string_view peer) {
    asked.emplace_back(peer);
    return peer == "free" && free_taken++ < 2;
  };
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> due, store->ListDue(T(100), 10, {}, wanted));
  EXPECT_THAT(Peers(due), ElementsAre("free", "free"));
  EXPECT_EQ(due[0].message_id, "m-2");
  EXPECT_EQ(due[1].message_id, "m-4");
  // Every due entry is asked about once, in due order; the ones refused do
  // not count towards the limit.
  EXPECT_THAT(asked, ElementsAre("busy", "free", "busy", "free", "free"));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> one, store->ListDue(T(100), 1, {}, [](std::string_view peer) {
    return peer == "free";
  }));
  EXPECT_THAT(Peers(one), ElementsAre("free"));
  EXPECT_EQ(one[0].message_id, "m-2");
}

// The tombstones a walk of the due index passed over (RocksDB's count on
// this thread), and what it listed.
struct Walk {
  std::vector<OutboxEntry> due;
  uint64_t tombstones = 0;
};
Walk WalkDue(Store& store, absl::Time now) {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  Walk walk;
  walk.due = store.ListDue(now, 100).value_or(std::vector<OutboxEntry>{});
  walk.tombstones = rocksdb::get_perf_context()->internal_delete_skipped_count;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  return walk;
}

std::vector<std::string> Messages(const std::vector<OutboxEntry>& entries) {
  std::vector<std::string> ids;
  for (const OutboxEntry& e : entries) ids.push_back(e.message_id);
  return ids;
}

// Queues 500 entries due at T(10) and delivers them all: their tombstones
// lie at the start of the due index until RocksDB compacts it.
void DeliverFiveHundredDueAtTen(Store& store) {
  std::vector<NewOutboxEntry> entries;
  for (int i = 0; i < 500; ++i) entries.push_back(Delivery("m-" + std::to_string(i), "hop", {kCommuneA}, T(10)));
  ASSERT_OK(store.Enqueue(entries));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> due, store.ListDue(T(10), 1000));
  ASSERT_EQ(due.size(), 500u);
  for (const OutboxEntry& e : due) ASSERT_OK(store.MarkDelivered(e.id, {}));
}

TEST(StoreOutbox, AWalkPassesOverWhatWasDeliveredOnceAndStillFindsEntriesDueEarlier) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_NO_FATAL_FAILURE(DeliverFiveHundredDueAtTen(*store));

  // Delivered entries stay in the index as tombstones until RocksDB
  // compacts it: the first walk passes over them all...
  Walk first = WalkDue(*store, T(20));
  EXPECT_THAT(first.due, IsEmpty());
  EXPECT_GE(first.tombstones, 500u);
  // ... and the next ones begin where it found nothing left.
  Walk second = WalkDue(*store, T(30));
  EXPECT_THAT(second.due, IsEmpty());
  EXPECT_LT(second.tombstones, 10u);

  // Entries due before that point, written by each kind of write, are
  // still found: queued on their own, issued, and queued again by hand.
  ASSERT_OK(store->Enqueue({Delivery("m-early", "hop", {kCommuneA}, T(5))}));
  const std::vector<OutboxEntry> early = WalkDue(*store, T(30)).due;
  ASSERT_THAT(Messages(early), ElementsAre("m-early"));
  ASSERT_OK(store->MarkFailed(early[0].id, "given up"));
  EXPECT_THAT(WalkDue(*store, T(30)).due, IsEmpty());
  ASSERT_OK(IssueDoc(*store, 2025, {"doc"}));  // due at T(0)
  EXPECT_THAT(Messages(WalkDue(*store, T(30)).due), ElementsAre("msg-2025-1"));
  ASSERT_OK(store->Rearm(early[0].id, T(1), T(7200)));
  EXPECT_THAT(Messages(WalkDue(*store, T(30)).due), ElementsAre("msg-2025-1", "m-early"));
}

// Under load every walk overlaps a commit that queues something: the floor
// must still rise past what was delivered, and an entry queued during a walk
// due before the point the walk reached must still be found by the next.
TEST(StoreOutbox, EntriesQueuedDuringAWalkNeitherStopTheFloorRisingNorGetPassedOver) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_NO_FATAL_FAILURE(DeliverFiveHundredDueAtTen(*store));
  // Due after the tombstones, for a hop the dispatcher keeps refusing: the
  // first live key every walk meets.
  ASSERT_OK(store->Enqueue({Delivery("m-busy", "busy", {kCommuneA}, T(15))}));

  // A walk that queues a later entry while it runs (from the dispatcher's
  // callback, between the walk's snapshot and its end)...
  bool queued = false;
  auto queue_later = [&](std::string_view) {
    if (!queued) queued = store->Enqueue({Delivery("m-later", "busy", {kCommuneA}, T(50))}).ok();
    return false;
  };
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> refused, store->ListDue(T(20), 100, {}, queue_later));
  const uint64_t first_tombstones = rocksdb::get_perf_context()->internal_delete_skipped_count;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  ASSERT_TRUE(queued);
  EXPECT_THAT(refused, IsEmpty());
  EXPECT_GE(first_tombstones, 500u);
  // ... still lets the next one begin at the refused entry.
  Walk next = WalkDue(*store, T(20));
  EXPECT_THAT(Messages(next.due), ElementsAre("m-busy"));
  EXPECT_LT(next.tombstones, 10u);

  // An entry queued during a walk, due before the refused one the walk
  // begins at, is found by the next walk.
  queued = false;
  auto queue_earlier = [&](std::string_view) {
    if (!queued) queued = store->Enqueue({Delivery("m-earlier", "hop", {kCommuneA}, T(12))}).ok();
    return false;
  };
  ASSERT_OK_AND_ASSIGN(refused, store->ListDue(T(20), 100, {}, queue_earlier));
  ASSERT_TRUE(queued);
  EXPECT_THAT(refused, IsEmpty());
  EXPECT_THAT(Messages(WalkDue(*store, T(20)).due), ElementsAre("m-earlier", "m-busy"));
}

TEST(StoreOutbox, RetryFailRearmAndDeliverTransitionsSurviveReopen) {
  TempDir dir;
  std::string id;
  {
    auto store = OpenOrDie(OptionsIn(dir));
    ASSERT_NE(store, nullptr);
    ASSERT_OK(IssueDoc(*store, 2025, {"doc"}, {kCommuneA}, kProvince));
    ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> due, store->ListDue(T(0), 10));
    ASSERT_EQ(due.size(), 1u);
    id = due[0].id;
    EXPECT_EQ(due[0].state, OutboxState::kPending);

    ASSERT_OK(store->MarkRetry(id, T(60), "connection refused"));
    EXPECT_THAT(store->ListDue(T(59), 10).value_or(std::vector<OutboxEntry>{1}), IsEmpty());
  }
  {
    auto store = OpenOrDie(OptionsIn(dir));
    ASSERT_NE(store, nullptr);
    ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> due, store->ListDue(T(60), 10));
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].attempts, 1u);
    EXPECT_EQ(due[0].last_error, "connection refused");
    EXPECT_EQ(due[0].next_attempt, T(60));

    ASSERT_OK(store->MarkFailed(id, "deadline passed: connection refused"));
    EXPECT_THAT(store->ListDue(T(100000), 10).value_or(std::vector<OutboxEntry>{1}), IsEmpty());
    EXPECT_THAT(store->MarkRetry(id, T(70), "x"), StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_EQ(StateOf(*store, "msg-2025-1", kCommuneA), congvan::v1::DELIVERY_STATE_FAILED);
  }
  {
    auto store = OpenOrDie(OptionsIn(dir));
    ASSERT_NE(store, nullptr);
    ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> all, store->ListOutbox("msg-2025-1"));
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].state, OutboxState::kFailed);
    EXPECT_EQ(all[0].failure, "deadline passed: connection refused");
    ASSERT_OK_AND_ASSIGN(congvan::v1::TrackResponse track, store->Track("msg-2025-1"));
    ASSERT_EQ(track.recipients_size(), 1);
    EXPECT_EQ(track.recipients(0).failure(), "deadline passed: connection refused");

    EXPECT_THAT(store->Rearm("no\0such"s, T(0), T(1)), StatusIs(absl::StatusCode::kNotFound));
    ASSERT_OK(store->Rearm(id, T(200), T(7200)));
    EXPECT_THAT(store->Rearm(id, T(200), T(7200)), StatusIs(absl::StatusCode::kFailedPrecondition));
    EXPECT_EQ(StateOf(*store, "msg-2025-1", kCommuneA), congvan::v1::DELIVERY_STATE_QUEUED);
    ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> due, store->ListDue(T(200), 10));
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].attempts, 0u);
    EXPECT_EQ(due[0].deadline, T(7200));

    ASSERT_OK(store->MarkDelivered(id, {Receipt("msg-2025-1", kCommuneA)}));
    EXPECT_THAT(store->MarkDelivered(id, {}), StatusIs(absl::StatusCode::kNotFound));
  }
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->ListOutbox("msg-2025-1").value_or(std::vector<OutboxEntry>{1}), IsEmpty());
  EXPECT_THAT(store->ListDue(absl::InfiniteFuture(), 10).value_or(std::vector<OutboxEntry>{1}), IsEmpty());
  EXPECT_EQ(StateOf(*store, "msg-2025-1", kCommuneA), congvan::v1::DELIVERY_STATE_DELIVERED);
  ASSERT_OK_AND_ASSIGN(std::vector<Answer> answers, store->ListAnswers("msg-2025-1"));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].answer.code(), congvan::v1::STATUS_CODE_ARRIVED);
}

TEST(StoreOutbox, DeliveryToARelayPutsRecipientsInTransitUntilTheirReceiptsArrive) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK(IssueDoc(*store, 2025, {"doc"}, {kCommuneA, kCommuneB}, kProvince));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> due, store->ListDue(T(0), 10));
  ASSERT_EQ(due.size(), 1u);
  ASSERT_OK(store->MarkDelivered(due[0].id, {}));  // the relay answers no receipts
  EXPECT_EQ(StateOf(*store, "msg-2025-1", kCommuneA), congvan::v1::DELIVERY_STATE_IN_TRANSIT);
  ASSERT_OK_AND_ASSIGN(congvan::v1::TrackResponse track, store->Track("msg-2025-1"));
  ASSERT_EQ(track.recipients_size(), 2);
  EXPECT_EQ(track.recipients(0).via(), kProvince);
  ASSERT_OK_AND_ASSIGN(bool added, store->AddAnswer(Receipt("msg-2025-1", kCommuneB)));
  EXPECT_TRUE(added);
  EXPECT_EQ(StateOf(*store, "msg-2025-1", kCommuneB), congvan::v1::DELIVERY_STATE_DELIVERED);
  // Neither a new queueing nor a failure undoes a delivery that was answered.
  ASSERT_OK(store->Enqueue({Delivery("msg-2025-1", "other", {kCommuneB})}));
  EXPECT_EQ(StateOf(*store, "msg-2025-1", kCommuneB), congvan::v1::DELIVERY_STATE_DELIVERED);
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> other, store->ListDue(T(0), 10));
  ASSERT_EQ(other.size(), 1u);
  ASSERT_OK(store->MarkFailed(other[0].id, "gave up"));
  EXPECT_EQ(StateOf(*store, "msg-2025-1", kCommuneB), congvan::v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(StateOf(*store, "msg-2025-1", kCommuneA), congvan::v1::DELIVERY_STATE_IN_TRANSIT);
}

TEST(StoreOutbox, AnswerEntriesAreQueuedOnceAndDocumentEntriesNotTwice) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  NewOutboxEntry forward;
  forward.peer = kProvince;
  forward.message_id = "m-1";
  forward.answer.emplace();
  *forward.answer->mutable_answer() = Receipt("m-1", kCommuneA).answer.signed_();
  forward.answer->set_to_agency(kSender);
  ASSERT_OK(store->Enqueue({forward}));
  ASSERT_OK(store->Enqueue({forward}));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> entries, store->ListOutbox("m-1"));
  ASSERT_EQ(entries.size(), 1u);
  ASSERT_TRUE(entries[0].answer.has_value());
  EXPECT_EQ(entries[0].answer->to_agency(), kSender);

  ASSERT_OK(store->Enqueue({Delivery("m-1", kCommuneB, {kCommuneB})}));
  EXPECT_THAT(store->Enqueue({Delivery("m-1", kCommuneB, {kCommuneB})}), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(store->Enqueue({Delivery("m-2", "p", {kCommuneB}), Delivery("m-2", "p", {kCommuneA})}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  NewOutboxEntry both = Delivery("m-3", "p", {kCommuneB});
  both.answer = forward.answer;
  EXPECT_THAT(store->Enqueue({both}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->ListOutbox("m-2").value_or(std::vector<OutboxEntry>{1}), IsEmpty());
}

TEST(StoreOutbox, BackoffDoublesFromBaseUpToMaxWithEqualJitter) {
  const absl::Duration base = absl::Seconds(1), max = absl::Minutes(10);
  EXPECT_EQ(BackoffDelay(1, base, max, 0.999999999), absl::Seconds(1) * (0.5 + 0.5 * 0.999999999));
  EXPECT_EQ(BackoffDelay(1, base, max, 0.0), absl::Milliseconds(500));
  EXPECT_EQ(BackoffDelay(2, base, max, 0.0), absl::Seconds(1));
  EXPECT_EQ(BackoffDelay(4, base, max, 0.0), absl::Seconds(4));
  EXPECT_EQ(BackoffDelay(4, base, max, 0.5), absl::Seconds(6));
  EXPECT_EQ(BackoffDelay(30, base, max, 0.0), absl::Minutes(5));
  EXPECT_EQ(BackoffDelay(4000000000u, base, max, 1.0), absl::Minutes(10));
  EXPECT_EQ(BackoffDelay(0, base, max, -3.0), absl::Milliseconds(500));
}

}  // namespace
}  // namespace congvan::store::testing
