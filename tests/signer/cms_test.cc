// CMS detached signatures: round trips for every key type, interoperability
// with the openssl CLI in both directions, and each rejection with its own
// reason.
#include "congvan/signer/cms.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "congvan/signer/verify_error.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/test_pki.h"

namespace congvan::signer {
namespace {

using ::congvan::testing::StatusIs;
using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

const std::string kContent = "Công văn số 12/UBND-VP: về việc triển khai chuyển đổi số.\n" + std::string(5000, 'x');

std::string SignOrDie(const TestLeaf& leaf, std::string_view content, const TestPki& pki) {
  SignRequest request{leaf.key.get(), leaf.cert, {pki.issuing()}, pki.now()};
  auto signature = SignDetached(content, request);
  EXPECT_TRUE(signature.ok()) << signature.status();
  return signature.value_or("");
}

void ExpectFailure(const absl::StatusOr<VerifiedSignature>& result, VerifyFailure failure, const std::string& words) {
  ASSERT_FALSE(result.ok()) << "expected " << VerifyFailureName(failure);
  EXPECT_EQ(VerifyFailureOf(result.status()), failure) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr(words));
}

class CmsRoundTrip : public ::testing::TestWithParam<KeyType> {};

TEST_P(CmsRoundTrip, SignsAndVerifiesAndOpenSslAgrees) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({.key_type = GetParam()});
  const std::string signature = SignOrDie(leaf, kContent, pki);

  auto verified = VerifyDetached(kContent, signature, pki.Trust(/*with_crls=*/true), pki.now());
  ASSERT_THAT(verified, ::congvan::testing::IsOk());
  EXPECT_EQ(verified->signer.der(), leaf.cert.der());
  EXPECT_EQ(verified->signer.AgencyId(), "000.00.00.H49");
  EXPECT_EQ(verified->signer.PersonLogin(), "leader-h49");
  EXPECT_EQ(verified->signing_time, absl::FromUnixSeconds(absl::ToUnixSeconds(pki.now())));
  EXPECT_TRUE(verified->revocation_checked);
  EXPECT_TRUE(verified->cades_bes);
  ASSERT_EQ(verified->chain.size(), 3u);
  EXPECT_EQ(verified->chain.back().der(), pki.root().der());

  // The independent verifier: the openssl CLI.
  WriteTestFile(pki.dir() + "/doc.txt", kContent);
  WriteTestFile(pki.dir() + "/doc.p7s", signature);
  auto openssl = ::congvan::testing::Run({"openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content", pki.dir() + "/doc.txt",
                      "-in", pki.dir() + "/doc.p7s", "-CAfile", pki.root_path(), "-out", "/dev/null"});
  EXPECT_EQ(openssl.exit_code, 0) << openssl.err;
  EXPECT_THAT(openssl.err, HasSubstr("Verification successful"));

  // The signed attributes are the CAdES-BES set.
  auto printed = ::congvan::testing::Run({"openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", pki.dir() + "/doc.p7s"});
  for (const char* attr : {"contentType", "signingTime", "messageDigest", "id-smime-aa-signingCertificateV2"}) {
    EXPECT_THAT(printed.out, HasSubstr(attr));
  }
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, CmsRoundTrip, ::testing::Values(KeyType::kRsa2048, KeyType::kRsa3072, KeyType::kP256),
                         [](const auto& info) { return std::string(KeyTypeName(info.param)); });

TEST(CmsVerify, AcceptsSignaturesMadeByOpenSsl) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({.key_type = KeyType::kRsa2048});
  WriteTestFile(pki.dir() + "/doc.txt", kContent);
  for (bool cades : {true, false}) {
    std::vector<std::string> argv = {"openssl", "cms", "-sign", "-binary", "-md", "sha256", "-in",
                                     pki.dir() + "/doc.txt", "-signer", leaf.cert_path, "-inkey", leaf.key_path,
                                     "-certfile", pki.issuing_path(), "-outform", "DER", "-out", pki.dir() + "/o.p7s"};
    if (cades) argv.push_back("-cades");
    auto signed_by_openssl = ::congvan::testing::Run(argv);
    ASSERT_EQ(signed_by_openssl.exit_code, 0) << signed_by_openssl.err;
    auto verified = VerifyDetached(kContent, ::congvan::testing::ReadTestFile(pki.dir() + "/o.p7s"),
                                   pki.Trust(true), absl::Now());
    ASSERT_THAT(verified, ::congvan::testing::IsOk());
    EXPECT_EQ(verified->cades_bes, cades);
    EXPECT_EQ(verified->signer.PersonLogin(), "leader-h49");
  }
}

TEST(CmsVerify, RejectsContentChangedAfterSigning) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({});
  const std::string signature = SignOrDie(leaf, kContent, pki);
  std::string changed = kContent;
  changed[10] ^= 1;
  ExpectFailure(VerifyDetached(changed, signature, pki.Trust(), pki.now()), VerifyFailure::kContentMismatch,
                "changed after signing");
}

