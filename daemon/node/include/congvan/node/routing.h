// Where a document for an agency goes next (shared/DESIGN.md "Routing"):
// the destination itself is local; a configured direct peer short-cuts the
// tree; when this node is an ancestor of the destination, the child on the
// way down; otherwise the parent.
#ifndef CONGVAN_NODE_ROUTING_H_
#define CONGVAN_NODE_ROUTING_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "congvan/config/node_config.h"
#include "congvan/signer/agency_id.h"

namespace congvan::node {

class Router {
 public:
  Router(signer::AgencyId own, signer::Hierarchy hierarchy, config::PeersConfig peers)
      : own_(std::move(own)), hierarchy_(std::move(hierarchy)), peers_(std::move(peers)) {}

  // The next hop for `destination`, or "" when it is this node. NOT_FOUND
  // when there is no way there (a child on the way down is not configured,
  // or the root has no parent to send to).
  [[nodiscard]] absl::StatusOr<std::string> NextHop(const signer::AgencyId& destination) const;

  // The recipients grouped by next hop ("" = local), one copy per hop.
  [[nodiscard]] absl::StatusOr<std::map<std::string, std::vector<std::string>>> Split(
      const std::vector<std::string>& recipients) const;

 private:
  signer::AgencyId own_;
  signer::Hierarchy hierarchy_;
  config::PeersConfig peers_;
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_ROUTING_H_
