// The caches behind signature verification (trust.h's ValidationCache and
// the certificates of cms_certificates.h): they answer repeated work
// faster, and never otherwise than a fresh validation would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "congvan/signer/cms.h"
#include "congvan/signer/trust.h"
#include "congvan/signer/verify_error.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/test_pki.h"

namespace congvan::signer {
namespace {

using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;

constexpr char kContent[] = "Quyết định số 12/QĐ-UBND";

std::string Sign(const TestLeaf& leaf, const TestPki& pki, std::string_view content = kContent) {
  auto signature = SignDetached(content, {leaf.key.get(), leaf.cert, {pki.issuing()}, pki.now()});
  EXPECT_TRUE(signature.ok()) << signature.status();
  return signature.value_or("");
}

TEST(ValidationCache, AnswersARepeatedValidationOnlyWithinTheCertificatesValidity) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({.valid_for = absl::Hours(48)});
  TrustStore trust = pki.Trust(true);
  ASSERT_TRUE(trust.Validate(leaf.cert, {pki.issuing()}, KeyPurpose::kDocumentSigning, pki.now()).ok());
  EXPECT_EQ(trust.cache_hits(), 0u);
  ASSERT_TRUE(trust.Validate(leaf.cert, {pki.issuing()}, KeyPurpose::kDocumentSigning, pki.now()).ok());
  EXPECT_EQ(trust.cache_hits(), 1u);
  // Another purpose is another question.
  EXPECT_EQ(VerifyFailureOf(trust.Validate(leaf.cert, {pki.issuing()}, KeyPurpose::kTlsClient, pki.now()).status()),
            VerifyFailure::kWrongKeyUsage);
  // Outside the leaf's validity the cached answer does not apply.
  auto late = trust.Validate(leaf.cert, {pki.issuing()}, KeyPurpose::kDocumentSigning, pki.now() + absl::Hours(72));
  EXPECT_EQ(VerifyFailureOf(late.status()), VerifyFailure::kExpired) << late.status();
  auto early = trust.Validate(leaf.cert, {pki.issuing()}, KeyPurpose::kDocumentSigning, pki.now() - absl::Hours(48));
  EXPECT_EQ(VerifyFailureOf(early.status()), VerifyFailure::kNotYetValid) << early.status();
  EXPECT_EQ(trust.cache_hits(), 1u);
}

TEST(ValidationCache, ARevocationLaterThanTheCachedValidationStillTakesEffect) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({});
  // The CRL already names a revocation an hour from now.
  pki.Revoke(leaf.cert, pki.now() + absl::Hours(1));
  TrustStore trust = pki.Trust(true);
  ASSERT_TRUE(trust.Validate(leaf.cert, {pki.issuing()}, KeyPurpose::kDocumentSigning, pki.now()).ok());
  ASSERT_TRUE(trust.Validate(leaf.cert, {pki.issuing()}, KeyPurpose::kDocumentSigning, pki.now()).ok());
  EXPECT_EQ(trust.cache_hits(), 1u);
  auto after = trust.Validate(leaf.cert, {pki.issuing()}, KeyPurpose::kDocumentSigning, pki.now() + absl::Hours(2));
  EXPECT_EQ(VerifyFailureOf(after.status()), VerifyFailure::kRevoked) << after.status();
}

TEST(ValidationCache, ACrlPastItsNextUpdateEndsTheCachedAnswer) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({.valid_for = absl::Hours(24 * 3650)});
  TrustStore trust = pki.Trust(true);
  absl::Time next_update = absl::InfiniteFuture();
  for (const Crl& crl : trust.crls()) next_update = std::min(next_update, crl.NextUpdate());
  ASSERT_LT(next_update, leaf.cert.NotAfter());
  ASSERT_TRUE(trust.Validate(leaf.cert, {pki.issuing()}, KeyPurpose::kDocumentSigning, pki.now()).ok());
  auto stale = trust.Validate(leaf.cert, {pki.issuing()}, KeyPurpose::kDocumentSigning, next_update + absl::Hours(1));
  EXPECT_EQ(VerifyFailureOf(stale.status()), VerifyFailure::kNoRevocationInfo) << stale.status();
}

TEST(CmsCertificateCache, EverySignatureOfOneSignerVerifiesAndAForgedCertificateDoesNot) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({.key_type = KeyType::kP256});
  TrustStore trust = pki.Trust(true);
  for (int i = 0; i < 3; ++i) {
    const std::string content = std::string(kContent) + std::to_string(i);
    const std::string signature = Sign(leaf, pki, content);
    auto verified = VerifyDetached(content, signature, trust, pki.now());
    ASSERT_TRUE(verified.ok()) << verified.status();
    EXPECT_EQ(verified->signer.der(), leaf.cert.der());
    EXPECT_EQ(verified->chain.size(), 3u);
  }
  // The same signature, its embedded certificate's own signature changed:
  // the issuer and serial still name the signer, the certificate is not the
  // one seen before, and it must fail as a fresh parse would.
  std::string forged = Sign(leaf, pki);
  const size_t at = forged.find(leaf.cert.der());
  ASSERT_NE(at, std::string::npos);
  forged[at + leaf.cert.der().size() - 3] ^= 0x01;
  auto result = VerifyDetached(kContent, forged, trust, pki.now());
  EXPECT_FALSE(result.ok());
  EXPECT_NE(VerifyFailureOf(result.status()), VerifyFailure::kNone) << result.status();
}

TEST(CmsCertificateCache, TrailingBytesAndMissingCertificatesAreStillRefused) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({});
  TrustStore trust = pki.Trust();
  const std::string signature = Sign(leaf, pki);
  ASSERT_TRUE(VerifyDetached(kContent, signature, trust, pki.now()).ok());
  auto trailing = VerifyDetached(kContent, signature + std::string(1, '\0'), trust, pki.now());
  EXPECT_EQ(VerifyFailureOf(trailing.status()), VerifyFailure::kMalformed) << trailing.status();
  // Signed by openssl without certificates: nothing to take out, and the
  // signer's certificate is not included.
  const std::string content_file = pki.dir() + "/content.txt";
  const std::string signature_file = pki.dir() + "/nocerts.p7s";
  ::congvan::testing::WriteTestFile(content_file, kContent);
  auto made = ::congvan::testing::Run({"openssl", "cms", "-sign", "-binary", "-md", "sha256", "-nocerts", "-signer",
                                       leaf.cert_path, "-inkey", leaf.key_path, "-in", content_file, "-outform",
                                       "DER", "-out", signature_file});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  auto bare = VerifyDetached(kContent, ::congvan::testing::ReadTestFile(signature_file), trust, pki.now());
  EXPECT_EQ(VerifyFailureOf(bare.status()), VerifyFailure::kMalformed) << bare.status();
  EXPECT_THAT(std::string(bare.status().message()), ::testing::HasSubstr("not included"));
}

}  // namespace
}  // namespace congvan::signer
