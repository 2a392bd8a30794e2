// Why a signature or certificate was rejected, as a machine-readable kind
// carried in the absl::Status payload beside the human message.
#ifndef CONGVAN_SIGNER_VERIFY_ERROR_H_
#define CONGVAN_SIGNER_VERIFY_ERROR_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace congvan::signer {

enum class VerifyFailure {
  kNone,             // the status is OK, or carries no verification kind
  kMalformed,        // not a CMS SignedData / certificate we can read
  kContentMismatch,  // the content is not what was signed (messageDigest)
  kBadSignature,     // the signature value does not verify
  kUntrusted,        // the chain does not end at a trust anchor
  kExpired,          // a certificate in the chain had expired at the time
  kNotYetValid,      // a certificate in the chain was not yet valid
  kRevoked,          // a certificate in the chain is revoked
  kWrongKeyUsage,    // the certificate may not be used for this purpose
  kSignerIsCa,       // a CA certificate used as an end-entity signer
  kNoRevocationInfo, // CRL checking asked for but no current CRL for an issuer
  kInvalidChain,     // any other path-validation failure
};

// "content-mismatch", "expired", ...: stable names for --json output.
std::string_view VerifyFailureName(VerifyFailure failure);

// A status with `code` and `message` that carries `failure`.
absl::Status VerifyError(absl::StatusCode code, VerifyFailure failure, const std::string& message);

// `status` with "<context>: " before its message, keeping its code and its
// payloads (the VerifyFailure among them).
absl::Status WithContext(const absl::Status& status, const std::string& context);

// The kind carried by `status`; kNone when it carries none.
VerifyFailure VerifyFailureOf(const absl::Status& status);

}  // namespace congvan::signer

#endif  // CONGVAN_SIGNER_VERIFY_ERROR_H_
