// Key files: PEM and DER, encrypted PKCS#8, PKCS#12, made by the openssl CLI
// so that the formats are the ones people actually have.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "congvan/signer/cms.h"
#include "congvan/signer/key_backend.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/test_pki.h"

namespace congvan::signer {
namespace {

using ::congvan::testing::IsOk;
using ::congvan::testing::StatusIs;
using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;
using ::testing::Not;

class FileKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    leaf_ = std::make_unique<TestLeaf>(pki_.Issue({.key_type = KeyType::kRsa2048}));
    WriteTestFile(File("pass"), "mật khẩu 123\n");
  }
  std::string File(const std::string& name) const { return pki_.dir() + "/" + name; }
  void OpenSsl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    auto r = ::congvan::testing::Run(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Signs with `key` and checks the signature against the leaf certificate.
  void ExpectSignsForLeaf(KeyBackend& key) {
    ASSERT_OK(CheckKeyMatchesCertificate(key, leaf_->cert));
    SignRequest request{&key, leaf_->cert, {pki_.issuing()}, pki_.now()};
    auto signature = SignDetached("nội dung", request);
    ASSERT_OK(signature);
    EXPECT_OK(VerifyDetached("nội dung", *signature, pki_.Trust(), pki_.now()));
  }

  TestPki pki_;
  std::unique_ptr<TestLeaf> leaf_;
};

TEST_F(FileKeyTest, LoadsEncryptedPkcs8PemWithThePassphrase) {
  OpenSsl({"pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", leaf_->key_path, "-out", File("enc.pem"), "-passout",
           "file:" + File("pass")});
  auto key = LoadKeyFile(File("enc.pem"), {.file = File("pass")});
  ASSERT_OK(key);
  ExpectSignsForLeaf(**key);
}

TEST_F(FileKeyTest, WrongOrMissingPassphraseIsAClearError) {
  OpenSsl({"pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", leaf_->key_path, "-out", File("enc.pem"), "-passout",
           "file:" + File("pass")});
  WriteTestFile(File("wrong"), "not it\n");
  auto wrong = LoadKeyFile(File("enc.pem"), {.file = File("wrong")});
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("wrong passphrase")));
  EXPECT_THAT(std::string(wrong.status().message()), Not(HasSubstr("not it")));
  EXPECT_THAT(LoadKeyFile(File("enc.pem")), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("encrypted")));
}

TEST_F(FileKeyTest, LoadsDerKeysPlainAndEncrypted) {
  OpenSsl({"pkcs8", "-topk8", "-nocrypt", "-in", leaf_->key_path, "-outform", "DER", "-out", File("plain.der")});
  auto plain = LoadKeyFile(File("plain.der"));
  ASSERT_OK(plain);
  ExpectSignsForLeaf(**plain);
  OpenSsl({"pkcs8", "-topk8", "-v2", "aes-128-cbc", "-in", leaf_->key_path, "-outform", "DER", "-out",
           File("enc.der"), "-passout", "file:" + File("pass")});
  auto encrypted = LoadKeyFile(File("enc.der"), {.file = File("pass")});
  ASSERT_OK(encrypted);
  ExpectSignsForLeaf(**encrypted);
  EXPECT_THAT(LoadKeyFile(File("enc.der")), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(FileKeyTest, LoadsPkcs12WithItsCertificates) {
  OpenSsl({"pkcs12", "-export", "-inkey", leaf_->key_path, "-in", leaf_->cert_path, "-out", File("id.p12"),
           "-passout", "file:" + File("pass")});
  auto p12 = LoadPkcs12(File("id.p12"), {.file = File("pass")});
  ASSERT_OK(p12);
  EXPECT_EQ(p12->certificate.der(), leaf_->cert.der());
  ASSERT_EQ(p12->chain.size(), 1u);
  EXPECT_EQ(p12->chain[0].der(), pki_.issuing().der());
  ExpectSignsForLeaf(*p12->key);
  WriteTestFile(File("wrong"), "nope\n");
  EXPECT_THAT(LoadPkcs12(File("id.p12"), {.file = File("wrong")}),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("wrong passphrase")));
}

TEST_F(FileKeyTest, RejectsFilesThatAreNotKeys) {
  EXPECT_THAT(LoadKeyFile(leaf_->cert_path), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a private key")));
  EXPECT_THAT(LoadKeyFile(File("missing.key")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(LoadPkcs12(leaf_->key_path, {.file = File("pass")}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(FileKeyTest, KeyConfigNeedsExactlyOneSource) {
  EXPECT_THAT(OpenKey({}), StatusIs(absl::StatusCode::kInvalidArgument));
  KeyConfig both{.key_file = leaf_->key_path, .token = TokenConfig{}};
  EXPECT_THAT(OpenKey(both), StatusIs(absl::StatusCode::kInvalidArgument));
  auto key = OpenKey({.key_file = leaf_->key_path});
  ASSERT_OK(key);
  ExpectSignsForLeaf(**key);
}

TEST(KeyTypeNames, RoundTrip) {
  for (KeyType t : {KeyType::kRsa2048, KeyType::kRsa3072, KeyType::kP256}) {
    auto parsed = ParseKeyType(KeyTypeName(t));
    ASSERT_OK(parsed);
    EXPECT_EQ(*parsed, t);
  }
  EXPECT_THAT(ParseKeyType("rsa1024"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace congvan::signer
