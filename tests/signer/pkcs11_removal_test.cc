// A token pulled out while its key is open, and put back: a real SoftHSM2
// token behind the test module testing/pkcs11_shim (tests/SECURITY.md,
// "token removed while the node runs").
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

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

TEST(Pkcs11TokenRemoved, SigningFailsWhileTheTokenIsOutAndWorksAgainOnceItIsBack) {
  // SoftHSM2 reads SOFTHSM2_CONF once per process, at its first C_Initialize:
  // the token directory lives as long as the process, for the other tests of
  // the binary that may find SoftHSM2 initialised with it (under ctest each
  // test has a process of its own).
  static const TempDir& home = *new TempDir;
  std::filesystem::create_directories(home.File("tokens"));
  WriteTestFile(home.File("softhsm2.conf"),
                "directories.tokendir = " + home.File("tokens") + "\nobjectstore.backend = file\nlog.level = ERROR\n");
  setenv("SOFTHSM2_CONF", home.File("softhsm2.conf").c_str(), /*overwrite=*/0);
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

}  // namespace
}  // namespace congvan::signer
