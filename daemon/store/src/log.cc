// The audit log's write side: pending events added to state changes, the
// integrator that appends them to the Merkle tree, and the start-up check
// that re-derives the tree from the stored events (audit_log.h).
#include "log.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "congvan/audit/merkle.h"
#include "congvan/signer/status_macros.h"
#include "congvan/store/store.h"
#include "keys.h"

namespace congvan::store {

namespace internal {

namespace {

std::string KeyWithU64(char tag, uint64_t v) {
  std::string key(1, tag);
  AppendU64(key, v);
  return key;
}

std::string MessageIdOf(std::string_view event_bytes) {
  congvan::v1::AuditEvent event;
  if (!event.ParseFromArray(event_bytes.data(), static_cast<int>(event_bytes.size()))) return {};
  return event.message_id();
}

absl::StatusOr<uint64_t> ReadCounter(StoreState& s, const char* key) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, s.Get(s.log, key));
  if (!value.has_value()) return 0;
  if (value->size() != 8) return absl::DataLossError(absl::StrCat("unreadable audit log counter '", key, "'"));
  return ReadU64(*value);
}

void PutCounter(StoreState& s, rocksdb::WriteBatch& batch, const char* key, uint64_t v) {
  std::string value;
  AppendU64(value, v);
  (void)batch.Put(s.log, key, value);
}

// The first sequence number no pending event uses: past the integrated
// high-water mark and past every event still pending.
absl::StatusOr<uint64_t> NextSeq(StoreState& s) {
  ASSIGN_OR_RETURN(uint64_t next, ReadCounter(s, kLogNextSeqKey));
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(rocksdb::ReadOptions(), s.log));
  it->SeekForPrev(KeyWithU64('q', ~uint64_t{0}));
  if (it->Valid() && it->key().starts_with("q") && it->key().size() == 9) {
    next = std::max(next, ReadU64(std::string_view(it->key().data() + 1, 8)) + 1);
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the audit log"));
  return next;
}

// Re-derives the tree from the events in key order. An event found at
// another index than its position (a gap before it) moves to its position;
// a stored hash that differs from its events' is rewritten. Both are
// counted in `damage`.
absl::Status RederiveTree(StoreState& s, uint64_t recorded_size, LogDamage& damage) {
  audit::MerkleFrontier frontier;
  rocksdb::WriteBatch batch;
  const std::string upper = "f";  // PrefixEnd("e")
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro, s.log));
  for (it->Seek("e"); it->Valid(); it->Next()) {
    if (it->key().size() != 9) return absl::DataLossError("unreadable audit log key");
    const uint64_t index = ReadU64(std::string_view(it->key().data() + 1, 8));
    const uint64_t position = frontier.size();
    std::string_view value(it->value().data(), it->value().size());
    if (index != position) {
      (void)batch.Delete(s.log, LogEventKey(index));
      (void)batch.Put(s.log, LogEventKey(position), rocksdb::Slice(value.data(), value.size()));
      std::string message_id = MessageIdOf(value);
      if (!message_id.empty()) {
        (void)batch.Delete(s.log, LogMessageKey(message_id, index));
        (void)batch.Put(s.log, LogMessageKey(message_id, position), "");
      }
      ++damage.events_moved;
    }
    for (const audit::Subtree& t : frontier.Append(audit::LeafHash(value))) {
      ASSIGN_OR_RETURN(std::optional<std::string> stored, s.Get(s.log, LogSubtreeKey(t.level, t.index)));
      if (stored != t.hash) {
        (void)batch.Put(s.log, LogSubtreeKey(t.level, t.index), t.hash);
        ++damage.hashes_rewritten;
      }
    }
    if (batch.Count() >= 10000) {
      RETURN_IF_ERROR(s.WriteUnsynced(batch, "repairing the audit log"));
      batch.Clear();
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the audit log"));
  damage.size_before = recorded_size;
  damage.size_after = frontier.size();
  if (damage.size_after < damage.size_before) {
    // Hashes of subtrees that reach past the events found are stale.
    for (uint32_t level = 0; level < 64; ++level) {
      (void)batch.DeleteRange(s.log, LogSubtreeKey(level, damage.size_after >> level),
                              LogSubtreeKey(level + 1, 0));
    }
  }
  if (!damage.empty()) {
    PutCounter(s, batch, kLogSizeKey, frontier.size());
    RETURN_IF_ERROR(s.Commit(batch, "repairing the audit log"));
  }
  absl::MutexLock lock(&s.log_mu);
  s.frontier = std::move(frontier);
  return absl::OkStatus();
}

}  // namespace

std::string LogPendingKey(uint64_t seq) { return KeyWithU64('q', seq); }
std::string LogEventKey(uint64_t index) { return KeyWithU64('e', index); }
std::string LogHeadKey(uint64_t tree_size) { return KeyWithU64('h', tree_size); }

std::string LogSubtreeKey(uint32_t level, uint64_t index) {
  std::string key = "n";
  key.push_back(static_cast<char>(level));
  AppendU64(key, index);
  return key;
}

