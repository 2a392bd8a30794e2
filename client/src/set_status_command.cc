// congvan set-status: a clerk answers a received document with a business
// status (edXML: 02 rejected, 03 accepted, 04 assigned, 05 processing,
// 06 completed; 15 / 16 to accept / refuse a recall, an update or a
// replacement). The node seals it and routes it back to the sender.
#include <iostream>

#include "clerk_output.h"
#include "cli_util.h"
#include "commands.h"
#include "node_client.h"

namespace congvan::client {

void RegisterSetStatusCommand(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string profile;
    std::string message_id;
    std::string code;
    std::string reason;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("set-status", "Answer a received document with a status (clerk)");
  AddProfileFlag(cmd, flags->profile);
  cmd->add_option("MSG", flags->message_id, "the message id (from congvan inbox)")->required();
  cmd->add_option("--code", flags->code,
                  "02 rejected, 03 accepted, 04 assigned, 05 processing, 06 completed; 15 / 16 accept / refuse "
                  "a recall request, an update or a replacement")
      ->required()
      ->check(CLI::IsMember({"02", "03", "04", "05", "06", "15", "16"}));
  cmd->add_option("--reason", flags->reason, "why (expected with 02 rejected)");
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->footer(
      "Prints the status as the node sealed it: message_id, status (e.g. \"03 accepted\"), agency, time, reason.\n"
      "--json: {\"ok\": true, \"message_id\", \"code\": \"03\", \"agency\", \"time\", \"reason\"}\n"
      "Exit: 0 set; 1 the node refused or could not be reached; 2 usage.");
  cmd->callback([flags, &exit_code] {
    auto session = OpenNodeSession(flags->profile);
    if (!session.ok()) {
      PrintClerkError("set-status", session.status(), flags->json);
      exit_code = kExitUsage;
      return;
    }
    NodeClient& client = *session->client;
    v1::SetStatusRequest request;
    request.set_message_id(flags->message_id);
    request.set_code(static_cast<v1::StatusCode>(std::stoi(flags->code)));
    request.set_reason(flags->reason);
    v1::SetStatusResponse response;
    const grpc::Status status = client.clerk().SetStatus(client.UnaryContext().get(), request, &response);
    if (!status.ok()) {
      PrintClerkError("set-status", client.CallError(status), flags->json);
      exit_code = kExitInvalid;
      return;
    }
    v1::StatusBody body;
    if (response.status().kind() != v1::MESSAGE_KIND_STATUS || !body.ParseFromString(response.status().body())) {
      PrintClerkError(
          "set-status",
          absl::DataLossError("node " + client.target() + " took the status but answered with one that does not parse"),
          flags->json);
      exit_code = kExitInvalid;
      return;
    }
    if (flags->json) {
      PrintJsonLine(SetStatusJson(body));
    } else {
      std::cout << SetStatusText(body);
    }
    exit_code = kExitOk;
  });
}

}  // namespace congvan::client
