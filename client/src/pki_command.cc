// `congvan pki init` and `congvan pki revoke`: the dev PKI that stands in for
// the Government CA (certs/README.md).
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/time/time.h"
#include "cli_util.h"
#include "commands.h"
#include "congvan/pki/pki.h"
#include "congvan/signer/key_backend.h"

namespace congvan::client {
namespace {

using nlohmann::json;

// Reports a failure as every command does (cli_util.h): "congvan pki
// <command>: <message>" on stderr, or a JSON object on stdout.
int Fail(const std::string& command, const absl::Status& status, bool as_json) {
  PrintError("pki " + command, status, as_json);
  return kExitInvalid;
}

struct InitFlags {
  std::string topology;
  std::string out;
  std::string key_type = "rsa2048";
  std::string pkcs11_module = pki::InitOptions().pkcs11_module;
  int base_port = pki::kDefaultBasePort;
  bool json = false;
};

int RunInit(const InitFlags& flags) {
  auto key_type = signer::ParseKeyType(flags.key_type);
  if (!key_type.ok()) return Fail("init", key_type.status(), flags.json);
  pki::InitOptions options;
  options.topology_file = flags.topology;
  options.out_dir = flags.out;
  options.key_type = *key_type;
  options.pkcs11_module = flags.pkcs11_module;
  options.base_port = flags.base_port;
  options.now = absl::Now();
  auto result = pki::InitPki(options);
  if (!result.ok()) return Fail("init", result.status(), flags.json);

  if (flags.json) {
    json certificates = json::array();
    for (const pki::IssuedCertificate& c : result->certificates) {
      certificates.push_back({{"profile", c.profile},
                              {"cert_file", c.cert_file},
                              {"key_file", c.key_file.empty() ? json(nullptr) : json(c.key_file)},
                              {"agency_id", c.agency_id.empty() ? json(nullptr) : json(c.agency_id)},
                              {"login", c.login.empty() ? json(nullptr) : json(c.login)},
                              {"serial", c.serial_hex},
                              {"subject", c.subject}});
    }
    json tokens = json::array();
    for (const pki::ProvisionedToken& t : result->tokens) {
      tokens.push_back(
          {{"login", t.login}, {"config_file", t.config_file}, {"token", t.token_label}, {"key_label", t.key_label}});
    }
    json out = {{"ok", true},
                {"dir", result->dir},
                {"key_type", flags.key_type},
                {"not_before", FormatRfc3339(options.now)},
                {"certificates", certificates},
                {"tokens", tokens}};
    PrintJson(out);
  } else {
    std::cout << "Dev PKI written to " << result->dir << " (" << flags.key_type << "): "
              << result->certificates.size() << " certificates, " << result->tokens.size() << " tokens.\n"
              << "  trust anchor:  " << result->dir << "/ca/root.pem\n"
              << "  CRLs:          " << result->dir << "/ca/crl.pem\n";
    for (const pki::ProvisionedToken& t : result->tokens) {
      std::cout << "  token of " << t.login << ": " << t.config_file << "\n";
    }
    std::cout << "This is a development CA: its root key is in ca/root.key. Never use it in production.\n";
  }
  return kExitOk;
}

struct RevokeFlags {
  std::string dir;
  std::string cert;
  std::string reason = "unspecified";
  bool json = false;
};

int RunRevoke(const RevokeFlags& flags) {
  pki::RevokeOptions options;
  options.dir = flags.dir;
  options.cert_file = flags.cert;
  options.reason = flags.reason;
  options.now = absl::Now();
  auto result = pki::RevokeCertificate(options);
  if (!result.ok()) return Fail("revoke", result.status(), flags.json);
  if (flags.json) {
    json out = {{"ok", true},
                {"serial", result->serial_hex},
                {"subject", result->subject},
                {"reason", result->reason},
                {"revoked_at", FormatRfc3339(result->revoked_at)},
                {"already_revoked", result->already_revoked},
                {"crl_number", result->crl_number},
                {"crl_file", flags.dir + "/ca/crl.pem"}};
    PrintJson(out);
  } else {
    std::cout << (result->already_revoked ? "Already revoked: " : "Revoked: ") << result->subject << "\n"
              << "  serial:   " << result->serial_hex << "\n"
              << "  reason:   " << result->reason << "\n"
              << "  since:    " << FormatRfc3339(result->revoked_at) << "\n"
              << "  CRL #" << result->crl_number << " written to " << flags.dir << "/ca/crl.pem\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterPkiCommands(CLI::App& app, int& exit_code) {
  CLI::App* pki = app.add_subcommand("pki", "The dev PKI that stands in for the Government CA");
  pki->require_subcommand(1);

  auto init_flags = std::make_shared<InitFlags>();
  CLI::App* init = pki->add_subcommand(
      "init", "Create root and issuing CA, agency seal/TLS certificates, people's signing/TLS certificates, "
              "SoftHSM2 tokens and an empty CRL for a topology");
  init->add_option("--topology", init_flags->topology, "Topology file (TOML, see certs/README.md)")->required();
  init->add_option("--out", init_flags->out, "Output directory (created; must be empty)")->required();
  init->add_option("--key-type", init_flags->key_type, "Key type of every key")
      ->check(CLI::IsMember({"rsa2048", "rsa3072", "p256"}))
      ->capture_default_str();
  init->add_option("--pkcs11-module", init_flags->pkcs11_module, "PKCS#11 module for the tokens")
      ->capture_default_str();
  init->add_option("--base-port", init_flags->base_port,
                   "First of the nodes' ports on 127.0.0.1 (three per agency: peers and people in pairs in topology order, then metrics)")
      ->check(CLI::Range(1024, 65535))
      ->capture_default_str();
  init->add_flag("--json", init_flags->json, "Print the result as JSON");
  init->callback([init_flags, &exit_code] { exit_code = RunInit(*init_flags); });

  auto revoke_flags = std::make_shared<RevokeFlags>();
  CLI::App* revoke = pki->add_subcommand("revoke", "Revoke a certificate and rewrite ca/crl.pem");
  revoke->add_option("--dir", revoke_flags->dir, "Directory made by `congvan pki init`")->required();
  revoke->add_option("--cert", revoke_flags->cert, "Certificate to revoke (PEM or DER)")->required();
  revoke->add_option("--reason", revoke_flags->reason, "RFC 5280 reason")
      ->check(CLI::IsMember(pki::RevocationReasons()))
      ->capture_default_str();
  revoke->add_flag("--json", revoke_flags->json, "Print the result as JSON");
  revoke->callback([revoke_flags, &exit_code] { exit_code = RunRevoke(*revoke_flags); });
}

}  // namespace congvan::client
