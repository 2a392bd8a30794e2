#include "congvan/node/trace.h"

#include "congvan/signer/cms.h"
#include "congvan/signer/status_macros.h"
#include "congvan/signer/verify_error.h"

namespace congvan::node {
namespace {

absl::Status Broken(int index, const std::string& why) {
  return absl::InvalidArgumentError("trace entry " + std::to_string(index + 1) + " " + why);
}

}  // namespace

v1::TraceEntry SenderTraceEntry(const v1::DocumentHeader& header) {
  v1::TraceEntry entry;
  entry.set_agency(header.from_agency());
  entry.set_time(header.registration().issued_at());
  return entry;
}

absl::Status VerifyTrace(const Trace& trace, const v1::DocumentHeader& header, std::string_view header_bytes,
                         std::string_view delivered_by, std::string_view own_agency, const signer::TrustStore& trust,
                         absl::Time at, SignatureCounter* counter) {
  if (trace.empty()) return absl::InvalidArgumentError("the envelope carries no trace");
  if (trace.size() >= kMaxTraceEntries) {
    return absl::InvalidArgumentError("the trace has " + std::to_string(trace.size()) + " hops: a routing loop");
  }
  const v1::TraceEntry& first = trace[0];
  if (first.agency() != header.from_agency() || first.time() != header.registration().issued_at() ||
      first.has_signed_()) {
    return Broken(0, "is not the sender " + header.from_agency() + " at the registration time");
  }
  const std::string header_sha256 = signer::Sha256(header_bytes);
  std::string previous_sha256;
  for (int i = 0; i < trace.size(); ++i) {
    const v1::TraceEntry& entry = trace[i];
    if (entry.agency() == own_agency) return Broken(i, "is this node " + entry.agency() + ": a routing loop");
    if (i == 0) continue;
    if (!entry.has_signed_() || entry.signed_().kind() != v1::MESSAGE_KIND_TRACE) {
      return Broken(i, "(" + entry.agency() + ") carries no signed relay statement");
    }
    auto seal = VerifySeal(entry.signed_(), trust, at, counter);
    if (!seal.ok()) return signer::WithContext(seal.status(), "trace entry " + std::to_string(i + 1));
    if (seal->agency != entry.agency()) {
      return absl::PermissionDeniedError("trace entry " + std::to_string(i + 1) + " names " + entry.agency() +
                                         " but is sealed by " + seal->agency);
    }
    v1::TraceHop hop;
    if (!hop.ParseFromString(entry.signed_().body())) return Broken(i, "cannot be parsed");
    if (hop.agency() != entry.agency() || hop.time() != entry.time()) {
      return Broken(i, "says something else than its signed statement");
    }
    if (hop.message_id() != header.message_id() || hop.header_sha256() != header_sha256) {
      return Broken(i, "(" + entry.agency() + ") is about another document");
    }
    if (hop.from_agency() != trace[i - 1].agency() || hop.previous_sha256() != previous_sha256) {
      return Broken(i, "(" + entry.agency() + ") does not follow the entry before it");
    }
    previous_sha256 = signer::Sha256(entry.signed_().body());
  }
  if (trace[trace.size() - 1].agency() != delivered_by) {
    return absl::InvalidArgumentError("the trace ends at " + trace[trace.size() - 1].agency() +
                                      ", but the document was delivered by " + std::string(delivered_by));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::TraceEntry> MakeTraceEntry(const Trace& trace, const v1::DocumentHeader& header,
                                              std::string_view header_bytes, std::string_view own_agency,
                                              std::string_view delivered_by, bool relays,
                                              const SealCredentials& seal, absl::Time now) {
  v1::TraceEntry entry;
  entry.set_agency(std::string(own_agency));
  entry.set_time(FormatRfc3339(now));
  if (!relays) return entry;
  v1::TraceHop hop;
  hop.set_message_id(header.message_id());
  hop.set_header_sha256(signer::Sha256(header_bytes));
  hop.set_agency(entry.agency());
  hop.set_from_agency(std::string(delivered_by));
  hop.set_time(entry.time());
  // The previous relay's statement: the last signed entry, if any.
  for (int i = trace.size() - 1; i > 0; --i) {
    if (trace[i].has_signed_()) {
      hop.set_previous_sha256(signer::Sha256(trace[i].signed_().body()));
      break;
    }
  }
  ASSIGN_OR_RETURN(*entry.mutable_signed_(), Seal(v1::MESSAGE_KIND_TRACE, hop.SerializeAsString(), seal, now));
  return entry;
}

}  // namespace congvan::node
