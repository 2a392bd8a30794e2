// The durable outbox: queueing, the due list, and the outcome of attempts.
#include "congvan/store/outbox.h"

#include <algorithm>

#include "congvan/signer/status_macros.h"
#include "congvan/store/store.h"
#include "keys.h"
#include "log.h"
#include "ops.h"
#include "records.pb.h"
#include "state.h"

namespace congvan::store {

using internal::StoreState;
using records::OutboxRecord;

absl::Duration BackoffDelay(uint32_t attempts, absl::Duration base, absl::Duration max, double random) {
  absl::Duration delay = base;
  for (uint32_t i = 1; i < attempts && delay < max; ++i) delay *= 2;
  delay = std::min(delay, max);
  random = std::clamp(random, 0.0, 1.0);
  return delay * (0.5 + 0.5 * random);
}

namespace {

absl::Status CheckEntryId(const std::string& entry_id) {
  if (entry_id.find('\0') == std::string::npos) return absl::InvalidArgumentError("not an outbox entry id");
  return internal::CheckId("message id", internal::MessageIdOfEntry(entry_id));
}

absl::StatusOr<OutboxRecord> LoadEntry(StoreState& s, const std::string& entry_id) {
  OutboxRecord r;
  ASSIGN_OR_RETURN(bool found, s.GetRecord(s.outbox, internal::EntryKey(entry_id), r));
  if (!found) return absl::NotFoundError("no such outbox entry");
  return r;
}

// Takes the entry out of the due index (a no-op for a failed one).
void Undue(StoreState& s, const std::string& entry_id, const OutboxRecord& r, rocksdb::WriteBatch& batch) {
  if (r.state() == OutboxRecord::STATE_PENDING) {
    (void)batch.Delete(s.outbox, internal::DueKey(internal::FromMicros(r.next_attempt_us()), entry_id));
  }
}

// The event of a hop's outcome: a document (its sealed header's digests) or
// an answer carried on, to `r.peer()`, for the recipients it serves.
absl::StatusOr<congvan::v1::AuditEvent> HopEvent(StoreState& s, congvan::v1::AuditEventKind kind,
                                                 const OutboxRecord& r) {
  congvan::v1::SignedMessage carried;
  if (r.has_answer()) {
    carried = r.answer().answer();
  } else {
    // An entry always names a stored message; should it not, the event
    // still says what happened, without the digests.
    records::MessageRecord message;
    ASSIGN_OR_RETURN(bool found, s.GetRecord(s.messages, r.message_id(), message));
    if (found) carried = message.document().document();
  }
  congvan::v1::AuditEvent event = internal::DocumentEvent(kind, carried, r.message_id(), r.peer());
  *event.mutable_recipients() = r.recipients();
  return event;
}

void PutPending(StoreState& s, const std::string& entry_id, const OutboxRecord& r, rocksdb::WriteBatch& batch) {
  (void)batch.Put(s.outbox, internal::EntryKey(entry_id), r.SerializeAsString());
  (void)batch.Put(s.outbox, internal::DueKey(internal::FromMicros(r.next_attempt_us()), entry_id), "");
}

// One walk of the due index, registered in StoreState::due_walks from
// before its snapshot until it ends, so that every due key committed
// meanwhile is noted in it (StoreState::LowerDueFloor).
class DueWalk {
 public:
  explicit DueWalk(StoreState& s) : s_(s) {
    absl::MutexLock lock(&s_.due_mu);
    floor_ = s_.due_floor;
    id_ = s_.next_due_walk++;
    s_.due_walks.emplace(id_, std::string());
  }
  ~DueWalk() {
    absl::MutexLock lock(&s_.due_mu);
    s_.due_walks.erase(id_);
  }
  DueWalk(const DueWalk&) = delete;
  DueWalk& operator=(const DueWalk&) = delete;

  // Where the walk seeks: at or below every live due key.
  const std::string& floor() const { return floor_; }

  // Every live due key the snapshot held is at or above `first`; one
  // committed since the walk began is at or above the least noted in it.
  void Raise(std::string first) {
    absl::MutexLock lock(&s_.due_mu);
    const std::string& lowered = s_.due_walks[id_];
    if (!lowered.empty() && lowered < first) first = lowered;
    if (first > s_.due_floor) s_.due_floor = std::move(first);
  }

