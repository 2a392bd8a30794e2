#include "clerk_output.h"

#include <cstdio>
#include <iostream>

#include "cli_util.h"
#include "congvan/signer/cms.h"
#include "progress.h"
#include "table.h"

namespace congvan::client {
namespace {

// "key:  value" lines, values made printable, keys aligned.
std::string KeyValueLines(const std::vector<std::pair<std::string, std::string>>& lines) {
  size_t width = 0;
  for (const auto& [key, value] : lines) width = std::max(width, key.size() + 1);
  std::string out;
  for (const auto& [key, value] : lines) out += PadToWidth(key + ":", width) + "  " + Printable(value) + "\n";
  return out;
}

std::string StatusCell(v1::StatusCode code) {
  if (code == v1::STATUS_CODE_UNSPECIFIED) return "-";
  const std::string name = StatusCodeName(code);
  return StatusCodeDigits(code) + (name.empty() ? "" : " " + name);
}

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

}  // namespace

std::string StatusCodeDigits(v1::StatusCode code) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%02d", static_cast<int>(code));
  return digits;
}

std::string StatusCodeName(v1::StatusCode code) {
  switch (code) {
    case v1::STATUS_CODE_ARRIVED:
      return "arrived";
    case v1::STATUS_CODE_REJECTED:
      return "rejected";
    case v1::STATUS_CODE_ACCEPTED:
      return "accepted";
    case v1::STATUS_CODE_ASSIGNED:
      return "assigned";
    case v1::STATUS_CODE_PROCESSING:
      return "processing";
    case v1::STATUS_CODE_COMPLETED:
      return "completed";
    case v1::STATUS_CODE_RECALL_REQUESTED:
      return "recall requested";
    case v1::STATUS_CODE_RECALL_ACCEPTED:
      return "recall/update accepted";
    case v1::STATUS_CODE_RECALL_REFUSED:
      return "recall/update refused";
    default:
      return "";
  }
}

std::string DeliveryStateName(v1::DeliveryState state) {
  switch (state) {
    case v1::DELIVERY_STATE_QUEUED:
      return "queued";
    case v1::DELIVERY_STATE_DELIVERED:
      return "delivered";
    case v1::DELIVERY_STATE_FAILED:
      return "failed";
    default:
      return "unknown";
  }
}

v1::Priority ParsePriority(const std::string& name) {
  if (name == "normal") return v1::PRIORITY_NORMAL;
  if (name == "urgent") return v1::PRIORITY_URGENT;
  if (name == "very-urgent") return v1::PRIORITY_VERY_URGENT;
  if (name == "flash") return v1::PRIORITY_FLASH;
  return v1::PRIORITY_UNSPECIFIED;
}

void PrintClerkError(const std::string& command, const absl::Status& status, bool json) {
  PrintError(command, absl::Status(status.code(), Printable(std::string(status.message()))), json);
}

