// The inbox: entries per agency, newest first, with the latest status a
// clerk set.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store_fixture.h"

namespace congvan::store::testing {
namespace {

using congvan::testing::IsOk;
using congvan::testing::StatusIs;
using congvan::testing::TempDir;
using ::testing::ElementsAre;

// Files message `id` (UUIDv7-like ids sort by time) for `recipients`.
void Receive(Store& store, const std::string& id, const std::vector<std::string>& recipients) {
  std::unique_ptr<Upload> upload = Uploaded(store, {"doc " + id});
  ReceiveRequest r;
  r.document = Sealed(Header(id, kSender, 2025, 1, recipients, DigestsOf({"doc " + id})));
  r.upload = upload.get();
  r.received_at = T(1);
  r.served = recipients;
  for (const std::string& agency : recipients) r.local.push_back(LocalDelivery{agency, Receipt(id, agency).answer});
  ASSERT_OK(store.Receive(r));
}

std::vector<std::string> Ids(const std::vector<InboxItem>& items) {
  std::vector<std::string> ids;
  for (const InboxItem& i : items) ids.push_back(i.entry.message_id());
  return ids;
}

TEST(StoreInbox, ListsEachAgencysEntriesNewestFirstWithACursor) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  Receive(*store, "0190-a", {kCommuneA});
  Receive(*store, "0190-b", {kCommuneA, kCommuneB});
  Receive(*store, "0190-c", {kCommuneA});
  ASSERT_OK_AND_ASSIGN(auto a, store->ListInbox(InboxQuery{kCommuneA}));
  EXPECT_THAT(Ids(a), ElementsAre("0190-c", "0190-b", "0190-a"));
  ASSERT_OK_AND_ASSIGN(auto b, store->ListInbox(InboxQuery{kCommuneB}));
  EXPECT_THAT(Ids(b), ElementsAre("0190-b"));
  ASSERT_OK_AND_ASSIGN(auto page1, store->ListInbox(InboxQuery{kCommuneA, "", 2}));
  EXPECT_THAT(Ids(page1), ElementsAre("0190-c", "0190-b"));
  ASSERT_OK_AND_ASSIGN(auto page2, store->ListInbox(InboxQuery{kCommuneA, "0190-b", 2}));
  EXPECT_THAT(Ids(page2), ElementsAre("0190-a"));
  ASSERT_OK_AND_ASSIGN(auto none, store->ListInbox(InboxQuery{kProvince}));
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(a[0].entry.from_agency(), kSender);
  EXPECT_EQ(a[0].entry.notation(), "1/UBND-VP");
}

TEST(StoreInbox, ListingShowsTheLatestStatusTheClerkSet) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  Receive(*store, "0190-a", {kCommuneA});
  Answer accepted = MakeAnswer("0190-a", kCommuneA, congvan::v1::MESSAGE_KIND_STATUS, congvan::v1::STATUS_CODE_ACCEPTED,
                               "2025-06-15T11:00:00Z");
  NewOutboxEntry to_sender;
  to_sender.peer = kProvince;
  to_sender.message_id = "0190-a";
  to_sender.answer.emplace();
  *to_sender.answer->mutable_answer() = accepted.answer.signed_();
  to_sender.answer->set_to_agency(kSender);
  ASSERT_OK(store->SetInboxStatus(accepted, {to_sender}));
  ASSERT_OK(store->SetInboxStatus(MakeAnswer("0190-a", kCommuneA, congvan::v1::MESSAGE_KIND_STATUS,
                                             congvan::v1::STATUS_CODE_PROCESSING, "2025-06-15T12:00:00Z")));

  ASSERT_OK_AND_ASSIGN(auto items, store->ListInbox(InboxQuery{kCommuneA}));
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].entry.status(), congvan::v1::STATUS_CODE_PROCESSING);
  EXPECT_EQ(items[0].latest_answer.kind(), congvan::v1::MESSAGE_KIND_STATUS);
  ASSERT_OK_AND_ASSIGN(std::vector<Answer> answers, store->ListAnswers("0190-a"));
  EXPECT_EQ(answers.size(), 3u);  // the receipt and both statuses
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> queued, store->ListOutbox("0190-a"));
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(queued[0].answer->to_agency(), kSender);
}

TEST(StoreInbox, StatusForAMessageNotInTheAgencysInboxIsNotFound) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  Receive(*store, "0190-a", {kCommuneA});
  EXPECT_THAT(store->SetInboxStatus(MakeAnswer("0190-a", kCommuneB, congvan::v1::MESSAGE_KIND_STATUS,
                                               congvan::v1::STATUS_CODE_ACCEPTED, "t")),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->GetInboxItem(kCommuneB, "0190-a"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(std::vector<Answer> answers, store->ListAnswers("0190-a"));
  EXPECT_EQ(answers.size(), 1u);
}

}  // namespace
}  // namespace congvan::store::testing
