// The foundation's whole offline flow as people run it, with real
// processes: `pki init` on the sample topology, a leader signs on a SoftHSM2
// token, congvan and openssl both accept the signature, `pki revoke` makes
// congvan reject it with the reason.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace congvan::client {
namespace {

using ::congvan::testing::Bin;
using ::congvan::testing::RunResult;
using ::congvan::testing::TempDir;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

RunResult Congvan(std::vector<std::string> args) {
  args.insert(args.begin(), Bin("congvan"));
  return ::congvan::testing::Run(args);
}

TEST(PkiFlow, TokenSignatureVerifiesUntilPkiRevoke) {
  TempDir dir;
  const std::string pki = dir.File("pki");
  RunResult init = Congvan({"pki", "init", "--topology", std::string(CONGVAN_SOURCE_DIR) + "/deploy/topologies/sample.toml",
                            "--out", pki, "--key-type", "p256"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  WriteTestFile(dir.File("doc.pdf"), "%PDF-1.7 Quyết định số 12/QĐ-UBND");
  const std::string leader = pki + "/people/leader-h49";

  RunResult sign = Congvan({"sign", "--cert", leader + "/sign.pem", "--token-config", leader + "/token.toml", "--in",
                            dir.File("doc.pdf"), "--out", dir.File("doc.pdf.p7s")});
  ASSERT_EQ(sign.exit_code, 0) << sign.err;

  RunResult openssl = ::congvan::testing::Run({"openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content",
                                               dir.File("doc.pdf"), "-in", dir.File("doc.pdf.p7s"), "-CAfile",
                                               pki + "/ca/root.pem", "-out", "/dev/null"});
  EXPECT_EQ(openssl.exit_code, 0) << openssl.err;

  const std::vector<std::string> verify = {"verify-sig", "--in", dir.File("doc.pdf"), "--sig", dir.File("doc.pdf.p7s"),
                                           "--trust", pki + "/ca/root.pem", "--crl", pki + "/ca/crl.pem", "--json"};
  RunResult before = Congvan(verify);
  ASSERT_EQ(before.exit_code, 0) << before.out;
  auto doc = nlohmann::json::parse(before.out);
  EXPECT_EQ(doc["agency_id"], "000.00.00.H49");
  EXPECT_EQ(doc["person_login"], "leader-h49");
  EXPECT_EQ(doc["revocation_checked"], true);

  RunResult revoke = Congvan({"pki", "revoke", "--dir", pki, "--cert", leader + "/sign.pem", "--reason", "keyCompromise"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  RunResult after = Congvan(verify);
  EXPECT_EQ(after.exit_code, 1);
  auto rejected = nlohmann::json::parse(after.out);
  EXPECT_EQ(rejected["failure"], "revoked");
  EXPECT_THAT(rejected["error"].get<std::string>(), HasSubstr("keyCompromise"));
}

}  // namespace
}  // namespace congvan::client
