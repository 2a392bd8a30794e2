// The delivery loop: takes due outbox entries, streams documents to the next
// hop (NodeService.Deliver) and carries answers (NodeService.Answer), checks
// the receipts that come back, and records the outcome. Failures are
// retried with exponential back-off and jitter until the entry's deadline;
// then the entry becomes a visible failure in `track`, never a silent loss,
// and is queued again when the peer answers a health check.
#ifndef CONGVAN_NODE_DELIVERY_H_
#define CONGVAN_NODE_DELIVERY_H_

#include <grpcpp/channel.h>

#include <map>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "congvan/node/node_context.h"
#include "congvan/node/routing.h"

namespace congvan::node {

// Thread-safe. Start() runs the loop on its own thread until Stop().
class DeliveryLoop {
 public:
  DeliveryLoop(NodeContext& node, const Router& router) : node_(node), router_(router) {}
  ~DeliveryLoop() { Stop(); }

  void Start();
  void Stop();
  // Wakes the loop now (new entries were queued).
  void Wake();
  // One pass over what is due now; returns how many entries were attempted.
  [[nodiscard]] absl::StatusOr<int> RunOnce();

 private:
  // Streams the document; fills `receipts` with the verified receipts that
  // came back and, at a relay, `forward` with the entries that carry them on
  // to the document's sender.
  absl::Status DeliverDocument(const store::OutboxEntry& entry, std::vector<store::Answer>* receipts,
                               std::vector<store::NewOutboxEntry>* forward);
  absl::Status DeliverAnswer(const store::OutboxEntry& entry);
  // At a relay, for a document delivery given up at its deadline: the
  // entry carrying a sealed DeliveryReport to the document's sender (empty
  // at the sender itself, for an answer, or when the report cannot be made).
  std::vector<store::NewOutboxEntry> ReportToSender(const store::OutboxEntry& entry, const std::string& reason);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelTo(const std::string& agency);
  void Record(const store::OutboxEntry& entry, const absl::Status& outcome, std::vector<store::Answer> receipts,
              std::vector<store::NewOutboxEntry> forward);
  // Every retry.probe_interval: asks each peer with failed deliveries
  // whether it is back (gRPC health) and queues them again if it is.
  void ProbeFailed();
  void Loop();

  NodeContext& node_;
  const Router& router_;
  absl::Mutex channels_mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_ ABSL_GUARDED_BY(channels_mu_);
  absl::Mutex mu_;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time next_probe_ = absl::InfinitePast();  // loop thread only
  std::thread thread_;
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_DELIVERY_H_
