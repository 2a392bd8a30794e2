// Who may call what (the node issue, "Access control"): peers call only
// NodeService and only as a configured peer agency; people call only
// ClerkService, as a person of this agency configured at this node, each
// method limited by role.
#ifndef CONGVAN_NODE_ACCESS_H_
#define CONGVAN_NODE_ACCESS_H_

#include <grpcpp/server_context.h>

#include <initializer_list>

#include "absl/status/statusor.h"
#include "congvan/node/caller.h"
#include "congvan/node/node_context.h"

namespace congvan::node {

// The calling person, when they hold one of `roles` at this node.
// UNAUTHENTICATED for a bad certificate, PERMISSION_DENIED for a node, a
// person of another agency, a person not configured here, or a missing role
// (the message names the role needed).
[[nodiscard]] absl::StatusOr<Caller> AuthorizePerson(const grpc::ServerContext& context, const NodeContext& node,
                                                     std::initializer_list<config::Role> roles);

// The calling peer node, when its agency is a configured peer (parent,
// child or direct). PERMISSION_DENIED for a person or another agency.
[[nodiscard]] absl::StatusOr<Caller> AuthorizePeer(const grpc::ServerContext& context, const NodeContext& node);

}  // namespace congvan::node

#endif  // CONGVAN_NODE_ACCESS_H_
