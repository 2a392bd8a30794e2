// The audit loop (shared/DESIGN.md "Audit log and evidence"): every
// audit.tree_head_interval it appends the events pending in the store to
// the log's Merkle tree, seals a tree head when the tree grew, asks the
// time-stamping authority for an RFC 3161 token over each head still
// without one, and sends the latest head to the parent, which checks that
// the log only grew (witnessing). Documents never wait for any of it: an
// authority or a parent that is down delays only the tokens and the
// witnessing, and an authority down past audit.tsa_alarm_after raises an
// alarm (an error in the log, a metric, health NOT_SERVING for the audit
// service).
#ifndef CONGVAN_NODE_AUDIT_LOOP_H_
#define CONGVAN_NODE_AUDIT_LOOP_H_

#include <grpcpp/channel.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "congvan/node/node_context.h"

namespace congvan::node {

// Thread-safe. Start() runs the rounds on a thread of its own until Stop().
class AuditLoop {
 public:
  explicit AuditLoop(NodeContext& node) : node_(node) {}
  ~AuditLoop() { Stop(); }

  void Start();
  void Stop();
  // One round, on the calling thread (the loop's, or a test's).
  void RunOnce();
  // True while a tree head has waited for its timestamp longer than
  // audit.tsa_alarm_after.
  bool timestamp_alarm() const { return alarm_; }
  // Called when timestamp_alarm() changes (Node sets gRPC health). Set
  // before Start().
  std::function<void(bool alarm)> on_alarm = [](bool) {};

 private:
  // Warns when a step starts failing and then once a minute while it fails
  // (a parent down for a day must not fill the log), and says when it
  // works again.
  struct FailureLog {
    bool failing = false;
    absl::Time last_warned = absl::InfinitePast();
    void Report(const absl::Status& status, const std::string& what, absl::Time now);
  };

  absl::Status SealHead();
  absl::Status StampHeads();
  absl::Status StampHead(congvan::v1::LoggedTreeHead head);
  void CheckAlarm();
  absl::Status Witness();

  NodeContext& node_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
  std::atomic<bool> alarm_{false};
  // The loop's own (RunOnce is not called concurrently with itself).
  std::shared_ptr<grpc::Channel> parent_;
  uint64_t parent_size_ = 0;        // the size of our head the parent holds, as it last said
  std::string parent_head_body_;    // the body of the head it holds
  FailureLog seal_log_;
  FailureLog timestamp_log_;
  FailureLog witness_log_;
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_AUDIT_LOOP_H_
