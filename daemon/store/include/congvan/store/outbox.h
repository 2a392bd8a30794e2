// The durable outbox (shared/DESIGN.md "Routing"): one entry per next hop of
// a document, or per answer (receipt / status) to carry towards its node.
// Entries survive restarts; retries back off exponentially with jitter; an
// entry whose deadline passes becomes a visible failure, never a silent loss.
//
// The store keeps the entries and their state; the caller's delivery loop
// decides when to try, and reports the outcome (Store::MarkDelivered,
// MarkRetry, MarkFailed, Rearm). Times are always passed in: the store reads
// no clock.
#ifndef CONGVAN_STORE_OUTBOX_H_
#define CONGVAN_STORE_OUTBOX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "congvan/v1/node.pb.h"

namespace congvan::store {

// An entry to queue, inside the write of the state change that causes it.
struct NewOutboxEntry {
  std::string peer;        // agency ID of the next-hop node
  std::string message_id;  // the document concerned
  // A document delivery: the final recipients this hop is asked to serve
  // (Envelope.serve). Leave empty for an answer.
  std::vector<std::string> recipients;
  // An answer (receipt or status) to carry towards answer->to_agency. When
  // set, `recipients` must be empty.
  std::optional<congvan::v1::AnswerRequest> answer;
  absl::Time next_attempt = absl::InfinitePast();  // first try; default: due at once
  absl::Time deadline = absl::InfiniteFuture();    // after this, the caller marks it failed
};

enum class OutboxState {
  kPending,  // waiting for next_attempt; listed by Store::ListDue
  kFailed,   // given up (deadline passed); Store::Rearm queues it again
};

struct OutboxEntry {
  // Stable id: <message_id> NUL <peer> NUL <kind tag>. Opaque to callers;
  // pass it back to MarkDelivered / MarkRetry / MarkFailed / Rearm.
  std::string id;
  std::string peer;
  std::string message_id;
  std::vector<std::string> recipients;              // document delivery
  std::optional<congvan::v1::AnswerRequest> answer;  // answer forward
  absl::Time next_attempt;
  absl::Time deadline;
  uint32_t attempts = 0;   // failed attempts so far
  std::string last_error;  // of the latest failed attempt
  OutboxState state = OutboxState::kPending;
  std::string failure;     // why, when kFailed
};

// Delay before retry number `attempts` (1 = the first retry): base *
// 2^(attempts-1), capped at `max`, then "equal jitter": scaled into
// [50%, 100%] by `random` in [0, 1) (out-of-range values are clamped). Pure:
// the caller brings the randomness, so tests and the retry loop control it.
absl::Duration BackoffDelay(uint32_t attempts, absl::Duration base, absl::Duration max, double random);

}  // namespace congvan::store

#endif  // CONGVAN_STORE_OUTBOX_H_
