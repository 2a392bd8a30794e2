#include "congvan/node/access.h"

#include "congvan/signer/status_macros.h"

namespace congvan::node {
namespace {

std::string RoleList(std::initializer_list<config::Role> roles) {
  std::string out;
  for (config::Role role : roles) {
    if (!out.empty()) out += " or ";
    out += std::string(config::RoleName(role));
  }
  return out;
}

}  // namespace

absl::StatusOr<Caller> AuthorizePerson(const grpc::ServerContext& context, const NodeContext& node,
                                       std::initializer_list<config::Role> roles) {
  ASSIGN_OR_RETURN(Caller caller, IdentifyCaller(*context.auth_context(), *node.trust->Current(), node.now()));
  if (caller.kind != CallerKind::kPerson) {
    return absl::PermissionDeniedError("agency " + caller.agency +
                                       " called with a node certificate: this port serves people (ClerkService)");
  }
  if (caller.agency != node.agency()) {
    return absl::PermissionDeniedError(caller.login + " belongs to agency " + caller.agency + ", not " + node.agency() +
                                       ": use your own agency's node");
  }
  const config::PersonConfig* person = node.config.FindPerson(caller.login);
  if (person == nullptr) {
    return absl::PermissionDeniedError(caller.login + " is not configured at this node; ask its operator");
  }
  for (config::Role role : roles) {
    if (person->HasRole(role)) return caller;
  }
  return absl::PermissionDeniedError(caller.login + " may not do this: it needs the " + RoleList(roles) + " role");
}

absl::StatusOr<Caller> AuthorizePeer(const grpc::ServerContext& context, const NodeContext& node) {
  ASSIGN_OR_RETURN(Caller caller, IdentifyCaller(*context.auth_context(), *node.trust->Current(), node.now()));
  if (caller.kind != CallerKind::kNode) {
    return absl::PermissionDeniedError(caller.login + " called with a person's certificate: this port serves nodes");
  }
  auto agency = signer::AgencyId::Parse(caller.agency);
  if (!agency.ok() || node.config.peers.Find(*agency) == nullptr) {
    return absl::PermissionDeniedError("agency " + caller.agency + " is not a peer of this node (" + node.agency() +
                                       ")");
  }
  return caller;
}

}  // namespace congvan::node
