// ClerkService: a person's calls to their own agency's node (the node
// issue, items 4 and 6). Every method authorizes the caller first
// (access.h), checks its input before anything is stored, and answers with
// a message a clerk can act on.
#ifndef CONGVAN_NODE_CLERK_SERVICE_H_
#define CONGVAN_NODE_CLERK_SERVICE_H_

#include "congvan/node/node_context.h"
#include "congvan/node/routing.h"
#include "congvan/v1/node.grpc.pb.h"

namespace congvan::node {

// Thread-safe: gRPC calls it from many threads.
class ClerkServiceImpl final : public v1::ClerkService::Service {
 public:
  ClerkServiceImpl(NodeContext& node, const Router& router) : node_(node), router_(router) {}

  grpc::Status Send(grpc::ServerContext* context, grpc::ServerReader<v1::SendRequest>* reader,
                    v1::SendResponse* response) override;
  grpc::Status Inbox(grpc::ServerContext* context, const v1::InboxRequest* request,
                     v1::InboxResponse* response) override;
  grpc::Status Fetch(grpc::ServerContext* context, const v1::FetchRequest* request,
                     grpc::ServerWriter<v1::FetchResponse>* writer) override;
  grpc::Status Track(grpc::ServerContext* context, const v1::TrackRequest* request,
                     v1::TrackResponse* response) override;
  grpc::Status SetStatus(grpc::ServerContext* context, const v1::SetStatusRequest* request,
                         v1::SetStatusResponse* response) override;
  grpc::Status Recall(grpc::ServerContext* context, const v1::RecallRequest* request,
                      v1::RecallResponse* response) override;
  grpc::Status Retry(grpc::ServerContext* context, const v1::RetryRequest* request,
                     v1::RetryResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* context, const v1::WatchRequest* request,
                     grpc::ServerWriter<v1::AnswerEvent>* writer) override;

 private:
  absl::Status DoSend(grpc::ServerContext* context, grpc::ServerReader<v1::SendRequest>* reader,
                      v1::SendResponse* response);
  absl::Status DoFetch(grpc::ServerContext* context, const v1::FetchRequest& request,
                       grpc::ServerWriter<v1::FetchResponse>* writer);
  absl::Status DoSetStatus(grpc::ServerContext* context, const v1::SetStatusRequest& request,
                           v1::SetStatusResponse* response);
  absl::Status DoRecall(grpc::ServerContext* context, const v1::RecallRequest& request, v1::RecallResponse* response);
  absl::Status DoRetry(grpc::ServerContext* context, const v1::RetryRequest& request, v1::RetryResponse* response);
  absl::Status DoWatch(grpc::ServerContext* context, grpc::ServerWriter<v1::AnswerEvent>* writer);
  // A document issued here or addressed to this agency; NOT_FOUND otherwise
  // (a document a relay only carried, too).
  absl::StatusOr<store::StoredMessage> ReadableHere(const std::string& message_id) const;
  // A document this agency issued; NOT_FOUND otherwise.
  absl::StatusOr<store::StoredMessage> IssuedHere(const std::string& message_id) const;
  // The reference of an update or replacement, checked: it must name a
  // document this agency issued.
  absl::StatusOr<std::optional<v1::Reference>> ReferenceOf(const v1::SendHeader& request) const;

  NodeContext& node_;
  const Router& router_;
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_CLERK_SERVICE_H_
