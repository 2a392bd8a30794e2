// `congvan pki revoke`, run as a real process: later verification (by
// `openssl verify` and by congvan's TrustStore) reports the certificate
// revoked and still accepts the others.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "congvan/pki/layout.h"
#include "congvan/signer/ca.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/trust.h"
#include "congvan/signer/verify_error.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace congvan::pki {
namespace {

using ::congvan::testing::Bin;
using ::congvan::testing::IsOk;
using ::congvan::testing::RunResult;
using ::congvan::testing::TempDir;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

const std::string kSample = std::string(CONGVAN_SOURCE_DIR) + "/deploy/topologies/sample.toml";

// A fresh P-256 PKI per test (fast): revocation changes it.
class PkiRevokeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunResult r = ::congvan::testing::Run({Bin("congvan"), "pki", "init", "--topology", kSample, "--out", layout_.dir(), "--key-type",
                       "p256"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  RunResult Revoke(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {Bin("congvan"), "pki", "revoke", "--dir", layout_.dir()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return ::congvan::testing::Run(argv);
  }

  RunResult OpenSslVerify(const std::string& cert) {
    return ::congvan::testing::Run({"openssl", "verify", "-CAfile", layout_.RootCert(), "-untrusted", layout_.IssuingCert(),
                "-crl_check_all", "-CRLfile", layout_.Crl(), cert});
  }

  signer::VerifyFailure CongvanVerify(const std::string& cert) {
    auto trust = signer::TrustStore::Load({layout_.RootCert()}, {layout_.Crl()});
    EXPECT_THAT(trust, IsOk());
    auto leaf = signer::LoadCertificates(cert);
    auto issuing = signer::LoadCertificates(layout_.IssuingCert());
    EXPECT_THAT(leaf, IsOk());
    EXPECT_THAT(issuing, IsOk());
    if (!trust.ok() || !leaf.ok() || !issuing.ok()) return signer::VerifyFailure::kMalformed;
    auto result = trust->Validate(leaf->front(), {issuing->front()}, signer::KeyPurpose::kAny, absl::Now());
    if (result.ok()) {
      EXPECT_TRUE(result->revocation_checked);
    }
    return signer::VerifyFailureOf(result.status());
  }

  TempDir tmp_;
  PkiLayout layout_{tmp_.File("pki")};
};

TEST_F(PkiRevokeTest, RevokedCertificateFailsVerificationAndOthersPass) {
  const std::string revoked = layout_.SigningCert("leader-h49");
  const std::string other = layout_.SigningCert("clerk-h49");
  ASSERT_EQ(OpenSslVerify(revoked).exit_code, 0);

  RunResult r = Revoke({"--cert", revoked, "--reason", "keyCompromise", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(out.is_object()) << r.out;
  EXPECT_EQ(out["ok"], true);
  EXPECT_EQ(out["reason"], "keyCompromise");
  EXPECT_EQ(out["already_revoked"], false);
  EXPECT_EQ(out["crl_number"], 2);
  auto cert = signer::LoadCertificates(revoked);
  ASSERT_OK(cert);
  EXPECT_EQ(out["serial"], cert->front().SerialHex());

  RunResult bad = OpenSslVerify(revoked);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.out + bad.err, HasSubstr("certificate revoked"));
  RunResult good = OpenSslVerify(other);
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
  EXPECT_EQ(CongvanVerify(revoked), signer::VerifyFailure::kRevoked);
  EXPECT_EQ(CongvanVerify(other), signer::VerifyFailure::kNone);

  // Revoking again keeps the first revocation and issues a newer CRL.
  RunResult again = Revoke({"--cert", revoked, "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto again_out = nlohmann::json::parse(again.out, nullptr, false);
  EXPECT_EQ(again_out["already_revoked"], true);
  EXPECT_EQ(again_out["reason"], "keyCompromise");
  EXPECT_EQ(again_out["crl_number"], 3);
  EXPECT_NE(OpenSslVerify(revoked).exit_code, 0);
  EXPECT_EQ(OpenSslVerify(other).exit_code, 0);
}

TEST_F(PkiRevokeTest, RevokingTheIssuingCaRevokesEverything) {
  RunResult r = Revoke({"--cert", layout_.IssuingCert(), "--reason", "cACompromise"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Revoked: "));
  RunResult seal = OpenSslVerify(layout_.SealCert(*signer::AgencyId::Parse("000.00.00.H49")));
  EXPECT_NE(seal.exit_code, 0);
  EXPECT_THAT(seal.out + seal.err, HasSubstr("certificate revoked"));
  EXPECT_EQ(CongvanVerify(layout_.SigningCert("clerk-h49")), signer::VerifyFailure::kRevoked);
}

TEST_F(PkiRevokeTest, RefusesCertificatesItDidNotIssueTheRootAndUnknownReasons) {
  // A certificate from another CA with the same names.
  auto key = signer::GenerateKey(signer::KeyType::kP256);
  ASSERT_OK(key);
  auto other_root = signer::CertificateAuthority::CreateRoot(*key, "congvan Dev Root CA", "congvan dev PKI",
                                                             absl::Now(), absl::Now() + absl::Hours(24));
  ASSERT_OK(other_root);
  WriteTestFile(tmp_.File("foreign.pem"), other_root->certificate().Pem());
  RunResult foreign = Revoke({"--cert", tmp_.File("foreign.pem")});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_THAT(foreign.err, HasSubstr("congvan pki revoke: "));
  EXPECT_THAT(foreign.err, HasSubstr("was not issued by the PKI"));

  RunResult root = Revoke({"--cert", layout_.RootCert()});
  EXPECT_EQ(root.exit_code, 1);
  EXPECT_THAT(root.err, HasSubstr("root CA"));

  RunResult reason = Revoke({"--cert", layout_.SigningCert("clerk-h49"), "--reason", "stolen"});
  EXPECT_EQ(reason.exit_code, 2);

  RunResult missing = Revoke({"--cert", tmp_.File("missing.pem"), "--json"});
  EXPECT_EQ(missing.exit_code, 1);
  auto out = nlohmann::json::parse(missing.out, nullptr, false);
  ASSERT_TRUE(out.is_object()) << missing.out;
  EXPECT_EQ(out["ok"], false);
  EXPECT_EQ(out["code"], "NOT_FOUND");

  // Nothing was revoked: the CRLs still accept everything.
  EXPECT_EQ(OpenSslVerify(layout_.SigningCert("clerk-h49")).exit_code, 0);
}

}  // namespace
}  // namespace congvan::pki
