// congvan route: the path a document to an agency would take from the
// operator's own node, hop by hop (parent, child, or a direct peer).
#include <iostream>

#include "clerk_output.h"
#include "cli_util.h"
#include "commands.h"
#include "node_client.h"

namespace congvan::client {

void RegisterRouteCommand(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string profile;
    std::string agency;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("route", "Show the path a document to an agency takes from your node (operator)");
  AddProfileFlag(cmd, flags->profile);
  cmd->add_option("ID", flags->agency, "the destination's agency ID, e.g. 000.01.05.H29")->required();
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->footer(
      "Prints a table: HOP (0 = this node), AGENCY, NAME, REACHED AS (parent, child, direct).\n"
      "The first hop uses this node's own peers; later hops follow the topology's hierarchy.\n"
      "--json: {\"ok\": true, \"agency\", \"hops\": [{\"agency\", \"name\", \"link\"}]}\n"
      "Exit: 0 shown; 1 the node refused (e.g. no route, not an operator) or could not be reached; 2 usage.");
  cmd->callback([flags, &exit_code] {
    auto session = OpenNodeSession(flags->profile);
    if (!session.ok()) {
      PrintClerkError("route", session.status(), flags->json);
      exit_code = kExitUsage;
      return;
    }
    NodeClient& client = *session->client;
    v1::RouteRequest request;
    request.set_agency(flags->agency);
    v1::RouteResponse response;
    const grpc::Status status = client.operators().Route(client.UnaryContext().get(), request, &response);
    if (!status.ok()) {
      PrintClerkError("route", client.CallError(status), flags->json);
      exit_code = kExitInvalid;
      return;
    }
    if (flags->json) {
      PrintJsonLine(RouteJson(flags->agency, response));
    } else {
      std::cout << RouteText(response);
    }
    exit_code = kExitOk;
  });
}

}  // namespace congvan::client
