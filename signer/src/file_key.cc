// Key files (OpenSSL), the key-type names, and the KeyConfig factory.
#include <openssl/pem.h>

#include <cstring>

#include <mutex>

#include "congvan/signer/key_backend.h"
#include "congvan/signer/status_macros.h"
#include "openssl_util.h"

namespace congvan::signer {
namespace {

using internal::EvpPkeyPtr;

class FileKey final : public KeyBackend {
 public:
  FileKey(EvpPkeyPtr key, std::string description)
      : key_(std::move(key)),
        public_key_der_(internal::PublicKeyToDer(key_.get())),
        description_(std::move(description)) {}

  absl::StatusOr<std::string> Sign(std::string_view data) override {
    internal::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    size_t len = 0;
    if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) != 1) {
      return internal::OpenSslError(absl::StatusCode::kInternal, "cannot sign with " + description_);
    }
    std::string signature(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
      return internal::OpenSslError(absl::StatusCode::kInternal, "cannot sign with " + description_);
    }
    signature.resize(len);
    return signature;
  }

  const std::string& public_key_der() const override { return public_key_der_; }
  std::string Describe() const override { return description_; }

 private:
  EvpPkeyPtr key_;
  std::string public_key_der_;
  std::string description_;
};

// OpenSSL's passphrase callback. `u` points at the passphrase, or is null
// when none was given: then fail instead of prompting on a terminal.
int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* u) {
  if (u == nullptr) return -1;
  const auto* pass = static_cast<const std::string*>(u);
  if (pass->size() > static_cast<size_t>(size)) return -1;
  std::memcpy(buf, pass->data(), pass->size());
  return static_cast<int>(pass->size());
}

absl::StatusOr<std::optional<std::string>> OptionalSecret(const SecretSource& source) {
  if (source.empty()) return std::optional<std::string>();
  ASSIGN_OR_RETURN(std::string secret, ReadSecret(source));
  return std::optional<std::string>(std::move(secret));
}

bool LooksEncrypted(std::string_view data) {
  return data.find("ENCRYPTED") != std::string_view::npos;
}

absl::Status DecryptError(const std::string& path, bool have_passphrase) {
  internal::ClearOpenSslErrors();
  if (!have_passphrase) {
    return absl::FailedPreconditionError("key file " + path +
                                         " is encrypted: give its passphrase in a file or an environment variable");
  }
  return absl::PermissionDeniedError("wrong passphrase for key file " + path);
}

}  // namespace

std::string_view KeyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kRsa2048: return "rsa2048";
    case KeyType::kRsa3072: return "rsa3072";
    case KeyType::kP256: return "p256";
  }
  return "unknown";
}

absl::StatusOr<KeyType> ParseKeyType(std::string_view name) {
  for (KeyType t : {KeyType::kRsa2048, KeyType::kRsa3072, KeyType::kP256}) {
    if (KeyTypeName(t) == name) return t;
  }
  return absl::InvalidArgumentError("unknown key type '" + std::string(name) +
                                    "': use rsa2048, rsa3072 or p256");
}

absl::StatusOr<std::unique_ptr<KeyBackend>> LoadKeyFile(const std::string& path, const SecretSource& passphrase) {
  ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  ASSIGN_OR_RETURN(std::optional<std::string> pass, OptionalSecret(passphrase));
  void* u = pass.has_value() ? &*pass : nullptr;
  EvpPkeyPtr key;
  if (data.find("-----BEGIN") != std::string::npos) {
    internal::BioPtr bio = internal::MemoryBio(data);
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, PassphraseCallback, u));
    if (!key && LooksEncrypted(data)) return DecryptError(path, pass.has_value());
  } else {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
    key.reset(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(data.size())));
    if (!key) {
      // An encrypted DER PKCS#8.
      internal::ClearOpenSslErrors();
      internal::BioPtr bio = internal::MemoryBio(data);
      key.reset(d2i_PKCS8PrivateKey_bio(bio.get(), nullptr, PassphraseCallback, u));
      if (!key) {
        internal::BioPtr probe = internal::MemoryBio(data);
        X509_SIG* sig = d2i_PKCS8_bio(probe.get(), nullptr);
        bool encrypted = sig != nullptr;
        X509_SIG_free(sig);
        if (encrypted) return DecryptError(path, pass.has_value());
      }
    }
  }
  if (!key) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError(path + " is not a private key (expected PEM or DER, PKCS#8 or traditional)");
  }
  return std::make_unique<FileKey>(std::move(key), "key file " + path);
}

absl::StatusOr<Pkcs12Contents> LoadPkcs12(const std::string& path, const SecretSource& passphrase) {
  ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  ASSIGN_OR_RETURN(std::string pass, ReadSecret(passphrase));
  internal::BioPtr bio = internal::MemoryBio(data);
  internal::Pkcs12Ptr p12(d2i_PKCS12_bio(bio.get(), nullptr));
  if (!p12) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError(path + " is not a PKCS#12 file");
  }
  if (PKCS12_verify_mac(p12.get(), pass.c_str(), static_cast<int>(pass.size())) != 1) {
    internal::ClearOpenSslErrors();
    return absl::PermissionDeniedError("wrong passphrase for PKCS#12 file " + path);
  }
  EVP_PKEY* pkey = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  if (PKCS12_parse(p12.get(), pass.c_str(), &pkey, &cert, &ca) != 1) {
    return internal::OpenSslError(absl::StatusCode::kInvalidArgument, "cannot read PKCS#12 file " + path);
  }
  EvpPkeyPtr key(pkey);
  internal::X509Ptr owned_cert(cert);
  internal::X509StackPtr owned_ca(ca);
  if (!key || !owned_cert) {
    return absl::InvalidArgumentError("PKCS#12 file " + path + " must hold a private key and its certificate");
  }
  Pkcs12Contents contents{std::make_unique<FileKey>(std::move(key), "PKCS#12 file " + path),
                          Certificate::FromNative(owned_cert.get()), {}};
  for (int i = 0; owned_ca && i < sk_X509_num(owned_ca.get()); ++i) {
    contents.chain.push_back(Certificate::FromNative(sk_X509_value(owned_ca.get(), i)));
  }
  return contents;
}

absl::StatusOr<std::unique_ptr<KeyBackend>> OpenKey(const KeyConfig& config) {
  if (config.key_file.empty() == !config.token.has_value()) {
    return absl::InvalidArgumentError("configure the signing key either as a key file or as a token, not " +
                                      std::string(config.key_file.empty() ? "neither" : "both"));
  }
  if (config.token.has_value()) return OpenTokenKey(*config.token);
  return LoadKeyFile(config.key_file, config.passphrase);
}

absl::Status CheckKeyMatchesCertificate(const KeyBackend& key, const Certificate& certificate) {
  EVP_PKEY* cert_key = X509_get0_pubkey(certificate.native());
  EvpPkeyPtr backend_key = internal::PublicKeyFromDer(key.public_key_der());
  if (cert_key == nullptr || !backend_key || EVP_PKEY_eq(cert_key, backend_key.get()) != 1) {
    internal::ClearOpenSslErrors();
    return absl::FailedPreconditionError("the " + key.Describe() + " does not belong to the certificate of " +
                                         certificate.Subject());
  }
  return absl::OkStatus();
}

}  // namespace congvan::signer
