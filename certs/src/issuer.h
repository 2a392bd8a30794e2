// Issues the dev PKI's certificates and writes them (with their fresh keys)
// to disk, keeping a record of what was written for InitResult.
#ifndef CONGVAN_CERTS_SRC_ISSUER_H_
#define CONGVAN_CERTS_SRC_ISSUER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/pki/pki.h"
#include "congvan/signer/ca.h"

namespace congvan::pki::internal {

// "root-ca", "issuing-ca", "seal", ... (IssuedCertificate::profile).
std::string ProfileName(signer::CertificateProfile profile);

// `t` plus `years` calendar years (UTC; 29 February becomes 1 March).
absl::Time AddYears(absl::Time t, int years);

// Private keys are written mode 0600, certificates 0644.
void RecordIssued(const signer::Certificate& cert, const signer::CertificateRequest& request,
                  const std::string& cert_file, const std::string& key_file,
                  std::vector<IssuedCertificate>* record);

class CertificateWriter {
 public:
  // `ca` must outlive the writer. End-entity certificates are valid from
  // `not_before` to `not_after`; keys are of `key_type`.
  CertificateWriter(signer::CertificateAuthority& ca, signer::KeyType key_type, absl::Time not_before,
                    absl::Time not_after, std::vector<IssuedCertificate>* record)
      : ca_(ca), key_type_(key_type), not_before_(not_before), not_after_(not_after), record_(record) {}

  // Generates a key, issues `request` (validity and public key filled in)
  // for it, and writes the key and the certificate.
  [[nodiscard]] absl::Status IssueWithNewKey(signer::CertificateRequest request, const std::string& cert_file,
                                             const std::string& key_file);
  // Issues `request` for a key held elsewhere (`public_key_der`, e.g. on a
  // token) and writes the certificate.
  [[nodiscard]] absl::Status IssueForKey(signer::CertificateRequest request, const std::string& public_key_der,
                                         const std::string& cert_file);

 private:
  std::string ChainPem(const signer::Certificate& cert) const;

  signer::CertificateAuthority& ca_;
  signer::KeyType key_type_;
  absl::Time not_before_;
  absl::Time not_after_;
  std::vector<IssuedCertificate>* record_;
};

}  // namespace congvan::pki::internal

#endif  // CONGVAN_CERTS_SRC_ISSUER_H_
