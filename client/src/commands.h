// The subcommands of the `congvan` CLI. Each Register function adds its
// subcommand to `app`; when the subcommand runs it stores the process exit
// code in `exit_code`: 0 success, 1 the thing checked is invalid or the
// operation failed (with the reason on stderr, or in the --json output),
// 2 a usage error.
#ifndef CONGVAN_CLIENT_COMMANDS_H_
#define CONGVAN_CLIENT_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace congvan::client {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 1;
inline constexpr int kExitUsage = 2;

void RegisterSignCommand(CLI::App& app, int& exit_code);        // sign_command.cc
void RegisterVerifySigCommand(CLI::App& app, int& exit_code);   // verify_command.cc
void RegisterVerifyCertCommand(CLI::App& app, int& exit_code);  // verify_command.cc
void RegisterPkiCommands(CLI::App& app, int& exit_code);        // pki_command.cc

// The clerk's commands, talking to the own node (node_client.h): each reads
// --profile FILE or $CONGVAN_PROFILE and takes --json (shapes in
// clerk_output.h and in each command's --help). Exit 1 when the node refuses
// or cannot be reached, 2 for a flag, a local file or the profile.
void RegisterSendCommand(CLI::App& app, int& exit_code);       // send_command.cc
void RegisterInboxCommand(CLI::App& app, int& exit_code);      // inbox_command.cc
void RegisterFetchCommand(CLI::App& app, int& exit_code);      // fetch_command.cc
void RegisterTrackCommand(CLI::App& app, int& exit_code);      // track_command.cc
void RegisterSetStatusCommand(CLI::App& app, int& exit_code);  // set_status_command.cc
void RegisterRecallCommand(CLI::App& app, int& exit_code);     // lifecycle_commands.cc
void RegisterRetryCommand(CLI::App& app, int& exit_code);      // lifecycle_commands.cc
void RegisterRouteCommand(CLI::App& app, int& exit_code);      // route_command.cc

// The auditor's commands. export and audit talk to the own node (profile,
// --json, exit codes as the clerk's); verify is offline and needs no
// profile: exit 0 every check passed, 1 one failed, 2 usage.
void RegisterExportCommand(CLI::App& app, int& exit_code);          // evidence_commands.cc
void RegisterVerifyEvidenceCommand(CLI::App& app, int& exit_code);  // evidence_commands.cc
void RegisterAuditCommands(CLI::App& app, int& exit_code);          // audit_commands.cc

}  // namespace congvan::client

#endif  // CONGVAN_CLIENT_COMMANDS_H_
