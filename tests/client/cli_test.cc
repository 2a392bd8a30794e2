// The offline CLI commands as people run them: real `congvan` processes,
// with the openssl CLI as the independent verifier, and the exit codes and
// --json output that scripts depend on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "congvan/signer/pkcs11_token.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/test_pki.h"

namespace congvan::client {
namespace {

using ::congvan::testing::Bin;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::RunResult;
using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;
using ::testing::Not;

RunResult Congvan(std::vector<std::string> args) {
  args.insert(args.begin(), Bin("congvan"));
  return ::congvan::testing::Run(args);
}

RunResult OpenSslVerify(const std::string& content, const std::string& sig, const std::string& root) {
  return ::congvan::testing::Run({"openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content", content, "-in",
                                  sig, "-CAfile", root, "-out", "/dev/null"});
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    leaf_ = std::make_unique<TestLeaf>(pki_.Issue({.key_type = signer::KeyType::kRsa2048}));
    WriteTestFile(File("doc.pdf"), "%PDF-1.7 công văn " + std::string(100000, 'z'));
  }
  std::string File(const std::string& name) const { return pki_.dir() + "/" + name; }

  TestPki pki_;
  std::unique_ptr<TestLeaf> leaf_;
};

TEST_F(CliTest, SignThenVerifyWithCongvanAndOpenSsl) {
  RunResult sign = Congvan({"sign", "--cert", leaf_->cert_path, "--key", leaf_->key_path, "--in", File("doc.pdf"),
                            "--out", File("doc.pdf.p7s"), "--json"});
  ASSERT_EQ(sign.exit_code, 0) << sign.err << sign.out;
  auto signed_json = nlohmann::json::parse(sign.out);
  EXPECT_EQ(signed_json["agency_id"], "000.00.00.H49");
  EXPECT_EQ(signed_json["person_login"], "leader-h49");

  RunResult openssl = OpenSslVerify(File("doc.pdf"), File("doc.pdf.p7s"), pki_.root_path());
  EXPECT_EQ(openssl.exit_code, 0) << openssl.err;

  RunResult verify = Congvan({"verify-sig", "--in", File("doc.pdf"), "--sig", File("doc.pdf.p7s"), "--trust",
                              pki_.root_path(), "--crl", pki_.crl_path()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("VALID"));
  EXPECT_THAT(verify.out, HasSubstr("Nguyễn Văn A"));
  EXPECT_THAT(verify.out, HasSubstr("000.00.00.H49"));
  EXPECT_THAT(verify.out, HasSubstr("with revocation"));

  RunResult json = Congvan({"verify-sig", "--in", File("doc.pdf"), "--sig", File("doc.pdf.p7s"), "--trust",
                            pki_.root_path(), "--json"});
  ASSERT_EQ(json.exit_code, 0);
  auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["valid"], true);
  EXPECT_EQ(doc["name"], "Nguyễn Văn A");
  EXPECT_EQ(doc["signing_time"], signed_json["signing_time"]);
  EXPECT_EQ(doc["revocation_checked"], false);
  EXPECT_EQ(doc["cades_bes"], true);
}

TEST_F(CliTest, VerifySigAcceptsOpenSslSignatures) {
  auto made = ::congvan::testing::Run({"openssl", "cms", "-sign", "-binary", "-cades", "-md", "sha256", "-in",
                                       File("doc.pdf"), "-signer", leaf_->cert_path, "-inkey", leaf_->key_path,
                                       "-certfile", pki_.issuing_path(), "-outform", "DER", "-out", File("o.p7s")});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  RunResult verify = Congvan({"verify-sig", "--in", File("doc.pdf"), "--sig", File("o.p7s"), "--trust",
                              pki_.root_path(), "--crl", pki_.crl_path(), "--json"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_EQ(nlohmann::json::parse(verify.out)["person_login"], "leader-h49");
}

TEST_F(CliTest, VerifySigExitCodesAndReasons) {
  ASSERT_EQ(Congvan({"sign", "--cert", leaf_->cert_path, "--key", leaf_->key_path, "--in", File("doc.pdf"), "--out",
                     File("doc.p7s")})
                .exit_code,
            0);
  WriteTestFile(File("other.pdf"), "another file");
  RunResult changed = Congvan({"verify-sig", "--in", File("other.pdf"), "--sig", File("doc.p7s"), "--trust",
                               pki_.root_path(), "--json"});
  EXPECT_EQ(changed.exit_code, 1);
  auto doc = nlohmann::json::parse(changed.out);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["failure"], "content-mismatch");

  RunResult expired = Congvan({"verify-sig", "--in", File("doc.pdf"), "--sig", File("doc.p7s"), "--trust",
                               pki_.root_path(), "--at", "2045-01-01T00:00:00Z"});
  EXPECT_EQ(expired.exit_code, 1);
  EXPECT_THAT(expired.out, HasSubstr("expired on"));

  WriteTestFile(File("garbage.p7s"), "not a signature");
  RunResult garbage = Congvan({"verify-sig", "--in", File("doc.pdf"), "--sig", File("garbage.p7s"), "--trust",
                               pki_.root_path()});
  EXPECT_EQ(garbage.exit_code, 1);
  EXPECT_THAT(garbage.out, HasSubstr("truncated or garbage"));

  EXPECT_EQ(Congvan({"verify-sig", "--in", File("doc.pdf"), "--trust", pki_.root_path()}).exit_code, 2);
  EXPECT_EQ(Congvan({"verify-sig", "--in", File("doc.pdf"), "--sig", File("doc.p7s"), "--trust", pki_.root_path(),
                     "--at", "yesterday"})
                .exit_code,
            2);
  EXPECT_EQ(Congvan({"verify-sig", "--in", File("missing.pdf"), "--sig", File("doc.p7s"), "--trust",
                     pki_.root_path()})
                .exit_code,
            2);
}

TEST_F(CliTest, VerifyCertReportsValidityAndTheReason) {
  RunResult ok = Congvan({"verify-cert", "--trust", pki_.root_path(), "--crl", pki_.crl_path(), "--purpose", "sign",
                          leaf_->cert_path});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("VALID certificate"));

  RunResult not_yet = Congvan({"verify-cert", "--trust", pki_.root_path(), "--at", "2001-01-01T00:00:00Z",
                               leaf_->cert_path});
  EXPECT_EQ(not_yet.exit_code, 1);
  EXPECT_THAT(not_yet.out, HasSubstr("not valid before"));

  TestPki other;
  RunResult untrusted = Congvan({"verify-cert", "--trust", other.root_path(), leaf_->cert_path, "--json"});
  EXPECT_EQ(untrusted.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(untrusted.out)["failure"], "untrusted");

  pki_.Revoke(leaf_->cert, pki_.now() - absl::Minutes(1));
  RunResult revoked = Congvan({"verify-cert", "--trust", pki_.root_path(), "--crl", pki_.crl_path(), leaf_->cert_path});
  EXPECT_EQ(revoked.exit_code, 1);
  EXPECT_THAT(revoked.out, HasSubstr("revoked"));
}

TEST_F(CliTest, SignRefusesAKeyOfAnotherCertificateAndUnreadableInput) {
  TestLeaf other = pki_.Issue({}, "other");
  RunResult mismatch = Congvan({"sign", "--cert", leaf_->cert_path, "--key", other.key_path, "--in", File("doc.pdf"),
                                "--out", File("x.p7s")});
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_THAT(mismatch.err, HasSubstr("does not belong"));
  RunResult no_key = Congvan({"sign", "--cert", leaf_->cert_path, "--in", File("doc.pdf"), "--out", File("x.p7s")});
  EXPECT_EQ(no_key.exit_code, 2);
}

// A leader's key on a SoftHSM2 token: signed through `congvan sign
// --token-config`, verified by openssl; a wrong PIN is a clear error.
TEST_F(CliTest, SignsWithATokenKeyAndOpenSslVerifies) {
  WriteTestFile(File("softhsm2.conf"), "directories.tokendir = " + File("tokens") +
                                           "\nobjectstore.backend = file\nlog.level = ERROR\n");
  ASSERT_EQ(system(("mkdir -p " + File("tokens")).c_str()), 0);
  setenv("SOFTHSM2_CONF", File("softhsm2.conf").c_str(), 1);
  for (signer::KeyType type : {signer::KeyType::kRsa2048, signer::KeyType::kP256}) {
    const std::string label = "leader-" + std::string(signer::KeyTypeName(type));
    signer::TokenProvisioning request{SOFTHSM2_MODULE, label, "so-pin-1", "user-pin-1", "sign", type};
    auto public_key = signer::ProvisionToken(request);
    ASSERT_TRUE(public_key.ok()) << public_key.status();
    WriteTestFile(File(label + ".pin"), "user-pin-1\n");
    WriteTestFile(File(label + ".toml"), "module = \"" + std::string(SOFTHSM2_MODULE) + "\"\ntoken = \"" + label +
                                             "\"\nkey_label = \"sign\"\npin_file = \"" + label +
                                             ".pin\"\n[environment]\nSOFTHSM2_CONF = \"" + File("softhsm2.conf") +
                                             "\"\n");
    signer::Certificate cert = pki_.IssueForKey(*public_key, {.person_login = label});
    WriteTestFile(File(label + ".pem"), cert.Pem() + pki_.issuing().Pem());

    RunResult sign = Congvan({"sign", "--cert", File(label + ".pem"), "--token-config", File(label + ".toml"), "--in",
                              File("doc.pdf"), "--out", File(label + ".p7s"), "--json"});
    ASSERT_EQ(sign.exit_code, 0) << sign.err << sign.out;
    EXPECT_THAT(nlohmann::json::parse(sign.out)["key"].get<std::string>(), HasSubstr(label));
    RunResult openssl = OpenSslVerify(File("doc.pdf"), File(label + ".p7s"), pki_.root_path());
    EXPECT_EQ(openssl.exit_code, 0) << openssl.err;
    RunResult verify = Congvan({"verify-sig", "--in", File("doc.pdf"), "--sig", File(label + ".p7s"), "--trust",
                                pki_.root_path(), "--crl", pki_.crl_path()});
    EXPECT_EQ(verify.exit_code, 0) << verify.out;

    WriteTestFile(File(label + ".pin"), "wrong-pin\n");
    RunResult wrong = Congvan({"sign", "--cert", File(label + ".pem"), "--token-config", File(label + ".toml"), "--in",
                               File("doc.pdf"), "--out", File("wrong.p7s")});
    EXPECT_EQ(wrong.exit_code, 1) << "a wrong PIN must fail cleanly, not crash";
    EXPECT_THAT(wrong.err, HasSubstr("wrong PIN"));
    EXPECT_THAT(wrong.err, Not(HasSubstr("wrong-pin")));
  }
  // Later tests in this process must not inherit a configuration whose
  // directory is about to be deleted.
  unsetenv("SOFTHSM2_CONF");
}

}  // namespace
}  // namespace congvan::client
