// Token keys against a real SoftHSM2, signatures checked with OpenSSL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "congvan/signer/key_backend.h"
#include "congvan/signer/pkcs11_token.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace congvan::signer {
namespace {

using ::congvan::testing::IsOk;
using ::congvan::testing::StatusIs;
using ::congvan::testing::TempDir;
using ::congvan::testing::WriteTestFile;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSoPin[] = "so-pin-8642";
constexpr char kUserPin[] = "user-pin-1357";

// Writes a softhsm2.conf keeping tokens in `dir`/tokens; returns its path.
std::string WriteSoftHsmConf(const std::string& dir) {
  std::filesystem::create_directories(dir + "/tokens");
  const std::string conf = dir + "/softhsm2.conf";
  WriteTestFile(conf, "directories.tokendir = " + dir +
                          "/tokens\nobjectstore.backend = file\nlog.level = ERROR\n");
  return conf;
}

// SoftHSM2 for this test process. SoftHSM2 reads SOFTHSM2_CONF once per
// process, at C_Initialize, so all tests of one process share one token
// directory (with distinct token labels); ctest runs every test case in its
// own process, so there each test gets a fresh one.
const TempDir& SoftHsmHome() {
  static const TempDir* home = [] {
    static TempDir dir;
    setenv("SOFTHSM2_CONF", WriteSoftHsmConf(dir.path()).c_str(), /*overwrite=*/1);
    return &dir;
  }();
  return *home;
}

// A token label no other test in this process uses (at most 32 bytes).
std::string UniqueLabel(const std::string& base) {
  static std::atomic<int> counter{0};
  return base + "-" + std::to_string(++counter);
}

struct TestToken {
  std::string public_key;  // from ProvisionToken
  TokenConfig config;      // reaches the key with the right PIN (from a file)
};

absl::StatusOr<TestToken> ProvisionTestToken(KeyType type, const std::string& base_label) {
  const TempDir& home = SoftHsmHome();
  TokenProvisioning request;
  request.module = SOFTHSM2_MODULE;
  request.token_label = UniqueLabel(base_label);
  request.so_pin = kSoPin;
  request.user_pin = kUserPin;
  request.key_label = "signing-" + request.token_label;
  request.key_type = type;
  absl::StatusOr<std::string> public_key = ProvisionToken(request);
  if (!public_key.ok()) return public_key.status();

  TestToken token;
  token.public_key = *public_key;
  token.config.module = SOFTHSM2_MODULE;
  token.config.token = request.token_label;
  token.config.key_label = request.key_label;
  token.config.pin.file = home.File(request.token_label + ".pin");
  WriteTestFile(token.config.pin.file, std::string(kUserPin) + "\n");
  return token;
}

struct EvpPkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using EvpPkey = std::unique_ptr<EVP_PKEY, EvpPkeyFree>;

EvpPkey ParsePublicKey(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EvpPkey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (key != nullptr && p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    return nullptr;  // trailing bytes
  }
  return key;
}

// OpenSSL's verdict on a SHA-256 signature: RSA PKCS#1 v1.5 or DER ECDSA.
bool VerifiesWithOpenSsl(const std::string& public_key_der, const std::string& data,
                         const std::string& signature) {
  EvpPkey key = ParsePublicKey(public_key_der);
  if (key == nullptr) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

// True when `signature` is exactly one DER Ecdsa-Sig-Value.
bool IsDerEcdsaSigValue(const std::string& signature) {
  const auto* p = reinterpret_cast<const unsigned char*>(signature.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(signature.size()));
  if (sig == nullptr) return false;
  unsigned char* reencoded = nullptr;
  const int size = i2d_ECDSA_SIG(sig, &reencoded);
  const bool same = size > 0 && std::string(reinterpret_cast<char*>(reencoded), size) == signature;
  OPENSSL_free(reencoded);
  ECDSA_SIG_free(sig);
  return same;
}

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  return hex;
}

TEST(Pkcs11Key, Rsa2048SignatureVerifiesWithOpenSsl) {
  ASSERT_OK_AND_ASSIGN(TestToken token, ProvisionTestToken(KeyType::kRsa2048, "rsa"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> key, OpenTokenKey(token.config));

  EXPECT_EQ(key->public_key_der(), token.public_key);
  EvpPkey parsed = ParsePublicKey(key->public_key_der());
  ASSERT_NE(parsed, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(parsed.get()), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_get_bits(parsed.get()), 2048);

  const std::string data = "Công văn số 12/UBND-VP";
  ASSERT_OK_AND_ASSIGN(std::string signature, key->Sign(data));
  EXPECT_EQ(signature.size(), 256u);
  EXPECT_TRUE(VerifiesWithOpenSsl(key->public_key_der(), data, signature));
  EXPECT_FALSE(VerifiesWithOpenSsl(key->public_key_der(), data + ".", signature));
}

TEST(Pkcs11Key, Rsa3072KeyIsGeneratedWithItsSize) {
  ASSERT_OK_AND_ASSIGN(TestToken token, ProvisionTestToken(KeyType::kRsa3072, "rsa3072"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> key, OpenTokenKey(token.config));
  EvpPkey parsed = ParsePublicKey(key->public_key_der());
  ASSERT_NE(parsed, nullptr);
  EXPECT_EQ(EVP_PKEY_get_bits(parsed.get()), 3072);
  ASSERT_OK_AND_ASSIGN(std::string signature, key->Sign("data"));
  EXPECT_TRUE(VerifiesWithOpenSsl(token.public_key, "data", signature));
}

TEST(Pkcs11Key, P256SignatureIsDerAndVerifiesWithOpenSsl) {
  ASSERT_OK_AND_ASSIGN(TestToken token, ProvisionTestToken(KeyType::kP256, "p256"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> key, OpenTokenKey(token.config));

  EXPECT_EQ(key->public_key_der(), token.public_key);
  EvpPkey parsed = ParsePublicKey(key->public_key_der());
  ASSERT_NE(parsed, nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(parsed.get()), EVP_PKEY_EC);
  char curve[64] = {};
  ASSERT_EQ(EVP_PKEY_get_utf8_string_param(parsed.get(), "group", curve, sizeof curve, nullptr),
            1);
  EXPECT_STREQ(curve, "prime256v1");

  // Several signatures: r and s with a leading zero byte must encode too.
  for (int i = 0; i < 8; ++i) {
    const std::string data = "message " + std::to_string(i);
    ASSERT_OK_AND_ASSIGN(std::string signature, key->Sign(data));
    EXPECT_TRUE(IsDerEcdsaSigValue(signature)) << Hex(signature);
    EXPECT_TRUE(VerifiesWithOpenSsl(key->public_key_der(), data, signature));
    EXPECT_FALSE(VerifiesWithOpenSsl(key->public_key_der(), data + ".", signature));
  }
}

TEST(Pkcs11Key, EmptyDataCanBeSigned) {
  ASSERT_OK_AND_ASSIGN(TestToken token, ProvisionTestToken(KeyType::kP256, "empty"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> key, OpenTokenKey(token.config));
  ASSERT_OK_AND_ASSIGN(std::string signature, key->Sign(""));
  EXPECT_TRUE(VerifiesWithOpenSsl(key->public_key_der(), "", signature));
}

TEST(Pkcs11Key, DescribeNamesTokenAndKeyButNoPin) {
  ASSERT_OK_AND_ASSIGN(TestToken token, ProvisionTestToken(KeyType::kP256, "describe"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> key, OpenTokenKey(token.config));
  EXPECT_EQ(key->Describe(),
            "token '" + token.config.token + "', key '" + token.config.key_label + "'");
  EXPECT_THAT(key->Describe(), Not(HasSubstr(kUserPin)));
}

TEST(Pkcs11Key, TwoTokensInOneProcessSignWithTheirOwnKeys) {
  ASSERT_OK_AND_ASSIGN(TestToken first, ProvisionTestToken(KeyType::kRsa2048, "first"));
  ASSERT_OK_AND_ASSIGN(TestToken second, ProvisionTestToken(KeyType::kP256, "second"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> first_key, OpenTokenKey(first.config));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> second_key, OpenTokenKey(second.config));
  EXPECT_NE(first_key->public_key_der(), second_key->public_key_der());

  ASSERT_OK_AND_ASSIGN(std::string first_signature, first_key->Sign("same data"));
  ASSERT_OK_AND_ASSIGN(std::string second_signature, second_key->Sign("same data"));
  EXPECT_TRUE(VerifiesWithOpenSsl(first.public_key, "same data", first_signature));
  EXPECT_TRUE(VerifiesWithOpenSsl(second.public_key, "same data", second_signature));
  EXPECT_FALSE(VerifiesWithOpenSsl(second.public_key, "same data", first_signature));
  EXPECT_FALSE(VerifiesWithOpenSsl(first.public_key, "same data", second_signature));
}

TEST(Pkcs11Key, SameKeyOpenedTwiceSignsThroughBothHandles) {
  ASSERT_OK_AND_ASSIGN(TestToken token, ProvisionTestToken(KeyType::kP256, "twice"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> a, OpenTokenKey(token.config));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> b, OpenTokenKey(token.config));
  a.reset();  // closing one session must not log the other out
  ASSERT_OK_AND_ASSIGN(std::string signature, b->Sign("still logged in"));
  EXPECT_TRUE(VerifiesWithOpenSsl(token.public_key, "still logged in", signature));
}

TEST(Pkcs11Key, WrongPinIsPermissionDeniedWithoutCrash) {
  ASSERT_OK_AND_ASSIGN(TestToken token, ProvisionTestToken(KeyType::kRsa2048, "wrongpin"));
  const std::string wrong_pin = "not-the-pin-9999";
  TokenConfig wrong = token.config;
  wrong.pin.file = SoftHsmHome().File(token.config.token + ".wrong-pin");
  WriteTestFile(wrong.pin.file, wrong_pin + "\n");

  absl::StatusOr<std::unique_ptr<KeyBackend>> key = OpenTokenKey(wrong);
  EXPECT_THAT(key, StatusIs(absl::StatusCode::kPermissionDenied,
                            AllOf(HasSubstr("wrong PIN"), HasSubstr(token.config.token),
                                  Not(HasSubstr(wrong_pin)), Not(HasSubstr(kUserPin)))));
  // A short PIN is wrong too, not a different kind of error.
  WriteTestFile(wrong.pin.file, "1\n");
  EXPECT_THAT(OpenTokenKey(wrong), StatusIs(absl::StatusCode::kPermissionDenied,
                                            HasSubstr(token.config.token)));

  // The right PIN still works afterwards.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> good, OpenTokenKey(token.config));
  EXPECT_OK(good->Sign("after a wrong PIN"));
}

TEST(Pkcs11Key, PinCanComeFromAnEnvironmentVariable) {
  ASSERT_OK_AND_ASSIGN(TestToken token, ProvisionTestToken(KeyType::kP256, "pinenv"));
  setenv("CONGVAN_TEST_TOKEN_PIN", kUserPin, /*overwrite=*/1);
  TokenConfig config = token.config;
  config.pin = SecretSource{.file = "", .env = "CONGVAN_TEST_TOKEN_PIN"};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> key, OpenTokenKey(config));
  EXPECT_OK(key->Sign("data"));
}

TEST(Pkcs11Key, MissingPinFileIsReportedWithoutTouchingTheToken) {
  ASSERT_OK_AND_ASSIGN(TestToken token, ProvisionTestToken(KeyType::kP256, "nopin"));
  TokenConfig config = token.config;
  config.pin.file = SoftHsmHome().File("no-such.pin");
  EXPECT_THAT(OpenTokenKey(config), StatusIs(absl::StatusCode::kNotFound));
}

TEST(Pkcs11Key, UnknownTokenLabelIsNotFound) {
  ASSERT_OK_AND_ASSIGN(TestToken token, ProvisionTestToken(KeyType::kP256, "known"));
  TokenConfig config = token.config;
  config.token = "no-such-token";
  EXPECT_THAT(OpenTokenKey(config),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'no-such-token'")));
}

TEST(Pkcs11Key, UnknownKeyLabelIsNotFound) {
  ASSERT_OK_AND_ASSIGN(TestToken token, ProvisionTestToken(KeyType::kRsa2048, "keylabel"));
  TokenConfig config = token.config;
  config.key_label = "no-such-key";
  EXPECT_THAT(OpenTokenKey(config),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("'no-such-key'"), HasSubstr(token.config.token))));
}

TEST(Pkcs11Key, MissingModuleIsUnavailable) {
  TempDir dir;
  TokenConfig config;
  config.module = dir.File("no-such-module.so");
  config.token = "token";
  config.key_label = "key";
  config.pin.file = dir.File("pin");
  WriteTestFile(config.pin.file, "1234\n");
  EXPECT_THAT(OpenTokenKey(config),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(config.module)));
}

TEST(Pkcs11Key, FileThatIsNotAModuleIsUnavailable) {
  TempDir dir;
  TokenConfig config;
  config.module = dir.File("module.so");
  WriteTestFile(config.module, "not a shared library");
  config.token = "token";
  config.key_label = "key";
  config.pin.file = dir.File("pin");
  WriteTestFile(config.pin.file, "1234\n");
  EXPECT_THAT(OpenTokenKey(config),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(config.module)));
}

TEST(Pkcs11Key, ConcurrentSignsFromFourThreadsAllVerify) {
  ASSERT_OK_AND_ASSIGN(TestToken rsa, ProvisionTestToken(KeyType::kRsa2048, "threads-rsa"));
  ASSERT_OK_AND_ASSIGN(TestToken ec, ProvisionTestToken(KeyType::kP256, "threads-ec"));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> rsa_key, OpenTokenKey(rsa.config));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> ec_key, OpenTokenKey(ec.config));

