// The --json shapes and text of the clerk commands, which scripts and the
// end-to-end tests rely on.
#include "clerk_output.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "congvan/signer/cms.h"
#include "table.h"

namespace congvan::client {
namespace {

using ::testing::HasSubstr;

TEST(ClerkOutputCodes, TwoDigits) {
  EXPECT_EQ(StatusCodeDigits(v1::STATUS_CODE_ARRIVED), "01");
  EXPECT_EQ(StatusCodeDigits(v1::STATUS_CODE_COMPLETED), "06");
  EXPECT_EQ(StatusCodeDigits(v1::STATUS_CODE_RECALL_REFUSED), "16");
  EXPECT_EQ(StatusCodeName(v1::STATUS_CODE_ACCEPTED), "accepted");
  EXPECT_EQ(DeliveryStateName(v1::DELIVERY_STATE_FAILED), "failed");
  EXPECT_EQ(DeliveryStateName(v1::DELIVERY_STATE_UNSPECIFIED), "unknown");
  EXPECT_EQ(ParsePriority("very-urgent"), v1::PRIORITY_VERY_URGENT);
  EXPECT_EQ(ParsePriority("whenever"), v1::PRIORITY_UNSPECIFIED);
}

TEST(ClerkOutputSend, MessageIdAndNumber) {
  v1::SendResponse r;
  r.set_message_id("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
  r.set_number(12);
  r.set_year(2026);
  r.set_notation("UBND-VP");
  EXPECT_EQ(SendJson(r), nlohmann::json::parse(R"({"ok": true, "message_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
                                                  "number": 12, "year": 2026, "notation": "UBND-VP",
                                                  "replayed": false})"));
  EXPECT_EQ(SendText(r),
            "message_id:  0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\n"
            "number:      12\n"
            "year:        2026\n"
            "notation:    UBND-VP\n");
  // Answered from an earlier attempt of the same request: said so.
  r.set_replayed(true);
  EXPECT_EQ(SendJson(r)["replayed"], true);
  EXPECT_EQ(SendText(r),
            "message_id:  0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\n"
            "number:      12\n"
            "year:        2026\n"
            "notation:    UBND-VP\n"
            "replayed:    yes: an earlier attempt of this send issued it; nothing was issued again\n");
}

v1::InboxResponse SampleInbox() {
  v1::InboxResponse r;
  v1::InboxEntry* a = r.add_entries();
  a->set_message_id("0190-a");
  a->set_from_agency("000.00.00.H49");
  a->set_from_name("UBND tỉnh Quảng Ninh");
  a->set_subject("Về việc tổ chức hội nghị");
  a->set_number(12);
  a->set_notation("UBND-VP");
  a->set_received_at("2026-11-22T03:00:00Z");
  a->set_status(v1::STATUS_CODE_ARRIVED);
  v1::InboxEntry* b = r.add_entries();
  b->set_message_id("0190-b");
  b->set_from_agency("000.00.00.G12");
  b->set_from_name("Bo Noi vu");
  b->set_subject("Decomposed: Nguye\u0302\u0303n");
  b->set_number(7);
  b->set_status(v1::STATUS_CODE_ACCEPTED);
  return r;
}

TEST(ClerkOutputInbox, JsonListWithTwoDigitStatus) {
  const nlohmann::json doc = InboxJson(SampleInbox());
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 2u);
  EXPECT_EQ(doc[0], nlohmann::json::parse(R"({"message_id": "0190-a", "from": "000.00.00.H49",
      "from_name": "UBND tỉnh Quảng Ninh", "subject": "Về việc tổ chức hội nghị", "number": 12,
      "notation": "UBND-VP", "received_at": "2026-11-22T03:00:00Z", "status": "01", "action": "new",
      "reference_message_id": "", "state": "active", "superseded_by": "", "recall_reason": ""})"));
  EXPECT_EQ(doc[1]["status"], "03");
  EXPECT_EQ(InboxJson(v1::InboxResponse()), nlohmann::json::array());
}

TEST(ClerkOutputInbox, TextColumnsLineUp) {
  const std::string text = InboxText(SampleInbox());
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  auto column = [](const std::string& line, const std::string& needle) {
    return DisplayWidth(line.substr(0, line.find(needle)));
  };
  EXPECT_EQ(column(lines[1], "01 arrived"), column(lines[0], "STATUS"));
  EXPECT_EQ(column(lines[2], "03 accepted"), column(lines[0], "STATUS"));
  EXPECT_EQ(column(lines[1], "Về việc"), column(lines[0], "SUBJECT"));
  EXPECT_EQ(column(lines[2], "Decomposed"), column(lines[0], "SUBJECT"));
  EXPECT_EQ(InboxText(v1::InboxResponse()), "the inbox is empty\n");
}

TEST(ClerkOutputTrack, JsonShape) {
  v1::TrackResponse r;
  r.set_message_id("0190-a");
  r.set_number(12);
  v1::RecipientTrack* h29 = r.add_recipients();
  h29->set_agency("000.00.00.H29");
  h29->set_state(v1::DELIVERY_STATE_DELIVERED);
  v1::TrackedAnswer* arrived = h29->add_answers();
  arrived->set_code(v1::STATUS_CODE_ARRIVED);
  arrived->set_time("2026-11-22T03:00:01Z");
  v1::TrackedAnswer* rejected = h29->add_answers();
  rejected->set_code(v1::STATUS_CODE_REJECTED);
  rejected->set_time("2026-11-22T04:00:00Z");
  rejected->set_reason("thiếu chữ ký");
  v1::RecipientTrack* g12 = r.add_recipients();
  g12->set_agency("000.00.00.G12");
  g12->set_state(v1::DELIVERY_STATE_FAILED);
  g12->set_failure("delivery deadline passed");

  EXPECT_EQ(TrackJson(r), nlohmann::json::parse(R"({"ok": true, "message_id": "0190-a", "number": 12, "recipients": [
      {"agency": "000.00.00.H29", "state": "delivered", "failure": "", "via": "", "path": [], "answers": [
          {"code": "01", "time": "2026-11-22T03:00:01Z", "reason": ""},
          {"code": "02", "time": "2026-11-22T04:00:00Z", "reason": "thiếu chữ ký"}]},
      {"agency": "000.00.00.G12", "state": "failed", "failure": "delivery deadline passed", "via": "", "path": [], "answers": []}],
      "requests": [], "reports": []})"));

