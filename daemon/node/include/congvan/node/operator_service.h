// OperatorService: what the people with the operator role ask their node
// about its place in the network (issue #4 item 4: `congvan route`).
#ifndef CONGVAN_NODE_OPERATOR_SERVICE_H_
#define CONGVAN_NODE_OPERATOR_SERVICE_H_

#include "congvan/node/node_context.h"
#include "congvan/node/routing.h"
#include "congvan/v1/node.grpc.pb.h"

namespace congvan::node {

// Thread-safe.
class OperatorServiceImpl final : public v1::OperatorService::Service {
 public:
  OperatorServiceImpl(NodeContext& node, const Router& router) : node_(node), router_(router) {}

  grpc::Status Route(grpc::ServerContext* context, const v1::RouteRequest* request,
                     v1::RouteResponse* response) override;

 private:
  absl::Status DoRoute(grpc::ServerContext* context, const v1::RouteRequest& request, v1::RouteResponse* response);

  NodeContext& node_;
  const Router& router_;
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_OPERATOR_SERVICE_H_
