// WitnessService, on the peers' port: a parent checks that each of its
// children's audit logs only ever grows (RFC 9162 consistency between the
// child's tree heads) and records the heads it saw, so that a child that
// rewrites its history is caught by another node. An inconsistent head is
// refused with FAILED_PRECONDITION, logged as a WITNESS_FAILED event in the
// parent's own log (once per head), counted and reported as an error; the
// parent keeps the last consistent head.
#ifndef CONGVAN_NODE_WITNESS_SERVICE_H_
#define CONGVAN_NODE_WITNESS_SERVICE_H_

#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "congvan/node/node_context.h"
#include "congvan/v1/audit.grpc.pb.h"

namespace congvan::node {

// Thread-safe.
class WitnessServiceImpl final : public v1::WitnessService::Service {
 public:
  explicit WitnessServiceImpl(NodeContext& node) : node_(node) {}

  grpc::Status Witness(grpc::ServerContext* context, const v1::WitnessRequest* request,
                       v1::WitnessResponse* response) override;

 private:
  absl::Status DoWitness(grpc::ServerContext* context, const v1::WitnessRequest& request,
                         v1::WitnessResponse* response);
  void ReportInconsistent(const std::string& child, const v1::WitnessRequest& request, uint64_t size,
                          const absl::Status& why);

  NodeContext& node_;
  // Serialises the read-check-record of one child's head.
  absl::Mutex mu_;
  std::set<std::string> reported_ ABSL_GUARDED_BY(mu_);  // digests of inconsistent heads already logged
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_WITNESS_SERVICE_H_
