#include "congvan/node/routing.h"

#include <algorithm>

#include "congvan/signer/status_macros.h"

namespace congvan::node {

absl::StatusOr<std::string> Router::NextHop(const signer::AgencyId& destination) const {
  if (destination == own_) return std::string();
  // The node closest to the destination on its way to the root that this
  // node reaches without going up: itself (then down to a child) or a direct
  // peer (then straight there).
  const std::vector<signer::AgencyId> path = hierarchy_.PathToRoot(destination);
  for (size_t i = 0; i < path.size(); ++i) {
    for (const config::Peer& peer : peers_.direct) {
      if (peer.agency == path[i]) return peer.agency.str();
    }
    if (!(path[i] == own_)) continue;
    const signer::AgencyId& child = path[i - 1];  // i > 0: own_ is not the destination
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

absl::StatusOr<std::vector<PathHop>> Router::Path(const signer::AgencyId& destination) const {
  std::vector<PathHop> path{{own_.str(), ""}};
  ASSIGN_OR_RETURN(std::string first, NextHop(destination));
  if (first.empty()) return path;
  ASSIGN_OR_RETURN(signer::AgencyId at, signer::AgencyId::Parse(first));
  const bool direct = std::any_of(peers_.direct.begin(), peers_.direct.end(),
                                  [&](const config::Peer& peer) { return peer.agency == at; });
  path.push_back({at.str(), direct ? "direct" : hierarchy_.IsAncestor(own_, at) ? "child" : "parent"});
  const std::vector<signer::AgencyId> up = hierarchy_.PathToRoot(destination);
  while (!(at == destination)) {
    // Down from an ancestor of the destination, else up to the parent.
    auto on_path = std::find(up.begin(), up.end(), at);
    if (on_path != up.end()) {
      at = *(on_path - 1);  // `at` is not the destination, so not up.front()
      path.push_back({at.str(), "child"});
    } else {
      std::optional<signer::AgencyId> parent = hierarchy_.ParentOf(at);
      if (!parent.has_value()) {
        return absl::NotFoundError("no route to " + destination.str() + ": it is not below the root " + at.str());
      }
      at = *parent;
      path.push_back({at.str(), "parent"});
    }
    if (path.size() > 64) return absl::InternalError("the hierarchy has a cycle on the way to " + destination.str());
  }
  return path;
}

}  // namespace congvan::node