  constexpr int kThreads = 4;
  constexpr int kSignsPerThread = 25;
  std::atomic<int> verified{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSignsPerThread; ++i) {
        const std::string data = "thread " + std::to_string(t) + " message " + std::to_string(i);
        KeyBackend& key = (i % 2 == 0) ? *rsa_key : *ec_key;
        absl::StatusOr<std::string> signature = key.Sign(data);
        if (signature.ok() && VerifiesWithOpenSsl(key.public_key_der(), data, *signature)) {
          ++verified;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(verified.load(), kThreads * kSignsPerThread);
}

TEST(Pkcs11ProvisionToken, PrivateKeyIsSensitiveNotExtractableAndOnlySigns) {
  ASSERT_OK_AND_ASSIGN(TestToken token, ProvisionTestToken(KeyType::kRsa2048, "attrs"));
  // pkcs11-tool (OpenSC) as an independent reader of the token.
  const testing::RunResult result = testing::Run(
      {"pkcs11-tool", "--module", SOFTHSM2_MODULE, "--token-label", token.config.token,
       "--login", "--pin", kUserPin, "--list-objects", "--type", "privkey"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("label:      " + token.config.key_label));
  EXPECT_THAT(result.out, HasSubstr("ID:         " + Hex(token.config.key_label)));
  EXPECT_THAT(result.out, HasSubstr("Usage:      sign\n"));
  EXPECT_THAT(result.out, HasSubstr("sensitive"));
  EXPECT_THAT(result.out, HasSubstr("never extractable"));
  EXPECT_THAT(result.out, HasSubstr("local"));  // generated on the token
}

TEST(Pkcs11ProvisionToken, DuplicateTokenLabelIsAlreadyExists) {
  ASSERT_OK_AND_ASSIGN(TestToken token, ProvisionTestToken(KeyType::kP256, "dup"));
  TokenProvisioning again;
  again.module = SOFTHSM2_MODULE;
  again.token_label = token.config.token;
  again.so_pin = kSoPin;
  again.user_pin = kUserPin;
  again.key_label = "other";
  again.key_type = KeyType::kP256;
  EXPECT_THAT(ProvisionToken(again),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(token.config.token)));
  // The existing token is untouched.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> key, OpenTokenKey(token.config));
  EXPECT_EQ(key->public_key_der(), token.public_key);
}

TEST(Pkcs11ProvisionToken, BadRequestsAreRejectedBeforeTheTokenIsTouched) {
  SoftHsmHome();
  TokenProvisioning request;
  request.module = SOFTHSM2_MODULE;
  request.token_label = UniqueLabel("bad");
  request.so_pin = kSoPin;
  request.user_pin = "12";  // SoftHSM2 wants at least 4 characters
  request.key_label = "key";
  EXPECT_THAT(ProvisionToken(request), StatusIs(absl::StatusCode::kInvalidArgument,
                                                Not(HasSubstr("12"))));
  TokenProvisioning long_label = request;
  long_label.token_label = std::string(33, 'x');
  EXPECT_THAT(ProvisionToken(long_label), StatusIs(absl::StatusCode::kInvalidArgument));

  // The failed attempt did not initialise the token: the label is still free.
  request.user_pin = kUserPin;
  EXPECT_OK(ProvisionToken(request));
}

TEST(Pkcs11ProvisionToken, MissingModuleIsUnavailable) {
  TempDir dir;
  TokenProvisioning request;
  request.module = dir.File("absent.so");
  request.token_label = "t";
  request.so_pin = kSoPin;
  request.user_pin = kUserPin;
  request.key_label = "k";
  EXPECT_THAT(ProvisionToken(request),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(request.module)));
}

TEST(Pkcs11TokenConfig, RelativePathsAreResolvedAgainstTheFilesDirectory) {
  TempDir dir;
  std::filesystem::create_directories(dir.File("conf"));
  const std::string toml_path = dir.File("conf/token.toml");
  WriteTestFile(toml_path,
                "module = \"lib/module.so\"\n"
                "token = \"Nguyễn Văn A\"\n"
                "key_label = \"ký số\"\n"
                "pin_file = \"../secrets/pin\"\n"
                "[environment]\n"
                "SOFTHSM2_CONF = \"./softhsm2.conf\"\n"
                "OTHER = \"plain value\"\n");
  ASSERT_OK_AND_ASSIGN(TokenConfig config, LoadTokenConfig(toml_path));
  EXPECT_EQ(config.module, dir.File("conf/lib/module.so"));
  EXPECT_EQ(config.token, "Nguyễn Văn A");
  EXPECT_EQ(config.key_label, "ký số");
  EXPECT_EQ(config.pin.file, dir.File("secrets/pin"));
  EXPECT_EQ(config.pin.env, "");
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_THAT(config.environment,
              ::testing::UnorderedElementsAreArray(Env{
                  {"SOFTHSM2_CONF", dir.File("conf/softhsm2.conf")}, {"OTHER", "plain value"}}));
}

TEST(Pkcs11TokenConfig, AbsolutePathsAndPinEnvAreKeptAsWritten) {
  TempDir dir;
  const std::string toml_path = dir.File("token.toml");
  WriteTestFile(toml_path,
                "module = \"/usr/lib/softhsm/libsofthsm2.so\"\n"
                "token = \"t\"\nkey_label = \"k\"\npin_env = \"CONGVAN_PIN\"\n");
  ASSERT_OK_AND_ASSIGN(TokenConfig config, LoadTokenConfig(toml_path));
  EXPECT_EQ(config.module, "/usr/lib/softhsm/libsofthsm2.so");
  EXPECT_EQ(config.pin.env, "CONGVAN_PIN");
  EXPECT_EQ(config.pin.file, "");
  EXPECT_TRUE(config.environment.empty());
}

TEST(Pkcs11TokenConfig, MissingKeyIsReportedByName) {
  TempDir dir;
  const std::string toml_path = dir.File("token.toml");
  WriteTestFile(toml_path, "module = \"m.so\"\ntoken = \"t\"\npin_file = \"pin\"\n");
  EXPECT_THAT(LoadTokenConfig(toml_path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(toml_path), HasSubstr("'key_label'"))));

