// A token pulled out while its key is open, and put back: a real SoftHSM2
// token behind the test module testing/pkcs11_shim (tests/SECURITY.md,
// "token removed while the node runs").
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>

#include "congvan/signer/certificate.h"
#include "congvan/signer/key_backend.h"
#include "congvan/signer/pkcs11_token.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace congvan::signer {
namespace {

using ::congvan::testing::StatusIs;
using ::congvan::testing::TempDir;
using ::congvan::testing::WriteTestFile;
using ::testing::AllOf;
using ::testing::HasSubstr;

// The scenario, in a process of its own (below).
void PullOutAndPutBack() {
  static const TempDir home;
  std::filesystem::create_directories(home.File("tokens"));
  WriteTestFile(home.File("softhsm2.conf"),
                "directories.tokendir = " + home.File("tokens") + "\nobjectstore.backend = file\nlog.level = ERROR\n");
  setenv("SOFTHSM2_CONF", home.File("softhsm2.conf").c_str(), /*overwrite=*/1);
  setenv("CONGVAN_PKCS11_SHIM_REMOVED", home.File("removed").c_str(), /*overwrite=*/1);
  TokenProvisioning provisioning;
  provisioning.module = PKCS11_SHIM_MODULE;
  provisioning.token_label = "seal-removable";
  provisioning.so_pin = "so-pin-2468";
  provisioning.user_pin = "user-pin-9753";
  provisioning.key_label = "seal";
  provisioning.key_type = KeyType::kP256;
  ASSERT_OK_AND_ASSIGN(const std::string public_key, ProvisionToken(provisioning));
  WriteTestFile(home.File("pin"), provisioning.user_pin);

  TokenConfig config;
  config.module = PKCS11_SHIM_MODULE;
  config.token = provisioning.token_label;
  config.key_label = provisioning.key_label;
  config.pin.file = home.File("pin");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KeyBackend> key, OpenTokenKey(config));
  EXPECT_EQ(key->public_key_der(), public_key);
  ASSERT_OK(key->Sign("trước khi rút"));

  WriteTestFile(home.File("removed"), "");
  for (int i = 0; i < 2; ++i) {  // and again: no session to fall back on
    EXPECT_THAT(key->Sign("khi đã rút"), StatusIs(absl::StatusCode::kUnavailable,
                                                  AllOf(HasSubstr("token 'seal-removable', key 'seal'"),
                                                        HasSubstr("CKR_DEVICE_REMOVED"),
                                                        HasSubstr("it is used again once it is back"))));
  }

  // Back: the key signs on a new session, logged in again with the PIN file.
  std::filesystem::remove(home.File("removed"));
  ASSERT_OK_AND_ASSIGN(const std::string signature, key->Sign("sau khi cắm lại"));
  EXPECT_FALSE(signature.empty());
  EXPECT_OK(key->Sign("lần nữa"));
}

// SoftHSM2 reads SOFTHSM2_CONF once per process, at its first C_Initialize,
// and the module's sessions are the process's: the scenario runs in a fresh
// process (gtest re-executes the binary for it), so that neither this test
// nor the other token tests of the binary see the other's token directory.
TEST(Pkcs11TokenRemoved, SigningFailsWhileTheTokenIsOutAndWorksAgainOnceItIsBack) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        PullOutAndPutBack();
        std::exit(::testing::Test::HasFailure() ? 1 : 0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace congvan::signer
