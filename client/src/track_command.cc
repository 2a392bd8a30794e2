// congvan track: where a sent document is, recipient by recipient: queued,
// delivered or failed, and every receipt and status each one answered.
#include <iostream>

#include "clerk_output.h"
#include "cli_util.h"
#include "commands.h"
#include "node_client.h"

namespace congvan::client {

void RegisterTrackCommand(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string profile;
    std::string message_id;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("track", "Show the delivery and the answers of a document you sent (clerk)");
  AddProfileFlag(cmd, flags->profile);
  cmd->add_option("MSG", flags->message_id, "the message id (from congvan send)")->required();
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->footer(
      "Prints message_id and number, the recall requests you sent (13) and relays' reports of deliveries\n"
      "they gave up on, then a table: AGENCY, STATE (queued, in transit (via RELAY), delivered, failed),\n"
      "STATUS (two-digit code and name, e.g. \"01 arrived\", \"15 recall/update accepted\"), TIME, REASON;\n"
      "one row per answer, a failed delivery's reason in REASON.\n"
      "--json: {\"ok\": true, \"message_id\", \"number\", \"recipients\": [{\"agency\",\n"
      "  \"state\": \"queued|in transit|delivered|failed|unknown\", \"failure\": \"...\" (empty unless failed),\n"
      "  \"via\": relay (in transit), \"answers\": [{\"code\": \"01\", \"time\", \"reason\"}],\n"
      "  \"path\": [{\"agency\", \"time\"}] (from the signed receipt)}],\n"
      "  \"requests\": [{\"code\": \"13\", \"time\", \"reason\"}], \"reports\": [{\"time\", \"reason\"}]}\n"
      "Exit: 0 shown; 1 the node refused (e.g. an unknown message) or could not be reached; 2 usage.");
  cmd->callback([flags, &exit_code] {
    auto session = OpenNodeSession(flags->profile);
    if (!session.ok()) {
      PrintClerkError("track", session.status(), flags->json);
      exit_code = kExitUsage;
      return;
    }
    NodeClient& client = *session->client;
    v1::TrackRequest request;
    request.set_message_id(flags->message_id);
    v1::TrackResponse response;
    const grpc::Status status = client.clerk().Track(client.UnaryContext().get(), request, &response);
    if (!status.ok()) {
      PrintClerkError("track", client.CallError(status), flags->json);
      exit_code = kExitInvalid;
      return;
    }
    if (flags->json) {
      PrintJsonLine(TrackJson(response));
    } else {
      std::cout << TrackText(response);
    }
    exit_code = kExitOk;
  });
}

}  // namespace congvan::client
