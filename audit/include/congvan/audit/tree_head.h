// Reading and checking a log's sealed tree heads and the proofs against
// them (audit.proto): what a parent witnessing its child, `congvan audit`
// and `congvan verify` all do the same way.
#ifndef CONGVAN_AUDIT_TREE_HEAD_H_
#define CONGVAN_AUDIT_TREE_HEAD_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/trust.h"
#include "congvan/v1/audit.pb.h"

namespace congvan::audit {

// The TreeHead of a sealed head: kind TREE_HEAD, a body that parses, an
// agency, a 32-byte root. INVALID_ARGUMENT saying what is wrong. The seal is
// not checked.
[[nodiscard]] absl::StatusOr<v1::TreeHead> ParseTreeHead(const v1::SignedMessage& head);

struct VerifiedTreeHead {
  v1::TreeHead body;
  signer::VerifiedSignature seal;
};

// ParseTreeHead, then the seal over the body at `at`: a document-signing
// certificate of the head's own agency. UNAUTHENTICATED / PERMISSION_DENIED
// as signer::VerifyDetached, PERMISSION_DENIED when another agency sealed it.
[[nodiscard]] absl::StatusOr<VerifiedTreeHead> VerifyTreeHead(const v1::SignedMessage& head,
                                                              const signer::TrustStore& trust, absl::Time at);

// That `proof.event` is leaf `proof.index` of the tree `head` states.
// INVALID_ARGUMENT when the proof is for another tree size.
[[nodiscard]] absl::Status VerifyEventInclusion(const v1::InclusionProof& proof, const v1::TreeHead& head);

// That `newer` extends `older` (RFC 9162 consistency). UNAUTHENTICATED,
// naming both sizes, when it does not: the log was rewritten.
[[nodiscard]] absl::Status VerifyHeadConsistency(const v1::TreeHead& older, const v1::TreeHead& newer,
                                                 const v1::ConsistencyProof& proof);

}  // namespace congvan::audit

#endif  // CONGVAN_AUDIT_TREE_HEAD_H_
