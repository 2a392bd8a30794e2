#include "congvan/node/trust_reloader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "congvan/signer/verify_error.h"
#include "testing/status_matchers.h"
#include "testing/test_pki.h"

namespace congvan::node {
namespace {

using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;

TEST(TrustReloader, PicksUpANewCrlWithoutRestart) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({});
  ASSERT_OK_AND_ASSIGN(auto reloader, TrustReloader::Create({pki.root_path()}, {pki.crl_path()}));
  auto before = reloader->Current();
  EXPECT_OK(before->Validate(leaf.cert, {pki.issuing()}, signer::KeyPurpose::kDocumentSigning, pki.now()));
  ASSERT_OK_AND_ASSIGN(bool unchanged, reloader->ReloadIfChanged());
  EXPECT_FALSE(unchanged);

  pki.Revoke(leaf.cert, pki.now() - absl::Minutes(1));
  ASSERT_OK_AND_ASSIGN(bool changed, reloader->ReloadIfChanged());
  EXPECT_TRUE(changed);
  auto after = reloader->Current()->Validate(leaf.cert, {pki.issuing()}, signer::KeyPurpose::kDocumentSigning, pki.now());
  EXPECT_EQ(signer::VerifyFailureOf(after.status()), signer::VerifyFailure::kRevoked);
  // A snapshot taken before stays as it was for whoever holds it.
  EXPECT_OK(before->Validate(leaf.cert, {pki.issuing()}, signer::KeyPurpose::kDocumentSigning, pki.now()));
}

TEST(TrustReloader, ABrokenCrlKeepsThePreviousSnapshot) {
  TestPki pki;
  TestLeaf leaf = pki.Issue({});
  ASSERT_OK_AND_ASSIGN(auto reloader, TrustReloader::Create({pki.root_path()}, {pki.crl_path()}));
  ::congvan::testing::WriteTestFile(pki.crl_path(), "-----BEGIN X509 CRL-----\ngarbage\n");
  EXPECT_FALSE(reloader->ReloadIfChanged().ok());
  EXPECT_OK(reloader->Current()->Validate(leaf.cert, {pki.issuing()}, signer::KeyPurpose::kAny, pki.now()));
}

}  // namespace
}  // namespace congvan::node
