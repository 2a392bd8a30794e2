// What the dev PKI has revoked (ca/revoked.toml), and the CRLs made from it
// (ca/crl.pem).
#ifndef CONGVAN_CERTS_SRC_REVOCATION_H_
#define CONGVAN_CERTS_SRC_REVOCATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/pki/layout.h"
#include "congvan/signer/ca.h"

namespace congvan::pki::internal {

// Which CA's CRL lists an entry: the root's lists the issuing CA.
enum class RevokingCa { kRoot, kIssuing };

struct RevokedEntry {
  RevokingCa ca = RevokingCa::kIssuing;
  signer::Revocation revocation;
  std::string subject;  // for people reading the file
};

struct RevocationState {
  int64_t crl_number = 1;  // the number of the CRLs in ca/crl.pem
  std::vector<RevokedEntry> revoked;

  // The entry for `serial_hex` on `ca`'s CRL; nullptr if none.
  const RevokedEntry* Find(RevokingCa ca, const std::string& serial_hex) const;
};

// INVALID_ARGUMENT (naming the file) for a file that is not a state file.
[[nodiscard]] absl::StatusOr<RevocationState> LoadRevocationState(const std::string& path);
[[nodiscard]] absl::Status SaveRevocationState(const std::string& path, const RevocationState& state);

// Writes layout.Crl(): the root's CRL then the issuing CA's, both numbered
// state.crl_number, this update `now`, next update 30 days later.
[[nodiscard]] absl::Status WriteCrls(const PkiLayout& layout, signer::CertificateAuthority& root,
                                     signer::CertificateAuthority& issuing, const RevocationState& state,
                                     absl::Time now);

}  // namespace congvan::pki::internal

#endif  // CONGVAN_CERTS_SRC_REVOCATION_H_
