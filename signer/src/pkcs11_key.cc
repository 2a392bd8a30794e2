// KeyBackend for a private key on a PKCS#11 token: OpenTokenKey.
#include <botan/bigint.h>
#include <botan/der_enc.h>
#include <botan/mem_ops.h>
#include <botan/sha2_32.h>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "congvan/signer/key_backend.h"
#include "congvan/signer/secret.h"
#include "congvan/signer/status_macros.h"
#include "pkcs11_module.h"
#include "pkcs11_public_key.h"

namespace congvan::signer {
namespace {

using internal::Pkcs11Error;
using internal::Pkcs11KeyPair;
using internal::Pkcs11Module;
using internal::Pkcs11Session;

// DER DigestInfo header for SHA-256 (RFC 8017 section 9.2, note 1).
constexpr char kSha256DigestInfoPrefix[] =
    "\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20";

// How one key turns data into a signature on its token.
enum class Scheme {
  kRsaSha256,       // CKM_SHA256_RSA_PKCS over the data
  kRsaDigestInfo,   // CKM_RSA_PKCS over DigestInfo(SHA-256(data))
  kEcdsaSha256,     // CKM_ECDSA_SHA256 over the data
  kEcdsaPrehashed,  // CKM_ECDSA over SHA-256(data) (SoftHSM2 2.6 has no ECDSA_SHA256)
};

std::string Sha256Of(std::string_view data) {
  Botan::SHA_256 hash;
  hash.update(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  const Botan::secure_vector<uint8_t> digest = hash.final();
  return std::string(digest.begin(), digest.end());
}

// PKCS#11 ECDSA signatures are r || s; X.509 and CMS want Ecdsa-Sig-Value.
std::string EcdsaSigValue(const std::string& raw) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(raw.data());
  const size_t half = raw.size() / 2;
  std::vector<uint8_t> der;
  Botan::DER_Encoder(der)
      .start_cons(Botan::SEQUENCE)
      .encode(Botan::BigInt::decode(bytes, half))
      .encode(Botan::BigInt::decode(bytes + half, half))
      .end_cons();
  return std::string(der.begin(), der.end());
}

bool CanSign(const Pkcs11Module& module, CK_SLOT_ID slot, CK_MECHANISM_TYPE mechanism) {
  CK_MECHANISM_INFO info{};
  return module.fn().C_GetMechanismInfo(slot, mechanism, &info) == CKR_OK &&
         (info.flags & CKF_SIGN) != 0;
}

// Whether `rv` says the session is gone: the token was pulled out (and
// perhaps put back), the device reset, or the session was closed under us.
// A new session may then work where the old one cannot.
bool SessionGone(CK_RV rv) {
  switch (rv) {
    case CKR_DEVICE_REMOVED:
    case CKR_DEVICE_ERROR:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_SESSION_CLOSED:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_KEY_HANDLE_INVALID:
    case CKR_OBJECT_HANDLE_INVALID:
      return true;
    default:
      return false;
  }
}

// A session on the token labelled `config.token`, logged in, and the one
// private key labelled `config.key_label` on it.
struct OpenedKey {
  std::unique_ptr<Pkcs11Session> session;
  CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
  CK_SLOT_ID slot = 0;
};
absl::StatusOr<OpenedKey> OpenKeyOnToken(const std::shared_ptr<Pkcs11Module>& module, const TokenConfig& config);

class Pkcs11Key final : public KeyBackend {
 public:
  Pkcs11Key(std::shared_ptr<Pkcs11Module> module, TokenConfig config, OpenedKey opened, Scheme scheme,
            Pkcs11KeyPair pair)
      : module_(std::move(module)),
        config_(std::move(config)),
        session_(std::move(opened.session)),
        key_(opened.key),
        scheme_(scheme),
        pair_(std::move(pair)),
        description_("token '" + config_.token + "', key '" + config_.key_label + "'") {}

  absl::StatusOr<std::string> Sign(std::string_view data) override {
    switch (scheme_) {
      case Scheme::kRsaSha256:
        return SignOnToken(CKM_SHA256_RSA_PKCS, data);
      case Scheme::kRsaDigestInfo:
        return SignOnToken(CKM_RSA_PKCS, std::string(kSha256DigestInfoPrefix,
                                                     sizeof kSha256DigestInfoPrefix - 1) +
                                             Sha256Of(data));
      case Scheme::kEcdsaSha256:
        return SignEcdsa(CKM_ECDSA_SHA256, data);
      case Scheme::kEcdsaPrehashed:
        return SignEcdsa(CKM_ECDSA, Sha256Of(data));
    }
    std::abort();  // every Scheme is handled above
  }

