// NodeService: what a peer node calls (the node issue, item 5). Deliver
// checks the sender's TLS identity, the seal and leader signatures with
// revocation, and every part's digest; stores durably; only then answers,
// with the signed receipts of the recipients served here. A redelivery of a
// known message id is answered with the original receipts.
#ifndef CONGVAN_NODE_NODE_SERVICE_H_
#define CONGVAN_NODE_NODE_SERVICE_H_

#include "congvan/node/node_context.h"
#include "congvan/node/routing.h"
#include "congvan/v1/node.grpc.pb.h"

namespace congvan::node {

// Thread-safe.
class NodeServiceImpl final : public v1::NodeService::Service {
 public:
  NodeServiceImpl(NodeContext& node, const Router& router) : node_(node), router_(router) {}

  grpc::Status Deliver(grpc::ServerContext* context, grpc::ServerReader<v1::DeliverRequest>* reader,
                       v1::DeliverResponse* response) override;
  grpc::Status Answer(grpc::ServerContext* context, const v1::AnswerRequest* request,
                      v1::AnswerResponse* response) override;

 private:
  absl::Status DoDeliver(grpc::ServerContext* context, grpc::ServerReader<v1::DeliverRequest>* reader,
                         v1::DeliverResponse* response);
  absl::Status DoAnswer(grpc::ServerContext* context, const v1::AnswerRequest& request);

  NodeContext& node_;
  const Router& router_;
};

// Checks a receipt, status or delivery report that arrives for this node or
// passes through it: the seal verifies and is the answering agency's, the
// body parses and names a message. Returns the answer as the store keeps it,
// and the header digest the body names in `*header_sha256` when given. The
// seal is counted on `counter` when it verifies.
[[nodiscard]] absl::StatusOr<store::Answer> VerifyAnswer(const v1::SignedMessage& answer,
                                                         const signer::TrustStore& trust, absl::Time at,
                                                         std::string* header_sha256 = nullptr,
                                                         SignatureCounter* counter = nullptr);

// A relay's sealed report that it gave up delivering `message` to `next_hop`
// for `recipients`.
[[nodiscard]] absl::StatusOr<v1::SignedMessage> MakeDeliveryReport(const store::StoredMessage& message,
                                                                   const std::string& relay,
                                                                   const std::vector<std::string>& recipients,
                                                                   const std::string& next_hop,
                                                                   const std::string& reason,
                                                                   const SealCredentials& seal, absl::Time now);

}  // namespace congvan::node

#endif  // CONGVAN_NODE_NODE_SERVICE_H_
