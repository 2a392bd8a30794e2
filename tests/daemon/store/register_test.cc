// Issuing: the outgoing register's numbers are gapless per agency and year,
// survive a reopen, and are consumed only by a successful write.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <set>
#include <thread>

#include "absl/synchronization/notification.h"
#include "store_fixture.h"

namespace congvan::store::testing {
namespace {

using congvan::testing::IsOk;
using congvan::testing::StatusIs;
using congvan::testing::TempDir;

TEST(StoreRegister, IssuesGaplessNumbersFromOnePerYear) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  for (uint64_t n = 1; n <= 5; ++n) {
    ASSERT_OK_AND_ASSIGN(IssueResult r, IssueDoc(*store, 2025, {"body " + std::to_string(n)}));
    EXPECT_EQ(r.number, n);
    EXPECT_EQ(r.year, 2025u);
    EXPECT_EQ(r.message_id, "msg-2025-" + std::to_string(n));
  }
  ASSERT_OK_AND_ASSIGN(IssueResult next_year, IssueDoc(*store, 2026, {"new year"}));
  EXPECT_EQ(next_year.number, 1u);
  ASSERT_OK_AND_ASSIGN(IssueResult back, IssueDoc(*store, 2025, {"late"}));
  EXPECT_EQ(back.number, 6u);
  EXPECT_EQ(store->LastNumber(kSender, 2025).value_or(0), 6u);
  EXPECT_EQ(store->LastNumber(kSender, 2026).value_or(0), 1u);
  EXPECT_EQ(store->LastNumber(kCommuneA, 2025).value_or(99), 0u);
}

TEST(StoreRegister, NumbersSurviveReopen) {
  TempDir dir;
  {
    auto store = OpenOrDie(OptionsIn(dir));
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 3; ++i) ASSERT_OK(IssueDoc(*store, 2025, {"x"}));
  }
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(IssueResult r, IssueDoc(*store, 2025, {"y"}));
  EXPECT_EQ(r.number, 4u);
  ASSERT_OK_AND_ASSIGN(StoredMessage m, store->GetMessage("msg-2025-3"));
  EXPECT_EQ(m.header.registration().number(), 3u);
}

TEST(StoreRegister, FailingBuildConsumesNoNumberAndStoresNothing) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK(IssueDoc(*store, 2025, {"first"}));
  std::unique_ptr<Upload> upload = Uploaded(*store, {"second"});
  uint64_t offered = 0;
  EXPECT_THAT(store->Issue(IssueRequest{kSender, 2025, upload.get(), T(0)},
                           [&](uint64_t n) -> absl::StatusOr<IssuedDocument> {
                             offered = n;
                             return absl::PermissionDeniedError("the leader may not sign for this agency");
                           }),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(offered, 2u);
  // A header that does not carry the number taken is refused too.
  EXPECT_THAT(store->Issue(IssueRequest{kSender, 2025, upload.get(), T(0)},
                           [&](uint64_t n) -> absl::StatusOr<IssuedDocument> {
                             IssuedDocument d;
                             d.document = Sealed(Header("m-bad", kSender, 2025, n + 1, {kCommuneA},
                                                        DigestsOf({"second"})));
                             return d;
                           }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(store->LastNumber(kSender, 2025).value_or(0), 1u);
  EXPECT_EQ(store->HasMessage("m-bad").value_or(true), false);
  // The same upload can still be issued, and gets number 2.
  ASSERT_OK_AND_ASSIGN(IssueResult r, store->Issue(IssueRequest{kSender, 2025, upload.get(), T(0)},
                                                   [&](uint64_t n) -> absl::StatusOr<IssuedDocument> {
                                                     IssuedDocument d;
                                                     d.document = Sealed(Header("m-2", kSender, 2025, n, {kCommuneA},
                                                                                DigestsOf({"second"})));
                                                     return d;
                                                   }));
  EXPECT_EQ(r.number, 2u);
}

TEST(StoreRegister, ReusedMessageIdIsRefusedWithoutConsumingANumber) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK(IssueDoc(*store, 2025, {"a"}));
  std::unique_ptr<Upload> upload = Uploaded(*store, {"b"});
  EXPECT_THAT(store->Issue(IssueRequest{kSender, 2025, upload.get(), T(0)},
                           [&](uint64_t n) -> absl::StatusOr<IssuedDocument> {
                             IssuedDocument d;
                             d.document = Sealed(Header("msg-2025-1", kSender, 2025, n, {kCommuneA}, DigestsOf({"b"})));
                             return d;
                           }),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(store->LastNumber(kSender, 2025).value_or(0), 1u);
}

TEST(StoreRegister, IssueQueuesOneDeliveryPerNextHopWithItsRecipients) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  std::unique_ptr<Upload> upload = Uploaded(*store, {"doc"});
  ASSERT_OK(store->Issue(IssueRequest{kSender, 2025, upload.get(), T(0)},
                         [&](uint64_t n) -> absl::StatusOr<IssuedDocument> {
                           IssuedDocument d;
                           d.document = Sealed(Header("m-1", kSender, 2025, n, {kCommuneA, kCommuneB, kProvince},
                                                      DigestsOf({"doc"})));
                           d.deliveries.push_back(Delivery("m-1", "000.00.05.H49", {kCommuneA, kCommuneB}));
                           d.deliveries.push_back(Delivery("m-1", kProvince, {kProvince}));
                           return d;
                         }));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> entries, store->ListOutbox("m-1"));
  ASSERT_EQ(entries.size(), 2u);
  std::set<std::string> peers;
  for (const OutboxEntry& e : entries) peers.insert(e.peer);
  EXPECT_EQ(peers, (std::set<std::string>{"000.00.05.H49", kProvince}));
  ASSERT_OK_AND_ASSIGN(congvan::v1::TrackResponse track, store->Track("m-1"));
  ASSERT_EQ(track.recipients_size(), 3);
  for (const auto& r : track.recipients()) EXPECT_EQ(r.state(), congvan::v1::DELIVERY_STATE_QUEUED) << r.agency();
}