void PrintJsonLine(const nlohmann::json& doc) {
  std::cout << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

nlohmann::json SendJson(const v1::SendResponse& response) {
  return {{"ok", true},
          {"message_id", response.message_id()},
          {"number", response.number()},
          {"year", response.year()},
          {"notation", response.notation()}};
}

std::string SendText(const v1::SendResponse& response) {
  return KeyValueLines({{"message_id", response.message_id()},
                        {"number", std::to_string(response.number())},
                        {"year", std::to_string(response.year())},
                        {"notation", response.notation()}});
}

nlohmann::json InboxJson(const v1::InboxResponse& response) {
  nlohmann::json list = nlohmann::json::array();
  for (const v1::InboxEntry& e : response.entries()) {
    list.push_back({{"message_id", e.message_id()},
                    {"from", e.from_agency()},
                    {"from_name", e.from_name()},
                    {"subject", e.subject()},
                    {"number", e.number()},
                    {"notation", e.notation()},
                    {"received_at", e.received_at()},
                    {"status", StatusCodeDigits(e.status())}});
  }
  return list;
}

std::string InboxText(const v1::InboxResponse& response) {
  if (response.entries().empty()) return "the inbox is empty\n";
  Table table({{"MESSAGE ID"},
               {"FROM"},
               {"SENDER", Align::kLeft, 28},
               {"NUMBER", Align::kRight},
               {"NOTATION", Align::kLeft, 20},
               {"SUBJECT", Align::kLeft, 48},
               {"RECEIVED"},
               {"STATUS"}});
  for (const v1::InboxEntry& e : response.entries()) {
    table.AddRow({e.message_id(), e.from_agency(), OrDash(e.from_name()), std::to_string(e.number()),
                  OrDash(e.notation()), e.subject(), OrDash(e.received_at()), StatusCell(e.status())});
  }
  return table.Render();
}

nlohmann::json TrackJson(const v1::TrackResponse& response) {
  nlohmann::json recipients = nlohmann::json::array();
  for (const v1::RecipientTrack& r : response.recipients()) {
    nlohmann::json answers = nlohmann::json::array();
    for (const v1::TrackedAnswer& a : r.answers()) {
      answers.push_back({{"code", StatusCodeDigits(a.code())}, {"time", a.time()}, {"reason", a.reason()}});
    }
    recipients.push_back({{"agency", r.agency()},
                          {"state", DeliveryStateName(r.state())},
                          {"failure", r.failure()},
                          {"answers", std::move(answers)}});
  }
  return {{"ok", true},
          {"message_id", response.message_id()},
          {"number", response.number()},
          {"recipients", std::move(recipients)}};
}

std::string TrackText(const v1::TrackResponse& response) {
  std::string out =
      KeyValueLines({{"message_id", response.message_id()}, {"number", std::to_string(response.number())}});
  if (response.recipients().empty()) return out + "no recipient\n";
  Table table({{"AGENCY"}, {"STATE"}, {"STATUS"}, {"TIME"}, {"REASON", Align::kLeft, 60}});
  for (const v1::RecipientTrack& r : response.recipients()) {
    const std::string state = DeliveryStateName(r.state());
    bool first = true;
    for (const v1::TrackedAnswer& a : r.answers()) {
      table.AddRow({first ? r.agency() : "", first ? state : "", StatusCell(a.code()), OrDash(a.time()), a.reason()});
      first = false;
    }
    if (first || !r.failure().empty()) {
      table.AddRow({first ? r.agency() : "", first ? state : "", "-", "-", r.failure()});
    }
  }
  return out + "\n" + table.Render();
}

nlohmann::json SetStatusJson(const v1::StatusBody& status) {
  return {{"ok", true},
          {"message_id", status.message_id()},
          {"code", StatusCodeDigits(status.code())},
          {"agency", status.agency()},
          {"time", status.time()},
          {"reason", status.reason()}};
}

std::string SetStatusText(const v1::StatusBody& status) {
  std::vector<std::pair<std::string, std::string>> lines = {{"message_id", status.message_id()},
                                                            {"status", StatusCell(status.code())},
                                                            {"agency", status.agency()},
                                                            {"time", status.time()}};
  if (!status.reason().empty()) lines.push_back({"reason", status.reason()});
  return KeyValueLines(lines);
}

nlohmann::json FetchJson(const v1::DocumentHeader& header, const FetchedFiles& files) {
  nlohmann::json parts = nlohmann::json::array();
  for (const v1::PartInfo& p : header.parts()) {
    parts.push_back({{"name", p.name()},
                     {"media_type", p.media_type()},
                     {"size", p.size()},
                     {"sha256", signer::HexEncode(p.sha256())},
                     {"main", p.main()},
                     {"path", files.dir + "/" + p.name()}});
  }
  return {{"ok", true},
          {"message_id", header.message_id()},
          {"from", header.from_agency()},
          {"from_name", header.from_name()},
          {"number", header.registration().number()},
          {"year", header.registration().year()},
          {"notation", header.registration().notation()},
          {"subject", header.subject()},
          {"document_type", header.document_type()},
          {"document_date", header.document_date()},
          {"dir", files.dir},
          {"header", files.header},
          {"seal", files.seal},
          {"leader_signatures", files.leader_signatures},
          {"parts", std::move(parts)}};
}

std::string FetchText(const v1::DocumentHeader& header, const FetchedFiles& files) {
  std::string evidence = files.header + " " + files.seal;
  for (const std::string& s : files.leader_signatures) evidence += " " + s;
  std::string out =
      KeyValueLines({{"message_id", header.message_id()},
                     {"from", header.from_agency() + (header.from_name().empty() ? "" : " " + header.from_name())},
                     {"number", std::to_string(header.registration().number()) + " (" +
                                    std::to_string(header.registration().year()) + ")"},
                     {"notation", header.registration().notation()},
                     {"type", header.document_type()},
                     {"date", header.document_date()},
                     {"subject", header.subject()},
                     {"evidence", evidence}});
  Table table({{"PART"}, {"SIZE", Align::kRight}, {"MEDIA TYPE"}, {"SHA-256 (checked)"}});
  for (const v1::PartInfo& p : header.parts()) {
    table.AddRow({files.dir + "/" + p.name() + (p.main() ? " (main)" : ""), FormatBytes(p.size()), p.media_type(),
                  signer::HexEncode(p.sha256())});
  }
  return out + "\n" + table.Render();
}

}  // namespace congvan::client
