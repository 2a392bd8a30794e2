// The life of a received document in the inbox (lifecycle.h): a recall
// request answered 15 or 16; an update or replacement that references an
// earlier document and changes it when accepted; the failed deliveries the
// node probes; a 13 queued to several recipients behind one peer.
#include "congvan/store/lifecycle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store_fixture.h"

namespace congvan::store::testing {
namespace {

using congvan::testing::StatusIs;
using congvan::testing::TempDir;
using ::testing::HasSubstr;
using congvan::v1::BUSINESS_ACTION_REPLACE;
using congvan::v1::BUSINESS_ACTION_UPDATE;

// Files `id` for kCommuneA, as an update or replacement of `reference` when given.
void Receive(Store& store, const std::string& id, congvan::v1::BusinessAction action = congvan::v1::BUSINESS_ACTION_NEW,
             const std::string& reference = "") {
  std::unique_ptr<Upload> upload = Uploaded(store, {"doc " + id});
  congvan::v1::DocumentHeader header = Header(id, kSender, 2025, 1, {kCommuneA}, DigestsOf({"doc " + id}));
  header.set_action(action);
  if (!reference.empty()) header.mutable_reference()->set_message_id(reference);
  ReceiveRequest r;
  r.document = Sealed(header);
  r.upload = upload.get();
  r.received_at = T(1);
  r.served = {kCommuneA};
  r.local.push_back(LocalDelivery{kCommuneA, Receipt(id, kCommuneA).answer});
  ASSERT_OK(store.Receive(r));
}

Answer Status(const std::string& id, const std::string& agency, congvan::v1::StatusCode code, const std::string& time) {
  return MakeAnswer(id, agency, congvan::v1::MESSAGE_KIND_STATUS, code, time);
}

congvan::v1::InboxEntry EntryOf(Store& store, const std::string& id) {
  auto item = store.GetInboxItem(kCommuneA, id);
  EXPECT_OK(item);
  return item.ok() ? item->entry : congvan::v1::InboxEntry();
}

TEST(StoreLifecycle, ARecallRequestIsAcceptedOrRefused) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  Receive(*store, "0190-a");
  Receive(*store, "0190-b");
  EXPECT_EQ(EntryOf(*store, "0190-a").state(), congvan::v1::DOCUMENT_STATE_ACTIVE);
  // 15 without a request is refused, and nothing changes.
  EXPECT_THAT(store->SetInboxStatus(Status("0190-a", kCommuneA, congvan::v1::STATUS_CODE_RECALL_ACCEPTED, "t2")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("none waiting")));

  Answer request = Status("0190-a", kSender, congvan::v1::STATUS_CODE_RECALL_REQUESTED, "t2");
  request.answer.set_reason("Sai số liệu");
  ASSERT_OK_AND_ASSIGN(bool added, store->RequestRecall(kCommuneA, request));
  EXPECT_TRUE(added);
  ASSERT_OK_AND_ASSIGN(bool again, store->RequestRecall(kCommuneA, request));
  EXPECT_FALSE(again);
  EXPECT_EQ(EntryOf(*store, "0190-a").state(), congvan::v1::DOCUMENT_STATE_RECALL_REQUESTED);
  EXPECT_EQ(EntryOf(*store, "0190-a").recall_reason(), "Sai số liệu");
  ASSERT_OK(store->SetInboxStatus(Status("0190-a", kCommuneA, congvan::v1::STATUS_CODE_RECALL_ACCEPTED, "t3")));
  EXPECT_EQ(EntryOf(*store, "0190-a").state(), congvan::v1::DOCUMENT_STATE_RECALLED);
  // A recalled document takes no further status.
  EXPECT_THAT(store->SetInboxStatus(Status("0190-a", kCommuneA, congvan::v1::STATUS_CODE_ACCEPTED, "t4")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("recalled")));

  ASSERT_OK(store->RequestRecall(kCommuneA, Status("0190-b", kSender, congvan::v1::STATUS_CODE_RECALL_REQUESTED, "t2"))
                .status());
  ASSERT_OK(store->SetInboxStatus(Status("0190-b", kCommuneA, congvan::v1::STATUS_CODE_RECALL_REFUSED, "t3")));
  EXPECT_EQ(EntryOf(*store, "0190-b").state(), congvan::v1::DOCUMENT_STATE_ACTIVE);
  EXPECT_EQ(EntryOf(*store, "0190-b").status(), congvan::v1::STATUS_CODE_RECALL_REFUSED);

