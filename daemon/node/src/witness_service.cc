#include "congvan/node/witness_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "congvan/audit/tree_head.h"
#include "congvan/node/access.h"
#include "congvan/node/grpc_status.h"
#include "congvan/signer/status_macros.h"

namespace congvan::node {

grpc::Status WitnessServiceImpl::Witness(grpc::ServerContext* context, const v1::WitnessRequest* request,
                                         v1::WitnessResponse* response) {
  return ToGrpcStatus(DoWitness(context, *request, response));
}

absl::Status WitnessServiceImpl::DoWitness(grpc::ServerContext* context, const v1::WitnessRequest& request,
                                           v1::WitnessResponse* response) {
  ASSIGN_OR_RETURN(Caller caller, AuthorizePeer(*context, node_));
  const auto& children = node_.config.peers.children;
  if (std::none_of(children.begin(), children.end(),
                   [&](const config::Peer& child) { return child.agency.str() == caller.agency; })) {
    return absl::PermissionDeniedError(caller.agency + " is not a child of " + node_.agency() +
                                       ": a node witnesses only its children's logs");
  }
  ASSIGN_OR_RETURN(audit::VerifiedTreeHead head, audit::VerifyTreeHead(request.head(), *node_.trust->Current(),
                                                                       node_.now()));
  node_.signatures.Verified();
  if (head.body.agency() != caller.agency) {
    return absl::PermissionDeniedError("the tree head is of " + head.body.agency() + ", not of the calling node " +
                                       caller.agency);
  }

  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(std::optional<v1::SignedMessage> held, node_.store->WitnessedHead(caller.agency));
  if (held.has_value()) {
    ASSIGN_OR_RETURN(v1::TreeHead last, audit::ParseTreeHead(*held));
    *response->mutable_last_seen() = *held;
    if (request.from_size() != last.tree_size()) return absl::OkStatus();  // prove again from last_seen
    if (head.body.tree_size() == last.tree_size() && head.body.root_hash() == last.root_hash()) {
      response->set_recorded(true);
      return absl::OkStatus();
    }
    v1::ConsistencyProof proof;
    proof.set_old_size(last.tree_size());
    proof.set_new_size(head.body.tree_size());
    *proof.mutable_hashes() = request.consistency();
    absl::Status consistent =
        head.body.tree_size() < last.tree_size()
            ? absl::UnauthenticatedError("the log of " + caller.agency + " shrank from " +
                                         std::to_string(last.tree_size()) + " to " +
                                         std::to_string(head.body.tree_size()) + " events: its history was rewritten")
            : audit::VerifyHeadConsistency(last, head.body, proof);
    if (!consistent.ok()) {
      ReportInconsistent(caller.agency, request, head.body.tree_size(), consistent);
      return absl::FailedPreconditionError(std::string(consistent.message()));
    }
  }
  v1::AuditEvent event;
  event.set_kind(v1::AUDIT_EVENT_WITNESSED);
  event.set_agency(caller.agency);
  event.set_body_sha256(signer::Sha256(request.head().body()));
  event.set_signature_sha256(signer::Sha256(request.head().seal_signature()));
  event.set_signed_kind(v1::MESSAGE_KIND_TREE_HEAD);
  event.set_tree_size(head.body.tree_size());
  RETURN_IF_ERROR(node_.store->RecordWitnessed(caller.agency, request.head(), std::move(event)));
  node_.metrics.Add("congvan_audit_witness_total", {{"role", "parent"}, {"result", "accepted"}});
  response->set_recorded(true);
  *response->mutable_last_seen() = request.head();
  return absl::OkStatus();
}

void WitnessServiceImpl::ReportInconsistent(const std::string& child, const v1::WitnessRequest& request,
                                            uint64_t size, const absl::Status& why) {
  node_.metrics.Add("congvan_audit_witness_total", {{"role", "parent"}, {"result", "inconsistent"}});
  const std::string digest = signer::Sha256(request.head().body());
  if (!reported_.insert(digest).second) return;
  spdlog::error("audit log: ALARM: {}", std::string(why.message()));
  v1::AuditEvent event;
  event.set_kind(v1::AUDIT_EVENT_WITNESS_FAILED);
  event.set_agency(child);
  event.set_body_sha256(digest);
  event.set_signature_sha256(signer::Sha256(request.head().seal_signature()));
  event.set_signed_kind(v1::MESSAGE_KIND_TREE_HEAD);
  event.set_tree_size(size);
  event.set_detail(std::string(why.message()));
  if (absl::Status s = node_.store->RecordEvent(std::move(event)); !s.ok()) {
    spdlog::error("audit log: cannot log the inconsistent tree head of {}: {}", child, std::string(s.message()));
  }
}

}  // namespace congvan::node