TEST(CmsVerify, RejectsChangedSignatureBytes) {
  TestPki pki;
  for (KeyType type : {KeyType::kRsa2048, KeyType::kP256}) {
    TestLeaf leaf = pki.Issue({.key_type = type});
    std::string signature = SignOrDie(leaf, kContent, pki);
    signature[signature.size() - 2] ^= 0x01;  // inside the signature value, the last field
    ExpectFailure(VerifyDetached(kContent, signature, pki.Trust(), pki.now()), VerifyFailure::kBadSignature,
                  "signature value does not verify");
  }
}

TEST(CmsVerify, RejectsASignerFromAnUntrustedRoot) {
  TestPki pki;
  TestPki other;
  TestLeaf leaf = other.Issue({});
  ExpectFailure(VerifyDetached(kContent, SignOrDie(leaf, kContent, other), pki.Trust(), pki.now()),
                VerifyFailure::kUntrusted, "not issued by a trusted certification authority");
}

TEST(CmsVerify, RejectsAnExpiredCertificate) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({.valid_from = absl::Hours(-48), .valid_for = absl::Hours(24)});
  ExpectFailure(VerifyDetached(kContent, SignOrDie(leaf, kContent, pki), pki.Trust(true), pki.now()),
                VerifyFailure::kExpired, "expired on");
}

TEST(CmsVerify, RejectsACertificateNotYetValid) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({.valid_from = absl::Hours(24)});
  ExpectFailure(VerifyDetached(kContent, SignOrDie(leaf, kContent, pki), pki.Trust(true), pki.now()),
                VerifyFailure::kNotYetValid, "not valid before");
}

TEST(CmsVerify, RejectsARevokedCertificateButKeepsEarlierSignatures) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({});
  const std::string signature = SignOrDie(leaf, kContent, pki);
  pki.Revoke(leaf.cert, pki.now() - absl::Minutes(30));
  ExpectFailure(VerifyDetached(kContent, signature, pki.Trust(true), pki.now()), VerifyFailure::kRevoked,
                "was revoked on");
  // Checked at a time before the revocation, the signature stands.
  EXPECT_THAT(VerifyDetached(kContent, signature, pki.Trust(true), pki.now() - absl::Hours(2)),
              ::congvan::testing::IsOk());
}

TEST(CmsVerify, RejectsACertificateWithoutSigningKeyUsage) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({.key_type = KeyType::kRsa2048, .key_usage_override = "critical,keyEncipherment"});
  ExpectFailure(VerifyDetached(kContent, SignOrDie(leaf, kContent, pki), pki.Trust(), pki.now()),
                VerifyFailure::kWrongKeyUsage, "may not sign documents");
}

TEST(CmsVerify, RejectsACaCertificateAsSigner) {
  TestPki pki;
  TestLeaf ca = pki.IssuingAsLeaf();
  SignRequest request{ca.key.get(), ca.cert, {}, pki.now()};
  auto signature = SignDetached(kContent, request);
  ASSERT_TRUE(signature.ok()) << signature.status();
  ExpectFailure(VerifyDetached(kContent, *signature, pki.Trust(), pki.now()), VerifyFailure::kSignerIsCa,
                "is a CA certificate");
}

TEST(CmsVerify, RejectsTruncatedAndGarbageInputWithoutCrashing) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({});
  const std::string signature = SignOrDie(leaf, kContent, pki);
  for (size_t len : {size_t{0}, size_t{1}, size_t{10}, signature.size() / 2, signature.size() - 1}) {
    ExpectFailure(VerifyDetached(kContent, signature.substr(0, len), pki.Trust(), pki.now()),
                  VerifyFailure::kMalformed, "truncated or garbage");
  }
  ExpectFailure(VerifyDetached(kContent, std::string(2000, '\x30'), pki.Trust(), pki.now()), VerifyFailure::kMalformed,
                "not a valid");
  ExpectFailure(VerifyDetached(kContent, signature + "tail", pki.Trust(), pki.now()), VerifyFailure::kMalformed,
                "extra bytes");
}

TEST(CmsVerify, MissingRevocationInformationIsAnError) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({});
  // A CRL of the root only: the issuing CA's CRL is missing.
  auto crls = Crl::Load(pki.crl_path());
  ASSERT_TRUE(crls.ok());
  auto trust = TrustStore::Create({pki.root()}, {crls->front()});
  ASSERT_TRUE(trust.ok());
  ExpectFailure(VerifyDetached(kContent, SignOrDie(leaf, kContent, pki), *trust, pki.now()),
                VerifyFailure::kNoRevocationInfo, "no CRL");
}

TEST(CmsSign, RefusesAKeyThatDoesNotMatchTheCertificate) {
  TestPki pki;
  TestLeaf a = pki.Issue({}, "a");
  TestLeaf b = pki.Issue({}, "b");
  SignRequest request{a.key.get(), b.cert, {}, pki.now()};
  EXPECT_THAT(SignDetached(kContent, request), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("does not belong")));
}

}  // namespace
}  // namespace congvan::signer
