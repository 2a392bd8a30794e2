// Pieces of a write that several state changes share: queueing outbox
// entries, storing answers, moving recipients' delivery states. Each adds to
// the caller's WriteBatch; the caller commits once. The caller holds the
// message locks of every message id involved.
#ifndef CONGVAN_STORE_SRC_OPS_H_
#define CONGVAN_STORE_SRC_OPS_H_

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "congvan/store/store.h"
#include "records.pb.h"
#include "rocksdb/write_batch.h"
#include "state.h"

namespace congvan::store::internal {

// The delivery-state changes of one write: each (message, agency) is read
// once, changed in memory, and written once.
class DeliveryChanges {
 public:
  explicit DeliveryChanges(StoreState& store) : store_(store) {}

  // QUEUED, unless already DELIVERED.
  [[nodiscard]] absl::Status Queue(std::string_view message_id, std::string_view agency);
  // FAILED with `reason`, unless already DELIVERED.
  [[nodiscard]] absl::Status Fail(std::string_view message_id, std::string_view agency, const std::string& reason);
  [[nodiscard]] absl::Status Deliver(std::string_view message_id, std::string_view agency);
  // IN_TRANSIT at relay `via`, unless already DELIVERED.
  [[nodiscard]] absl::Status Forward(std::string_view message_id, std::string_view agency, std::string_view via);
  void WriteInto(rocksdb::WriteBatch& batch) const;

 private:
  [[nodiscard]] absl::StatusOr<records::DeliveryRecord*> Load(std::string_view message_id, std::string_view agency);

  StoreState& store_;
  std::map<std::string, records::DeliveryRecord> changed_;  // by DeliveryKey
};

// The message ids that `entries` touch (for ScopedMessageLocks).
void AddMessageIds(const std::vector<NewOutboxEntry>& entries, std::vector<std::string_view>& ids);

// Queues `entries`: the entry record, its due-index key, and QUEUED for each
// recipient of a document delivery. An answer entry already queued is
// skipped; a document entry already queued is ALREADY_EXISTS; two entries of
// one call with the same id are INVALID_ARGUMENT.
[[nodiscard]] absl::Status AddEntries(StoreState& store, const std::vector<NewOutboxEntry>& entries,
                                      rocksdb::WriteBatch& batch, DeliveryChanges& states);

// INVALID_ARGUMENT unless the answer names a message and an agency and
// carries a signed body.
[[nodiscard]] absl::Status CheckAnswer(const Answer& answer);
// Stores `answer` unless the same body is stored already (`*added` says
// which); a RECEIPT makes its agency DELIVERED.
[[nodiscard]] absl::Status AddAnswerTo(StoreState& store, const Answer& answer, rocksdb::WriteBatch& batch,
                                       DeliveryChanges& states, bool* added);

// Record <-> public type.
OutboxEntry ToEntry(std::string id, const records::OutboxRecord& r);
Answer ToAnswer(std::string_view message_id, std::string_view agency, const records::AnswerRecord& r);

}  // namespace congvan::store::internal

#endif  // CONGVAN_STORE_SRC_OPS_H_