TEST(StoreRegister, ConcurrentIssuersGetDistinctGaplessNumbers) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  std::vector<std::vector<uint64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto r = IssueDoc(*store, 2025, {"thread " + std::to_string(t) + " doc " + std::to_string(i)});
        EXPECT_THAT(r, IsOk());
        if (r.ok()) got[t].push_back(r->number);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<uint64_t> all;
  for (const auto& g : got) {
    EXPECT_TRUE(std::is_sorted(g.begin(), g.end()));  // each issuer sees its numbers grow
    all.insert(all.end(), g.begin(), g.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i + 1);
  EXPECT_EQ(store->LastNumber(kSender, 2025).value_or(0), static_cast<uint64_t>(kThreads * kEach));
}

TEST(StoreRegister, SealsThatFailAmongConcurrentIssuersLeaveNoGap) {
  // Documents are sealed in parallel under numbers taken in turn; a seal
  // that fails gives its number up, and the documents numbered after it
  // are sealed again under new numbers rather than written after a gap.
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kEach = 25;
  std::atomic<int> builds{0};
  std::atomic<int> refused{0};
  std::vector<std::vector<uint64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string content = "thread " + std::to_string(t) + " doc " + std::to_string(i);
        std::unique_ptr<Upload> upload = Uploaded(*store, {content});
        auto r = store->Issue(IssueRequest{kSender, 2025, upload.get(), T(0)},
                              [&](uint64_t n) -> absl::StatusOr<IssuedDocument> {
                                if (++builds % 7 == 0) return absl::UnavailableError("the token did not answer");
                                const std::string id = "t" + std::to_string(t) + "-" + std::to_string(i) + "-n" +
                                                       std::to_string(n);
                                IssuedDocument d;
                                d.document = Sealed(Header(id, kSender, 2025, n, {kCommuneA}, DigestsOf({content})));
                                d.deliveries.push_back(Delivery(id, kProvince, {kCommuneA}));
                                return d;
                              });
        if (r.ok()) {
          got[t].push_back(r->number);
        } else {
          EXPECT_THAT(r.status(), StatusIs(absl::StatusCode::kUnavailable));
          ++refused;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<uint64_t> all;
  for (const auto& g : got) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  EXPECT_GT(refused.load(), 0);
  ASSERT_EQ(all.size() + static_cast<size_t>(refused.load()), static_cast<size_t>(kThreads * kEach));
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], i + 1);
  EXPECT_EQ(store->LastNumber(kSender, 2025).value_or(0), all.size());
}

// Issues `content` under `request_id` with `fingerprint`; counts the builds.
absl::StatusOr<IssueResult> IssueRequested(Store& store, const std::string& request_id, const std::string& fingerprint,
                                           const std::string& content, int* builds,
                                           const std::function<void()>& while_building = nullptr) {
  std::unique_ptr<Upload> upload = Uploaded(store, {content});
  IssueRequest request{kSender, 2025, upload.get(), T(0), request_id, fingerprint};
  return store.Issue(request, [&](uint64_t n) -> absl::StatusOr<IssuedDocument> {
    ++*builds;
    if (while_building) while_building();
    const std::string id = "req-" + content + "-n" + std::to_string(n);
    IssuedDocument d;
    d.document = Sealed(Header(id, kSender, 2025, n, {kCommuneA}, DigestsOf({content})));
    d.deliveries.push_back(Delivery(id, kProvince, {kCommuneA}));
    return d;
  });
}

