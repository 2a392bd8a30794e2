// A TCP forwarder on 127.0.0.1 in front of one node's peers port, for one
// direction of one link of the tree: the node at the other end of the link
// dials the proxy (its node.toml names the proxy's port) instead of the
// node. TLS passes through untouched: the host stays 127.0.0.1, which the
// node's TLS certificate names, and each node still sees its peer's own
// certificate.
//
// Cut() drops every connection it carries and refuses new ones (accepted
// and closed at once, as a broken link looks to gRPC) until Restore().
// Thread-safe.
#ifndef CONGVAN_TESTS_CHAOS_LINK_PROXY_H_
#define CONGVAN_TESTS_CHAOS_LINK_PROXY_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

namespace congvan::chaos {

class LinkProxy {
 public:
  // Listens on 127.0.0.1 (a port the kernel picks) and forwards every
  // connection to 127.0.0.1:`target_port`.
  static absl::StatusOr<std::unique_ptr<LinkProxy>> Start(int target_port);
  ~LinkProxy();  // stops accepting and drops every connection
  LinkProxy(const LinkProxy&) = delete;
  LinkProxy& operator=(const LinkProxy&) = delete;

  int port() const;
  void Cut();
  void Restore();
  // Connections forwarded so far, and refused while cut.
  uint64_t forwarded() const;
  uint64_t refused() const;

  struct State;

 private:
  explicit LinkProxy(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace congvan::chaos

#endif  // CONGVAN_TESTS_CHAOS_LINK_PROXY_H_
