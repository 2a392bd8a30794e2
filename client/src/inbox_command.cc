// congvan inbox: the documents received by the clerk's agency, with the
// latest status the agency answered for each.
#include <iostream>

#include "clerk_output.h"
#include "cli_util.h"
#include "commands.h"
#include "node_client.h"

namespace congvan::client {

void RegisterInboxCommand(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string profile;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("inbox", "List the documents your agency received (clerk)");
  AddProfileFlag(cmd, flags->profile);
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->footer(
      "Prints a table: MESSAGE ID, FROM (agency ID), SENDER, NUMBER, NOTATION, SUBJECT,\n"
      "RECEIVED, STATUS (two-digit code and name, e.g. \"01 arrived\"), STATE (active, recall requested,\n"
      "recalled, updated, replaced, with the related message); \"the inbox is empty\" when empty.\n"
      "--json: a list, [] when empty: [{\"message_id\", \"from\", \"from_name\", \"subject\", \"number\",\n"
      "  \"notation\", \"received_at\", \"status\": \"01\", \"action\": \"new|update|replace\",\n"
      "  \"reference_message_id\", \"state\", \"superseded_by\", \"recall_reason\"}, ...]\n"
      "Exit: 0 listed; 1 the node refused or could not be reached; 2 usage (the profile).");
  cmd->callback([flags, &exit_code] {
    auto session = OpenNodeSession(flags->profile);
    if (!session.ok()) {
      PrintClerkError("inbox", session.status(), flags->json);
      exit_code = kExitUsage;
      return;
    }
    NodeClient& client = *session->client;
    v1::InboxResponse response;
    const grpc::Status status = client.clerk().Inbox(client.UnaryContext().get(), v1::InboxRequest(), &response);
    if (!status.ok()) {
      PrintClerkError("inbox", client.CallError(status), flags->json);
      exit_code = kExitInvalid;
      return;
    }
    if (flags->json) {
      PrintJsonLine(InboxJson(response));
    } else {
      std::cout << InboxText(response);
    }
    exit_code = kExitOk;
  });
}

}  // namespace congvan::client
