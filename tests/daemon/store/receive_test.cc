// Receiving: one write for the message, inbox, receipts, dedup record and
// forwards; a redelivery of a known message id answers the original receipts
// and stores nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store_fixture.h"

namespace congvan::store::testing {
namespace {

using congvan::testing::IsOk;
using congvan::testing::StatusIs;
using congvan::testing::TempDir;

// What a commune's node gets from the province: a document for itself.
ReceiveRequest Incoming(const std::string& message_id, Upload* upload, const std::vector<std::string>& parts,
                        const std::string& receipt_time) {
  ReceiveRequest r;
  r.document = Sealed(Header(message_id, kSender, 2025, 7, {kCommuneA}, DigestsOf(parts)));
  r.upload = upload;
  r.received_at = T(10);
  r.served = {kCommuneA};
  r.local.push_back(LocalDelivery{kCommuneA, Receipt(message_id, kCommuneA, receipt_time).answer});
  return r;
}

TEST(StoreReceive, StoresMessageInboxAndReceiptInOneWrite) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  std::unique_ptr<Upload> upload = Uploaded(*store, {"pdf bytes"});
  ASSERT_OK_AND_ASSIGN(ReceiveResult r, store->Receive(Incoming("m-1", upload.get(), {"pdf bytes"}, "t1")));
  EXPECT_FALSE(r.duplicate);
  ASSERT_EQ(r.receipts.size(), 1u);
  EXPECT_EQ(r.receipts[0].seal_signature(), "seal-of-" + std::string(kCommuneA));

  ASSERT_OK_AND_ASSIGN(StoredMessage m, store->GetMessage("m-1"));
  EXPECT_FALSE(m.issued_here);
  EXPECT_EQ(m.stored_at, T(10));
  ASSERT_OK_AND_ASSIGN(InboxItem item, store->GetInboxItem(kCommuneA, "m-1"));
  EXPECT_EQ(item.entry.status(), congvan::v1::STATUS_CODE_ARRIVED);
  EXPECT_EQ(item.entry.number(), 7u);
  EXPECT_EQ(item.entry.received_at(), "2025-06-15T15:06:50Z");
  ASSERT_OK_AND_ASSIGN(std::vector<Answer> answers, store->ListAnswers("m-1"));
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].agency, kCommuneA);
  ASSERT_OK_AND_ASSIGN(auto known, store->KnownReceipts("m-1"));
  ASSERT_TRUE(known.has_value());
  EXPECT_EQ(known->size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto unknown, store->KnownReceipts("m-2"));
  EXPECT_FALSE(unknown.has_value());
}

TEST(StoreReceive, RedeliveryOfAKnownMessageReturnsTheOriginalReceiptsAndStoresNothing) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  std::unique_ptr<Upload> first = Uploaded(*store, {"pdf bytes"});
  ASSERT_OK_AND_ASSIGN(ReceiveResult original, store->Receive(Incoming("m-1", first.get(), {"pdf bytes"}, "t1")));
  ASSERT_OK_AND_ASSIGN(PartsUsage before, store->Usage());

  // The sender did not see the answer and sends again; this node would sign
  // a new receipt (another time), but must answer with the first one.
  std::unique_ptr<Upload> again = Uploaded(*store, {"pdf bytes"});
  ReceiveRequest redelivery = Incoming("m-1", again.get(), {"pdf bytes"}, "t2");
  redelivery.forward.push_back(Delivery("m-1", kCommuneB, {kCommuneB}));
  ASSERT_OK_AND_ASSIGN(ReceiveResult r, store->Receive(redelivery));
  EXPECT_TRUE(r.duplicate);
  ASSERT_EQ(r.receipts.size(), 1u);
  EXPECT_EQ(r.receipts[0].body(), original.receipts[0].body());

  ASSERT_OK_AND_ASSIGN(PartsUsage after, store->Usage());
  EXPECT_EQ(after.pending_uploads, 0u);
  EXPECT_EQ(after.bytes, before.bytes);
  ASSERT_OK_AND_ASSIGN(std::vector<Answer> answers, store->ListAnswers("m-1"));
  EXPECT_EQ(answers.size(), 1u);
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> outbox, store->ListOutbox("m-1"));
  EXPECT_TRUE(outbox.empty());
  ASSERT_OK_AND_ASSIGN(auto inbox, store->ListInbox(InboxQuery{kCommuneA}));
  EXPECT_EQ(inbox.size(), 1u);
}

TEST(StoreReceive, RelayStoresAndQueuesTheForwardWithoutInbox) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  std::unique_ptr<Upload> upload = Uploaded(*store, {"doc"});
  ReceiveRequest r;
  r.document = Sealed(Header("m-r", kSender, 2025, 3, {kCommuneA, kCommuneB}, DigestsOf({"doc"})));
  r.upload = upload.get();
  r.received_at = T(5);
  r.served = {kCommuneA, kCommuneB};
  r.forward.push_back(Delivery("m-r", kCommuneA, {kCommuneA}, T(5)));
  r.forward.push_back(Delivery("m-r", kCommuneB, {kCommuneB}, T(5)));
  ASSERT_OK_AND_ASSIGN(ReceiveResult result, store->Receive(r));
  EXPECT_TRUE(result.receipts.empty());
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> due, store->ListDue(T(5), 10));
  EXPECT_EQ(due.size(), 2u);
  ASSERT_OK_AND_ASSIGN(auto inbox, store->ListInbox(InboxQuery{kCommuneA}));
  EXPECT_TRUE(inbox.empty());
  // A redelivery to the relay answers (no receipts) without queueing twice.
  std::unique_ptr<Upload> again = Uploaded(*store, {"doc"});
  r.upload = again.get();
  ASSERT_OK_AND_ASSIGN(ReceiveResult dup, store->Receive(r));
  EXPECT_TRUE(dup.duplicate);
  ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> still, store->ListOutbox("m-r"));
  EXPECT_EQ(still.size(), 2u);
}

TEST(StoreReceive, RefusesPartsThatDoNotMatchTheHeader) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  std::unique_ptr<Upload> upload = Uploaded(*store, {"tampered"});
  EXPECT_THAT(store->Receive(Incoming("m-1", upload.get(), {"original"}, "t1")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(store->HasMessage("m-1").value_or(true), false);
  ASSERT_OK_AND_ASSIGN(auto known, store->KnownReceipts("m-1"));
  EXPECT_FALSE(known.has_value());
}

TEST(StoreReceive, RefusesAnUploadThatIsNotFinished) {
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Upload> upload, store->BeginUpload());
  ASSERT_OK(upload->Append(0, "half"));
  EXPECT_THAT(store->Receive(Incoming("m-1", upload.get(), {"half"}, "t1")),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace congvan::store::testing
