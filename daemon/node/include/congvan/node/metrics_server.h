// The node's metrics over plain HTTP for a Prometheus server on the same
// machine: GET /metrics answers Metrics::Render() as text/plain;
// version=0.0.4; every other request gets 404. No TLS and no client
// authentication, which is why node.toml only lets it listen on a loopback
// address (listen.metrics).
#ifndef CONGVAN_NODE_METRICS_SERVER_H_
#define CONGVAN_NODE_METRICS_SERVER_H_

#include <atomic>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "congvan/config/net_address.h"
#include "congvan/node/metrics.h"

namespace httplib {
class Server;
}

namespace congvan::node {

// Serves on its own threads: one that accepts, two that answer.
// Thread-safe.
class MetricsServer {
 public:
  // Listens on `address` (port 0: a free port) and serves `metrics`, which
  // must outlive the server. UNAVAILABLE, naming the address, when it cannot
  // listen there (the port is taken, the host is not local).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(const config::NetAddress& address,
                                                                            const Metrics& metrics);
  ~MetricsServer();  // Stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port bound.
  int port() const { return port_; }
  // Closes the listening socket, finishes the requests being answered and
  // joins the threads. Idempotent.
  void Stop();

 private:
  MetricsServer();

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> returned_ = false;  // the accepting loop has ended
  int port_ = 0;
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_METRICS_SERVER_H_
