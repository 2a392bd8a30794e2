#include "testing/test_pki.h"

#include <cstdlib>
#include <iostream>

namespace congvan::testing {
namespace {

template <typename T>
T OrDie(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    std::cerr << "test PKI: " << what << ": " << v.status() << "\n";
    std::abort();
  }
  return *std::move(v);
}

}  // namespace

TestPki::TestPki(absl::Time now) : now_(now) {
  using signer::CertificateAuthority;
  auto root_key = OrDie(signer::GenerateKey(signer::KeyType::kP256), "root key");
  root_ = std::make_unique<CertificateAuthority>(OrDie(
      CertificateAuthority::CreateRoot(root_key, "Test Root CA", "Ban Cơ yếu Chính phủ (test)", now - absl::Hours(24),
                                       now + absl::Hours(24 * 365 * 10)),
      "root CA"));
  auto issuing_key = OrDie(signer::GenerateKey(signer::KeyType::kP256), "issuing key");
  signer::CertificateRequest request;
  request.profile = signer::CertificateProfile::kIssuingCa;
  request.public_key_der = issuing_key.public_key_der;
  request.common_name = "Test Issuing CA";
  request.organization = "Ban Cơ yếu Chính phủ (test)";
  request.not_before = now - absl::Hours(24);
  request.not_after = now + absl::Hours(24 * 365 * 10);
  auto issuing_cert = OrDie(root_->Issue(request), "issuing CA");
  issuing_key_pem_ = issuing_key.private_key_pem;
  issuing_ = std::make_unique<CertificateAuthority>(
      OrDie(CertificateAuthority::FromPem(issuing_cert, issuing_key_pem_), "issuing CA load"));
  WriteTestFile(root_path(), root().Pem());
  WriteTestFile(issuing_path(), issuing().Pem());
  WriteCrls();
}

signer::Certificate TestPki::IssueForKey(const std::string& public_key_der, const LeafOptions& options) {
  signer::CertificateRequest request;
  request.profile = options.profile;
  request.public_key_der = public_key_der;
  request.common_name = options.name;
  request.organization = "UBND tỉnh Quảng Ninh";
  request.agency_id = options.agency_id;
  request.person_login = options.person_login;
  request.not_before = now_ + options.valid_from;
  request.not_after = now_ + options.valid_from + options.valid_for;
  request.key_usage_override = options.key_usage_override;
  if (options.profile == signer::CertificateProfile::kNodeTls) {
    request.dns_names = {"localhost"};
    request.ip_addresses = {"127.0.0.1"};
  }
  return OrDie(issuing_->Issue(request), "leaf certificate");
}

TestLeaf TestPki::Issue(const LeafOptions& options, const std::string& file_stem) {
  auto key = OrDie(signer::GenerateKey(options.key_type), "leaf key");
  signer::Certificate cert = IssueForKey(key.public_key_der, options);
  TestLeaf leaf{cert, dir_.File(file_stem + ".key"), dir_.File(file_stem + ".pem"), nullptr};
  WriteTestFile(leaf.key_path, key.private_key_pem);
  WriteTestFile(leaf.cert_path, cert.Pem() + issuing().Pem());
  leaf.key = OrDie(signer::LoadKeyFile(leaf.key_path), "leaf key load");
  return leaf;
}

TestLeaf TestPki::IssuingAsLeaf() {
  TestLeaf leaf{issuing(), dir_.File("issuing.key"), issuing_path(), nullptr};
  WriteTestFile(leaf.key_path, issuing_key_pem_);
  leaf.key = OrDie(signer::LoadKeyFile(leaf.key_path), "issuing key load");
  return leaf;
}

void TestPki::Revoke(const signer::Certificate& cert, absl::Time when) {
  revoked_.push_back({cert.SerialHex(), when, "keyCompromise"});
  WriteCrls();
}

void TestPki::WriteCrls() {
  ++crl_number_;
  const absl::Time this_update = now_ - absl::Hours(1);
  const absl::Time next_update = now_ + absl::Hours(24 * 30);
  std::string pem = OrDie(root_->MakeCrl({}, crl_number_, this_update, next_update), "root CRL") +
                    OrDie(issuing_->MakeCrl(revoked_, crl_number_, this_update, next_update), "issuing CRL");
  WriteTestFile(crl_path(), pem);
}

signer::TrustStore TestPki::Trust(bool with_crls) const {
  std::vector<std::string> crls;
  if (with_crls) crls.push_back(crl_path());
  return OrDie(signer::TrustStore::Load({root_path()}, crls), "trust store");
}

}  // namespace congvan::testing
