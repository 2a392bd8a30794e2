// congvan recall and congvan retry: what a clerk does about a document the
// agency already sent. A recall asks every recipient to withdraw it (13),
// and each answers 15 (accepted) or 16 (refused), shown by `congvan track`;
// a retry queues the deliveries that failed at their deadline again.
#include <iostream>

#include "clerk_output.h"
#include "cli_util.h"
#include "commands.h"
#include "node_client.h"

namespace congvan::client {

void RegisterRecallCommand(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string profile;
    std::string message_id;
    std::string reason;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("recall", "Ask every recipient to recall a document you sent (clerk)");
  AddProfileFlag(cmd, flags->profile);
  cmd->add_option("MSG", flags->message_id, "the message id (from congvan send)")->required();
  cmd->add_option("--reason", flags->reason, "why: the recipients' clerks read it")->required();
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->footer(
      "Prints the request as the node sealed it: message_id, status (\"13 recall requested\"), agency, time,\n"
      "reason. The recipients' answers (15 accepted, 16 refused) appear in `congvan track MSG`.\n"
      "--json: {\"ok\": true, \"message_id\", \"code\": \"13\", \"agency\", \"time\", \"reason\"}\n"
      "Exit: 0 requested; 1 the node refused or could not be reached; 2 usage.");
  cmd->callback([flags, &exit_code] {
    auto session = OpenNodeSession(flags->profile);
    if (!session.ok()) {
      PrintClerkError("recall", session.status(), flags->json);
      exit_code = kExitUsage;
      return;
    }
    NodeClient& client = *session->client;
    v1::RecallRequest request;
    request.set_message_id(flags->message_id);
    request.set_reason(flags->reason);
    v1::RecallResponse response;
    const grpc::Status status = client.clerk().Recall(client.UnaryContext().get(), request, &response);
    if (!status.ok()) {
      PrintClerkError("recall", client.CallError(status), flags->json);
      exit_code = kExitInvalid;
      return;
    }
    v1::StatusBody body;
    if (response.status().kind() != v1::MESSAGE_KIND_STATUS || !body.ParseFromString(response.status().body())) {
      PrintClerkError("recall",
                      absl::DataLossError("node " + client.target() +
                                          " took the recall but answered with a request that does not parse"),
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

void RegisterRetryCommand(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string profile;
    std::string message_id;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("retry", "Deliver again what failed of a document you sent (clerk)");
  AddProfileFlag(cmd, flags->profile);
  cmd->add_option("MSG", flags->message_id, "the message id (from congvan send)")->required();
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->footer(
      "Queues every delivery of MSG that failed at its deadline again, with a new deadline, and prints\n"
      "the next hops it goes to. The node also does this by itself when such a hop comes back.\n"
      "--json: {\"ok\": true, \"message_id\", \"peers\": [agency IDs]}\n"
      "Exit: 0 queued; 1 the node refused (e.g. nothing failed) or could not be reached; 2 usage.");
  cmd->callback([flags, &exit_code] {
    auto session = OpenNodeSession(flags->profile);
    if (!session.ok()) {
      PrintClerkError("retry", session.status(), flags->json);
      exit_code = kExitUsage;
      return;
    }
    NodeClient& client = *session->client;
    v1::RetryRequest request;
    request.set_message_id(flags->message_id);
    v1::RetryResponse response;
    const grpc::Status status = client.clerk().Retry(client.UnaryContext().get(), request, &response);
    if (!status.ok()) {
      PrintClerkError("retry", client.CallError(status), flags->json);
      exit_code = kExitInvalid;
      return;
    }
    std::vector<std::string> peers(response.peers().begin(), response.peers().end());
    if (flags->json) {
      PrintJsonLine({{"ok", true}, {"message_id", flags->message_id}, {"peers", peers}});
    } else {
      std::string list;
      for (const std::string& peer : peers) list += (list.empty() ? "" : ", ") + peer;
      std::cout << "message " << flags->message_id << ": queued again for " << list << "\n";
    }
    exit_code = kExitOk;
  });
}

}  // namespace congvan::client
