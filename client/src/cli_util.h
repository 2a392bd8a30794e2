// Small pieces shared by the CLI commands: time flags, secret flags, and
// how results and errors are printed (text for people, --json for programs).
#ifndef CONGVAN_CLIENT_CLI_UTIL_H_
#define CONGVAN_CLIENT_CLI_UTIL_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/node/documents.h"
#include "congvan/signer/secret.h"

namespace congvan::client {

// Parses an RFC 3339 time ("2026-11-22T10:00:00Z", "2026-11-22T17:00:00+07:00").
[[nodiscard]] absl::StatusOr<absl::Time> ParseRfc3339(const std::string& text);
// RFC 3339 in UTC to the second: the node's own formatter, so the CLI and
// the documents it shows write times alike.
using node::FormatRfc3339;

// Adds --pass-file / --pass-env (or --pin-file / --pin-env with `what` =
// "pin") to `cmd`, storing into `source`. Secrets never come from argv.
void AddSecretFlags(CLI::App* cmd, signer::SecretSource& source, const std::string& what,
                    const std::string& description);

// Prints a failure: "congvan <command>: <message>" on stderr, or with
// `json` a {"ok": false, "error": ..., "code": ...} object on stdout.
void PrintError(const std::string& command, const absl::Status& status, bool json);

// Prints a JSON document on one line of stdout.
void PrintJson(const nlohmann::json& doc);

}  // namespace congvan::client

#endif  // CONGVAN_CLIENT_CLI_UTIL_H_
