// Certificate path validation against configured trust anchors and CRLs, at
// a given time: strict X.509 (basic constraints, path length, key usage,
// validity, revocation) with a clear reason on failure.
#ifndef CONGVAN_SIGNER_TRUST_H_
#define CONGVAN_SIGNER_TRUST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/signer/certificate.h"

struct x509_store_st;

namespace congvan::signer {

// What the end-entity certificate is about to be used for.
enum class KeyPurpose {
  kAny,              // only the path is checked
  kDocumentSigning,  // digitalSignature or nonRepudiation, not a CA
  kTlsServer,        // digitalSignature, extendedKeyUsage serverAuth
  kTlsClient,        // digitalSignature, extendedKeyUsage clientAuth
  kTimestamping,     // extendedKeyUsage timeStamping
};

// A parsed CRL.
class Crl {
 public:
  // Every CRL in `data` (DER, or PEM "X509 CRL" blocks).
  [[nodiscard]] static absl::StatusOr<std::vector<Crl>> Parse(std::string_view data);
  [[nodiscard]] static absl::StatusOr<std::vector<Crl>> Load(const std::string& path);
  const std::string& der() const { return der_; }
  std::string Pem() const;
  std::string Issuer() const;
  absl::Time ThisUpdate() const;
  absl::Time NextUpdate() const;  // InfiniteFuture() when absent
  // The underlying OpenSSL X509_CRL, owned by this Crl.
  void* native() const { return crl_.get(); }

 private:
  Crl(std::shared_ptr<void> crl, std::string der) : crl_(std::move(crl)), der_(std::move(der)) {}
  friend class TrustStore;
  std::shared_ptr<void> crl_;  // X509_CRL
  std::string der_;
};

// The result of a successful validation.
struct ValidatedChain {
  std::vector<Certificate> chain;  // leaf first, trust anchor last
  bool revocation_checked = false; // CRLs were configured and consulted
};

// Trust anchors plus CRLs. Immutable after construction; thread-safe.
class TrustStore {
 public:
  // When `crls` is non-empty, revocation is checked for every certificate
  // of every path, and a path whose issuer has no CRL is rejected
  // (kNoRevocationInfo). With no CRLs, revocation is not checked and
  // ValidatedChain::revocation_checked says so.
  [[nodiscard]] static absl::StatusOr<TrustStore> Create(std::vector<Certificate> anchors,
                                                         std::vector<Crl> crls = {});
  // Loads anchors and CRLs from files.
  [[nodiscard]] static absl::StatusOr<TrustStore> Load(const std::vector<std::string>& anchor_files,
                                                       const std::vector<std::string>& crl_files = {});

  // Validates `leaf` for `purpose` at time `at`, building the path through
  // `untrusted` intermediates. A certificate revoked after `at` counts as
  // unrevoked at `at` (evidence signed before a revocation stays valid), and
  // a CRL issued after `at` is used as it is. Errors carry a VerifyFailure (verify_error.h):
  // UNAUTHENTICATED for untrusted, expired, not yet valid, revoked, no
  // revocation information or other chain failures; PERMISSION_DENIED for a
  // wrong key usage or a CA certificate as signer.
  [[nodiscard]] absl::StatusOr<ValidatedChain> Validate(const Certificate& leaf,
                                                        const std::vector<Certificate>& untrusted,
                                                        KeyPurpose purpose, absl::Time at) const;

  const std::vector<Certificate>& anchors() const { return anchors_; }
  const std::vector<Crl>& crls() const { return crls_; }

  // Validations answered from the cache (below), for tests and metrics.
  uint64_t cache_hits() const;

 private:
  // Successful validations, by leaf, intermediates and purpose, each with
  // the span of validation times over which its answer cannot change: the
  // overlap of every certificate's validity, the CRLs' next updates, and
  // a revocation after the time validated. The same few seals and leaders
  // sign most documents, and a path costs OpenSSL more than the signature.
  class ValidationCache;

  TrustStore(std::vector<Certificate> anchors, std::vector<Crl> crls, std::shared_ptr<x509_store_st> store);
  absl::StatusOr<ValidatedChain> ValidateUncached(const Certificate& leaf, const std::vector<Certificate>& untrusted,
                                                  KeyPurpose purpose, absl::Time at) const;
  std::vector<Certificate> anchors_;
  std::vector<Crl> crls_;
  std::shared_ptr<x509_store_st> store_;  // anchors and CRLs; shared by concurrent validations
  std::shared_ptr<ValidationCache> cache_;  // shared by copies: they hold the same anchors and CRLs
};

}  // namespace congvan::signer

#endif  // CONGVAN_SIGNER_TRUST_H_