  const std::string& public_key_der() const override { return pair_.public_key_der; }
  std::string Describe() const override { return description_; }

 private:
  absl::StatusOr<std::string> SignEcdsa(CK_MECHANISM_TYPE mechanism, std::string_view input) {
    ASSIGN_OR_RETURN(std::string raw, SignOnToken(mechanism, input));
    if (raw.empty() || raw.size() % 2 != 0) {
      return absl::InternalError("signing with " + description_ +
                                 ": the token returned a malformed ECDSA signature");
    }
    try {
      return EcdsaSigValue(raw);
    } catch (const std::exception& e) {
      return absl::InternalError("encoding the ECDSA signature of " + description_ + ": " +
                                 e.what());
    }
  }

  // Signs on the session, and once more on a new one when the old one is
  // gone (a token pulled out and put back closes every session): a node
  // whose seal is on a token seals again once the token is back, without a
  // restart. The new session must find the same key: another token with the
  // same labels does not sign in its place.
  absl::StatusOr<std::string> SignOnToken(CK_MECHANISM_TYPE mechanism, std::string_view input) {
    absl::MutexLock lock(&mu_);
    CK_RV rv = CKR_OK;
    if (session_ != nullptr) {
      absl::StatusOr<std::string> signature = SignOnSession(mechanism, input, &rv);
      if (signature.ok() || !SessionGone(rv)) return signature;
      gone_ = rv;
    }
    session_.reset();  // closes it (an error if it is gone already, ignored)
    absl::Status reopened = Reopen();
    if (!reopened.ok()) {
      return absl::UnavailableError("signing with " + description_ + ": " + internal::Pkcs11ReturnName(gone_) +
                                    ": the token was removed or does not answer (" +
                                    std::string(reopened.message()) + "); it is used again once it is back");
    }
    return SignOnSession(mechanism, input, &rv);
  }

  absl::Status Reopen() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ASSIGN_OR_RETURN(OpenedKey opened, OpenKeyOnToken(module_, config_));
    ASSIGN_OR_RETURN(Pkcs11KeyPair pair, internal::ReadKeyPair(*opened.session, opened.key));
    if (pair.public_key_der != pair_.public_key_der) {
      return absl::FailedPreconditionError("the token now labelled '" + config_.token +
                                           "' holds another key under '" + config_.key_label + "'");
    }
    session_ = std::move(opened.session);
    key_ = opened.key;
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> SignOnSession(CK_MECHANISM_TYPE mechanism, std::string_view input, CK_RV* result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const std::string what = "signing with " + description_;
    CK_RV& rv = *result;
    const CK_FUNCTION_LIST& fn = session_->fn();
    const CK_SESSION_HANDLE session = session_->handle();
    CK_MECHANISM m{mechanism, nullptr, 0};
    rv = fn.C_SignInit(session, &m, key_);
    if (rv != CKR_OK) return Pkcs11Error(rv, what);
    // PKCS#11 takes the data non-const but only reads it.
    auto* data = reinterpret_cast<CK_BYTE*>(const_cast<char*>(input.data()));
    std::string signature(pair_.signature_size, '\0');
    CK_ULONG size = signature.size();
    rv = fn.C_Sign(session, data, input.size(), reinterpret_cast<CK_BYTE*>(signature.data()),
                   &size);
    if (rv == CKR_BUFFER_TOO_SMALL) {
      // The operation stays active after BUFFER_TOO_SMALL; `size` is the need.
      signature.resize(size);
      rv = fn.C_Sign(session, data, input.size(), reinterpret_cast<CK_BYTE*>(signature.data()),
                     &size);
    }
    if (rv != CKR_OK) return Pkcs11Error(rv, what);
    signature.resize(size);
    return signature;
  }

