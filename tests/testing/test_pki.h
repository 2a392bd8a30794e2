// A small PKI for tests, built with the dev CA library: a root CA, an
// issuing CA, and end-entity certificates issued on demand, written into a
// temporary directory so that CLI tools (congvan, openssl) can use them.
#ifndef CONGVAN_TESTS_TESTING_TEST_PKI_H_
#define CONGVAN_TESTS_TESTING_TEST_PKI_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "congvan/signer/ca.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/key_backend.h"
#include "congvan/signer/trust.h"
#include "testing/temp_dir.h"

namespace congvan::testing {

struct TestLeaf {
  signer::Certificate cert;
  std::string key_path;    // unencrypted PKCS#8 PEM, mode 0600
  std::string cert_path;   // the certificate, then the issuing CA (PEM)
  std::unique_ptr<signer::KeyBackend> key;
};

struct LeafOptions {
  signer::KeyType key_type = signer::KeyType::kP256;
  signer::CertificateProfile profile = signer::CertificateProfile::kPersonSigning;
  std::string name = "Nguyễn Văn A";
  std::string agency_id = "000.00.00.H49";
  std::string person_login = "leader-h49";
  absl::Duration valid_from = absl::Hours(-24);  // relative to the PKI's `now`
  absl::Duration valid_for = absl::Hours(24 * 365);
  std::string key_usage_override;
};

class TestPki {
 public:
  // CAs valid from now - 1 day for 10 years; files under a new TempDir.
  explicit TestPki(absl::Time now = absl::Now());

  absl::Time now() const { return now_; }
  const std::string& dir() const { return dir_.path(); }
  std::string root_path() const { return dir_.File("root.pem"); }
  std::string issuing_path() const { return dir_.File("issuing.pem"); }
  // Both CAs' CRLs, rewritten by Revoke().
  std::string crl_path() const { return dir_.File("crl.pem"); }
  const signer::Certificate& root() const { return root_->certificate(); }
  const signer::Certificate& issuing() const { return issuing_->certificate(); }
  // The issuing CA as a signer (a CA certificate where an end entity belongs).
  TestLeaf IssuingAsLeaf();

  // Issues an end-entity certificate (and writes it as `name`.pem/.key).
  TestLeaf Issue(const LeafOptions& options, const std::string& file_stem = "leaf");

  // Issues a certificate for a key held elsewhere (e.g. on a token);
  // options.key_type is ignored.
  signer::Certificate IssueForKey(const std::string& public_key_der, const LeafOptions& options);

  // Revokes `cert` (issued by the issuing CA) at `when` and rewrites crl.pem.
  void Revoke(const signer::Certificate& cert, absl::Time when);

  // Trust store over the root, with the CRLs when `with_crls`.
  signer::TrustStore Trust(bool with_crls = false) const;

 private:
  void WriteCrls();

  absl::Time now_;
  TempDir dir_;
  std::string issuing_key_pem_;
  std::unique_ptr<signer::CertificateAuthority> root_;
  std::unique_ptr<signer::CertificateAuthority> issuing_;
  std::vector<signer::Revocation> revoked_;
  int crl_number_ = 1;
};

}  // namespace congvan::testing

#endif  // CONGVAN_TESTS_TESTING_TEST_PKI_H_
