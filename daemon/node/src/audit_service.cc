#include "congvan/node/audit_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "congvan/audit/tree_head.h"
#include "congvan/node/access.h"
#include "congvan/node/grpc_status.h"
#include "congvan/signer/status_macros.h"
#include "evidence_export.h"

namespace congvan::node {
namespace {

absl::Status Authorize(grpc::ServerContext* context, const NodeContext& node) {
  return AuthorizePerson(*context, node, {config::Role::kAuditor}).status();
}

absl::Status CheckMessageId(const std::string& message_id) {
  if (message_id.empty() || message_id.size() > 128) {
    return absl::InvalidArgumentError("give the message id of a document (as `congvan inbox` or `send` shows it)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::MessageEventsResponse> MessageEventsUnderHead(NodeContext& node, const std::string& message_id) {
  RETURN_IF_ERROR(CheckMessageId(message_id));
  ASSIGN_OR_RETURN(std::vector<uint64_t> indexes, node.store->MessageEvents(message_id));
  const absl::Status not_yet = absl::UnavailableError(
      absl::StrCat("the events of message ", message_id, " are not under a sealed tree head yet; try again in ",
                   absl::FormatDuration(node.config.audit.tree_head_interval)));
  if (indexes.empty()) {
    // A document stored here has events: they wait for the next round of
    // the audit loop, which appends them to the log and seals a head.
    ASSIGN_OR_RETURN(bool stored, node.store->HasMessage(message_id));
    if (stored) return not_yet;
    return absl::NotFoundError("the audit log of " + node.agency() + " has no event of message " + message_id);
  }
  const uint64_t needed = *std::max_element(indexes.begin(), indexes.end()) + 1;
  std::optional<v1::LoggedTreeHead> chosen;
  for (uint64_t from = needed;;) {
    ASSIGN_OR_RETURN(std::optional<v1::LoggedTreeHead> head, node.store->TreeHeadCovering(from));
    if (!head.has_value()) break;
    if (!chosen.has_value() || !head->timestamp_token().empty()) chosen = head;
    if (!head->timestamp_token().empty()) break;
    ASSIGN_OR_RETURN(v1::TreeHead body, audit::ParseTreeHead(head->head()));
    from = body.tree_size() + 1;
  }
  if (!chosen.has_value()) return not_yet;
  ASSIGN_OR_RETURN(v1::TreeHead body, audit::ParseTreeHead(chosen->head()));
  v1::MessageEventsResponse response;
  *response.mutable_head() = *std::move(chosen);
  for (uint64_t index : indexes) {
    ASSIGN_OR_RETURN(*response.add_events(), node.store->ProveInclusion(index, body.tree_size()));
  }
  return response;
}

grpc::Status AuditServiceImpl::GetTreeHead(grpc::ServerContext* context, const v1::TreeHeadRequest* request,
                                           v1::LoggedTreeHead* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    RETURN_IF_ERROR(Authorize(context, node_));
    ASSIGN_OR_RETURN(std::optional<v1::LoggedTreeHead> head, node_.store->GetTreeHead(request->tree_size()));
    if (!head.has_value()) {
      return request->tree_size() == 0
                 ? absl::NotFoundError("the audit log of " + node_.agency() + " has no sealed tree head yet")
                 : absl::NotFoundError(absl::StrCat("no tree head was sealed at ", request->tree_size(),
                                                    " events; `congvan audit tree-head` shows the latest"));
    }
    *response = *std::move(head);
    return absl::OkStatus();
  }());
}

grpc::Status AuditServiceImpl::GetInclusionProof(grpc::ServerContext* context,
                                                 const v1::InclusionProofRequest* request,
                                                 v1::InclusionProof* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    RETURN_IF_ERROR(Authorize(context, node_));
    ASSIGN_OR_RETURN(*response, node_.store->ProveInclusion(request->index(), request->tree_size()));
    return absl::OkStatus();
  }());
}

grpc::Status AuditServiceImpl::GetConsistencyProof(grpc::ServerContext* context,
                                                   const v1::ConsistencyProofRequest* request,
                                                   v1::ConsistencyProof* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    RETURN_IF_ERROR(Authorize(context, node_));
    ASSIGN_OR_RETURN(*response, node_.store->ProveConsistency(request->old_size(), request->new_size()));
    return absl::OkStatus();
  }());
}

grpc::Status AuditServiceImpl::GetMessageEvents(grpc::ServerContext* context, const v1::MessageEventsRequest* request,
                                                v1::MessageEventsResponse* response) {
  return ToGrpcStatus([&]() -> absl::Status {
    RETURN_IF_ERROR(Authorize(context, node_));
    ASSIGN_OR_RETURN(*response, MessageEventsUnderHead(node_, request->message_id()));
    return absl::OkStatus();
  }());
}

grpc::Status AuditServiceImpl::Export(grpc::ServerContext* context, const v1::ExportRequest* request,
                                      grpc::ServerWriter<v1::ExportChunk>* writer) {
  return ToGrpcStatus([&]() -> absl::Status {
    RETURN_IF_ERROR(Authorize(context, node_));
    RETURN_IF_ERROR(CheckMessageId(request->message_id()));
    return ExportEvidence(node_, request->message_id(), [&](const v1::ExportChunk& chunk) {
      if (context->IsCancelled() || !writer->Write(chunk)) {
        return absl::CancelledError("the auditor's client went away during the export");
      }
      return absl::OkStatus();
    });
  }());
}

}  // namespace congvan::node
