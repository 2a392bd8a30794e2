#include "congvan/node/routing.h"

#include "congvan/signer/status_macros.h"

namespace congvan::node {

absl::StatusOr<std::string> Router::NextHop(const signer::AgencyId& destination) const {
  if (destination == own_) return std::string();
  for (const config::Peer& peer : peers_.direct) {
    if (peer.agency == destination) return destination.str();
  }
  const std::vector<signer::AgencyId> path = hierarchy_.PathToRoot(destination);
  for (size_t i = 1; i < path.size(); ++i) {
    if (!(path[i] == own_)) continue;
    const signer::AgencyId& child = path[i - 1];
    for (const config::Peer& peer : peers_.children) {
      if (peer.agency == child) return child.str();
    }
    return absl::NotFoundError("no route to " + destination.str() + ": its way down goes through " + child.str() +
                               ", which is not configured as a child of this node");
  }
  if (!peers_.parent.has_value()) {
    return absl::NotFoundError("no route to " + destination.str() + ": it is not below this node, which has no parent");
  }
  return peers_.parent->agency.str();
}

absl::StatusOr<std::map<std::string, std::vector<std::string>>> Router::Split(
    const std::vector<std::string>& recipients) const {
  std::map<std::string, std::vector<std::string>> hops;
  for (const std::string& recipient : recipients) {
    ASSIGN_OR_RETURN(signer::AgencyId id, signer::AgencyId::Parse(recipient));
    ASSIGN_OR_RETURN(std::string hop, NextHop(id));
    hops[hop].push_back(recipient);
  }
  return hops;
}

}  // namespace congvan::node
