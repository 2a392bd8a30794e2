// A certificate authority for the dev PKI that stands in for the Government
// CA (`congvan pki init`): key generation, certificate issuance with the
// congvan profile (certs/README.md), and CRLs.
#ifndef CONGVAN_SIGNER_CA_H_
#define CONGVAN_SIGNER_CA_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/key_backend.h"
#include "congvan/signer/secret.h"

namespace congvan::signer {

// A freshly generated key pair held in memory.
struct GeneratedKey {
  std::string private_key_pem;  // unencrypted PKCS#8 PEM: write it mode 0600
  std::string public_key_der;   // SubjectPublicKeyInfo
};
[[nodiscard]] absl::StatusOr<GeneratedKey> GenerateKey(KeyType type);

// The kinds of certificate in the congvan profile.
enum class CertificateProfile {
  kRootCa,         // self-signed; keyCertSign, cRLSign
  kIssuingCa,      // pathLen 0; keyCertSign, cRLSign
  kSeal,           // agency seal: digitalSignature, nonRepudiation
  kPersonSigning,  // a person's signature: digitalSignature, nonRepudiation
  kNodeTls,        // node TLS: digitalSignature, keyEncipherment; serverAuth, clientAuth
  kPersonTls,      // a person's TLS: digitalSignature; clientAuth
  kTimestamping,   // RFC 3161 TSA: digitalSignature, nonRepudiation; timeStamping (critical)
};

struct CertificateRequest {
  CertificateProfile profile = CertificateProfile::kSeal;
  std::string public_key_der;          // SubjectPublicKeyInfo of the subject
  std::string common_name;             // CN
  std::string organization;            // O (the agency's name)
  std::string organizational_unit;     // OU, optional (e.g. the person's position)
  std::string agency_id;               // urn:congvan:agency:<ID>, empty for CAs
  std::string person_login;            // urn:congvan:person:<login>, optional
  std::vector<std::string> dns_names;  // subjectAltName DNS (TLS)
  std::vector<std::string> ip_addresses;  // subjectAltName IP (TLS)
  absl::Time not_before;
  absl::Time not_after;
  // Overrides the profile's key usage bits (for tests of wrong key usage):
  // OpenSSL config syntax, e.g. "critical,keyEncipherment". Empty: profile.
  std::string key_usage_override;
};

struct Revocation {
  std::string serial_hex;  // upper-case hex, as Certificate::SerialHex()
  absl::Time revoked_at;
  // RFC 5280 reason name: unspecified, keyCompromise, cACompromise,
  // affiliationChanged, superseded, cessationOfOperation, certificateHold.
  std::string reason = "unspecified";
};

// A CA: its certificate and private key. Not thread-safe.
class CertificateAuthority {
 public:
  // A new self-signed root CA.
  [[nodiscard]] static absl::StatusOr<CertificateAuthority> CreateRoot(
      const GeneratedKey& key, const std::string& common_name, const std::string& organization,
      absl::Time not_before, absl::Time not_after);
  // A CA from its certificate and (PEM, optionally encrypted) key files.
  [[nodiscard]] static absl::StatusOr<CertificateAuthority> Load(
      const std::string& cert_file, const std::string& key_file, const SecretSource& passphrase = {});
  // A CA from an in-memory certificate and PEM key.
  [[nodiscard]] static absl::StatusOr<CertificateAuthority> FromPem(const Certificate& certificate,
                                                                    const std::string& private_key_pem);

  const Certificate& certificate() const { return certificate_; }

  // Issues a certificate signed with SHA-256, with a random 128-bit serial,
  // subjectKeyIdentifier and authorityKeyIdentifier. INVALID_ARGUMENT for a
  // request that does not fit its profile (e.g. a seal without agency ID).
  [[nodiscard]] absl::StatusOr<Certificate> Issue(const CertificateRequest& request);

  // A CRL (v2, with crlNumber and authorityKeyIdentifier) listing
  // `revoked`, returned as PEM.
  [[nodiscard]] absl::StatusOr<std::string> MakeCrl(const std::vector<Revocation>& revoked,
                                                    int64_t crl_number, absl::Time this_update,
                                                    absl::Time next_update);

 private:
  CertificateAuthority(Certificate certificate, std::shared_ptr<void> key)
      : certificate_(std::move(certificate)), key_(std::move(key)) {}
  Certificate certificate_;
  std::shared_ptr<void> key_;  // EVP_PKEY
};

}  // namespace congvan::signer

#endif  // CONGVAN_SIGNER_CA_H_
