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

// The document's state in words, with what it relates to.
std::string StateCell(const v1::InboxEntry& e) {
  std::string cell = DocumentStateName(e.state());
  if (e.state() == v1::DOCUMENT_STATE_RECALL_REQUESTED) cell += ": " + e.recall_reason();
  if (e.state() == v1::DOCUMENT_STATE_UPDATED) cell += " by " + e.superseded_by();
  if (e.state() == v1::DOCUMENT_STATE_REPLACED) cell += " by " + e.superseded_by();
  if (e.state() == v1::DOCUMENT_STATE_ACTIVE && !e.superseded_by().empty()) {
    cell += ", " + e.superseded_by() + " waits for 15/16";
  }
  if (e.action() == v1::BUSINESS_ACTION_UPDATE) cell += "; updates " + e.reference_message_id();
  if (e.action() == v1::BUSINESS_ACTION_REPLACE) cell += "; replaces " + e.reference_message_id();
  return cell;
}

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
    case v1::DELIVERY_STATE_IN_TRANSIT:
      return "in transit";
    default:
      return "unknown";
  }
}

std::string ActionName(v1::BusinessAction action) {
  switch (action) {
    case v1::BUSINESS_ACTION_UPDATE:
      return "update";
    case v1::BUSINESS_ACTION_REPLACE:
      return "replace";
    case v1::BUSINESS_ACTION_REVOKE:
      return "revoke";
    default:
      return "new";
  }
}

std::string DocumentStateName(v1::DocumentState state) {
  switch (state) {
    case v1::DOCUMENT_STATE_RECALL_REQUESTED:
      return "recall requested";
    case v1::DOCUMENT_STATE_RECALLED:
      return "recalled";
    case v1::DOCUMENT_STATE_UPDATED:
      return "updated";
    case v1::DOCUMENT_STATE_REPLACED:
      return "replaced";
    default:
      return "active";
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
          {"notation", response.notation()},
          {"replayed", response.replayed()}};
}

std::string SendText(const v1::SendResponse& response) {
  std::vector<std::pair<std::string, std::string>> lines = {{"message_id", response.message_id()},
                                                            {"number", std::to_string(response.number())},
                                                            {"year", std::to_string(response.year())},
                                                            {"notation", response.notation()}};
  if (response.replayed()) {
    lines.emplace_back("replayed", "yes: an earlier attempt of this send issued it; nothing was issued again");
  }
  return KeyValueLines(lines);
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
                    {"status", StatusCodeDigits(e.status())},
                    {"action", ActionName(e.action())},
                    {"reference_message_id", e.reference_message_id()},
                    {"state", DocumentStateName(e.state())},
                    {"superseded_by", e.superseded_by()},
                    {"recall_reason", e.recall_reason()}});
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
               {"STATUS"},
               {"STATE", Align::kLeft, 60}});
  for (const v1::InboxEntry& e : response.entries()) {
    table.AddRow({e.message_id(), e.from_agency(), OrDash(e.from_name()), std::to_string(e.number()),
                  OrDash(e.notation()), e.subject(), OrDash(e.received_at()), StatusCell(e.status()), StateCell(e)});
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
    nlohmann::json path = nlohmann::json::array();
    for (const v1::TraceEntry& hop : r.path()) path.push_back({{"agency", hop.agency()}, {"time", hop.time()}});
    recipients.push_back({{"agency", r.agency()},
                          {"state", DeliveryStateName(r.state())},
                          {"failure", r.failure()},
                          {"via", r.via()},
                          {"answers", std::move(answers)},
                          {"path", std::move(path)}});
  }
  nlohmann::json requests = nlohmann::json::array();
  for (const v1::TrackedAnswer& a : response.requests()) {
    requests.push_back({{"code", StatusCodeDigits(a.code())}, {"time", a.time()}, {"reason", a.reason()}});
  }
  nlohmann::json reports = nlohmann::json::array();
  for (const v1::TrackedAnswer& a : response.reports()) reports.push_back({{"time", a.time()}, {"reason", a.reason()}});
  return {{"ok", true},
          {"message_id", response.message_id()},
          {"number", response.number()},
          {"recipients", std::move(recipients)},
          {"requests", std::move(requests)},
          {"reports", std::move(reports)}};
}