  WriteTestFile(toml_path, "module = \"m.so\"\ntoken = \"t\"\nkey_label = \"k\"\n");
  EXPECT_THAT(LoadTokenConfig(toml_path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'pin_file'")));
}

TEST(Pkcs11TokenConfig, MalformedFilesAreInvalidArgumentNamingTheProblem) {
  TempDir dir;
  const std::string toml_path = dir.File("token.toml");
  const std::string base = "module = \"m.so\"\ntoken = \"t\"\nkey_label = \"k\"\n";

  WriteTestFile(toml_path, base + "pin_file = \"p\"\npin_env = \"E\"\n");
  EXPECT_THAT(LoadTokenConfig(toml_path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pin_env")));
  WriteTestFile(toml_path, base + "pin_file = 42\n");
  EXPECT_THAT(LoadTokenConfig(toml_path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'pin_file'")));
  WriteTestFile(toml_path, base + "pin_file = \"p\"\npin-file = \"p\"\n");
  EXPECT_THAT(LoadTokenConfig(toml_path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'pin-file'")));
  WriteTestFile(toml_path, base + "pin_file = \"p\"\n[environment]\nX = 1\n");
  EXPECT_THAT(LoadTokenConfig(toml_path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'environment.X'")));
  WriteTestFile(toml_path, "module = \n");
  EXPECT_THAT(LoadTokenConfig(toml_path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(toml_path + ":1:")));
  EXPECT_THAT(LoadTokenConfig(dir.File("absent.toml")), StatusIs(absl::StatusCode::kNotFound));
}

TEST(Pkcs11TokenConfig, EnvironmentOnlyFillsVariablesThatAreNotSet) {
  TempDir dir;
  setenv("CONGVAN_TEST_SET_OUTSIDE", "outside", /*overwrite=*/1);
  unsetenv("CONGVAN_TEST_FROM_CONFIG");
  TokenConfig config;
  config.module = dir.File("absent.so");  // the environment applies even so
  config.token = "t";
  config.key_label = "k";
  config.pin.file = dir.File("pin");
  config.environment = {{"CONGVAN_TEST_SET_OUTSIDE", "config"},
                        {"CONGVAN_TEST_FROM_CONFIG", "config"}};
  EXPECT_THAT(OpenTokenKey(config), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_STREQ(std::getenv("CONGVAN_TEST_SET_OUTSIDE"), "outside");
  EXPECT_STREQ(std::getenv("CONGVAN_TEST_FROM_CONFIG"), "config");
}

// SOFTHSM2_CONF from a token.toml's [environment] reaches SoftHSM2: the key is
// found in the token directory that the toml's softhsm2.conf names.
TEST(Pkcs11TokenConfig, EnvironmentTableConfiguresTheModuleBeforeItLoads) {
  if (std::getenv("SOFTHSM2_CONF") != nullptr) {
    GTEST_SKIP() << "SoftHSM2 is configured already in this process; ctest runs this test alone";
  }
  TempDir dir;
  const std::string conf = WriteSoftHsmConf(dir.path());
  WriteTestFile(dir.File("pin"), std::string(kUserPin) + "\n");
  WriteTestFile(dir.File("token.toml"),
                "module = \"" SOFTHSM2_MODULE "\"\n"
                "token = \"from-toml\"\nkey_label = \"seal\"\npin_file = \"pin\"\n"
                "[environment]\nSOFTHSM2_CONF = \"./softhsm2.conf\"\n");
  ASSERT_OK_AND_ASSIGN(TokenConfig config, LoadTokenConfig(dir.File("token.toml")));

  // Loads the module with the toml's configuration; its token directory is
  // still empty.
  EXPECT_THAT(OpenTokenKey(config), StatusIs(absl::StatusCode::kNotFound, HasSubstr("from-toml")));
  ASSERT_NE(std::getenv("SOFTHSM2_CONF"), nullptr);
  EXPECT_EQ(std::filesystem::path(std::getenv("SOFTHSM2_CONF")),
            std::filesystem::path(conf).lexically_normal());

  TokenProvisioning request{.module = SOFTHSM2_MODULE,
                            .token_label = "from-toml",
                            .so_pin = kSoPin,
                            .user_pin = kUserPin,
                            .key_label = "seal",
                            .key_type = KeyType::kP256};
  ASSERT_OK_AND_ASSIGN(std::string public_key, ProvisionToken(request));
  EXPECT_FALSE(std::filesystem::is_empty(dir.File("tokens")));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> key, OpenTokenKey(config));
  EXPECT_EQ(key->public_key_der(), public_key);
  ASSERT_OK_AND_ASSIGN(std::string signature, key->Sign("sealed"));
  EXPECT_TRUE(VerifiesWithOpenSsl(public_key, "sealed", signature));
}

}  // namespace
}  // namespace congvan::signer
