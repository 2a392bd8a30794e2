#include "congvan/signer/trust.h"

#include <openssl/pem.h>

#include <map>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/status_macros.h"
#include "congvan/signer/verify_error.h"
#include "openssl_util.h"

namespace congvan::signer {
namespace {

X509_CRL* NativeCrl(void* crl) { return static_cast<X509_CRL*>(crl); }

std::string UtcString(absl::Time t) { return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", t, absl::UTCTimeZone()); }

std::string NameOf(X509* cert) {
  return cert == nullptr ? std::string("(unknown certificate)") : "'" + Certificate::FromNative(cert).Subject() + "'";
}

// What the verify callback needs to know.
struct CallbackContext {
  absl::Time at;
  const std::vector<Crl>* crls;
};

int ContextIndex() {
  static const int index = X509_STORE_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

struct RevocationEntry {
  absl::Time when;
  std::string reason;  // RFC 5280 name, empty when not given
};

// The entry for `cert` in one of `crls`, if it is revoked there.
std::optional<RevocationEntry> FindRevocation(const std::vector<Crl>& crls, X509* cert) {
  for (const Crl& crl : crls) {
    X509_REVOKED* entry = nullptr;
    if (X509_CRL_get0_by_cert(NativeCrl(crl.native()), &entry, cert) != 1 || entry == nullptr) continue;
    RevocationEntry result{internal::FromAsn1Time(X509_REVOKED_get0_revocationDate(entry)), ""};
    auto* reason = static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr));
    if (reason != nullptr) {
      static constexpr const char* kReasons[] = {
          "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
          "superseded",    "cessationOfOperation", "certificateHold", "",
          "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};
      long code = ASN1_ENUMERATED_get(reason);
      ASN1_ENUMERATED_free(reason);
      if (code >= 0 && code <= 10) result.reason = kReasons[code];
    }
    return result;
  }
  return std::nullopt;
}

// Lets two findings pass that OpenSSL treats as failures but that do not
// make a certificate invalid at the validation time: a revocation that
// happened after it, and a CRL issued after it.
int VerifyCallback(int ok, X509_STORE_CTX* ctx) {
  if (ok) return 1;
  int err = X509_STORE_CTX_get_error(ctx);
  if (err == X509_V_ERR_CRL_NOT_YET_VALID) return 1;
  if (err == X509_V_ERR_CERT_REVOKED) {
    auto* context = static_cast<CallbackContext*>(X509_STORE_CTX_get_ex_data(ctx, ContextIndex()));
    auto entry = context == nullptr ? std::nullopt
                                    : FindRevocation(*context->crls, X509_STORE_CTX_get_current_cert(ctx));
    if (entry.has_value() && entry->when > context->at) return 1;
  }
  return 0;
}

absl::Status ChainError(X509_STORE_CTX* ctx, absl::Time at, const std::vector<Crl>& crls) {
  const int err = X509_STORE_CTX_get_error(ctx);
  X509* cert = X509_STORE_CTX_get_current_cert(ctx);
  const std::string who = "certificate " + NameOf(cert);
  const auto unauthenticated = absl::StatusCode::kUnauthenticated;
  internal::ClearOpenSslErrors();
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return VerifyError(unauthenticated, VerifyFailure::kExpired,
                         who + " expired on " + UtcString(internal::FromAsn1Time(X509_get0_notAfter(cert))) +
                             " (checked at " + UtcString(at) + ")");
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return VerifyError(unauthenticated, VerifyFailure::kNotYetValid,
                         who + " is not valid before " +
                             UtcString(internal::FromAsn1Time(X509_get0_notBefore(cert))) + " (checked at " +
                             UtcString(at) + ")");
    case X509_V_ERR_CERT_REVOKED:
    {
      std::string detail;
      if (auto entry = FindRevocation(crls, cert)) {
        detail = " on " + UtcString(entry->when);
        if (!entry->reason.empty()) detail += " (" + entry->reason + ")";
      }
      return VerifyError(unauthenticated, VerifyFailure::kRevoked, who + " was revoked" + detail);
    }
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return VerifyError(unauthenticated, VerifyFailure::kUntrusted,
                         who + " is not issued by a trusted certification authority");
    case X509_V_ERR_UNABLE_TO_GET_CRL:
      return VerifyError(unauthenticated, VerifyFailure::kNoRevocationInfo,
                         "no CRL from the issuer of " + who + ": revocation cannot be checked");
    case X509_V_ERR_CRL_HAS_EXPIRED:
      return VerifyError(unauthenticated, VerifyFailure::kNoRevocationInfo,
                         "the CRL for " + who + " was out of date at " + UtcString(at) + ": fetch a current CRL");
    case X509_V_ERR_INVALID_PURPOSE:
      return VerifyError(absl::StatusCode::kPermissionDenied, VerifyFailure::kWrongKeyUsage,
                         who + " may not be used for this purpose (key usage)");
    default:
      return VerifyError(unauthenticated, VerifyFailure::kInvalidChain,
                         who + " failed validation: " + X509_verify_cert_error_string(err));
  }
}

// The profile checks of a document-signing certificate, which OpenSSL has
// no purpose for.
absl::Status CheckDocumentSigning(const Certificate& leaf) {
  X509* x509 = leaf.native();
  if (leaf.IsCa()) {
    return VerifyError(absl::StatusCode::kPermissionDenied, VerifyFailure::kSignerIsCa,
                       "certificate '" + leaf.Subject() +
                           "' is a CA certificate: a CA may only sign certificates and CRLs, not documents");
  }
  const uint32_t usage = X509_get_key_usage(x509);  // UINT32_MAX: no keyUsage extension
  if ((usage & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0) {
    return VerifyError(absl::StatusCode::kPermissionDenied, VerifyFailure::kWrongKeyUsage,
                       "certificate '" + leaf.Subject() +
                           "' may not sign documents: its key usage has neither digitalSignature nor nonRepudiation");
  }
  // Signing keys and TLS keys are separate keys: a certificate restricted
  // to other uses (TLS, timestamping) does not sign documents. An extended
  // key usage, when present, must allow emailProtection (what `openssl cms
  // -verify` requires too) or any use.
  if ((X509_get_extension_flags(x509) & EXFLAG_XKUSAGE) != 0 &&
      (X509_get_extended_key_usage(x509) & (XKU_SMIME | XKU_ANYEKU)) == 0) {
    return VerifyError(absl::StatusCode::kPermissionDenied, VerifyFailure::kWrongKeyUsage,
                       "certificate '" + leaf.Subject() +
                           "' may not sign documents: its extended key usage restricts it to other uses (e.g. TLS)");
  }
  return absl::OkStatus();
}

// TLS and timestamping certificates must name their use in an extended key
// usage: OpenSSL's purposes accept a certificate without one, which would
// let a document-signing key serve for TLS.
absl::Status CheckExtendedKeyUsage(const Certificate& leaf, KeyPurpose purpose) {
  uint32_t needed = 0;
  const char* name = "";
  switch (purpose) {
    case KeyPurpose::kTlsServer: needed = XKU_SSL_SERVER; name = "serverAuth"; break;
    case KeyPurpose::kTlsClient: needed = XKU_SSL_CLIENT; name = "clientAuth"; break;
    case KeyPurpose::kTimestamping: needed = XKU_TIMESTAMP; name = "timeStamping"; break;
    case KeyPurpose::kAny:
    case KeyPurpose::kDocumentSigning: return absl::OkStatus();
  }
  X509* x509 = leaf.native();
  if ((X509_get_extension_flags(x509) & EXFLAG_XKUSAGE) == 0 || (X509_get_extended_key_usage(x509) & needed) == 0) {
    return VerifyError(absl::StatusCode::kPermissionDenied, VerifyFailure::kWrongKeyUsage,
                       "certificate '" + leaf.Subject() + "' may not be used for this purpose: its extended key usage lacks " +
                           name);
  }
  return absl::OkStatus();
}

int OpenSslPurpose(KeyPurpose purpose) {
  switch (purpose) {
    case KeyPurpose::kTlsServer: return X509_PURPOSE_SSL_SERVER;
    case KeyPurpose::kTlsClient: return X509_PURPOSE_SSL_CLIENT;
    case KeyPurpose::kTimestamping: return X509_PURPOSE_TIMESTAMP_SIGN;
    case KeyPurpose::kAny:
    case KeyPurpose::kDocumentSigning: return 0;
  }
  return 0;
}

}  // namespace

absl::StatusOr<std::vector<Crl>> Crl::Parse(std::string_view data) {
  std::vector<Crl> crls;
  auto add = [&crls](X509_CRL* crl) {
    std::string der = internal::ToDer<X509_CRL, i2d_X509_CRL>(crl);
    crls.push_back(Crl(std::shared_ptr<void>(crl, [](void* p) { X509_CRL_free(static_cast<X509_CRL*>(p)); }),
                       std::move(der)));
  };
  if (data.find("-----BEGIN") != std::string_view::npos) {
    internal::BioPtr bio = internal::MemoryBio(data);
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) add(crl);
  } else {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
    if (X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size()))) add(crl);
  }
  internal::ClearOpenSslErrors();
  if (crls.empty()) return absl::InvalidArgumentError("no CRL found (expected PEM or DER)");
  return crls;
}

