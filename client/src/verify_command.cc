// congvan verify-sig and verify-cert: offline checks of a signature or a
// certificate against trust anchors and CRLs, at a chosen time.
#include <iostream>

#include "absl/time/clock.h"
#include "cli_util.h"
#include "commands.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/status_macros.h"
#include "congvan/signer/trust.h"
#include "congvan/signer/verify_error.h"

namespace congvan::client {
namespace {

struct TrustFlags {
  std::vector<std::string> trust;
  std::vector<std::string> crls;
  std::string at;
  bool json = false;
};

void AddTrustFlags(CLI::App* cmd, TrustFlags& flags) {
  // One value per occurrence (repeat the flag), so that a certificate named
  // after them is not taken as one more anchor.
  cmd->add_option("--trust", flags.trust, "trust anchor certificates (PEM), e.g. ca/root.pem; repeatable")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--crl", flags.crls, "a CRL file (PEM or DER); repeatable; with none, revocation is not checked")
      ->allow_extra_args(false);
  cmd->add_option("--at", flags.at, "check validity at this RFC 3339 time instead of now");
  cmd->add_flag("--json", flags.json, "print the result as JSON");
}

// The trust store and the time, or a usage error.
absl::StatusOr<std::pair<signer::TrustStore, absl::Time>> LoadTrust(const TrustFlags& flags) {
  ASSIGN_OR_RETURN(signer::TrustStore store, signer::TrustStore::Load(flags.trust, flags.crls));
  absl::Time at = absl::Now();
  if (!flags.at.empty()) {
    ASSIGN_OR_RETURN(at, ParseRfc3339(flags.at));
  }
  return std::make_pair(std::move(store), at);
}

// Prints the verdict on a failed check and returns the exit code.
int Invalid(const std::string& command, const absl::Status& status, bool json) {
  if (json) {
    PrintError(command, status, true);
  } else {
    std::cout << "INVALID: " << status.message() << "\n";
  }
  return kExitInvalid;
}

nlohmann::json CertificateJson(const signer::Certificate& cert) {
  return {{"subject", cert.Subject()},
          {"name", cert.CommonName()},
          {"agency_id", cert.AgencyId().value_or("")},
          {"person_login", cert.PersonLogin().value_or("")},
          {"serial", cert.SerialHex()},
          {"not_before", FormatRfc3339(cert.NotBefore())},
          {"not_after", FormatRfc3339(cert.NotAfter())}};
}

}  // namespace

void RegisterVerifySigCommand(CLI::App& app, int& exit_code) {
  struct Flags : TrustFlags {
    std::string in;
    std::string sig;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("verify-sig", "Verify a detached CMS signature over a file");
  cmd->add_option("--in", flags->in, "the signed file")->required();
  cmd->add_option("--sig", flags->sig, "the detached signature (DER, .p7s)")->required();
  AddTrustFlags(cmd, *flags);
  cmd->callback([flags, &exit_code] {
    auto trust = LoadTrust(*flags);
    auto digest = signer::Sha256File(flags->in);
    auto sig = signer::ReadFile(flags->sig);
    for (const absl::Status& s : {trust.status(), digest.status(), sig.status()}) {
      if (!s.ok()) {
        PrintError("verify-sig", s, flags->json);
        exit_code = kExitUsage;
        return;
      }
    }
    auto verified = signer::VerifyDigest(*digest, *sig, trust->first, trust->second);
    if (!verified.ok()) {
      exit_code = Invalid("verify-sig", verified.status(), flags->json);
      return;
    }
    const signer::Certificate& signer = verified->signer;
    if (flags->json) {
      nlohmann::json doc = CertificateJson(signer);
      doc["ok"] = true;
      doc["valid"] = true;
      doc["signing_time"] = FormatRfc3339(verified->signing_time);
      doc["checked_at"] = FormatRfc3339(trust->second);
      doc["revocation_checked"] = verified->revocation_checked;
      doc["cades_bes"] = verified->cades_bes;
      doc["chain"] = nlohmann::json::array();
      for (const auto& c : verified->chain) doc["chain"].push_back(c.Subject());
      PrintJson(doc);
    } else {
      std::cout << "VALID signature\n"
                << "  signer:       " << signer.CommonName() << "\n"
                << "  subject:      " << signer.Subject() << "\n"
                << "  agency ID:    " << signer.AgencyId().value_or("(none)") << "\n"
                << "  person:       " << signer.PersonLogin().value_or("(none)") << "\n"
                << "  signing time: " << FormatRfc3339(verified->signing_time) << "\n"
                << "  format:       " << (verified->cades_bes ? "CAdES-BES" : "CMS (no signingCertificateV2)") << "\n"
                << "  checked at:   " << FormatRfc3339(trust->second)
                << (verified->revocation_checked ? " (with revocation)" : " (revocation NOT checked: no --crl)")
                << "\n";
    }
    exit_code = kExitOk;
  });
}

void RegisterVerifyCertCommand(CLI::App& app, int& exit_code) {
  struct Flags : TrustFlags {
    std::vector<std::string> untrusted;
    std::string purpose = "any";
    std::string cert;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("verify-cert", "Validate a certificate's path to a trust anchor");
  AddTrustFlags(cmd, *flags);
  cmd->add_option("--untrusted", flags->untrusted, "intermediate CA certificates (PEM); repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--purpose", flags->purpose, "what the certificate is for")
      ->check(CLI::IsMember({"any", "sign", "tls-server", "tls-client", "timestamping"}));
  cmd->add_option("CERT", flags->cert, "the certificate to check (PEM or DER)")->required();
  cmd->callback([flags, &exit_code] {
    auto trust = LoadTrust(*flags);
    auto certs = signer::LoadCertificates(flags->cert);
    std::vector<signer::Certificate> untrusted;
    absl::Status status = trust.ok() ? certs.status() : trust.status();
    for (const std::string& file : flags->untrusted) {
      auto loaded = signer::LoadCertificates(file);
      if (!loaded.ok()) status.Update(loaded.status());
      else untrusted.insert(untrusted.end(), loaded->begin(), loaded->end());
    }
    if (!status.ok()) {
      PrintError("verify-cert", status, flags->json);
      exit_code = kExitUsage;
      return;
    }
    // Further certificates in the file are taken as intermediates.
    untrusted.insert(untrusted.end(), certs->begin() + 1, certs->end());
    static const std::map<std::string, signer::KeyPurpose> kPurposes = {
        {"any", signer::KeyPurpose::kAny},
        {"sign", signer::KeyPurpose::kDocumentSigning},
        {"tls-server", signer::KeyPurpose::kTlsServer},
        {"tls-client", signer::KeyPurpose::kTlsClient},
        {"timestamping", signer::KeyPurpose::kTimestamping}};
    const signer::Certificate& cert = certs->front();
    auto validated = trust->first.Validate(cert, untrusted, kPurposes.at(flags->purpose), trust->second);
    if (!validated.ok()) {
      exit_code = Invalid("verify-cert", validated.status(), flags->json);
      return;
    }
    if (flags->json) {
      nlohmann::json doc = CertificateJson(cert);
      doc["ok"] = true;
      doc["valid"] = true;
      doc["checked_at"] = FormatRfc3339(trust->second);
      doc["revocation_checked"] = validated->revocation_checked;
      PrintJson(doc);
    } else {
      std::cout << "VALID certificate: " << cert.Subject() << "\n"
                << "  agency ID:  " << cert.AgencyId().value_or("(none)") << "\n"
                << "  valid:      " << FormatRfc3339(cert.NotBefore()) << " to " << FormatRfc3339(cert.NotAfter())
                << "\n"
                << "  checked at: " << FormatRfc3339(trust->second)
                << (validated->revocation_checked ? " (with revocation)" : " (revocation NOT checked: no --crl)")
                << "\n";
    }
    exit_code = kExitOk;
  });
}

}  // namespace congvan::client
