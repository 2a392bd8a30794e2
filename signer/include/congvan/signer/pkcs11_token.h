// Setting up PKCS#11 tokens (used by `congvan pki init` with SoftHSM2).
#ifndef CONGVAN_SIGNER_PKCS11_TOKEN_H_
#define CONGVAN_SIGNER_PKCS11_TOKEN_H_

#include <string>

#include "absl/status/statusor.h"
#include "congvan/signer/key_backend.h"

namespace congvan::signer {

struct TokenProvisioning {
  std::string module;       // PKCS#11 module path
  std::string token_label;  // label for the new token (at most 32 bytes)
  std::string so_pin;       // security officer PIN
  std::string user_pin;     // user PIN
  std::string key_label;    // CKA_LABEL (and CKA_ID) of the generated key pair
  KeyType key_type = KeyType::kRsa2048;
};

// Initialises the token in the first slot that holds an uninitialised token,
// sets its user PIN, and generates a signing key pair on it (private key
// sensitive and not extractable). Returns the public key as a DER
// SubjectPublicKeyInfo, for the certificate. The caller sets up the module's
// environment (e.g. SOFTHSM2_CONF) first. Errors: ALREADY_EXISTS when a token
// with that label exists, RESOURCE_EXHAUSTED when no free slot is left,
// UNAVAILABLE when the module fails.
[[nodiscard]] absl::StatusOr<std::string> ProvisionToken(const TokenProvisioning& request);

}  // namespace congvan::signer

#endif  // CONGVAN_SIGNER_PKCS11_TOKEN_H_