 private:
  StoreState& s_;
  std::string floor_;
  uint64_t id_ = 0;
};

}  // namespace

absl::Status Store::Enqueue(const std::vector<NewOutboxEntry>& entries) {
  StoreState& s = *state_;
  std::vector<std::string_view> ids;
  internal::AddMessageIds(entries, ids);
  internal::ScopedMessageLocks locks(s.message_locks, ids);
  rocksdb::WriteBatch batch;
  internal::DeliveryChanges states(s);
  RETURN_IF_ERROR(internal::AddEntries(s, entries, batch, states));
  if (batch.Count() == 0) return absl::OkStatus();
  states.WriteInto(batch);
  return s.Commit(batch, "queueing deliveries");
}

absl::StatusOr<std::vector<OutboxEntry>> Store::ListDue(absl::Time now, size_t limit,
                                                        const std::set<std::string, std::less<>>& skip,
                                                        const std::function<bool(std::string_view)>& wanted) {
  StoreState& s = *state_;
  // What was due and delivered before lies below the floor, as tombstones.
  // Read, and the walk registered, before the snapshot: a commit this walk
  // cannot see lowers the floor after this read and is noted in the walk.
  DueWalk walk(s);
  // One snapshot for the index and the entries: an entry moved or removed
  // meanwhile is seen in one state, never two.
  const rocksdb::Snapshot* snapshot = s.db->GetSnapshot();
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* snap;
    ~Release() { db->ReleaseSnapshot(snap); }
  } release{s.db.get(), snapshot};
  std::string upper = internal::DueUpperBound(now);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.iterate_upper_bound = &upper_slice;
  std::vector<OutboxEntry> due;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro, s.outbox));
  it->Seek(walk.floor());
  // The first key met (skipped or not) is where the next walk may begin;
  // none: every live due key is later than `now`, at or above `upper`.
  std::string first = it->Valid() ? it->key().ToString() : upper;
  for (; it->Valid() && due.size() < limit; it->Next()) {
    // Most keys are passed over under load: they are looked at in place.
    const rocksdb::Slice key = it->key();
    if (key.size() <= internal::kDueKeyHeader) return absl::DataLossError("unreadable outbox due index key");
    const std::string_view id(key.data() + internal::kDueKeyHeader, key.size() - internal::kDueKeyHeader);
    if (skip.find(id) != skip.end()) continue;
    // An entry for a hop not wanted now is passed over unread.
    if (wanted && !wanted(internal::PeerOfEntry(id))) continue;
    std::string entry_id(id);
    OutboxRecord r;
    ASSIGN_OR_RETURN(bool found, s.GetRecord(s.outbox, internal::EntryKey(entry_id), r, snapshot));
    if (found && r.state() == OutboxRecord::STATE_PENDING) due.push_back(internal::ToEntry(std::move(entry_id), r));
  }
  RETURN_IF_ERROR(internal::FromRocks(it->status(), "listing the outbox"));
  walk.Raise(std::move(first));
  return due;
}

absl::StatusOr<std::vector<OutboxEntry>> Store::ListOutbox(const std::string& message_id) {
  RETURN_IF_ERROR(internal::CheckId("message id", message_id));
  StoreState& s = *state_;
  std::string prefix = internal::EntryPrefix(message_id);
  std::string upper = internal::PrefixEnd(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::vector<OutboxEntry> entries;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro, s.outbox));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    OutboxRecord r;
    if (!internal::ParseRocksValue(r, it->value())) {
      return absl::DataLossError("unreadable outbox entry");
    }
    entries.push_back(internal::ToEntry(it->key().ToString().substr(1), r));
  }
  RETURN_IF_ERROR(internal::FromRocks(it->status(), "listing the outbox"));
  return entries;
}

absl::StatusOr<std::vector<OutboxEntry>> Store::ListFailed(size_t limit) {
  StoreState& s = *state_;
  const std::string prefix = "e";
  const std::string upper = internal::PrefixEnd(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::vector<OutboxEntry> failed;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro, s.outbox));
  for (it->Seek(prefix); it->Valid() && failed.size() < limit; it->Next()) {
    OutboxRecord r;
    if (!internal::ParseRocksValue(r, it->value())) {
      return absl::DataLossError("unreadable outbox entry");
    }
    if (r.state() == OutboxRecord::STATE_FAILED) failed.push_back(internal::ToEntry(it->key().ToString().substr(1), r));
  }
  RETURN_IF_ERROR(internal::FromRocks(it->status(), "listing failed deliveries"));
  return failed;
}