  const std::shared_ptr<Pkcs11Module> module_;
  const TokenConfig config_;  // to open a new session: token and key labels, the PIN's source
  absl::Mutex mu_;
  // The session is used by one thread at a time: PKCS#11 sessions are not
  // safe for concurrent operations. Null after it was found gone and no new
  // one could be opened.
  std::unique_ptr<Pkcs11Session> session_ ABSL_GUARDED_BY(mu_);
  CK_OBJECT_HANDLE key_ ABSL_GUARDED_BY(mu_);
  CK_RV gone_ ABSL_GUARDED_BY(mu_) = CKR_OK;  // why the last session was given up
  const Scheme scheme_;
  const Pkcs11KeyPair pair_;
  const std::string description_;
};

absl::StatusOr<Scheme> PickScheme(const Pkcs11Module& module, CK_SLOT_ID slot,
                                  Pkcs11KeyPair::Algorithm algorithm,
                                  const std::string& description) {
  if (algorithm == Pkcs11KeyPair::Algorithm::kRsa) {
    if (CanSign(module, slot, CKM_SHA256_RSA_PKCS)) return Scheme::kRsaSha256;
    if (CanSign(module, slot, CKM_RSA_PKCS)) return Scheme::kRsaDigestInfo;
  } else {
    if (CanSign(module, slot, CKM_ECDSA_SHA256)) return Scheme::kEcdsaSha256;
    if (CanSign(module, slot, CKM_ECDSA)) return Scheme::kEcdsaPrehashed;
  }
  return absl::FailedPreconditionError("the token of " + description +
                                       " offers no SHA-256 signature mechanism for it");
}

absl::Status ApplyEnvironment(const TokenConfig& config) {
  for (const auto& [name, value] : config.environment) {
    if (name.empty() || name.find('=') != std::string::npos) {
      return absl::InvalidArgumentError("invalid environment variable name '" + name + "'");
    }
    // overwrite=0: what the operator set outside congvan wins.
    if (setenv(name.c_str(), value.c_str(), /*overwrite=*/0) != 0) {
      return absl::InternalError("cannot set environment variable " + name);
    }
  }
  return absl::OkStatus();
}

// Logs in with the PIN from `source`, keeping the PIN in memory only as long
// as the login takes.
absl::Status LoginUser(Pkcs11Session& session, const SecretSource& source) {
  absl::StatusOr<std::string> pin = ReadSecret(source);
  if (!pin.ok()) {
    return absl::Status(pin.status().code(), "PIN for token '" + session.token_label() +
                                                 "': " + std::string(pin.status().message()));
  }
  absl::Status status = session.Login(CKU_USER, *pin);
  Botan::secure_scrub_memory(pin->data(), pin->size());
  return status;
}

absl::StatusOr<OpenedKey> OpenKeyOnToken(const std::shared_ptr<Pkcs11Module>& module, const TokenConfig& config) {
  ASSIGN_OR_RETURN(std::optional<CK_SLOT_ID> slot, module->FindToken(config.token));
  if (!slot.has_value()) {
    return absl::NotFoundError("no token labelled '" + config.token + "' in PKCS#11 module '" +
                               config.module + "'");
  }
  OpenedKey opened;
  opened.slot = *slot;
  // Signing needs no writes: a read-only session.
  ASSIGN_OR_RETURN(opened.session, Pkcs11Session::Open(module, *slot, /*read_write=*/false, config.token));
  RETURN_IF_ERROR(LoginUser(*opened.session, config.pin));

  static constexpr CK_OBJECT_CLASS kPrivateKeyClass = CKO_PRIVATE_KEY;
  ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> keys,
                   opened.session->Find({internal::MakeAttribute(CKA_CLASS, kPrivateKeyClass),
                                         internal::MakeAttribute(CKA_LABEL, config.key_label)}));
  if (keys.empty()) {
    return absl::NotFoundError("no private key labelled '" + config.key_label + "' on token '" +
                               config.token + "'");
  }
  if (keys.size() > 1) {
    // Signing with whichever comes first could sign with the wrong identity.
    return absl::FailedPreconditionError(std::to_string(keys.size()) +
                                         " private keys are labelled '" + config.key_label +
                                         "' on token '" + config.token + "'");
  }
  opened.key = keys.front();
  return opened;
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyBackend>> OpenTokenKey(const TokenConfig& config) {
  if (config.module.empty() || config.token.empty() || config.key_label.empty()) {
    return absl::InvalidArgumentError(
        "a token key needs a PKCS#11 module, a token label and a key label");
  }
  const std::string description =
      "token '" + config.token + "', key '" + config.key_label + "'";
  RETURN_IF_ERROR(ApplyEnvironment(config));
  ASSIGN_OR_RETURN(std::shared_ptr<Pkcs11Module> module,
                   internal::LoadPkcs11Module(config.module));
  ASSIGN_OR_RETURN(OpenedKey opened, OpenKeyOnToken(module, config));
  ASSIGN_OR_RETURN(Pkcs11KeyPair pair, internal::ReadKeyPair(*opened.session, opened.key));
  ASSIGN_OR_RETURN(Scheme scheme, PickScheme(*module, opened.slot, pair.algorithm, description));
  return std::make_unique<Pkcs11Key>(std::move(module), config, std::move(opened), scheme, std::move(pair));
}

}  // namespace congvan::signer
