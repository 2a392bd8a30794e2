// congvan sign: a leader signs a document's main part on their own machine,
// with a key file or a PKCS#11 token. The key never leaves the token.
#include <iostream>

#include "absl/time/clock.h"
#include "cli_util.h"
#include "commands.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/key_backend.h"
#include "congvan/signer/status_macros.h"

namespace congvan::client {
namespace {

struct SignFlags {
  std::string cert;
  std::string key;
  std::string token_config;
  signer::SecretSource passphrase;
  std::string in;
  std::string out;
  bool json = false;
};

absl::StatusOr<nlohmann::json> Sign(const SignFlags& flags) {
  ASSIGN_OR_RETURN(std::vector<signer::Certificate> certs, signer::LoadCertificates(flags.cert));
  signer::KeyConfig key_config;
  key_config.key_file = flags.key;
  key_config.passphrase = flags.passphrase;
  if (!flags.token_config.empty()) {
    ASSIGN_OR_RETURN(signer::TokenConfig token, signer::LoadTokenConfig(flags.token_config));
    key_config.token = std::move(token);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<signer::KeyBackend> key, signer::OpenKey(key_config));
  ASSIGN_OR_RETURN(std::string digest, signer::Sha256File(flags.in));

  signer::SignRequest request{key.get(), certs.front(), {certs.begin() + 1, certs.end()}, absl::Now()};
  ASSIGN_OR_RETURN(std::string signature, signer::SignDigest(digest, request));
  RETURN_IF_ERROR(signer::WriteFile(flags.out, signature));

  const signer::Certificate& cert = request.certificate;
  return nlohmann::json{{"ok", true},
                        {"out", flags.out},
                        {"signer", cert.CommonName()},
                        {"subject", cert.Subject()},
                        {"agency_id", cert.AgencyId().value_or("")},
                        {"person_login", cert.PersonLogin().value_or("")},
                        {"signing_time", FormatRfc3339(request.signing_time)},
                        {"content_sha256", signer::HexEncode(digest)},
                        {"key", key->Describe()}};
}

}  // namespace

void RegisterSignCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<SignFlags>();
  CLI::App* cmd = app.add_subcommand("sign", "Sign a file (a document's main part) with a detached CMS signature");
  cmd->add_option("--cert", flags->cert, "the signer's certificate (PEM; further certificates in it form the chain)")
      ->required();
  auto* key = cmd->add_option("--key", flags->key, "the private key file (PEM/DER, PKCS#8, encrypted or not)");
  auto* token = cmd->add_option("--token-config", flags->token_config, "token.toml of a PKCS#11 token that holds the key");
  key->excludes(token);
  AddSecretFlags(cmd, flags->passphrase, "pass", "the passphrase of an encrypted key file");
  cmd->add_option("--in", flags->in, "the file to sign")->required();
  cmd->add_option("--out", flags->out, "where to write the signature (DER, .p7s)")->required();
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->callback([flags, &exit_code, key, token] {
    if (key->count() + token->count() != 1) {
      PrintError("sign", absl::InvalidArgumentError("give the key with --key or --token-config"), flags->json);
      exit_code = kExitUsage;
      return;
    }
    auto result = Sign(*flags);
    if (!result.ok()) {
      PrintError("sign", result.status(), flags->json);
      exit_code = kExitInvalid;
      return;
    }
    if (flags->json) {
      PrintJson(*result);
    } else {
      std::cout << "signed " << flags->in << " -> " << flags->out << "\n"
                << "  signer:       " << (*result)["signer"].get<std::string>() << " ("
                << (*result)["person_login"].get<std::string>() << ", agency "
                << (*result)["agency_id"].get<std::string>() << ")\n"
                << "  signing time: " << (*result)["signing_time"].get<std::string>() << "\n"
                << "  SHA-256:      " << (*result)["content_sha256"].get<std::string>() << "\n";
    }
    exit_code = kExitOk;
  });
}

}  // namespace congvan::client
