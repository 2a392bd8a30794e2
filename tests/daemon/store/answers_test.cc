// Answers: receipts and statuses stored once each, listed per message, and
// merged with delivery states for track.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store_fixture.h"

namespace congvan::store::testing {
namespace {

using congvan::testing::IsOk;
using congvan::testing::StatusIs;
using congvan::testing::TempDir;

TEST(StoreAnswers, SameAnswerTwiceIsStoredOnce) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK(IssueDoc(*store, 2025, {"doc"}, {kCommuneA}));
  Answer receipt = Receipt("msg-2025-1", kCommuneA);
  ASSERT_OK_AND_ASSIGN(bool first, store->AddAnswer(receipt));
  EXPECT_TRUE(first);
  // The same body with another signature (a re-sent copy) is the same answer.
  receipt.answer.mutable_signed_()->set_seal_signature("another CMS over the same body");
  ASSERT_OK_AND_ASSIGN(bool second, store->AddAnswer(receipt));
  EXPECT_FALSE(second);
  ASSERT_OK_AND_ASSIGN(std::vector<Answer> answers, store->ListAnswers("msg-2025-1"));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].answer.signed_().seal_signature(), "seal-of-" + std::string(kCommuneA));
}

TEST(StoreAnswers, DuplicateAnswerDoesNotQueueItsForwardAgain) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  Answer status = MakeAnswer("m-1", kCommuneA, congvan::v1::MESSAGE_KIND_STATUS, congvan::v1::STATUS_CODE_ACCEPTED,
                             "t2");
  NewOutboxEntry forward;
  forward.peer = kProvince;
  forward.message_id = "m-1";
  forward.answer.emplace();
  *forward.answer->mutable_answer() = status.answer.signed_();
  forward.answer->set_to_agency(kSender);
  ASSERT_OK_AND_ASSIGN(bool added, store->AddAnswer(status, {forward}));
  EXPECT_TRUE(added);
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> queued, store->ListDue(T(0), 10));
  ASSERT_EQ(queued.size(), 1u);
  ASSERT_OK(store->MarkDelivered(queued[0].id, {}));
  ASSERT_OK_AND_ASSIGN(bool again, store->AddAnswer(status, {forward}));
  EXPECT_FALSE(again);
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> after, store->ListDue(T(0), 10));
  EXPECT_TRUE(after.empty());
}

TEST(StoreAnswers, TrackShowsStatesAndAnswersPerRecipient) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK(IssueDoc(*store, 2025, {"doc"}, {kCommuneA, kCommuneB}));
  ASSERT_OK(store->AddAnswer(Receipt("msg-2025-1", kCommuneA, "2025-06-15T10:00:00Z")));
  ASSERT_OK(store->AddAnswer(MakeAnswer("msg-2025-1", kCommuneA, congvan::v1::MESSAGE_KIND_STATUS,
                                        congvan::v1::STATUS_CODE_ACCEPTED, "2025-06-15T11:00:00Z")));
  ASSERT_OK_AND_ASSIGN(congvan::v1::TrackResponse track, store->Track("msg-2025-1"));
  EXPECT_EQ(track.message_id(), "msg-2025-1");
  EXPECT_EQ(track.number(), 1u);
  ASSERT_EQ(track.recipients_size(), 2);
  const auto& a = track.recipients(0);
  EXPECT_EQ(a.agency(), kCommuneA);
  EXPECT_EQ(a.state(), congvan::v1::DELIVERY_STATE_DELIVERED);
  ASSERT_EQ(a.answers_size(), 2);
  EXPECT_EQ(a.answers(0).code(), congvan::v1::STATUS_CODE_ARRIVED);
  EXPECT_EQ(a.answers(1).code(), congvan::v1::STATUS_CODE_ACCEPTED);
  const auto& b = track.recipients(1);
  EXPECT_EQ(b.agency(), kCommuneB);
  EXPECT_EQ(b.state(), congvan::v1::DELIVERY_STATE_QUEUED);
  EXPECT_EQ(b.answers_size(), 0);
  EXPECT_THAT(store->Track("unknown"), StatusIs(absl::StatusCode::kNotFound));
}

// Times have whole seconds; a receipt and a status in the same second were
// listed in hash order, so `track` could show 03 before 01.
TEST(StoreAnswers, AnswersInTheSameSecondAreListedInCodeOrder) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK(IssueDoc(*store, 2025, {"doc"}, {kCommuneA}));
  const std::string second = "2025-06-15T10:00:00Z";
  for (auto code : {congvan::v1::STATUS_CODE_COMPLETED, congvan::v1::STATUS_CODE_ACCEPTED,
                    congvan::v1::STATUS_CODE_PROCESSING}) {
    ASSERT_OK(store->AddAnswer(MakeAnswer("msg-2025-1", kCommuneA, congvan::v1::MESSAGE_KIND_STATUS, code, second)));
  }
  ASSERT_OK(store->AddAnswer(Receipt("msg-2025-1", kCommuneA, second)));
  ASSERT_OK_AND_ASSIGN(std::vector<Answer> answers, store->ListAnswers("msg-2025-1"));
  std::vector<int> codes;
  for (const Answer& a : answers) codes.push_back(a.answer.code());
  EXPECT_EQ(codes, (std::vector<int>{1, 3, 5, 6}));
}

TEST(StoreAnswers, RejectsAnswersWithoutIdsOrBody) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  Answer empty_body = Receipt("m-1", kCommuneA);
  empty_body.answer.mutable_signed_()->clear_body();
  EXPECT_THAT(store->AddAnswer(empty_body), StatusIs(absl::StatusCode::kInvalidArgument));
  Answer nul_in_id = Receipt(std::string("m\0x", 3), kCommuneA);
  EXPECT_THAT(store->AddAnswer(nul_in_id), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->AddAnswer(Receipt("m-1", "")), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace congvan::store::testing
