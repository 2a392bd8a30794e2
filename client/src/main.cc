// congvan — the command-line tool for clerks, leaders, auditors and operators.
#include <CLI/CLI.hpp>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"congvan: official-document exchange (clerks, leaders, auditors, operators)", "congvan"};
  app.require_subcommand(1);
  int exit_code = congvan::client::kExitOk;
  congvan::client::RegisterSignCommand(app, exit_code);
  congvan::client::RegisterVerifySigCommand(app, exit_code);
  congvan::client::RegisterVerifyCertCommand(app, exit_code);
  congvan::client::RegisterPkiCommands(app, exit_code);
  congvan::client::RegisterSendCommand(app, exit_code);
  congvan::client::RegisterInboxCommand(app, exit_code);
  congvan::client::RegisterFetchCommand(app, exit_code);
  congvan::client::RegisterTrackCommand(app, exit_code);
  congvan::client::RegisterSetStatusCommand(app, exit_code);
  congvan::client::RegisterRecallCommand(app, exit_code);
  congvan::client::RegisterRetryCommand(app, exit_code);
  congvan::client::RegisterRouteCommand(app, exit_code);
  congvan::client::RegisterExportCommand(app, exit_code);
  congvan::client::RegisterVerifyEvidenceCommand(app, exit_code);
  congvan::client::RegisterAuditCommands(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return congvan::client::kExitUsage;
  }
  return exit_code;
}