absl::StatusOr<std::vector<Crl>> Crl::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  auto crls = Parse(data);
  if (!crls.ok()) return absl::InvalidArgumentError(path + ": " + std::string(crls.status().message()));
  return crls;
}

std::string Crl::Pem() const {
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_CRL(bio.get(), NativeCrl(crl_.get()));
  return internal::BioContents(bio.get());
}

std::string Crl::Issuer() const {
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), X509_CRL_get_issuer(NativeCrl(crl_.get())), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return internal::BioContents(bio.get());
}
absl::Time Crl::ThisUpdate() const { return internal::FromAsn1Time(X509_CRL_get0_lastUpdate(NativeCrl(crl_.get()))); }
absl::Time Crl::NextUpdate() const {
  const ASN1_TIME* next = X509_CRL_get0_nextUpdate(NativeCrl(crl_.get()));
  return next == nullptr ? absl::InfiniteFuture() : internal::FromAsn1Time(next);
}

absl::StatusOr<TrustStore> TrustStore::Create(std::vector<Certificate> anchors, std::vector<Crl> crls) {
  if (anchors.empty()) return absl::InvalidArgumentError("no trust anchor given");
  std::shared_ptr<x509_store_st> store(X509_STORE_new(), X509_STORE_free);
  for (const Certificate& anchor : anchors) {
    if (!anchor.IsCa()) {
      return absl::InvalidArgumentError("trust anchor '" + anchor.Subject() + "' is not a CA certificate");
    }
    if (X509_STORE_add_cert(store.get(), anchor.native()) != 1) {
      return internal::OpenSslError(absl::StatusCode::kInvalidArgument, "cannot add trust anchor");
    }
  }
  for (const Crl& crl : crls) {
    if (X509_STORE_add_crl(store.get(), NativeCrl(crl.native())) != 1) {
      return internal::OpenSslError(absl::StatusCode::kInvalidArgument, "cannot add CRL of " + crl.Issuer());
    }
  }
  unsigned long flags = X509_V_FLAG_X509_STRICT;
  if (!crls.empty()) flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
  X509_STORE_set_flags(store.get(), flags);
  X509_STORE_set_verify_cb(store.get(), VerifyCallback);
  return TrustStore(std::move(anchors), std::move(crls), std::move(store));
}

