// Fuzzes sealed tree heads and the Merkle proofs against them
// (congvan/audit/tree_head.h, merkle.h): what `congvan audit` checks of its
// node's answers and what a parent checks when its child asks it to witness
// a new head.
//
// Input: a 2-byte little-endian length n, then n bytes of a
// MessageEventsResponse (a head, its timestamp token, and events each with
// its inclusion proof), then a WitnessRequest (a newer head and the
// consistency proof to it from the first). An input shorter than its n is
// all MessageEventsResponse.
//   - The first head's seal (VerifyTreeHead), as it is and sealed anew by the
//     in-memory seal of the agency it names (so that mutated bodies get past
//     the seal), and its token (VerifyTimestampToken over its body's SHA-256).
//   - Every event's inclusion under the first head (VerifyEventInclusion).
//   - The newer head's seal, and its consistency with the first as the parent
//     holds it (VerifyHeadConsistency), both with the sizes the proof must
//     have and with the sizes the request claims.
#include <algorithm>
#include <cstdint>
#include <string_view>

#include "congvan/audit/merkle.h"
#include "congvan/audit/tree_head.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/timestamp.h"
#include "congvan/v1/audit.pb.h"
#include "fuzz/fuzz_support.h"

namespace congvan::fuzz {
namespace {

// VerifyTreeHead as it is and re-sealed; what it promises of a head it accepts.
void VerifyHead(const v1::SignedMessage& head) {
  for (bool reseal : {false, true}) {
    v1::SignedMessage candidate = head;
    if (reseal) {
      absl::StatusOr<v1::TreeHead> body = audit::ParseTreeHead(head);
      if (!body.ok()) return;
      candidate.set_seal_signature(Reseal(body->agency(), head.body()));
    }
    absl::StatusOr<audit::VerifiedTreeHead> verified = audit::VerifyTreeHead(candidate, Trust(), VerifyAt());
    Trace(reseal ? "head re-sealed" : "head", verified.status());
    if (verified.ok()) {
      FUZZ_CHECK(verified->body.root_hash().size() == audit::kHashSize);
      FUZZ_CHECK(verified->seal.signer.AgencyId() == verified->body.agency());
    }
  }
}

void CheckEvents(const v1::MessageEventsResponse& events) {
  const v1::SignedMessage& head = events.head().head();
  VerifyHead(head);
  if (!events.head().timestamp_token().empty()) {
    Trace("token",
          signer::VerifyTimestampToken(events.head().timestamp_token(), signer::Sha256(head.body()), Trust()).status());
  }
  absl::StatusOr<v1::TreeHead> body = audit::ParseTreeHead(head);
  if (!body.ok()) return;
  for (const v1::InclusionProof& proof : events.events()) {
    absl::Status included = audit::VerifyEventInclusion(proof, *body);
    Trace("inclusion", included);
    if (included.ok()) FUZZ_CHECK(proof.index() < body->tree_size());
  }
}

void CheckWitness(const v1::SignedMessage& held, const v1::WitnessRequest& request) {
  VerifyHead(request.head());
  absl::StatusOr<v1::TreeHead> older = audit::ParseTreeHead(held);
  absl::StatusOr<v1::TreeHead> newer = audit::ParseTreeHead(request.head());
  if (!older.ok() || !newer.ok()) return;
  v1::ConsistencyProof proof;
  proof.set_old_size(older->tree_size());
  proof.set_new_size(newer->tree_size());
  *proof.mutable_hashes() = request.consistency();
  absl::Status consistent = audit::VerifyHeadConsistency(*older, *newer, proof);
  Trace("consistency", consistent);
  if (consistent.ok()) {
    FUZZ_CHECK(older->tree_size() <= newer->tree_size());
    if (older->tree_size() == newer->tree_size()) FUZZ_CHECK(older->root_hash() == newer->root_hash());
  }
  // A proof whose sizes are not the heads' is refused, whatever its hashes.
  proof.set_old_size(request.from_size());
  if (request.from_size() != older->tree_size()) FUZZ_CHECK(!audit::VerifyHeadConsistency(*older, *newer, proof).ok());
}

}  // namespace
}  // namespace congvan::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace congvan;
  if (size < 2) return 0;
  const size_t n = static_cast<size_t>(data[0]) | (static_cast<size_t>(data[1]) << 8);
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view events_bytes = input.substr(2, n);
  const std::string_view witness_bytes = input.substr(std::min(size, 2 + n));

  v1::MessageEventsResponse events;
  if (!events.ParseFromArray(events_bytes.data(), static_cast<int>(events_bytes.size()))) return 0;
  fuzz::CheckEvents(events);
  v1::WitnessRequest request;
  if (witness_bytes.empty() || !request.ParseFromArray(witness_bytes.data(), static_cast<int>(witness_bytes.size()))) {
    return 0;
  }
  fuzz::CheckWitness(events.head().head(), request);
  return 0;
}
