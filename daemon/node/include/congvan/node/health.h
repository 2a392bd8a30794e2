// The node's gRPC health (grpc.health.v1), set in this one place on the
// health service of each of its servers (peers and people). The service
// names are a contract with monitoring and with peers, whose delivery loops
// ask for "" before they queue their failed deliveries again:
//
//   ""                         the node: NOT_SERVING while its store cannot
//                              write — it can take no document
//   "congvan.v1.Store"         the store's last write probe succeeded
//   "congvan.v1.Certificates"  no certificate of the node (seal, TLS, TSA)
//                              nor trust anchor expires within
//                              [operations] certificate_warning_days; the
//                              node itself still serves
//   "congvan.v1.AuditService"  no tree head has waited for its timestamp
//                              longer than audit.tsa_alarm_after
//
// Every name starts SERVING.
#ifndef CONGVAN_NODE_HEALTH_H_
#define CONGVAN_NODE_HEALTH_H_

#include <grpcpp/health_check_service_interface.h>

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace congvan::node {

// Thread-safe.
class Health {
 public:
  static constexpr char kNode[] = "";
  static constexpr char kStore[] = "congvan.v1.Store";
  static constexpr char kCertificates[] = "congvan.v1.Certificates";
  static constexpr char kAudit[] = "congvan.v1.AuditService";

  // Sets every name SERVING on each of `services` (not owned; they must
  // outlive this; nullptr entries are skipped).
  explicit Health(std::vector<grpc::HealthCheckServiceInterface*> services);

  void SetStoreWritable(bool writable);
  void SetCertificatesValid(bool valid);
  void SetTimestampAlarm(bool alarm);

  // What `name` answers now; false for a name not listed above.
  bool Serving(const std::string& name) const;

 private:
  // Sets every name on every service from the state below.
  void Publish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::vector<grpc::HealthCheckServiceInterface*> services_;
  mutable absl::Mutex mu_;
  bool store_writable_ ABSL_GUARDED_BY(mu_) = true;
  bool certificates_valid_ ABSL_GUARDED_BY(mu_) = true;
  bool timestamp_alarm_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_HEALTH_H_