absl::Status Store::MarkDelivered(const std::string& entry_id, const std::vector<Answer>& receipts,
                                  const std::vector<NewOutboxEntry>& enqueue) {
  RETURN_IF_ERROR(CheckEntryId(entry_id));
  std::string_view message_id = internal::MessageIdOfEntry(entry_id);
  for (const Answer& a : receipts) {
    RETURN_IF_ERROR(internal::CheckAnswer(a));
    if (a.message_id != message_id) return absl::InvalidArgumentError("a receipt names another message");
  }
  StoreState& s = *state_;
  std::vector<std::string_view> ids{message_id};
  internal::AddMessageIds(enqueue, ids);
  internal::ScopedMessageLocks locks(s.message_locks, ids);
  ASSIGN_OR_RETURN(OutboxRecord r, LoadEntry(s, entry_id));
  rocksdb::WriteBatch batch;
  Undue(s, entry_id, r, batch);
  (void)batch.Delete(s.outbox, internal::EntryKey(entry_id));
  internal::DeliveryChanges states(s);
  // A relay took the recipients it answered no receipt for: in transit.
  for (const std::string& recipient : r.recipients()) RETURN_IF_ERROR(states.Forward(message_id, recipient, r.peer()));
  for (const Answer& a : receipts) {
    bool added = false;
    RETURN_IF_ERROR(internal::AddAnswerTo(s, a, batch, states, &added));
  }
  RETURN_IF_ERROR(internal::AddEntries(s, enqueue, batch, states));
  states.WriteInto(batch);
  ASSIGN_OR_RETURN(congvan::v1::AuditEvent event, HopEvent(s, congvan::v1::AUDIT_EVENT_FORWARDED, r));
  internal::AddEvent(s, batch, std::move(event));
  return s.Commit(batch, "recording a delivery");
}

absl::Status Store::MarkRetry(const std::string& entry_id, absl::Time next_attempt, const std::string& error) {
  RETURN_IF_ERROR(CheckEntryId(entry_id));
  StoreState& s = *state_;
  internal::ScopedMessageLocks locks(s.message_locks, {internal::MessageIdOfEntry(entry_id)});
  ASSIGN_OR_RETURN(OutboxRecord r, LoadEntry(s, entry_id));
  if (r.state() != OutboxRecord::STATE_PENDING) {
    return absl::FailedPreconditionError("the outbox entry has failed; re-arm it first");
  }
  rocksdb::WriteBatch batch;
  Undue(s, entry_id, r, batch);
  r.set_attempts(r.attempts() + 1);
  r.set_last_error(error);
  r.set_next_attempt_us(internal::ToMicros(next_attempt));
  PutPending(s, entry_id, r, batch);
  return s.Commit(batch, "recording a failed attempt");
}

absl::Status Store::MarkFailed(const std::string& entry_id, const std::string& reason,
                              const std::vector<NewOutboxEntry>& enqueue) {
  RETURN_IF_ERROR(CheckEntryId(entry_id));
  StoreState& s = *state_;
  std::string_view message_id = internal::MessageIdOfEntry(entry_id);
  std::vector<std::string_view> ids{message_id};
  internal::AddMessageIds(enqueue, ids);
  internal::ScopedMessageLocks locks(s.message_locks, ids);
  ASSIGN_OR_RETURN(OutboxRecord r, LoadEntry(s, entry_id));
  rocksdb::WriteBatch batch;
  Undue(s, entry_id, r, batch);
  r.set_state(OutboxRecord::STATE_FAILED);
  r.set_failure(reason);
  (void)batch.Put(s.outbox, internal::EntryKey(entry_id), r.SerializeAsString());
  internal::DeliveryChanges states(s);
  for (const std::string& recipient : r.recipients()) RETURN_IF_ERROR(states.Fail(message_id, recipient, reason));
  RETURN_IF_ERROR(internal::AddEntries(s, enqueue, batch, states));
  states.WriteInto(batch);
  ASSIGN_OR_RETURN(congvan::v1::AuditEvent event, HopEvent(s, congvan::v1::AUDIT_EVENT_DELIVERY_FAILED, r));
  event.set_detail(reason);
  internal::AddEvent(s, batch, std::move(event));
  return s.Commit(batch, "recording a failed delivery");
}

absl::Status Store::Rearm(const std::string& entry_id, absl::Time next_attempt, absl::Time deadline) {
  RETURN_IF_ERROR(CheckEntryId(entry_id));
  StoreState& s = *state_;
  std::string_view message_id = internal::MessageIdOfEntry(entry_id);
  internal::ScopedMessageLocks locks(s.message_locks, {message_id});
  ASSIGN_OR_RETURN(OutboxRecord r, LoadEntry(s, entry_id));
  if (r.state() != OutboxRecord::STATE_FAILED) {
    return absl::FailedPreconditionError("only a failed outbox entry can be re-armed");
  }
  rocksdb::WriteBatch batch;
  r.set_state(OutboxRecord::STATE_PENDING);
  r.clear_failure();
  r.set_attempts(0);  // back-off starts over
  r.set_next_attempt_us(internal::ToMicros(next_attempt));
  r.set_deadline_us(internal::ToMicros(deadline));
  PutPending(s, entry_id, r, batch);
  internal::DeliveryChanges states(s);
  for (const std::string& recipient : r.recipients()) RETURN_IF_ERROR(states.Queue(message_id, recipient));
  states.WriteInto(batch);
  return s.Commit(batch, "re-arming a delivery");
}

}  // namespace congvan::store
