// Path validation for each purpose, and its errors.
#include "congvan/signer/trust.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "congvan/signer/verify_error.h"
#include "testing/status_matchers.h"
#include "testing/test_pki.h"

namespace congvan::signer {
namespace {

using ::congvan::testing::IsOk;
using ::congvan::testing::StatusIs;
using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;
using ::testing::HasSubstr;

TEST(TrustStoreValidate, BuildsTheChainThroughIntermediates) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({});
  auto chain = pki.Trust(true).Validate(leaf.cert, {pki.issuing()}, KeyPurpose::kDocumentSigning, pki.now());
  ASSERT_OK(chain);
  ASSERT_EQ(chain->chain.size(), 3u);
  EXPECT_EQ(chain->chain[1].der(), pki.issuing().der());
  EXPECT_TRUE(chain->revocation_checked);
  // Without the intermediate there is no path.
  auto missing = pki.Trust().Validate(leaf.cert, {}, KeyPurpose::kAny, pki.now());
  EXPECT_EQ(VerifyFailureOf(missing.status()), VerifyFailure::kUntrusted);
}

TEST(TrustStoreValidate, ChecksTlsPurposes) {
  TestPki pki;
  TestLeaf node = pki.Issue({.profile = CertificateProfile::kNodeTls, .person_login = ""}, "node");
  TestLeaf person = pki.Issue({.profile = CertificateProfile::kPersonTls}, "person");
  TrustStore trust = pki.Trust(true);
  EXPECT_OK(trust.Validate(node.cert, {pki.issuing()}, KeyPurpose::kTlsServer, pki.now()));
  EXPECT_OK(trust.Validate(node.cert, {pki.issuing()}, KeyPurpose::kTlsClient, pki.now()));
  EXPECT_OK(trust.Validate(person.cert, {pki.issuing()}, KeyPurpose::kTlsClient, pki.now()));
  auto as_server = trust.Validate(person.cert, {pki.issuing()}, KeyPurpose::kTlsServer, pki.now());
  EXPECT_THAT(as_server, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("purpose")));
  EXPECT_EQ(VerifyFailureOf(as_server.status()), VerifyFailure::kWrongKeyUsage);
}

TEST(TrustStoreValidate, KeepsSigningAndTlsCertificatesApart) {
  TestPki pki;
  TestLeaf signing = pki.Issue({}, "sign");
  TestLeaf tls = pki.Issue({.profile = CertificateProfile::kPersonTls}, "tls");
  TrustStore trust = pki.Trust();
  auto signing_as_tls = trust.Validate(signing.cert, {pki.issuing()}, KeyPurpose::kTlsClient, pki.now());
  EXPECT_EQ(VerifyFailureOf(signing_as_tls.status()), VerifyFailure::kWrongKeyUsage) << signing_as_tls.status();
  EXPECT_THAT(std::string(signing_as_tls.status().message()), HasSubstr("clientAuth"));
  auto tls_as_signing = trust.Validate(tls.cert, {pki.issuing()}, KeyPurpose::kDocumentSigning, pki.now());
  EXPECT_EQ(VerifyFailureOf(tls_as_signing.status()), VerifyFailure::kWrongKeyUsage) << tls_as_signing.status();
  EXPECT_THAT(std::string(tls_as_signing.status().message()), HasSubstr("extended key usage"));
}

TEST(TrustStoreValidate, ReportsTheRevocationDateAndReason) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({});
  pki.Revoke(leaf.cert, pki.now() - absl::Hours(1));
  auto result = pki.Trust(true).Validate(leaf.cert, {pki.issuing()}, KeyPurpose::kAny, pki.now());
  EXPECT_EQ(VerifyFailureOf(result.status()), VerifyFailure::kRevoked) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("keyCompromise"));
}

TEST(TrustStoreCreate, RejectsAnEndEntityAsTrustAnchor) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({});
  EXPECT_THAT(TrustStore::Create({leaf.cert}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a CA")));
  EXPECT_THAT(TrustStore::Create({}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CrlParse, ReadsEveryCrlInAPemFile) {
  TestPki pki;
  auto crls = Crl::Load(pki.crl_path());
  ASSERT_OK(crls);
  ASSERT_EQ(crls->size(), 2u);
  EXPECT_THAT((*crls)[0].Issuer(), HasSubstr("Test Root CA"));
  EXPECT_THAT((*crls)[1].Issuer(), HasSubstr("Test Issuing CA"));
  EXPECT_LT((*crls)[1].ThisUpdate(), (*crls)[1].NextUpdate());
  EXPECT_THAT(Crl::Parse("garbage"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace congvan::signer
