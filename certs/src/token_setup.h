// PKCS#11 tokens for people marked `token = true`: SoftHSM2's configuration,
// random PINs, the token with its signing key, and the person's token.toml
// (format in certs/README.md).
#ifndef CONGVAN_CERTS_SRC_TOKEN_SETUP_H_
#define CONGVAN_CERTS_SRC_TOKEN_SETUP_H_

#include <string>

#include "absl/status/statusor.h"
#include "congvan/pki/layout.h"
#include "congvan/signer/key_backend.h"

namespace congvan::pki::internal {

// CKA_LABEL of the signing key on every token.
inline constexpr char kTokenKeyLabel[] = "sign";

// Writes layout.SoftHsmConfig() (token directory layout.SoftHsmTokenDir(),
// absolute paths), creates the token directory, and sets SOFTHSM2_CONF in
// this process so that the module finds it. `layout.dir()` must be absolute.
[[nodiscard]] absl::Status PrepareSoftHsm(const PkiLayout& layout);

// Provisions a token labelled `login` in `module` with a `key_type` signing
// key labelled kTokenKeyLabel, writes the user and SO PINs (0600) and
// token.toml into the person's directory, and returns the key's
// SubjectPublicKeyInfo (DER).
[[nodiscard]] absl::StatusOr<std::string> ProvisionPersonToken(const PkiLayout& layout, const std::string& module,
                                                               const std::string& login, signer::KeyType key_type);

}  // namespace congvan::pki::internal

#endif  // CONGVAN_CERTS_SRC_TOKEN_SETUP_H_