  // The sender's request is an answer of the sender's agency: track lists it apart.
  ASSERT_OK_AND_ASSIGN(congvan::v1::TrackResponse track, store->Track("0190-a"));
  ASSERT_EQ(track.requests_size(), 1);
  EXPECT_EQ(track.requests(0).code(), congvan::v1::STATUS_CODE_RECALL_REQUESTED);
  ASSERT_EQ(track.recipients_size(), 1);
  EXPECT_EQ(track.recipients(0).agency(), kCommuneA);

  EXPECT_THAT(store->RequestRecall(kCommuneB, request), StatusIs(absl::StatusCode::kNotFound));
}

TEST(StoreLifecycle, AnAcceptedReplacementSupersedesTheEarlierDocument) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  Receive(*store, "0190-a");
  Receive(*store, "0190-b", BUSINESS_ACTION_REPLACE, "0190-a");
  congvan::v1::InboxEntry earlier = EntryOf(*store, "0190-a");
  EXPECT_EQ(earlier.state(), congvan::v1::DOCUMENT_STATE_ACTIVE);
  EXPECT_EQ(earlier.superseded_by(), "0190-b");  // waiting for the clerk
  EXPECT_EQ(EntryOf(*store, "0190-b").action(), BUSINESS_ACTION_REPLACE);
  EXPECT_EQ(EntryOf(*store, "0190-b").reference_message_id(), "0190-a");

  ASSERT_OK(store->SetInboxStatus(Status("0190-b", kCommuneA, congvan::v1::STATUS_CODE_RECALL_ACCEPTED, "t2")));
  EXPECT_EQ(EntryOf(*store, "0190-a").state(), congvan::v1::DOCUMENT_STATE_REPLACED);
  EXPECT_EQ(EntryOf(*store, "0190-a").superseded_by(), "0190-b");
  // Answered once: a second 15 or 16 has nothing to answer.
  EXPECT_THAT(store->SetInboxStatus(Status("0190-b", kCommuneA, congvan::v1::STATUS_CODE_RECALL_REFUSED, "t3")),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(StoreLifecycle, ARefusedUpdateLeavesTheEarlierDocumentAsItWas) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  Receive(*store, "0190-a");
  Receive(*store, "0190-b", BUSINESS_ACTION_UPDATE, "0190-a");
  ASSERT_OK(store->SetInboxStatus(Status("0190-b", kCommuneA, congvan::v1::STATUS_CODE_RECALL_REFUSED, "t2")));
  EXPECT_EQ(EntryOf(*store, "0190-a").state(), congvan::v1::DOCUMENT_STATE_ACTIVE);
  EXPECT_EQ(EntryOf(*store, "0190-a").superseded_by(), "");
  // An update accepted later (another one) marks it updated.
  Receive(*store, "0190-c", BUSINESS_ACTION_UPDATE, "0190-a");
  ASSERT_OK(store->SetInboxStatus(Status("0190-c", kCommuneA, congvan::v1::STATUS_CODE_RECALL_ACCEPTED, "t3")));
  EXPECT_EQ(EntryOf(*store, "0190-a").state(), congvan::v1::DOCUMENT_STATE_UPDATED);
  EXPECT_EQ(EntryOf(*store, "0190-a").superseded_by(), "0190-c");
}

TEST(StoreLifecycle, OneRecallRequestIsQueuedForEachRecipientBehindTheSamePeer) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK(IssueDoc(*store, 2025, {"doc"}, {kCommuneA, kCommuneB}, kProvince));
  Answer request = Status("msg-2025-1", kSender, congvan::v1::STATUS_CODE_RECALL_REQUESTED, "t2");
  std::vector<NewOutboxEntry> entries;
  for (const char* recipient : {kCommuneA, kCommuneB}) {
    NewOutboxEntry e;
    e.peer = kProvince;
    e.message_id = "msg-2025-1";
    e.answer.emplace();
    *e.answer->mutable_answer() = request.answer.signed_();
    e.answer->set_to_agency(recipient);
    entries.push_back(std::move(e));
  }
  ASSERT_OK(store->AddAnswer(request, entries).status());
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> queued, store->ListOutbox("msg-2025-1"));
  int answers = 0;
  for (const OutboxEntry& e : queued) answers += e.answer.has_value();
  EXPECT_EQ(answers, 2);
}

