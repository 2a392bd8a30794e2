// Where a document for an agency goes next (shared/DESIGN.md "Routing"):
// the destination itself is local; a configured direct peer that is the
// destination or one of its ancestors short-cuts the tree (the one closest to
// the destination wins, and this node when it is closer still); when this
// node is an ancestor of the destination, the child on the way down;
// otherwise the parent.
#ifndef CONGVAN_NODE_ROUTING_H_
#define CONGVAN_NODE_ROUTING_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "congvan/config/node_config.h"
#include "congvan/signer/agency_id.h"

namespace congvan::node {

// One hop of a path: the agency, and how the hop before reaches it
// ("parent", "child", "direct"; empty for the start).
struct PathHop {
  std::string agency;
  std::string link;
};

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

  // The whole path from this node to `destination`, both included: this
  // node's own next hop (with its direct peers), then the hierarchy's from
  // each node after it (other nodes' direct peers are their configuration,
  // unknown here). Errors as NextHop.
  [[nodiscard]] absl::StatusOr<std::vector<PathHop>> Path(const signer::AgencyId& destination) const;

 private:
  signer::AgencyId own_;
  signer::Hierarchy hierarchy_;
  config::PeersConfig peers_;
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_ROUTING_H_
