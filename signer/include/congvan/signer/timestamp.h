// RFC 3161 timestamps: the time-stamping authority (TSA) that the root node
// runs, the client side that asks for a token, and the offline verification
// of a token. Tokens are CMS SignedData over a TSTInfo (RFC 3161 §2.4.2),
// signed with SHA-256 and carrying ESS signingCertificateV2 (RFC 5816); every
// response and token made here verifies with `openssl ts -verify`.
#ifndef CONGVAN_SIGNER_TIMESTAMP_H_
#define CONGVAN_SIGNER_TIMESTAMP_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/secret.h"
#include "congvan/signer/trust.h"

namespace congvan::signer {

// The ETSI EN 319 421 best-practices policy for time-stamps.
inline constexpr char kEtsiBestPracticesTsaPolicy[] = "0.4.0.2023.1.1";

struct TimestampAuthorityOptions {
  // The TSA certificate: it must carry extendedKeyUsage timeStamping, alone
  // and critical (RFC 3161 §2.3).
  Certificate certificate;
  // Intermediates put into tokens after the TSA certificate (not the root).
  std::vector<Certificate> chain;
  // The TSA's private key file: PEM or DER, PKCS#8 (encrypted or not) or a
  // traditional PEM key.
  std::string key_file;
  // The passphrase of an encrypted key file; empty for an unencrypted one.
  SecretSource passphrase;
  // The policy OID the TSA serves and puts into every token. Default: the
  // ETSI best-practices policy.
  std::string policy = kEtsiBestPracticesTsaPolicy;
  // The clock for genTime (kept to whole seconds). Must be thread-safe.
  // Default: absl::Now.
  std::function<absl::Time()> now = absl::Now;
  // The accuracy stated in every token; zero leaves it out. Default: 1 s.
  absl::Duration accuracy = absl::Seconds(1);
};

// Answers RFC 3161 requests. Immutable after Create; Respond is thread-safe
// and concurrent calls do not wait for each other.
class TimestampAuthority {
 public:
  // Loads the key and checks the options. FAILED_PRECONDITION if the
  // certificate is not a timestamping certificate or the key does not belong
  // to it, or the key file is encrypted and no passphrase is given;
  // NOT_FOUND for a missing file; PERMISSION_DENIED for a wrong passphrase;
  // INVALID_ARGUMENT for a file that is not a key, a policy that is not an
  // OID or a negative accuracy.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TimestampAuthority>> Create(
      TimestampAuthorityOptions options);
  ~TimestampAuthority();
  TimestampAuthority(const TimestampAuthority&) = delete;
  TimestampAuthority& operator=(const TimestampAuthority&) = delete;

  // The DER TimeStampResp for a DER TimeStampReq. A request that can be
  // served gets status granted and a token: SHA-256 signature,
  // signingCertificateV2, a random positive 127-bit serial (unique in
  // practice), genTime from options.now, the accuracy, the request's nonce,
  // and the TSA certificate and chain when the request sets certReq. Other
  // requests get status rejection with the PKIFailureInfo that says why:
  // badDataFormat (not a TimeStampReq, or an imprint of the wrong length),
  // badAlg (an imprint algorithm other than SHA-256/384/512),
  // unacceptedPolicy (a reqPolicy other than options.policy),
  // unacceptedExtension (any request extension). Those are answers, not
  // errors: only a failure of the TSA itself (e.g. the key cannot sign) is an
  // error, INTERNAL.
  [[nodiscard]] absl::StatusOr<std::string> Respond(std::string_view request_der) const;

  const Certificate& certificate() const;

 private:
  struct State;
  explicit TimestampAuthority(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// A DER TimeStampReq over a SHA-256 digest (32 raw bytes), with certReq true
// and `nonce`, and no policy (the TSA picks its own). INVALID_ARGUMENT if
// `sha256` is not 32 bytes.
[[nodiscard]] absl::StatusOr<std::string> MakeTimestampRequest(std::string_view sha256, uint64_t nonce);

// The TimeStampToken (DER ContentInfo) from a DER TimeStampResp, to store
// beside what it timestamps. INVALID_ARGUMENT if the response cannot be
// read; FAILED_PRECONDITION, with the TSA's status, failure info and text, if
// the TSA did not grant the request; UNAUTHENTICATED if the token is over
// another digest than `sha256` (SHA-256) or carries another nonce than
// `nonce` (a replayed or misrouted answer). The token's signature and
// certificate are NOT checked here: VerifyTimestampToken does that.
[[nodiscard]] absl::StatusOr<std::string> TokenFromResponse(std::string_view response_der,
                                                            std::string_view sha256, uint64_t nonce);

struct VerifiedTimestamp {
  absl::Time gen_time;             // whole seconds (a fraction is dropped)
  Certificate tsa;                 // the certificate that signed the token
  std::vector<Certificate> chain;  // as validated: leaf first, anchor last
  std::string serial_hex;          // the token's serialNumber, upper-case hex
  std::string policy;              // the policy OID, dotted text
  bool revocation_checked = false; // the trust store had CRLs and consulted them
};

// Verifies a TimeStampToken over `sha256` (32 raw bytes) offline: exactly one
// signer, the CMS signature over the TSTInfo, the ESS signingCertificate(V2)
// attribute naming the signer, the imprint (SHA-256, equal to `sha256`), and
// the TSA certificate, found among the token's certificates, validated with
// trust.Validate(..., KeyPurpose::kTimestamping, genTime) with the token's
// other certificates as intermediates. Validation at the token's own genTime
// means that a TSA certificate that expired or was revoked later does not
// break an old token. Errors carry a VerifyFailure (verify_error.h):
// INVALID_ARGUMENT + kMalformed for a token that cannot be read or a digest
// that is not 32 bytes; UNAUTHENTICATED + kBadSignature (signature or ESS
// attribute), kContentMismatch (another digest) or kUntrusted (the token
// carries no certificate of its signer); the trust store's errors for the
// certificate.
[[nodiscard]] absl::StatusOr<VerifiedTimestamp> VerifyTimestampToken(std::string_view token_der,
                                                                      std::string_view sha256,
                                                                      const TrustStore& trust);

// The genTime of a token, without verifying anything (for display).
// INVALID_ARGUMENT if it cannot be read.
[[nodiscard]] absl::StatusOr<absl::Time> TimestampTokenTime(std::string_view token_der);

}  // namespace congvan::signer

#endif  // CONGVAN_SIGNER_TIMESTAMP_H_
