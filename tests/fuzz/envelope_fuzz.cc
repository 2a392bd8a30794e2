// Fuzzes what a peer's Deliver stream begins with: the bytes are one
// DeliverRequest, as NodeService.Deliver reads it off the wire, and its
// envelope goes through the node's own checks in the order Deliver runs
// them, before any part is accepted: VerifyEnvelope (the DocumentHeader
// parses and is well-formed, the sender's seal, every leader signature
// over the declared main part) and, for an envelope that passes, VerifyTrace
// (every relay's sealed hop).
//
// Each input runs twice: as it is (what an attacker on the wire can send)
// and with its document sealed anew by the in-memory seal of the agency its
// header names (fuzz_support.h), so that a mutated header gets past the seal
// to the leader signatures and the trace, which a fuzzer could not forge.
//
// The node receiving is the national axis, the seed documents' final
// recipient; the calling peer (its TLS identity, in Deliver) is the one the
// trace ends at, as for an honest relay.
#include <algorithm>
#include <cstdint>

#include "congvan/node/documents.h"
#include "congvan/node/trace.h"
#include "congvan/signer/cms.h"
#include "congvan/v1/node.pb.h"
#include "fuzz/fuzz_support.h"

namespace congvan::fuzz {
namespace {

constexpr char kOwnAgency[] = "000.00.00.A00";

void Deliver(const v1::Envelope& envelope, const char* how) {
  const node::DocumentLimits limits;
  absl::StatusOr<v1::DocumentHeader> header = node::VerifyEnvelope(envelope, Trust(), VerifyAt(), limits);
  Trace(std::string(how) + " envelope", header.status());
  if (!header.ok()) return;

  // What VerifyEnvelope promises of a header it returns.
  FUZZ_CHECK(header->message_id().size() == 36);
  FUZZ_CHECK(!header->recipients().empty());
  FUZZ_CHECK(header->signers_size() == envelope.leader_signatures_size() && header->signers_size() > 0);
  FUZZ_CHECK(std::count_if(header->parts().begin(), header->parts().end(),
                           [](const v1::PartInfo& p) { return p.main(); }) == 1);
  for (const std::string& served : envelope.serve()) {
    FUZZ_CHECK(std::find(header->recipients().begin(), header->recipients().end(), served) !=
               header->recipients().end());
  }

  const std::string delivered_by =
      envelope.trace().empty() ? header->from_agency() : envelope.trace(envelope.trace_size() - 1).agency();
  absl::Status trace = node::VerifyTrace(envelope.trace(), *header, envelope.document().body(), delivered_by,
                                         kOwnAgency, Trust(), VerifyAt());
  Trace(std::string(how) + " trace", trace);
  if (trace.ok()) {
    FUZZ_CHECK(envelope.trace_size() >= 1 && envelope.trace_size() < node::kMaxTraceEntries);
    FUZZ_CHECK(envelope.trace(0).agency() == header->from_agency());
  }
}

}  // namespace
}  // namespace congvan::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace congvan;
  v1::DeliverRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  // Deliver refuses a stream that does not begin with an envelope before
  // it checks anything.
  if (!request.has_envelope()) return 0;
  fuzz::Deliver(request.envelope(), "as sent:");

  v1::Envelope resealed = request.envelope();
  v1::DocumentHeader claimed;
  // An unparsable header is refused before its seal is looked at: no
  // need to re-seal it.
  if (!claimed.ParseFromString(resealed.document().body())) return 0;
  resealed.mutable_document()->set_seal_signature(fuzz::Reseal(claimed.from_agency(), resealed.document().body()));
  fuzz::Deliver(resealed, "re-sealed:");
  return 0;
}
