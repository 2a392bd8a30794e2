// The path a document took (shared/DESIGN.md "Routing"; edXML's
// TraceHeaderList): one TraceEntry per node, in order. The sender's entry is
// proven by the seal over the header (its time is the registration time);
// every relay adds an entry with a sealed TraceHop that names the node it
// received the document from and chains to the relay before it; the node
// that stores the document as a final recipient adds a plain entry (its
// signed receipt is the proof).
#ifndef CONGVAN_NODE_TRACE_H_
#define CONGVAN_NODE_TRACE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/node/documents.h"
#include "congvan/signer/trust.h"
#include "congvan/v1/message.pb.h"
#include "congvan/v1/node.pb.h"

namespace congvan::node {

using Trace = google::protobuf::RepeatedPtrField<v1::TraceEntry>;

// A path longer than this is refused: the hierarchy is a few levels deep, so
// a longer one is a routing loop or an attack.
inline constexpr int kMaxTraceEntries = 32;

// The sender's entry: its agency at the registration time.
v1::TraceEntry SenderTraceEntry(const v1::DocumentHeader& header);

// Checks the trace of a delivered envelope before anything is stored: the
// first entry is the sender's at the registration time; each later entry is
// a relay's, sealed by that relay, about this document (message id and
// header digest), received from the entry before it and chained to the
// previous relay's statement; the last entry is `delivered_by` (the calling
// node's TLS identity); `own_agency` is not on it yet (a loop). Errors:
// INVALID_ARGUMENT for a malformed, broken or looping trace,
// PERMISSION_DENIED when an entry is sealed by another agency than it names,
// a seal's own error when it does not verify. Each relay's seal that
// verifies is counted on `counter`, if any.
[[nodiscard]] absl::Status VerifyTrace(const Trace& trace, const v1::DocumentHeader& header,
                                       std::string_view header_bytes, std::string_view delivered_by,
                                       std::string_view own_agency, const signer::TrustStore& trust, absl::Time at,
                                       SignatureCounter* counter = nullptr);

// This node's entry for a document it received from `delivered_by` after
// `trace`: sealed (a TraceHop) when it relays the document further, plain
// when it only stores it for its own recipients.
[[nodiscard]] absl::StatusOr<v1::TraceEntry> MakeTraceEntry(const Trace& trace, const v1::DocumentHeader& header,
                                                            std::string_view header_bytes, std::string_view own_agency,
                                                            std::string_view delivered_by, bool relays,
                                                            const SealCredentials& seal, absl::Time now);

}  // namespace congvan::node

#endif  // CONGVAN_NODE_TRACE_H_