absl::StatusOr<TrustStore> TrustStore::Load(const std::vector<std::string>& anchor_files,
                                            const std::vector<std::string>& crl_files) {
  std::vector<Certificate> anchors;
  for (const std::string& file : anchor_files) {
    ASSIGN_OR_RETURN(std::vector<Certificate> certs, LoadCertificates(file));
    anchors.insert(anchors.end(), certs.begin(), certs.end());
  }
  std::vector<Crl> crls;
  for (const std::string& file : crl_files) {
    ASSIGN_OR_RETURN(std::vector<Crl> loaded, Crl::Load(file));
    crls.insert(crls.end(), loaded.begin(), loaded.end());
  }
  return Create(std::move(anchors), std::move(crls));
}

class TrustStore::ValidationCache {
 public:
  // Beyond this many paths the cache starts again: a node sees a few
  // hundred signers, and a flood of new ones must not grow memory.
  static constexpr size_t kCapacity = 4096;

  static std::string Key(const Certificate& leaf, const std::vector<Certificate>& untrusted, KeyPurpose purpose) {
    std::string key(1, static_cast<char>(purpose));
    key += Sha256(leaf.der());
    for (const Certificate& cert : untrusted) key += Sha256(cert.der());
    return key;
  }

  std::optional<ValidatedChain> Find(const std::string& key, absl::Time at) {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || at < it->second.from || at >= it->second.until) return std::nullopt;
    ++hits_;
    return it->second.chain;
  }

  void Add(const std::string& key, ValidatedChain chain, absl::Time from, absl::Time until) {
    absl::MutexLock lock(&mu_);
    if (entries_.size() >= kCapacity) entries_.clear();
    entries_[key] = Entry{std::move(chain), from, until};
  }

  uint64_t hits() const {
    absl::MutexLock lock(&mu_);
    return hits_;
  }

 private:
  struct Entry {
    ValidatedChain chain;
    absl::Time from;
    absl::Time until;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
};

