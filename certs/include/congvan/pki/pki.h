// The dev PKI that stands in for the Government CA: `congvan pki init` and
// `congvan pki revoke` (certificate profile and layout in certs/README.md).
#ifndef CONGVAN_PKI_PKI_H_
#define CONGVAN_PKI_PKI_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/signer/key_backend.h"

namespace congvan::pki {

inline constexpr int kDefaultBasePort = 27400;
// Ports each agency's node takes from the base port: peers, people,
// metrics, and the time-stamping authority's (used by the root only).
inline constexpr int kPortsPerAgency = 4;

struct InitOptions {
  std::string topology_file;
  // Created if missing; must be empty if it exists.
  std::string out_dir;
  // For every key, token keys included. Default: RSA-2048.
  signer::KeyType key_type = signer::KeyType::kRsa2048;
  // The PKCS#11 module that holds `token = true` people's keys. Default:
  // Debian's SoftHSM2.
  std::string pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so";
  // The nodes' ports on 127.0.0.1: the i-th agency of the topology file
  // (from 0) of N listens for peers on base_port + 2i, for people on
  // base_port + 2i + 1 and for Prometheus (metrics) on base_port + 2N + i.
  // Default: 27400.
  int base_port = kDefaultBasePort;
  // Start of every validity period. Default: when the options are made.
  absl::Time now = absl::Now();
};

// One certificate that InitPki wrote.
struct IssuedCertificate {
  // "root-ca", "issuing-ca", "seal", "node-tls", "timestamping",
  // "person-signing", "person-tls".
  std::string profile;
  std::string cert_file;
  std::string key_file;   // empty when the key is on a token
  std::string agency_id;  // empty for the CAs
  std::string login;      // empty but for people
  std::string serial_hex;
  std::string subject;
};

// One token that InitPki provisioned.
struct ProvisionedToken {
  std::string login;
  std::string config_file;  // people/<login>/token.toml
  std::string token_label;
  std::string key_label;
};

struct InitResult {
  std::string dir;  // absolute
  std::vector<IssuedCertificate> certificates;
  std::vector<ProvisionedToken> tokens;
};

// Creates the PKI for a topology file in options.out_dir: root and issuing
// CA, per agency a seal and a node TLS certificate, a timestamping
// certificate for the root agency, per person a signing and a TLS
// certificate (the signing key on a SoftHSM2 token for `token = true`),
// empty CRLs; per agency a congvand configuration nodes/<ID>/node.toml, per
// person a profile.toml, so that the whole topology runs on 127.0.0.1.
// Private keys and PINs are written mode 0600. With token people
// it writes out_dir/softhsm2.conf and sets SOFTHSM2_CONF in this process
// (SoftHSM2 reads it once per process: one InitPki with tokens per process).
// Not thread-safe. Errors: the topology's (NOT_FOUND, INVALID_ARGUMENT);
// INVALID_ARGUMENT for a base_port that leaves no room for every agency
// (kPortsPerAgency ports each);
// FAILED_PRECONDITION when out_dir is not empty or the PKCS#11 module is
// missing; the token's and the file system's otherwise. A failed init may
// leave a partial directory behind: remove it and start again.
[[nodiscard]] absl::StatusOr<InitResult> InitPki(const InitOptions& options);

struct RevokeOptions {
  std::string dir;        // a directory made by InitPki
  std::string cert_file;  // the certificate to revoke (PEM or DER)
  // An RFC 5280 reason name (RevocationReasons()). Default: unspecified.
  std::string reason = "unspecified";
  // Revocation time and the CRLs' thisUpdate. Default: when the options are made.
  absl::Time now = absl::Now();
};

struct RevokeResult {
  std::string serial_hex;
  std::string subject;
  std::string reason;
  absl::Time revoked_at;
  int64_t crl_number = 0;
  // It was revoked before; the CRLs were rewritten with the first revocation.
  bool already_revoked = false;
};

// Revokes a certificate issued by the PKI in options.dir and rewrites
// ca/crl.pem (both CRLs, next update 30 days after options.now). Errors:
// INVALID_ARGUMENT for an unknown reason or a file that is not a
// certificate; NOT_FOUND when a file is missing; FAILED_PRECONDITION for a
// certificate this PKI did not issue, or the root CA itself.
[[nodiscard]] absl::StatusOr<RevokeResult> RevokeCertificate(const RevokeOptions& options);

// The reason names RevokeCertificate accepts: unspecified, keyCompromise,
// cACompromise, affiliationChanged, superseded, cessationOfOperation,
// certificateHold.
const std::vector<std::string>& RevocationReasons();

}  // namespace congvan::pki

#endif  // CONGVAN_PKI_PKI_H_
