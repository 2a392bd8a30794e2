#include "cli_util.h"

#include <iostream>

#include "congvan/signer/verify_error.h"

namespace congvan::client {

absl::StatusOr<absl::Time> ParseRfc3339(const std::string& text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    return absl::InvalidArgumentError("'" + text + "' is not an RFC 3339 time such as 2026-11-22T10:00:00Z");
  }
  return t;
}

void AddSecretFlags(CLI::App* cmd, signer::SecretSource& source, const std::string& what,
                    const std::string& description) {
  auto* file = cmd->add_option("--" + what + "-file", source.file, description + ": a file (mode 0600) that holds it");
  auto* env = cmd->add_option("--" + what + "-env", source.env, description + ": the environment variable that holds it");
  file->excludes(env);
}

void PrintError(const std::string& command, const absl::Status& status, bool json) {
  if (json) {
    nlohmann::json doc = {{"ok", false},
                          {"error", std::string(status.message())},
                          {"code", absl::StatusCodeToString(status.code())}};
    signer::VerifyFailure failure = signer::VerifyFailureOf(status);
    if (failure != signer::VerifyFailure::kNone) doc["failure"] = std::string(signer::VerifyFailureName(failure));
    PrintJson(doc);
  } else {
    std::cerr << "congvan " << command << ": " << status.message() << "\n";
  }
}

void PrintJson(const nlohmann::json& doc) { std::cout << doc.dump() << "\n"; }

}  // namespace congvan::client
