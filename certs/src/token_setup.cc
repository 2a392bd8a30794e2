#include "token_setup.h"

#include <cstdlib>

#include "congvan/signer/certificate.h"
#include "congvan/signer/pkcs11_token.h"
#include "congvan/signer/status_macros.h"
#include "files.h"

namespace congvan::pki::internal {
namespace {

constexpr size_t kPinLength = 16;

}  // namespace

absl::Status PrepareSoftHsm(const PkiLayout& layout) {
  RETURN_IF_ERROR(MakeDir(layout.SoftHsmTokenDir(), 0700));
  const std::string config =
      "# SoftHSM2 configuration for the tokens of this dev PKI (congvan pki init).\n"
      "directories.tokendir = " + layout.SoftHsmTokenDir() + "\n"
      "objectstore.backend = file\n"
      "log.level = ERROR\n"
      "slots.removable = false\n";
  RETURN_IF_ERROR(signer::WriteFile(layout.SoftHsmConfig(), config, 0644));
  // SoftHSM2 reads its configuration when the module initialises.
  if (setenv("SOFTHSM2_CONF", layout.SoftHsmConfig().c_str(), 1) != 0) {
    return absl::InternalError("cannot set SOFTHSM2_CONF");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ProvisionPersonToken(const PkiLayout& layout, const std::string& module,
                                                 const std::string& login, signer::KeyType key_type) {
  ASSIGN_OR_RETURN(std::string user_pin, RandomPin(kPinLength));
  ASSIGN_OR_RETURN(std::string so_pin, RandomPin(kPinLength));
  // The PINs are on disk before the token exists, so that a token is never
  // left behind with a PIN nobody knows.
  RETURN_IF_ERROR(signer::WriteFile(layout.TokenPin(login), user_pin + "\n", 0600));
  RETURN_IF_ERROR(signer::WriteFile(layout.TokenSoPin(login), so_pin + "\n", 0600));

  signer::TokenProvisioning request;
  request.module = module;
  request.token_label = login;
  request.so_pin = so_pin;
  request.user_pin = user_pin;
  request.key_label = kTokenKeyLabel;
  request.key_type = key_type;
  auto public_key = signer::ProvisionToken(request);
  if (!public_key.ok()) {
    return absl::Status(public_key.status().code(),
                        "cannot provision the token of " + login + ": " + std::string(public_key.status().message()));
  }

  const std::string config =
      "# The signing key of " + login + " lives on this PKCS#11 token and never leaves it.\n"
      "module = " + TomlString(module) + "\n"
      "token = " + TomlString(login) + "\n"
      "key_label = " + TomlString(kTokenKeyLabel) + "\n"
      "pin_file = \"token.pin\"\n"
      "\n[environment]\n"
      "SOFTHSM2_CONF = " + TomlString(layout.SoftHsmConfig()) + "\n";
  RETURN_IF_ERROR(signer::WriteFile(layout.TokenConfig(login), config, 0644));
  return *std::move(public_key);
}

}  // namespace congvan::pki::internal
