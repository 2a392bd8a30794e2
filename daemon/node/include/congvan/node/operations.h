// The node's periodic self-check for its operators (daemon/README.md,
// "Metrics" and "Health"): every round it
//   - probes the store with a synced write (Store::Probe): gRPC health ""
//     and "congvan.v1.Store" follow it, and a failure is an error in the
//     log, repeated once a minute while it lasts;
//   - counts the outbox by state (congvan_outbox_entries) and the
//     database's bytes on disk (congvan_store_bytes);
//   - checks the expiry of the node's certificates and trust anchors
//     (certificate_watch.h): congvan_certificate_expiry_days, the log, and
//     health "congvan.v1.Certificates".
// Node runs one round at start-up, then one every kInterval on the delivery
// loop's thread (which never waits on the network).
#ifndef CONGVAN_NODE_OPERATIONS_H_
#define CONGVAN_NODE_OPERATIONS_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "congvan/node/certificate_watch.h"
#include "congvan/node/health.h"
#include "congvan/node/metrics.h"
#include "congvan/store/store.h"

namespace congvan::node {

struct OperationsOptions {
  // The node's own certificates (OwnCertificates).
  std::vector<WatchedCertificate> certificates;
  // Trust anchor files, read again every round (AnchorCertificates).
  std::vector<std::string> anchor_files;
  // [operations] certificate_warning_days. Default: 30 days.
  absl::Duration certificate_warning = absl::Hours(24 * 30);
  // The node's clock. Default: the system clock.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// Not thread-safe: RunOnce is called from one thread at a time.
class OperationsCheck {
 public:
  static constexpr absl::Duration kInterval = absl::Seconds(5);

  // `store`, `metrics` and `health` are not owned and must outlive this.
  OperationsCheck(store::Store& store, Metrics& metrics, Health& health, OperationsOptions options)
      : store_(store),
        metrics_(metrics),
        health_(health),
        options_(std::move(options)),
        certificates_(options_.certificate_warning) {}

  void RunOnce();

 private:
  void ProbeStore();
  void CountStore();
  void CheckCertificates();

  store::Store& store_;
  Metrics& metrics_;
  Health& health_;
  const OperationsOptions options_;
  CertificateWatch certificates_;
  bool store_failing_ = false;
  absl::Time store_logged_ = absl::InfinitePast();
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_OPERATIONS_H_
