#include "congvan/audit/tree_head.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "congvan/audit/merkle.h"
#include "congvan/signer/status_macros.h"

namespace congvan::audit {

absl::StatusOr<v1::TreeHead> ParseTreeHead(const v1::SignedMessage& head) {
  v1::TreeHead body;
  if (head.kind() != v1::MESSAGE_KIND_TREE_HEAD) return absl::InvalidArgumentError("not a sealed tree head");
  if (!body.ParseFromString(head.body())) return absl::InvalidArgumentError("the tree head's body does not parse");
  if (body.agency().empty()) return absl::InvalidArgumentError("the tree head names no agency");
  if (body.root_hash().size() != kHashSize) {
    return absl::InvalidArgumentError(absl::StrCat("the tree head's root is ", body.root_hash().size(),
                                                   " bytes, not ", kHashSize));
  }
  return body;
}

absl::StatusOr<VerifiedTreeHead> VerifyTreeHead(const v1::SignedMessage& head, const signer::TrustStore& trust,
                                                absl::Time at) {
  ASSIGN_OR_RETURN(v1::TreeHead body, ParseTreeHead(head));
  ASSIGN_OR_RETURN(signer::VerifiedSignature seal, signer::VerifyDetached(head.body(), head.seal_signature(), trust, at));
  if (seal.signer.AgencyId() != body.agency() || seal.signer.PersonLogin().has_value()) {
    return absl::PermissionDeniedError("the tree head of " + body.agency() + " is not sealed by that agency's seal");
  }
  return VerifiedTreeHead{std::move(body), std::move(seal)};
}

absl::Status VerifyEventInclusion(const v1::InclusionProof& proof, const v1::TreeHead& head) {
  if (proof.tree_size() != head.tree_size()) {
    return absl::InvalidArgumentError(absl::StrCat("the proof of event ", proof.index(), " is for a tree of ",
                                                   proof.tree_size(), " events, not ", head.tree_size()));
  }
  return VerifyInclusion(proof.index(), proof.tree_size(), LeafHash(proof.event()),
                         {proof.hashes().begin(), proof.hashes().end()}, head.root_hash());
}

absl::Status VerifyHeadConsistency(const v1::TreeHead& older, const v1::TreeHead& newer,
                                   const v1::ConsistencyProof& proof) {
  if (proof.old_size() != older.tree_size() || proof.new_size() != newer.tree_size()) {
    return absl::InvalidArgumentError(absl::StrCat("the consistency proof is from ", proof.old_size(), " to ",
                                                   proof.new_size(), " events, not from ", older.tree_size(), " to ",
                                                   newer.tree_size()));
  }
  absl::Status s = VerifyConsistency(older.tree_size(), newer.tree_size(), older.root_hash(), newer.root_hash(),
                                     {proof.hashes().begin(), proof.hashes().end()});
  if (s.code() == absl::StatusCode::kUnauthenticated) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the log of ", newer.agency(), " at ", newer.tree_size(), " events is not consistent with its tree head at ",
        older.tree_size(), " events (", older.time(), "): its history was rewritten (", s.message(), ")"));
  }
  return s;
}

}  // namespace congvan::audit