std::string TrackText(const v1::TrackResponse& response) {
  std::string out =
      KeyValueLines({{"message_id", response.message_id()}, {"number", std::to_string(response.number())}});
  if (response.recipients().empty()) return out + "no recipient\n";
  for (const v1::TrackedAnswer& a : response.requests()) {
    out += "requested: " + StatusCell(a.code()) + " at " + a.time() + (a.reason().empty() ? "" : ": " + a.reason()) +
           "\n";
  }
  for (const v1::TrackedAnswer& a : response.reports()) out += "reported at " + a.time() + ": " + a.reason() + "\n";
  Table table({{"AGENCY"}, {"STATE"}, {"STATUS"}, {"TIME"}, {"REASON", Align::kLeft, 60}});
  for (const v1::RecipientTrack& r : response.recipients()) {
    std::string state = DeliveryStateName(r.state());
    if (r.state() == v1::DELIVERY_STATE_IN_TRANSIT && !r.via().empty()) state += " (via " + r.via() + ")";
    bool first = true;
    for (const v1::TrackedAnswer& a : r.answers()) {
      table.AddRow({first ? r.agency() : "", first ? state : "", StatusCell(a.code()), OrDash(a.time()), a.reason()});
      first = false;
    }
    if (first || !r.failure().empty()) {
      table.AddRow({first ? r.agency() : "", first ? state : "", "-", "-", r.failure()});
    }
  }
  out += "\n" + table.Render();
  for (const v1::RecipientTrack& r : response.recipients()) {
    if (r.path_size() < 3) continue;  // direct: nothing to show
    std::string path;
    for (const v1::TraceEntry& hop : r.path()) path += (path.empty() ? "" : " -> ") + hop.agency();
    out += "path to " + r.agency() + ": " + path + "\n";
  }
  return out;
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
  nlohmann::json trace = nlohmann::json::array();
  for (const v1::TraceEntry& t : files.trace) {
    trace.push_back({{"agency", t.agency()}, {"time", t.time()}, {"signed", t.has_signed_()}});
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
          {"parts", std::move(parts)},
          {"action", ActionName(header.action())},
          {"reference_message_id", header.reference().message_id()},
          {"trace", std::move(trace)}};
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
  if (header.action() == v1::BUSINESS_ACTION_UPDATE || header.action() == v1::BUSINESS_ACTION_REPLACE) {
    out += KeyValueLines({{ActionName(header.action()) + "s", header.reference().message_id() + " (number " +
                                                                 std::to_string(header.reference().number()) + ")"}});
  }
  if (!files.trace.empty()) {
    std::string path;
    for (const v1::TraceEntry& t : files.trace) path += (path.empty() ? "" : " -> ") + t.agency();
    out += KeyValueLines({{"path", path}});
  }
  Table table({{"PART"}, {"SIZE", Align::kRight}, {"MEDIA TYPE"}, {"SHA-256 (checked)"}});
  for (const v1::PartInfo& p : header.parts()) {
    table.AddRow({files.dir + "/" + p.name() + (p.main() ? " (main)" : ""), FormatBytes(p.size()), p.media_type(),
                  signer::HexEncode(p.sha256())});
  }
  return out + "\n" + table.Render();
}

nlohmann::json RouteJson(const std::string& agency, const v1::RouteResponse& response) {
  nlohmann::json hops = nlohmann::json::array();
  for (const v1::RouteHop& h : response.hops()) {
    hops.push_back({{"agency", h.agency()}, {"name", h.name()}, {"link", h.link()}});
  }
  return {{"ok", true}, {"agency", agency}, {"hops", std::move(hops)}};
}

std::string RouteText(const v1::RouteResponse& response) {
  Table table({{"HOP", Align::kRight}, {"AGENCY"}, {"NAME", Align::kLeft, 48}, {"REACHED AS"}});
  int n = 0;
  for (const v1::RouteHop& h : response.hops()) {
    table.AddRow({std::to_string(n++), h.agency(), OrDash(h.name()), h.link().empty() ? "this node" : h.link()});
  }
  return table.Render();
}

}  // namespace congvan::client
