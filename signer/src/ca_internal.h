// Private helpers shared by the dev CA's source files (ca.cc, ca_key.cc,
// ca_crl.cc).
#ifndef CONGVAN_SIGNER_SRC_CA_INTERNAL_H_
#define CONGVAN_SIGNER_SRC_CA_INTERNAL_H_

#include <openssl/x509.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "congvan/signer/certificate.h"

namespace congvan::signer::internal {

// Parses a PEM private key (PKCS#8, encrypted or not, or a traditional key).
// `passphrase` may be null. `what` names the key in messages. Errors:
// FAILED_PRECONDITION (encrypted, no passphrase), PERMISSION_DENIED (wrong
// passphrase), INVALID_ARGUMENT (not a key). The result owns an EVP_PKEY.
[[nodiscard]] absl::StatusOr<std::shared_ptr<void>> ParsePrivateKeyPem(const std::string& pem,
                                                                       const std::string* passphrase,
                                                                       const std::string& what);

// INVALID_ARGUMENT unless `certificate` is a CA certificate whose public key
// matches `key` (an EVP_PKEY).
[[nodiscard]] absl::Status CheckCaKey(const Certificate& certificate, void* key, const std::string& what);

// The key identifier of a certificate: its subjectKeyIdentifier, or failing
// that the SHA-1 of its subjectPublicKey (RFC 5280 4.2.1.2, method 1).
std::string KeyIdentifier(X509* cert);

}  // namespace congvan::signer::internal

#endif  // CONGVAN_SIGNER_SRC_CA_INTERNAL_H_