// A clerk's client that lost Send's answer sends again with the same request
// id: the document must not get a second number.
TEST(StoreRegister, ARequestIdIsIssuedOnceAndItsRepeatsAreAnsweredWithThatIssue) {
  TempDir dir;
  int builds = 0;
  {
    auto store = OpenOrDie(OptionsIn(dir));
    ASSERT_NE(store, nullptr);
    ASSERT_OK_AND_ASSIGN(std::optional<IssueResult> none, store->FindIssuedRequest(kSender, "r-1", "fp-1"));
    EXPECT_FALSE(none.has_value());
    ASSERT_OK_AND_ASSIGN(IssueResult first, IssueRequested(*store, "r-1", "fp-1", "qd", &builds));
    EXPECT_EQ(first.number, 1u);
    EXPECT_FALSE(first.replayed);

    ASSERT_OK_AND_ASSIGN(IssueResult again, IssueRequested(*store, "r-1", "fp-1", "qd", &builds));
    EXPECT_EQ(again.message_id, first.message_id);
    EXPECT_EQ(again.number, 1u);
    EXPECT_EQ(again.year, 2025u);
    EXPECT_TRUE(again.replayed);
    EXPECT_EQ(builds, 1);  // nothing sealed for the repeat
    ASSERT_OK_AND_ASSIGN(std::optional<IssueResult> found, store->FindIssuedRequest(kSender, "r-1", "fp-1"));
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->message_id, first.message_id);
    EXPECT_TRUE(found->replayed);

    // The same id for something else is refused, naming what it issued.
    EXPECT_THAT(IssueRequested(*store, "r-1", "fp-other", "cv", &builds),
                StatusIs(absl::StatusCode::kAlreadyExists, ::testing::HasSubstr(first.message_id)));
    EXPECT_THAT(store->FindIssuedRequest(kSender, "r-1", "fp-other"), StatusIs(absl::StatusCode::kAlreadyExists));
    EXPECT_EQ(builds, 1);
    // Another agency's request ids are its own.
    ASSERT_OK_AND_ASSIGN(std::optional<IssueResult> other_agency, store->FindIssuedRequest(kCommuneA, "r-1", "fp-1"));
    EXPECT_FALSE(other_agency.has_value());

    // A failed build records nothing: its retry issues, once.
    std::unique_ptr<Upload> upload = Uploaded(*store, {"tb"});
    EXPECT_THAT(store->Issue({kSender, 2025, upload.get(), T(0), "r-2", "fp-2"},
                             [](uint64_t) -> absl::StatusOr<IssuedDocument> {
                               return absl::UnavailableError("the token did not answer");
                             }),
                StatusIs(absl::StatusCode::kUnavailable));
    ASSERT_OK_AND_ASSIGN(IssueResult second, IssueRequested(*store, "r-2", "fp-2", "tb", &builds));
    EXPECT_EQ(second.number, 2u);
    EXPECT_FALSE(second.replayed);
    EXPECT_EQ(store->LastNumber(kSender, 2025).value_or(0), 2u);
  }
  // Kept across a restart.
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(IssueResult after, IssueRequested(*store, "r-1", "fp-1", "qd", &builds));
  EXPECT_EQ(after.number, 1u);
  EXPECT_TRUE(after.replayed);
  EXPECT_EQ(store->LastNumber(kSender, 2025).value_or(0), 2u);
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> due, store->ListDue(T(10), 10));
  EXPECT_EQ(due.size(), 2u);  // one delivery per document issued, none for the repeats
}

// A repeat that arrives while the first attempt is still being issued (the
// client gave up waiting) must not issue alongside it.
TEST(StoreRegister, ARepeatOfARequestStillBeingIssuedIsAbortedThenAnsweredWithTheIssue) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  absl::Notification building, release;
  int builds = 0;
  absl::StatusOr<IssueResult> first;
  std::thread slow([&] {
    first = IssueRequested(*store, "r-1", "fp-1", "qd", &builds, [&] {
      building.Notify();
      release.WaitForNotification();
    });
  });
  building.WaitForNotification();
  int repeat_builds = 0;
  EXPECT_THAT(IssueRequested(*store, "r-1", "fp-1", "qd", &repeat_builds),
              StatusIs(absl::StatusCode::kAborted, ::testing::HasSubstr("still being issued")));
  release.Notify();
  slow.join();
  ASSERT_OK(first.status());
  EXPECT_EQ(first->number, 1u);
  ASSERT_OK_AND_ASSIGN(IssueResult repeat, IssueRequested(*store, "r-1", "fp-1", "qd", &repeat_builds));
  EXPECT_EQ(repeat.message_id, first->message_id);
  EXPECT_TRUE(repeat.replayed);
  EXPECT_EQ(repeat_builds, 0);
  EXPECT_EQ(store->LastNumber(kSender, 2025).value_or(0), 1u);
}

}  // namespace
}  // namespace congvan::store::testing
