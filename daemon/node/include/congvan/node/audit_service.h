// AuditService, on the people's port, for the auditor role only: the log's
// tree heads, inclusion and consistency proofs, a document's events, and the
// evidence container of a document (audit/README.md).
#ifndef CONGVAN_NODE_AUDIT_SERVICE_H_
#define CONGVAN_NODE_AUDIT_SERVICE_H_

#include "congvan/node/node_context.h"
#include "congvan/v1/audit.grpc.pb.h"

namespace congvan::node {

// The events of a message, each with its proof under one sealed tree head:
// the smallest head that covers them all and has a timestamp, or else the
// latest head that covers them. NOT_FOUND when the log has no event of the
// message; UNAVAILABLE when no head covers its events yet (heads are sealed
// every audit.tree_head_interval).
[[nodiscard]] absl::StatusOr<v1::MessageEventsResponse> MessageEventsUnderHead(NodeContext& node,
                                                                               const std::string& message_id);

// Thread-safe.
class AuditServiceImpl final : public v1::AuditService::Service {
 public:
  explicit AuditServiceImpl(NodeContext& node) : node_(node) {}

  grpc::Status GetTreeHead(grpc::ServerContext* context, const v1::TreeHeadRequest* request,
                           v1::LoggedTreeHead* response) override;
  grpc::Status GetInclusionProof(grpc::ServerContext* context, const v1::InclusionProofRequest* request,
                                 v1::InclusionProof* response) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext* context, const v1::ConsistencyProofRequest* request,
                                   v1::ConsistencyProof* response) override;
  grpc::Status GetMessageEvents(grpc::ServerContext* context, const v1::MessageEventsRequest* request,
                                v1::MessageEventsResponse* response) override;
  grpc::Status Export(grpc::ServerContext* context, const v1::ExportRequest* request,
                      grpc::ServerWriter<v1::ExportChunk>* writer) override;

 private:
  NodeContext& node_;
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_AUDIT_SERVICE_H_
