// A running congvan node: the store, the trust snapshot, the seal, two
// mutual-TLS gRPC servers (peers: NodeService; people: ClerkService), the
// standard health service (health.h) and server reflection on both, the
// delivery loop, the audit loop, the periodic self-check (operations.h),
// the metrics server when listen.metrics is set, and the time-stamping
// authority's HTTPS server when [tsa] is set. `main()` only loads the
// config and calls Start and Wait.
#ifndef CONGVAN_NODE_NODE_H_
#define CONGVAN_NODE_NODE_H_

#include <grpcpp/server.h>

#include <memory>

#include "absl/status/statusor.h"
#include "congvan/config/node_config.h"
#include "congvan/node/audit_loop.h"
#include "congvan/node/audit_service.h"
#include "congvan/node/clerk_service.h"
#include "congvan/node/delivery.h"
#include "congvan/node/health.h"
#include "congvan/node/metrics_server.h"
#include "congvan/node/node_context.h"
#include "congvan/node/node_service.h"
#include "congvan/node/operations.h"
#include "congvan/node/operator_service.h"
#include "congvan/node/routing.h"
#include "congvan/node/tsa_server.h"
#include "congvan/node/witness_service.h"

namespace congvan::node {

struct NodeOptions {
  // The clock of everything the node decides (validity, deadlines, times
  // written into documents). Default: the system clock.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class Node {
 public:
  // Opens the store, loads trust and the seal, starts both servers, runs
  // the first self-check (a certificate about to expire is logged now),
  // and starts the loops. Errors name what is wrong (a file, a port in use,
  // a seal key that does not match its certificate).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Node>> Start(config::NodeConfig config,
                                                                   NodeOptions options = {});
  ~Node();

  // The ports actually bound (useful with port 0 in tests).
  int peers_port() const { return peers_port_; }
  int people_port() const { return people_port_; }
  // 0 when listen.metrics is not set.
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }
  // 0 when this node is no time-stamping authority ([tsa] not set).
  int tsa_port() const { return tsa_server_ ? tsa_server_->port() : 0; }

  // Blocks until Shutdown() is called from another thread or a signal.
  void Wait();
  void Shutdown();

 private:
  Node() = default;
  // The time-stamping authority and its HTTPS server ([tsa]).
  absl::Status StartTsa();

  std::unique_ptr<NodeContext> context_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<ClerkServiceImpl> clerk_service_;
  std::unique_ptr<NodeServiceImpl> node_service_;
  std::unique_ptr<OperatorServiceImpl> operator_service_;
  std::unique_ptr<AuditServiceImpl> audit_service_;
  std::unique_ptr<WitnessServiceImpl> witness_service_;
  std::unique_ptr<DeliveryLoop> delivery_;
  std::unique_ptr<AuditLoop> audit_loop_;
  std::unique_ptr<signer::TimestampAuthority> tsa_;
  std::unique_ptr<TsaServer> tsa_server_;
  std::unique_ptr<grpc::Server> peers_server_;
  std::unique_ptr<grpc::Server> people_server_;
  std::unique_ptr<MetricsServer> metrics_server_;
  std::unique_ptr<Health> health_;
  std::unique_ptr<OperationsCheck> operations_;
  int peers_port_ = 0;
  int people_port_ = 0;
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_NODE_H_