TEST(StoreLifecycle, FailedDeliveriesAreListedForTheProbe) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK(IssueDoc(*store, 2025, {"one"}, {kCommuneA}, kProvince));
  ASSERT_OK(IssueDoc(*store, 2025, {"two"}, {kCommuneB}, kProvince));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> due, store->ListDue(T(0), 10));
  ASSERT_EQ(due.size(), 2u);
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> none, store->ListFailed(10));
  EXPECT_TRUE(none.empty());
  ASSERT_OK(store->MarkFailed(due[1].id, "the province is down"));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> failed, store->ListFailed(10));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].id, due[1].id);
  EXPECT_EQ(failed[0].failure, "the province is down");
  ASSERT_OK(store->Rearm(failed[0].id, T(5), T(100)));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> after, store->ListFailed(10));
  EXPECT_TRUE(after.empty());
}

TEST(StoreLifecycle, ARelaysReportFailsItsRecipientsUntilTheirReceiptArrives) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK(IssueDoc(*store, 2025, {"doc"}, {kCommuneA, kCommuneB}, kProvince));
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> due, store->ListDue(T(0), 10));
  ASSERT_OK(store->MarkDelivered(due[0].id, {}));
  Answer report = MakeAnswer("msg-2025-1", kProvince, congvan::v1::MESSAGE_KIND_DELIVERY_REPORT,
                             congvan::v1::STATUS_CODE_UNSPECIFIED, "t2");
  report.answer.set_reason("relay gave up on commune A");
  report.failed_recipients = {kCommuneA};
  ASSERT_OK_AND_ASSIGN(bool added, store->AddAnswer(report));
  EXPECT_TRUE(added);
  ASSERT_OK_AND_ASSIGN(congvan::v1::TrackResponse track, store->Track("msg-2025-1"));
  ASSERT_EQ(track.reports_size(), 1);
  EXPECT_EQ(track.reports(0).reason(), "relay gave up on commune A");
  ASSERT_EQ(track.recipients_size(), 2);  // the relay is not listed as a recipient
  EXPECT_EQ(track.recipients(0).state(), congvan::v1::DELIVERY_STATE_FAILED);
  EXPECT_EQ(track.recipients(0).failure(), "relay gave up on commune A");
  EXPECT_EQ(track.recipients(1).state(), congvan::v1::DELIVERY_STATE_IN_TRANSIT);
  // The relay kept trying: the receipt wins.
  ASSERT_OK(store->AddAnswer(Receipt("msg-2025-1", kCommuneA)).status());
  ASSERT_OK_AND_ASSIGN(congvan::v1::TrackResponse after, store->Track("msg-2025-1"));
  EXPECT_EQ(after.recipients(0).state(), congvan::v1::DELIVERY_STATE_DELIVERED);
  EXPECT_EQ(after.recipients(0).failure(), "");
}

TEST(StoreLifecycle, TheRulesOfFifteenAndSixteen) {
  congvan::v1::InboxEntry e;
  e.set_message_id("m");
  e.set_state(congvan::v1::DOCUMENT_STATE_ACTIVE);
  EXPECT_OK(CheckStatusAllowed(e, congvan::v1::STATUS_CODE_ACCEPTED));
  EXPECT_FALSE(CheckStatusAllowed(e, congvan::v1::STATUS_CODE_RECALL_ACCEPTED).ok());
  e.set_action(BUSINESS_ACTION_UPDATE);
  EXPECT_FALSE(CheckStatusAllowed(e, congvan::v1::STATUS_CODE_RECALL_ACCEPTED).ok());  // no reference
  e.set_reference_message_id("earlier");
  EXPECT_OK(CheckStatusAllowed(e, congvan::v1::STATUS_CODE_RECALL_REFUSED));
  e.set_status(congvan::v1::STATUS_CODE_RECALL_REFUSED);
  EXPECT_FALSE(CheckStatusAllowed(e, congvan::v1::STATUS_CODE_RECALL_ACCEPTED).ok());
  e.set_state(congvan::v1::DOCUMENT_STATE_RECALL_REQUESTED);
  EXPECT_OK(CheckStatusAllowed(e, congvan::v1::STATUS_CODE_RECALL_ACCEPTED));
  e.set_state(congvan::v1::DOCUMENT_STATE_RECALLED);
  EXPECT_FALSE(CheckStatusAllowed(e, congvan::v1::STATUS_CODE_COMPLETED).ok());
}

}  // namespace
}  // namespace congvan::store::testing