TrustStore::TrustStore(std::vector<Certificate> anchors, std::vector<Crl> crls, std::shared_ptr<x509_store_st> store)
    : anchors_(std::move(anchors)),
      crls_(std::move(crls)),
      store_(std::move(store)),
      cache_(std::make_shared<ValidationCache>()) {}

uint64_t TrustStore::cache_hits() const { return cache_->hits(); }

absl::StatusOr<ValidatedChain> TrustStore::Validate(const Certificate& leaf, const std::vector<Certificate>& untrusted,
                                                    KeyPurpose purpose, absl::Time at) const {
  const std::string key = ValidationCache::Key(leaf, untrusted, purpose);
  if (std::optional<ValidatedChain> cached = cache_->Find(key, at)) return *std::move(cached);
  ASSIGN_OR_RETURN(ValidatedChain chain, ValidateUncached(leaf, untrusted, purpose, at));
  // The times at which the same validation answers the same: every
  // certificate of the path valid, no CRL past its next update, and no
  // revocation (one after `at` passed) yet in force. The CRLs cannot
  // change: a reload makes a new TrustStore. Failures are never cached.
  absl::Time from = absl::InfinitePast(), until = absl::InfiniteFuture();
  for (const Certificate& cert : chain.chain) {
    from = std::max(from, cert.NotBefore());
    until = std::min(until, cert.NotAfter());
    if (auto entry = FindRevocation(crls_, cert.native())) until = std::min(until, entry->when);
  }
  for (const Crl& crl : crls_) until = std::min(until, crl.NextUpdate());
  if (from <= at && at < until) cache_->Add(key, chain, from, until);
  return chain;
}

absl::StatusOr<ValidatedChain> TrustStore::ValidateUncached(const Certificate& leaf,
                                                            const std::vector<Certificate>& untrusted,
                                                            KeyPurpose purpose, absl::Time at) const {
  internal::X509StackPtr chain_in(sk_X509_new_null());
  for (const Certificate& cert : untrusted) {
    X509_up_ref(cert.native());
    sk_X509_push(chain_in.get(), cert.native());
  }
  internal::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (X509_STORE_CTX_init(ctx.get(), store_.get(), leaf.native(), chain_in.get()) != 1) {
    return internal::OpenSslError(absl::StatusCode::kInternal, "cannot start certificate validation");
  }
  CallbackContext context{at, &crls_};
  X509_STORE_CTX_set_ex_data(ctx.get(), ContextIndex(), &context);
  X509_STORE_CTX_set_time(ctx.get(), 0, absl::ToTimeT(at));
  if (int openssl_purpose = OpenSslPurpose(purpose); openssl_purpose != 0) {
    X509_STORE_CTX_set_purpose(ctx.get(), openssl_purpose);
  }
  if (X509_verify_cert(ctx.get()) != 1) return ChainError(ctx.get(), at, crls_);
  if (purpose == KeyPurpose::kDocumentSigning) RETURN_IF_ERROR(CheckDocumentSigning(leaf));
  RETURN_IF_ERROR(CheckExtendedKeyUsage(leaf, purpose));

  ValidatedChain result;
  result.revocation_checked = !crls_.empty();
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(ctx.get());
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    result.chain.push_back(Certificate::FromNative(sk_X509_value(chain, i)));
  }
  return result;
}

}  // namespace congvan::signer
