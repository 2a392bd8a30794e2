// Reading the public half of a key pair that lives on a PKCS#11 token.
#ifndef CONGVAN_SIGNER_SRC_PKCS11_PUBLIC_KEY_H_
#define CONGVAN_SIGNER_SRC_PKCS11_PUBLIC_KEY_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "pkcs11_module.h"

namespace congvan::signer::internal {

// A token key pair congvan can sign with.
struct Pkcs11KeyPair {
  enum class Algorithm { kRsa, kEcdsaP256 };
  Algorithm algorithm;
  std::string public_key_der;  // DER SubjectPublicKeyInfo
  size_t signature_size;       // RSA: modulus bytes; ECDSA: r || s bytes
};

// Reads the public key of the pair whose private key is `private_key`: from
// the private key's own attributes where the token shows them (RSA modulus
// and exponent, EC parameters), otherwise from the public key object with the
// same CKA_ID (SoftHSM2 keeps the EC point only there). FAILED_PRECONDITION
// for a key congvan does not sign with (RSA under 2048 bits, EC curves other
// than P-256, other algorithms); NOT_FOUND when the public half is missing.
[[nodiscard]] absl::StatusOr<Pkcs11KeyPair> ReadKeyPair(Pkcs11Session& session,
                                                        CK_OBJECT_HANDLE private_key);

}  // namespace congvan::signer::internal

#endif  // CONGVAN_SIGNER_SRC_PKCS11_PUBLIC_KEY_H_
