// Key generation and CA key loading for the dev CA (ca.h).
#include <openssl/pem.h>

#include "ca_internal.h"
#include "congvan/signer/ca.h"
#include "congvan/signer/status_macros.h"
#include "openssl_util.h"

namespace congvan::signer {
namespace {

using internal::BioPtr;
using internal::EvpPkeyPtr;
using internal::OpenSslError;

// Passphrase callback state: whether OpenSSL asked, and what to answer.
struct PassphraseState {
  const std::string* passphrase = nullptr;
  bool asked = false;
};

int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* userdata) {
  auto* state = static_cast<PassphraseState*>(userdata);
  state->asked = true;
  if (state->passphrase == nullptr) return -1;
  const std::string& pass = *state->passphrase;
  if (pass.size() > static_cast<size_t>(size)) return -1;
  std::copy(pass.begin(), pass.end(), buf);
  return static_cast<int>(pass.size());
}

}  // namespace

absl::StatusOr<GeneratedKey> GenerateKey(KeyType type) {
  EvpPkeyPtr key;
  switch (type) {
    case KeyType::kRsa2048:
    case KeyType::kRsa3072: {
      // EVP_PKEY_Q_keygen uses the public exponent 65537.
      const size_t bits = type == KeyType::kRsa2048 ? 2048 : 3072;
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
      break;
    }
    case KeyType::kP256:
      // A named curve (OpenSSL 3's default encoding), as RFC 5480 requires.
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
      break;
  }
  if (key == nullptr) {
    return OpenSslError(absl::StatusCode::kInternal,
                        "cannot generate a " + std::string(KeyTypeName(type)) + " key");
  }
  BioPtr bio(BIO_new(BIO_s_mem()));
  // PEM_write_bio_PrivateKey writes unencrypted PKCS#8 ("PRIVATE KEY").
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot encode the private key");
  }
  GeneratedKey out;
  out.private_key_pem = internal::BioContents(bio.get());
  out.public_key_der = internal::PublicKeyToDer(key.get());
  if (out.public_key_der.empty()) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot encode the public key");
  }
  return out;
}

namespace internal {

absl::StatusOr<std::shared_ptr<void>> ParsePrivateKeyPem(const std::string& pem,
                                                         const std::string* passphrase,
                                                         const std::string& what) {
  BioPtr bio = MemoryBio(pem);
  if (bio == nullptr) return OpenSslError(absl::StatusCode::kInternal, "out of memory");
  PassphraseState state{passphrase, false};
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, PassphraseCallback, &state);
  if (key == nullptr) {
    ClearOpenSslErrors();
    if (state.asked && passphrase == nullptr) {
      return absl::FailedPreconditionError(what + " is encrypted: give its passphrase");
    }
    if (state.asked) {
      return absl::PermissionDeniedError("cannot decrypt " + what + ": wrong passphrase");
    }
    return absl::InvalidArgumentError(what + " is not a PEM private key");
  }
  return std::shared_ptr<void>(key, [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
}

absl::Status CheckCaKey(const Certificate& certificate, void* key, const std::string& what) {
  X509* x509 = certificate.native();
  if (X509_check_ca(x509) == 0) {
    return absl::InvalidArgumentError(what + " (" + certificate.Subject() + ") is not a CA certificate");
  }
  if (X509_check_private_key(x509, static_cast<EVP_PKEY*>(key)) != 1) {
    ClearOpenSslErrors();
    return absl::InvalidArgumentError("the private key does not belong to " + what);
  }
  return absl::OkStatus();
}

}  // namespace internal

absl::StatusOr<CertificateAuthority> CertificateAuthority::Load(const std::string& cert_file,
                                                                const std::string& key_file,
                                                                const SecretSource& passphrase) {
  ASSIGN_OR_RETURN(std::vector<Certificate> certs, LoadCertificates(cert_file));
  ASSIGN_OR_RETURN(std::string key_pem, ReadFile(key_file));
  std::optional<std::string> pass;
  if (!passphrase.empty()) {
    ASSIGN_OR_RETURN(pass, ReadSecret(passphrase));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<void> key,
                   internal::ParsePrivateKeyPem(key_pem, pass ? &*pass : nullptr, "key file " + key_file));
  RETURN_IF_ERROR(internal::CheckCaKey(certs.front(), key.get(), "CA certificate " + cert_file));
  return CertificateAuthority(certs.front(), std::move(key));
}

absl::StatusOr<CertificateAuthority> CertificateAuthority::FromPem(const Certificate& certificate,
                                                                   const std::string& private_key_pem) {
  ASSIGN_OR_RETURN(std::shared_ptr<void> key,
                   internal::ParsePrivateKeyPem(private_key_pem, nullptr, "the CA private key"));
  RETURN_IF_ERROR(internal::CheckCaKey(certificate, key.get(), "the CA certificate"));
  return CertificateAuthority(certificate, std::move(key));
}

}  // namespace congvan::signer
