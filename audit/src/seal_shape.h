// The exact shape of the exporter's seal over an evidence container's
// manifest (META-INF/signature.p7s), read from its DER without OpenSSL.
//
// Every other file of a container is bound by its digest in the manifest;
// this one is bound by nothing, and OpenSSL's CMS verification ignores some
// of its bytes: the SignedData version, its digestAlgorithms set, the
// signatureAlgorithm OID (it takes the algorithm from the key), and it even
// accepts some non-DER lengths. A byte changed there leaves a signature that
// still verifies. So the verifier also checks that the signature has exactly
// the shape congvan's signer gives it, which fixes every such byte, and
// reads the signingTime that the seal is to be verified at (the verification
// then proves that time is the signed one).
#ifndef CONGVAN_AUDIT_SRC_SEAL_SHAPE_H_
#define CONGVAN_AUDIT_SRC_SEAL_SHAPE_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace congvan::audit::internal {

// Checks that `der` is, in strict DER (definite, minimal lengths, every
// constructed value parsed to its end), a ContentInfo of SignedData
// version 1 (3 with a subjectKeyIdentifier signer) with digestAlgorithms
// exactly {SHA-256}, detached id-data content, optional certificates and
// CRLs, and one SignerInfo of the matching version, digest SHA-256, signed
// attributes with exactly one signingTime, signatureAlgorithm
// ecdsa-with-SHA256, rsaEncryption or sha256WithRSAEncryption (parameters
// absent or NULL), and no unsigned attributes. Returns the signingTime it
// claims (unverified). INVALID_ARGUMENT saying what differs.
[[nodiscard]] absl::StatusOr<absl::Time> CheckSealShape(std::string_view der);

}  // namespace congvan::audit::internal

#endif  // CONGVAN_AUDIT_SRC_SEAL_SHAPE_H_
