// What the clerk commands print: the --json documents that scripts and the
// end-to-end tests rely on, and the text for people. Keep the JSON shapes
// stable; each command's --help repeats its shape.
//
// Status codes are always two digits, as edXML writes them: "01", "13".
// Every object printed on success also carries "ok": true, as failures carry
// "ok": false (PrintError); inbox prints a list.
#ifndef CONGVAN_CLIENT_CLERK_OUTPUT_H_
#define CONGVAN_CLIENT_CLERK_OUTPUT_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "congvan/v1/message.pb.h"
#include "congvan/v1/node.pb.h"

namespace congvan::client {

// "01" for STATUS_CODE_ARRIVED, "00" for UNSPECIFIED.
std::string StatusCodeDigits(v1::StatusCode code);
// "arrived", "rejected", "accepted", "assigned", "processing", "completed",
// "recall requested", "recall/update accepted", "recall/update refused";
// "" for UNSPECIFIED.
std::string StatusCodeName(v1::StatusCode code);
// "queued", "delivered", "failed"; "unknown" for UNSPECIFIED.
std::string DeliveryStateName(v1::DeliveryState state);
// "normal", "urgent", "very-urgent", "flash"; PRIORITY_UNSPECIFIED for
// anything else.
v1::Priority ParsePriority(const std::string& name);

// PrintError (cli_util.h) with the message made printable: messages carry
// file names from the command line and text from the node, neither of which
// is sure to be UTF-8, which --json needs.
void PrintClerkError(const std::string& command, const absl::Status& status, bool json);

// Prints `doc` on one line of stdout. Text that is not UTF-8 (a node's
// strings are not trusted to be) becomes U+FFFD instead of failing.
void PrintJsonLine(const nlohmann::json& doc);

// send: {"message_id": "...", "number": 12, "year": 2026, "notation": "..."}
nlohmann::json SendJson(const v1::SendResponse& response);
std::string SendText(const v1::SendResponse& response);

// inbox: [{"message_id", "from", "from_name", "subject", "number",
// "notation", "received_at", "status": "01"}, ...], newest as the node
// lists them; [] when empty.
nlohmann::json InboxJson(const v1::InboxResponse& response);
std::string InboxText(const v1::InboxResponse& response);

// track: {"message_id", "number", "recipients": [{"agency", "state":
// "queued|delivered|failed|unknown", "failure", "answers": [{"code": "01",
// "time", "reason"}]}]}
nlohmann::json TrackJson(const v1::TrackResponse& response);
std::string TrackText(const v1::TrackResponse& response);

// set-status: {"message_id", "code": "03", "agency", "time", "reason"}
// from the StatusBody the node signed.
// route: {"agency", "hops": [{"agency", "name", "link"}]}
nlohmann::json RouteJson(const std::string& agency, const v1::RouteResponse& response);
std::string RouteText(const v1::RouteResponse& response);

// "new", "update", "replace", "revoke".
std::string ActionName(v1::BusinessAction action);
// "active", "recall requested", "recalled", "updated", "replaced".
std::string DocumentStateName(v1::DocumentState state);

nlohmann::json SetStatusJson(const v1::StatusBody& status);
std::string SetStatusText(const v1::StatusBody& status);

// fetch: {"message_id", "from", "from_name", "number", "year", "notation",
// "subject", "document_type", "document_date", "dir", "header", "seal",
// "leader_signatures": [paths], "parts": [{"name", "media_type", "size",
// "sha256" (hex), "main", "path"}], "action": "new|update|replace",
// "reference_message_id", "trace": [{"agency", "time", "signed"}]}
struct FetchedFiles {
  std::string dir;
  std::string header;                          // dir/header.pb
  std::string seal;                            // dir/seal.p7s
  std::vector<std::string> leader_signatures;  // dir/leader-<n>.p7s
  std::vector<v1::TraceEntry> trace;           // the path it took, sender first
};
nlohmann::json FetchJson(const v1::DocumentHeader& header, const FetchedFiles& files);
std::string FetchText(const v1::DocumentHeader& header, const FetchedFiles& files);

}  // namespace congvan::client

#endif  // CONGVAN_CLIENT_CLERK_OUTPUT_H_
