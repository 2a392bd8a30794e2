// The delivery loop: takes due outbox entries, streams documents to the next
// hop (NodeService.Deliver) and carries answers (NodeService.Answer), checks
// the receipts that come back, and records the outcome. Failures are
// retried with exponential back-off and jitter until the entry's deadline;
// then the entry becomes a visible failure in `track`, never a silent loss,
// and is queued again when the peer answers a health check.
#ifndef CONGVAN_NODE_DELIVERY_H_
#define CONGVAN_NODE_DELIVERY_H_

#include <grpcpp/channel.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "congvan/node/node_context.h"
#include "congvan/node/routing.h"

namespace congvan::node {

// Thread-safe. Start() runs the loop on its own thread until Stop().
//
// The loop thread lists what is due and hands each next hop's entries to a
// worker: up to kWorkers hops are served at once, each by one worker, so a
// slow or hung hop holds one worker and never delays the others (a
// province's broadcast goes to its children side by side). Stop() cancels
// the calls in flight.
class DeliveryLoop {
 public:
  // Calls in flight at once, over every hop.
  static constexpr int kWorkers = 16;
  // Calls in flight at once to one hop whose connection is up: enough to
  // keep its node's cores and its disk's group commit busy, and few enough
  // that one hop cannot take every worker. A hop not connected gets one,
  // so that a dead one holds a single worker while it times out.
  static constexpr int kStreamsPerPeer = 8;

  DeliveryLoop(NodeContext& node, const Router& router) : node_(node), router_(router) {}
  ~DeliveryLoop() { Stop(); }

  void Start();
  void Stop();
  // Wakes the loop now (new entries were queued).
  void Wake();
  // Runs `task` on the loop's thread every `interval` of the node's clock,
  // the first time one interval after Start(): the node's periodic checks
  // (operations.h), on a thread that never waits on the network. Call
  // before Start().
  void SetPeriodic(absl::Duration interval, std::function<void()> task);

 private:
  // Hands what is due now to the workers, skipping hops and entries in
  // flight; returns how many entries were listed (kListLimit: maybe more).
  // Sets `saturated` when it walked past a backlog (kPeerBatch or more due
  // entries) left for want of a free stream.
  absl::StatusOr<size_t> Dispatch(bool* saturated);
  // A worker finished a batch: a stream is free (wakes the loop).
  void StreamFreed();
  // How many batches to `peer` may be in flight: kStreamsPerPeer when its
  // channel is connected, else 1.
  int StreamsFor(const std::string& peer);
  void Work();
  // Registers a call's context so that Stop() can cancel it.
  class TrackedContext;
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
  // The channel, connected first (for a few seconds at most) on an entry's
  // first attempt; later attempts fail fast and back off.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectedChannelTo(const std::string& agency, bool first_attempt);
  void Record(const store::OutboxEntry& entry, const absl::Status& outcome, std::vector<store::Answer> receipts,
              std::vector<store::NewOutboxEntry> forward);
  // Every retry.probe_interval: asks each peer with failed deliveries
  // whether it is back (gRPC health, on a worker) and queues them again if
  // it is.
  void ProbeFailed();
  void Probe(const std::string& peer, const std::vector<store::OutboxEntry>& failed);
  void Loop();

  NodeContext& node_;
  const Router& router_;
  absl::Mutex channels_mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_ ABSL_GUARDED_BY(channels_mu_);
  absl::Mutex mu_;
  bool woken_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The last pass left due entries for want of streams: until one frees,
  // new entries (a wake) need not start a pass at once.
  bool saturated_ ABSL_GUARDED_BY(mu_) = false;
  bool stream_freed_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time next_probe_ = absl::InfinitePast();  // loop thread only
  absl::Duration periodic_interval_ = absl::InfiniteDuration();
  std::function<void()> periodic_;
  absl::Time next_periodic_ = absl::InfiniteFuture();  // loop thread only (set by Start)
  std::thread thread_;

  struct PeerBatch {
    std::string peer;
    std::vector<store::OutboxEntry> entries;  // due ones; or, for a probe, the failed ones
    bool probe = false;
  };
  absl::Mutex work_mu_;
  std::deque<PeerBatch> queue_ ABSL_GUARDED_BY(work_mu_);
  std::map<std::string, int> busy_peers_ ABSL_GUARDED_BY(work_mu_);  // batches in flight, by hop
  std::set<std::string, std::less<>> in_flight_ ABSL_GUARDED_BY(work_mu_);  // entry ids
  // Entries whose outcome the store could not record (a full disk): still
  // due in the store, held back here until the time given, so that they
  // are not delivered again in a loop. Lost at a restart, which is safe:
  // the receiver answers a repeated delivery with its first receipt.
  struct Held {
    absl::Time until;
    uint32_t failures = 0;  // outcomes not recorded in a row: the back-off grows with them
  };
  std::map<std::string, Held> held_ ABSL_GUARDED_BY(work_mu_);
  bool workers_stop_ ABSL_GUARDED_BY(work_mu_) = false;
  std::vector<std::thread> workers_;

  absl::Mutex contexts_mu_;
  std::set<grpc::ClientContext*> contexts_ ABSL_GUARDED_BY(contexts_mu_);
  bool cancelled_ ABSL_GUARDED_BY(contexts_mu_) = false;
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_DELIVERY_H_
