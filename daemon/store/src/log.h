// The audit log's private side (audit_log.h has the design): its keys, the
// pending events a state change adds to its own WriteBatch, and the start-up
// check that re-derives the tree from the stored events.
#ifndef CONGVAN_STORE_SRC_LOG_H_
#define CONGVAN_STORE_SRC_LOG_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "congvan/v1/audit.pb.h"
#include "rocksdb/write_batch.h"
#include "state.h"

namespace congvan::store::internal {

std::string LogPendingKey(uint64_t seq);
std::string LogEventKey(uint64_t index);
std::string LogSubtreeKey(uint32_t level, uint64_t index);
std::string LogMessageKey(std::string_view message_id, uint64_t index);
std::string LogMessagePrefix(std::string_view message_id);
std::string LogHeadKey(uint64_t tree_size);
std::string LogWitnessKey(std::string_view child);
inline constexpr char kLogSizeKey[] = "S";
inline constexpr char kLogNextSeqKey[] = "Q";

// Adds `event` to the pending queue in `batch` (the time set from the
// store's clock when empty): it is logged exactly when the batch commits.
void AddEvent(StoreState& store, rocksdb::WriteBatch& batch, congvan::v1::AuditEvent event);

// The event of a stored (or issued) document: kind, message id, `agency`,
// and the digests of its sealed header.
congvan::v1::AuditEvent DocumentEvent(congvan::v1::AuditEventKind kind, const congvan::v1::SignedMessage& document,
                                      std::string_view message_id, std::string_view agency);

// At Open: the next sequence number, and the tree re-derived from the
// stored events (repairing and recording in store.log_damage what was
// changed behind the store's back).
[[nodiscard]] absl::Status OpenLog(StoreState& store);

// The stored hash of a complete subtree (audit::SubtreeSource).
[[nodiscard]] absl::StatusOr<std::string> ReadSubtree(StoreState& store, uint32_t level, uint64_t index);

}  // namespace congvan::store::internal

#endif  // CONGVAN_STORE_SRC_LOG_H_
