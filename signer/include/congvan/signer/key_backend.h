// Private signing keys behind one interface: a key file (OpenSSL) or a key
// on a PKCS#11 token. A token key never leaves the token.
#ifndef CONGVAN_SIGNER_KEY_BACKEND_H_
#define CONGVAN_SIGNER_KEY_BACKEND_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/secret.h"

namespace congvan::signer {

// Key types congvan issues and signs with.
enum class KeyType { kRsa2048, kRsa3072, kP256 };

// "rsa2048", "rsa3072", "p256".
std::string_view KeyTypeName(KeyType type);
[[nodiscard]] absl::StatusOr<KeyType> ParseKeyType(std::string_view name);

// A private key that makes SHA-256 signatures: RSA PKCS#1 v1.5, or ECDSA
// P-256 as a DER Ecdsa-Sig-Value. Implementations are thread-safe.
class KeyBackend {
 public:
  virtual ~KeyBackend() = default;

  // Signs SHA-256(data). Errors: UNAVAILABLE when the token is gone,
  // INTERNAL when the key refuses to sign.
  [[nodiscard]] virtual absl::StatusOr<std::string> Sign(std::string_view data) = 0;

  // The public key as a DER SubjectPublicKeyInfo.
  virtual const std::string& public_key_der() const = 0;

  // Where the key lives, for messages: "key file PATH", "token T, key L".
  // Never contains a secret.
  virtual std::string Describe() const = 0;
};

// A key in a file: PEM or DER, PKCS#8 (encrypted or not) or a traditional
// PEM key. The passphrase is needed only for an encrypted key. Errors:
// NOT_FOUND (no file), PERMISSION_DENIED (wrong passphrase), INVALID_ARGUMENT
// (not a key).
[[nodiscard]] absl::StatusOr<std::unique_ptr<KeyBackend>> LoadKeyFile(
    const std::string& path, const SecretSource& passphrase = {});

// A key and its certificates from a PKCS#12 file.
struct Pkcs12Contents {
  std::unique_ptr<KeyBackend> key;
  Certificate certificate;
  std::vector<Certificate> chain;  // the other certificates in the file
};
[[nodiscard]] absl::StatusOr<Pkcs12Contents> LoadPkcs12(const std::string& path,
                                                         const SecretSource& passphrase);

// How to reach a key on a PKCS#11 token (a person's token.toml).
struct TokenConfig {
  std::string module;     // path of the PKCS#11 module (.so)
  std::string token;      // token label
  std::string key_label;  // CKA_LABEL of the private key
  SecretSource pin;       // the user PIN
  // Environment the module needs before it loads, e.g. SOFTHSM2_CONF for
  // SoftHSM2. Set only where the variable is not already set.
  std::vector<std::pair<std::string, std::string>> environment;
};

// Reads a token.toml (format in certs/README.md). Relative paths in it are
// taken relative to the file's directory.
[[nodiscard]] absl::StatusOr<TokenConfig> LoadTokenConfig(const std::string& path);

// Opens the token, logs in with the PIN and finds the private key. The
// module is the PKCS#11 C API loaded with dlopen (Debian's Botan is built
// without its PKCS#11 module). Errors: NOT_FOUND (token, key or PIN file
// missing), PERMISSION_DENIED (wrong or locked PIN), UNAVAILABLE (the module
// is missing, fails to load or answer), INVALID_ARGUMENT (empty fields),
// FAILED_PRECONDITION (a key congvan does not sign with: RSA under 2048
// bits, a curve other than P-256, no signing mechanism, or several keys with
// the label). Calls setenv() for config.environment: call it at start-up,
// before other threads run.
[[nodiscard]] absl::StatusOr<std::unique_ptr<KeyBackend>> OpenTokenKey(const TokenConfig& config);

// A key from configuration: exactly one of key_file and token is set.
struct KeyConfig {
  std::string key_file;
  SecretSource passphrase;          // for an encrypted key_file
  std::optional<TokenConfig> token;
};
[[nodiscard]] absl::StatusOr<std::unique_ptr<KeyBackend>> OpenKey(const KeyConfig& config);

// Checks that `key` belongs to `certificate`. FAILED_PRECONDITION otherwise.
[[nodiscard]] absl::Status CheckKeyMatchesCertificate(const KeyBackend& key,
                                                      const Certificate& certificate);

}  // namespace congvan::signer

#endif  // CONGVAN_SIGNER_KEY_BACKEND_H_
