// The inbox of each agency served at this node, and the statuses its clerks
// set.
#include "congvan/signer/status_macros.h"
#include "congvan/store/store.h"
#include "keys.h"
#include "ops.h"
#include "records.pb.h"
#include "state.h"

namespace congvan::store {

using internal::StoreState;

namespace {

InboxItem ToItem(const records::InboxRecord& r) { return InboxItem{r.entry(), r.latest_answer()}; }

}  // namespace

absl::StatusOr<std::vector<InboxItem>> Store::ListInbox(const InboxQuery& query) {
  RETURN_IF_ERROR(internal::CheckId("agency", query.agency));
  if (!query.before.empty()) RETURN_IF_ERROR(internal::CheckId("message id", query.before));
  StoreState& s = *state_;
  std::string prefix = internal::InboxPrefix(query.agency);
  std::string start = query.before.empty() ? internal::PrefixEnd(prefix)
                                           : internal::InboxKey(query.agency, query.before);
  rocksdb::Slice lower(prefix);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower;
  std::vector<InboxItem> items;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro, s.inbox));
  it->SeekForPrev(start);
  if (it->Valid() && it->key() == rocksdb::Slice(start)) it->Prev();  // `before` itself is excluded
  for (; it->Valid() && items.size() < query.limit; it->Prev()) {
    records::InboxRecord r;
    if (!r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("unreadable inbox entry");
    }
    items.push_back(ToItem(r));
  }
  RETURN_IF_ERROR(internal::FromRocks(it->status(), "listing the inbox"));
  return items;
}

absl::StatusOr<InboxItem> Store::GetInboxItem(const std::string& agency, const std::string& message_id) {
  RETURN_IF_ERROR(internal::CheckId("agency", agency));
  RETURN_IF_ERROR(internal::CheckId("message id", message_id));
  records::InboxRecord r;
  ASSIGN_OR_RETURN(bool found, state_->GetRecord(state_->inbox, internal::InboxKey(agency, message_id), r));
  if (!found) return absl::NotFoundError("message " + message_id + " is not in the inbox of " + agency);
  return ToItem(r);
}

absl::Status Store::SetInboxStatus(const Answer& status, const std::vector<NewOutboxEntry>& enqueue) {
  RETURN_IF_ERROR(internal::CheckAnswer(status));
  StoreState& s = *state_;
  std::vector<std::string_view> ids{status.message_id};
  internal::AddMessageIds(enqueue, ids);
  internal::ScopedMessageLocks locks(s.message_locks, ids);
  const std::string key = internal::InboxKey(status.agency, status.message_id);
  records::InboxRecord r;
  ASSIGN_OR_RETURN(bool found, s.GetRecord(s.inbox, key, r));
  if (!found) {
    return absl::NotFoundError("message " + status.message_id + " is not in the inbox of " + status.agency);
  }
  r.mutable_entry()->set_status(status.answer.code());
  *r.mutable_latest_answer() = status.answer.signed_();
  rocksdb::WriteBatch batch;
  (void)batch.Put(s.inbox, key, r.SerializeAsString());
  internal::DeliveryChanges states(s);
  bool added = false;
  RETURN_IF_ERROR(internal::AddAnswerTo(s, status, batch, states, &added));
  RETURN_IF_ERROR(internal::AddEntries(s, enqueue, batch, states));
  states.WriteInto(batch);
  return s.Commit(batch, "recording a status");
}

}  // namespace congvan::store
