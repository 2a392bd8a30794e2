// A node's audit log as its auditor reads it through AuditService: every
// event with its inclusion proof checked under the latest sealed tree head,
// that head's seal checked, and each new head checked consistent with the
// one of the previous read. What was read stays: the log only grows.
#ifndef CONGVAN_TESTS_CHAOS_LOG_READER_H_
#define CONGVAN_TESTS_CHAOS_LOG_READER_H_

#include <vector>

#include "absl/status/status.h"
#include "clerk/clerk.h"
#include "congvan/signer/trust.h"
#include "congvan/v1/audit.pb.h"

namespace congvan::chaos {

class LogReader {
 public:
  // `auditor`: a channel with an auditor's profile at the node; not owned.
  LogReader(testing::ClerkChannel& auditor, const signer::TrustStore& trust) : auditor_(auditor), trust_(trust) {}

  // Reads the latest head and the events it adds. UNAUTHENTICATED when a
  // proof or a seal fails, with what failed.
  absl::Status Update();

  const std::vector<v1::AuditEvent>& events() const { return events_; }
  // The head of the last Update (tree_size 0 before any).
  const v1::TreeHead& head() const { return head_; }
  // Another head of this log, at `size`, its seal checked.
  absl::StatusOr<v1::LoggedTreeHead> HeadAt(uint64_t size);
  // That the log at head() extends `older` (a head of it at a smaller size).
  absl::Status CheckExtends(const v1::TreeHead& older);

 private:
  testing::ClerkChannel& auditor_;
  const signer::TrustStore& trust_;
  v1::TreeHead head_;
  std::vector<v1::AuditEvent> events_;
};

}  // namespace congvan::chaos

#endif  // CONGVAN_TESTS_CHAOS_LOG_READER_H_