  const std::string text = TrackText(r);
  EXPECT_THAT(text, HasSubstr("01 arrived"));
  EXPECT_THAT(text, HasSubstr("02 rejected"));
  EXPECT_THAT(text, HasSubstr("delivery deadline passed"));
  EXPECT_THAT(text, HasSubstr("message_id:  0190-a\n"));
}

TEST(ClerkOutputSetStatus, JsonShape) {
  v1::StatusBody body;
  body.set_message_id("0190-a");
  body.set_code(v1::STATUS_CODE_ACCEPTED);
  body.set_agency("000.00.00.H29");
  body.set_time("2026-11-22T05:00:00Z");
  EXPECT_EQ(SetStatusJson(body), nlohmann::json::parse(R"({"ok": true, "message_id": "0190-a", "code": "03",
      "agency": "000.00.00.H29", "time": "2026-11-22T05:00:00Z", "reason": ""})"));
  EXPECT_THAT(SetStatusText(body), HasSubstr("status:      03 accepted\n"));
}

TEST(ClerkOutputFetch, JsonShape) {
  v1::DocumentHeader h;
  h.set_message_id("0190-a");
  h.set_from_agency("000.00.00.H49");
  h.mutable_registration()->set_number(12);
  h.mutable_registration()->set_year(2026);
  v1::PartInfo* p = h.add_parts();
  p->set_name("qd.pdf");
  p->set_media_type("application/pdf");
  p->set_size(3);
  p->set_sha256(signer::Sha256("abc"));
  p->set_main(true);
  FetchedFiles files{"/out", "/out/header.pb", "/out/seal.p7s", {"/out/leader-1.p7s"}};
  const nlohmann::json doc = FetchJson(h, files);
  EXPECT_EQ(doc["ok"], true);
  EXPECT_EQ(doc["number"], 12);
  EXPECT_EQ(doc["header"], "/out/header.pb");
  EXPECT_EQ(doc["leader_signatures"], nlohmann::json::parse(R"(["/out/leader-1.p7s"])"));
  EXPECT_EQ(doc["parts"][0], nlohmann::json::parse(R"({"name": "qd.pdf", "media_type": "application/pdf", "size": 3,
      "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "main": true,
      "path": "/out/qd.pdf"})"));
}

}  // namespace
}  // namespace congvan::client
