// Refused inputs go into the audit log (shared/DESIGN.md "Input rules": a
// failure "writes nothing but an audit event"): the calls that would change
// state — a peer's Deliver and Answer, a person's Send, SetStatus and
// Recall — log a REJECTED event naming the call, the caller and the error.
#ifndef CONGVAN_NODE_REJECTIONS_H_
#define CONGVAN_NODE_REJECTIONS_H_

#include <grpcpp/server_context.h>

#include <string_view>

#include "absl/status/status.h"
#include "congvan/node/node_context.h"

namespace congvan::node {

// The gRPC status of `status`; when it is an error other than a
// cancellation, first logs a REJECTED event of `call` (e.g.
// "NodeService.Deliver") by the caller of `context` (its agency and login
// when its certificate identifies it, else its address). A failure to log
// is itself logged and does not change the answer.
grpc::Status AnswerOrReject(NodeContext& node, const grpc::ServerContext& context, std::string_view call,
                            const absl::Status& status);

}  // namespace congvan::node

#endif  // CONGVAN_NODE_REJECTIONS_H_
