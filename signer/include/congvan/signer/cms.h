// CMS detached SignedData (RFC 5652), DER, with the CAdES-BES signed
// attributes contentType, signingTime, messageDigest and ESS
// signingCertificateV2, SHA-256, and the signer's chain in `certificates`.
// Every signature made here verifies with `openssl cms -verify`.
#ifndef CONGVAN_SIGNER_CMS_H_
#define CONGVAN_SIGNER_CMS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/key_backend.h"
#include "congvan/signer/trust.h"

namespace congvan::signer {

// SHA-256 of `data` (32 raw bytes).
std::string Sha256(std::string_view data);
// SHA-256 of a file's contents, read in blocks (memory does not grow with
// the file). NOT_FOUND if the file cannot be read.
[[nodiscard]] absl::StatusOr<std::string> Sha256File(const std::string& path);
std::string HexEncode(std::string_view bytes);

// SHA-256 over data that arrives in pieces (a streamed part), in bounded
// memory. Not thread-safe.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void Update(std::string_view data);
  // The digest (32 raw bytes) of everything since construction or the last
  // Finish; the stream then starts over.
  std::string Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

struct SignRequest {
  KeyBackend* key = nullptr;           // the signing key (not owned)
  Certificate certificate;             // its certificate
  std::vector<Certificate> chain;      // intermediates to include (not the root)
  absl::Time signing_time;             // the signingTime attribute
};

// Signs content whose SHA-256 is `content_sha256` (32 bytes). Returns the
// DER SignedData. FAILED_PRECONDITION if the key does not match the
// certificate; the key's own errors otherwise.
[[nodiscard]] absl::StatusOr<std::string> SignDigest(std::string_view content_sha256,
                                                     const SignRequest& request);
[[nodiscard]] absl::StatusOr<std::string> SignDetached(std::string_view content,
                                                       const SignRequest& request);

struct VerifiedSignature {
  Certificate signer;
  std::vector<Certificate> chain;  // leaf first, anchor last
  absl::Time signing_time;         // the signed signingTime attribute
  bool revocation_checked = false;
  // The signingCertificateV2 attribute was present (and named the signer):
  // a CAdES-BES signature. congvan always makes one; plain CMS signatures
  // from other tools (`openssl cms -sign` without -cades) verify without it.
  bool cades_bes = false;
};

// Verifies a detached signature over content whose SHA-256 is
// `content_sha256`: the CMS structure, exactly one signer, the signed
// attributes (messageDigest, contentType, signingTime, and when present
// signingCertificateV2 naming the signer's certificate), the signature value, and the signer's
// certificate for document signing at time `at` against `trust`. Errors
// carry a VerifyFailure: INVALID_ARGUMENT + kMalformed for unreadable input,
// UNAUTHENTICATED + kContentMismatch / kBadSignature, and the certificate
// errors of TrustStore::Validate.
[[nodiscard]] absl::StatusOr<VerifiedSignature> VerifyDigest(std::string_view content_sha256,
                                                             std::string_view cms_der,
                                                             const TrustStore& trust, absl::Time at);
[[nodiscard]] absl::StatusOr<VerifiedSignature> VerifyDetached(std::string_view content,
                                                               std::string_view cms_der,
                                                               const TrustStore& trust, absl::Time at);

// The certificates a CMS SignedData (a signature, or an RFC 3161 token)
// carries, in their order there; nothing is verified. INVALID_ARGUMENT if
// it is not DER SignedData.
[[nodiscard]] absl::StatusOr<std::vector<Certificate>> CertificatesInCms(std::string_view cms_der);

}  // namespace congvan::signer

#endif  // CONGVAN_SIGNER_CMS_H_