std::string LogMessagePrefix(std::string_view message_id) {
  std::string key = "m";
  key.append(message_id);
  key.push_back('\0');
  return key;
}

std::string LogMessageKey(std::string_view message_id, uint64_t index) {
  std::string key = LogMessagePrefix(message_id);
  AppendU64(key, index);
  return key;
}

std::string LogWitnessKey(std::string_view child) { return absl::StrCat("w", std::string(child)); }

void AddEvent(StoreState& store, rocksdb::WriteBatch& batch, congvan::v1::AuditEvent event) {
  if (event.time().empty()) event.set_time(Rfc3339(store.options.now()));
  (void)batch.Put(store.log, LogPendingKey(store.next_event_seq.fetch_add(1)), event.SerializeAsString());
}

congvan::v1::AuditEvent DocumentEvent(congvan::v1::AuditEventKind kind, const congvan::v1::SignedMessage& document,
                                      std::string_view message_id, std::string_view agency) {
  congvan::v1::AuditEvent event;
  event.set_kind(kind);
  event.set_message_id(std::string(message_id));
  event.set_agency(std::string(agency));
  if (!document.body().empty()) {
    event.set_body_sha256(signer::Sha256(document.body()));
    event.set_signature_sha256(signer::Sha256(document.seal_signature()));
    event.set_signed_kind(document.kind());
  }
  return event;
}

absl::Status OpenLog(StoreState& store) {
  ASSIGN_OR_RETURN(uint64_t next_seq, NextSeq(store));
  store.next_event_seq = next_seq;
  ASSIGN_OR_RETURN(uint64_t recorded_size, ReadCounter(store, kLogSizeKey));
  return RederiveTree(store, recorded_size, store.log_damage);
}

absl::StatusOr<std::string> ReadSubtree(StoreState& store, uint32_t level, uint64_t index) {
  ASSIGN_OR_RETURN(std::optional<std::string> hash, store.Get(store.log, LogSubtreeKey(level, index)));
  if (!hash.has_value() || hash->size() != audit::kHashSize) {
    return absl::DataLossError(absl::StrCat("the audit log has no hash of subtree ", index, " at level ", level));
  }
  return *std::move(hash);
}

}  // namespace internal

using internal::StoreState;

std::string LogDamage::ToString() const {
  return absl::StrCat("the audit log recorded ", size_before, " events and holds ", size_after, "; ", events_moved,
                      " events were out of place and ", hashes_rewritten,
                      " stored hashes did not match: it was changed behind the node's back, and tree heads "
                      "signed before no longer match it");
}

absl::Status Store::RecordEvent(congvan::v1::AuditEvent event) {
  rocksdb::WriteBatch batch;
  internal::AddEvent(*state_, batch, std::move(event));
  return state_->Commit(batch, "logging an event");
}

absl::StatusOr<size_t> Store::IntegrateLog(size_t limit) {
  StoreState& s = *state_;
  absl::MutexLock lock(&s.log_mu);
  const std::string upper = "r";  // PrefixEnd("q")
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro, s.log));
  audit::MerkleFrontier frontier = s.frontier;
  rocksdb::WriteBatch batch;
  uint64_t last_seq = 0;
  size_t count = 0;
  for (it->Seek("q"); it->Valid() && count < limit; it->Next(), ++count) {
    const std::string key = internal::CopyOfRocksMemory(it->key());
    const std::string value = internal::CopyOfRocksMemory(it->value());
    if (key.size() != 9) return absl::DataLossError("unreadable pending audit event key");
    last_seq = internal::ReadU64(std::string_view(key.data() + 1, 8));
    const uint64_t index = frontier.size();
    for (const audit::Subtree& t : frontier.Append(audit::LeafHash(value))) {
      (void)batch.Put(s.log, internal::LogSubtreeKey(t.level, t.index), t.hash);
    }
    (void)batch.Put(s.log, internal::LogEventKey(index), value);
    std::string message_id = internal::MessageIdOf(value);
    if (!message_id.empty()) (void)batch.Put(s.log, internal::LogMessageKey(message_id, index), "");
    (void)batch.Delete(s.log, key);
  }
  RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading pending audit events"));
  if (count == 0) return 0;
  internal::PutCounter(s, batch, internal::kLogSizeKey, frontier.size());
  internal::PutCounter(s, batch, internal::kLogNextSeqKey, last_seq + 1);
  RETURN_IF_ERROR(s.Commit(batch, "appending to the audit log"));
  s.frontier = std::move(frontier);
  return count;
}

absl::StatusOr<uint64_t> Store::PendingEvents() {
  StoreState& s = *state_;
  const std::string upper = "r";
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro, s.log));
  uint64_t count = 0;
  for (it->Seek("q"); it->Valid(); it->Next()) ++count;
  RETURN_IF_ERROR(internal::FromRocks(it->status(), "counting pending audit events"));
  return count;
}

const LogDamage& Store::log_damage() const { return state_->log_damage; }

}  // namespace congvan::store
