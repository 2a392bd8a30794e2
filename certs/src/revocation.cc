#include "revocation.h"

#include <toml++/toml.h>

#include "congvan/signer/certificate.h"
#include "congvan/signer/status_macros.h"
#include "files.h"

namespace congvan::pki::internal {
namespace {

constexpr absl::Duration kCrlLifetime = absl::Hours(24 * 30);

const char* CaName(RevokingCa ca) { return ca == RevokingCa::kRoot ? "root" : "issuing"; }

absl::StatusOr<RevokedEntry> ReadEntry(const toml::table& t, const std::string& where) {
  auto ca = t["ca"].value<std::string>();
  auto serial = t["serial"].value<std::string>();
  auto revoked_at = t["revoked_at"].value<std::string>();
  auto reason = t["reason"].value<std::string>();
  if (!ca || (*ca != "root" && *ca != "issuing") || !serial || !revoked_at || !reason) {
    return absl::InvalidArgumentError(where + ": needs ca (\"root\" or \"issuing\"), serial, revoked_at, reason");
  }
  RevokedEntry entry;
  entry.ca = *ca == "root" ? RevokingCa::kRoot : RevokingCa::kIssuing;
  entry.revocation.serial_hex = *serial;
  entry.revocation.reason = *reason;
  entry.subject = t["subject"].value_or(std::string());
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, *revoked_at, &entry.revocation.revoked_at, &error)) {
    return absl::InvalidArgumentError(where + ": revoked_at '" + *revoked_at + "': " + error);
  }
  return entry;
}

}  // namespace

const RevokedEntry* RevocationState::Find(RevokingCa ca, const std::string& serial_hex) const {
  for (const RevokedEntry& e : revoked) {
    if (e.ca == ca && e.revocation.serial_hex == serial_hex) return &e;
  }
  return nullptr;
}

absl::StatusOr<RevocationState> LoadRevocationState(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, signer::ReadFile(path));
  toml::table top;
  try {
    top = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(path + ": not valid TOML: " + std::string(e.description()));
  }
  RevocationState state;
  auto number = top["crl_number"].value<int64_t>();
  if (!number || *number < 1) return absl::InvalidArgumentError(path + ": crl_number must be a positive integer");
  state.crl_number = *number;
  if (const toml::array* entries = top["revoked"].as_array()) {
    int i = 0;
    for (const toml::node& node : *entries) {
      const std::string where = path + ": [[revoked]] #" + std::to_string(++i);
      if (!node.is_table()) return absl::InvalidArgumentError(where + ": not a table");
      ASSIGN_OR_RETURN(RevokedEntry entry, ReadEntry(*node.as_table(), where));
      state.revoked.push_back(std::move(entry));
    }
  }
  return state;
}

absl::Status SaveRevocationState(const std::string& path, const RevocationState& state) {
  std::string out =
      "# What `congvan pki revoke` has revoked; ca/crl.pem is made from this file.\n"
      "crl_number = " + std::to_string(state.crl_number) + "\n";
  for (const RevokedEntry& e : state.revoked) {
    out += "\n[[revoked]]\n";
    out += "ca = " + TomlString(CaName(e.ca)) + "\n";
    out += "serial = " + TomlString(e.revocation.serial_hex) + "\n";
    out += "revoked_at = " +
           TomlString(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", e.revocation.revoked_at, absl::UTCTimeZone())) + "\n";
    out += "reason = " + TomlString(e.revocation.reason) + "\n";
    out += "subject = " + TomlString(e.subject) + "\n";
  }
  return signer::WriteFile(path, out, 0644);
}

absl::Status WriteCrls(const PkiLayout& layout, signer::CertificateAuthority& root,
                       signer::CertificateAuthority& issuing, const RevocationState& state, absl::Time now) {
  std::vector<signer::Revocation> by_root, by_issuing;
  for (const RevokedEntry& e : state.revoked) {
    (e.ca == RevokingCa::kRoot ? by_root : by_issuing).push_back(e.revocation);
  }
  ASSIGN_OR_RETURN(std::string root_crl, root.MakeCrl(by_root, state.crl_number, now, now + kCrlLifetime));
  ASSIGN_OR_RETURN(std::string issuing_crl,
                   issuing.MakeCrl(by_issuing, state.crl_number, now, now + kCrlLifetime));
  return signer::WriteFile(layout.Crl(), root_crl + issuing_crl, 0644);
}

}  // namespace congvan::pki::internal
