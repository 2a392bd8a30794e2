#include "log_reader.h"

#include "absl/time/clock.h"
#include "congvan/audit/tree_head.h"
#include "congvan/signer/status_macros.h"

namespace congvan::chaos {
namespace {

absl::Status Failed(const grpc::Status& status, const std::string& what) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), what + ": " + status.error_message());
}

}  // namespace

absl::StatusOr<v1::LoggedTreeHead> LogReader::HeadAt(uint64_t size) {
  client::NodeClient& client = auditor_.client();
  v1::TreeHeadRequest request;
  request.set_tree_size(size);
  v1::LoggedTreeHead logged;
  // The node may have been killed and restarted since this channel last
  // connected: wait (within the call's deadline) for it to reconnect rather
  // than fail on the channel's back-off.
  std::unique_ptr<grpc::ClientContext> context = client.UnaryContext();
  context->set_wait_for_ready(true);
  const grpc::Status status = client.audit().GetTreeHead(context.get(), request, &logged);
  if (!status.ok()) return Failed(status, "GetTreeHead(" + std::to_string(size) + ")");
  ASSIGN_OR_RETURN(audit::VerifiedTreeHead verified, audit::VerifyTreeHead(logged.head(), trust_, absl::Now()));
  if (size != 0 && verified.body.tree_size() != size) {
    return absl::UnauthenticatedError("asked for the head at " + std::to_string(size) + ", got one at " +
                                      std::to_string(verified.body.tree_size()));
  }
  return logged;
}

absl::Status LogReader::CheckExtends(const v1::TreeHead& older) {
  if (older.tree_size() > head_.tree_size()) {
    return absl::UnauthenticatedError("a head at " + std::to_string(older.tree_size()) +
                                      " is past the latest one at " + std::to_string(head_.tree_size()));
  }
  if (older.tree_size() == head_.tree_size()) {
    if (older.root_hash() != head_.root_hash()) {
      return absl::UnauthenticatedError("two heads at " + std::to_string(older.tree_size()) + " with different roots");
    }
    return absl::OkStatus();
  }
  client::NodeClient& client = auditor_.client();
  v1::ConsistencyProofRequest request;
  request.set_old_size(older.tree_size());
  request.set_new_size(head_.tree_size());
  v1::ConsistencyProof proof;
  const grpc::Status status = client.audit().GetConsistencyProof(client.UnaryContext().get(), request, &proof);
  if (!status.ok()) return Failed(status, "GetConsistencyProof");
  return audit::VerifyHeadConsistency(older, head_, proof);
}

absl::Status LogReader::Update() {
  ASSIGN_OR_RETURN(v1::LoggedTreeHead logged, HeadAt(0));
  ASSIGN_OR_RETURN(v1::TreeHead latest, audit::ParseTreeHead(logged.head()));
  const v1::TreeHead previous = head_;
  head_ = latest;
  if (previous.tree_size() > 0) RETURN_IF_ERROR(CheckExtends(previous));
  client::NodeClient& client = auditor_.client();
  for (uint64_t index = events_.size(); index < head_.tree_size(); ++index) {
    v1::InclusionProofRequest request;
    request.set_index(index);
    request.set_tree_size(head_.tree_size());
    v1::InclusionProof proof;
    const grpc::Status status = client.audit().GetInclusionProof(client.UnaryContext().get(), request, &proof);
    if (!status.ok()) return Failed(status, "GetInclusionProof(" + std::to_string(index) + ")");
    if (proof.index() != index) return absl::UnauthenticatedError("asked for event " + std::to_string(index));
    RETURN_IF_ERROR(audit::VerifyEventInclusion(proof, head_));
    v1::AuditEvent event;
    if (!event.ParseFromString(proof.event())) {
      return absl::DataLossError("event " + std::to_string(index) + " is not an AuditEvent");
    }
    events_.push_back(std::move(event));
  }
  return absl::OkStatus();
}

}  // namespace congvan::chaos
