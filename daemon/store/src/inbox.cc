// The inbox of each agency served at this node, and the statuses its clerks
// set.
#include "congvan/signer/status_macros.h"
#include "congvan/store/lifecycle.h"
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
    if (!internal::ParseRocksValue(r, it->value())) {
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
  RETURN_IF_ERROR(CheckStatusAllowed(r.entry(), status.answer.code()));
  rocksdb::WriteBatch batch;
  const bool accepted = status.answer.code() == congvan::v1::STATUS_CODE_RECALL_ACCEPTED;
  const bool refused = status.answer.code() == congvan::v1::STATUS_CODE_RECALL_REFUSED;
  if ((accepted || refused) && r.entry().state() == congvan::v1::DOCUMENT_STATE_RECALL_REQUESTED) {
    r.mutable_entry()->set_state(accepted ? congvan::v1::DOCUMENT_STATE_RECALLED : congvan::v1::DOCUMENT_STATE_ACTIVE);
  } else if (accepted || refused) {
    // An update or replacement: the earlier document changes (or not).
    const std::string earlier_key = internal::InboxKey(status.agency, r.entry().reference_message_id());
    records::InboxRecord earlier;
    ASSIGN_OR_RETURN(bool found, s.GetRecord(s.inbox, earlier_key, earlier));
    if (found) {
      congvan::v1::InboxEntry* e = earlier.mutable_entry();
      if (accepted) {
        e->set_superseded_by(status.message_id);
        if (e->state() != congvan::v1::DOCUMENT_STATE_RECALLED) {
          e->set_state(r.entry().action() == congvan::v1::BUSINESS_ACTION_REPLACE
                           ? congvan::v1::DOCUMENT_STATE_REPLACED
                           : congvan::v1::DOCUMENT_STATE_UPDATED);
        }
      } else if (e->superseded_by() == status.message_id &&
                 e->state() != congvan::v1::DOCUMENT_STATE_UPDATED &&
                 e->state() != congvan::v1::DOCUMENT_STATE_REPLACED) {
        e->clear_superseded_by();  // refused while pending: nothing changes
      }
      (void)batch.Put(s.inbox, earlier_key, earlier.SerializeAsString());
    }
  }
  r.mutable_entry()->set_status(status.answer.code());
  *r.mutable_latest_answer() = status.answer.signed_();
  (void)batch.Put(s.inbox, key, r.SerializeAsString());
  internal::DeliveryChanges states(s);
  bool added = false;
  RETURN_IF_ERROR(internal::AddAnswerTo(s, status, batch, states, &added));
  RETURN_IF_ERROR(internal::AddEntries(s, enqueue, batch, states));
  states.WriteInto(batch);
  return s.Commit(batch, "recording a status");
}

absl::StatusOr<bool> Store::RequestRecall(const std::string& agency, const Answer& request) {
  RETURN_IF_ERROR(internal::CheckId("agency", agency));
  RETURN_IF_ERROR(internal::CheckAnswer(request));
  if (request.answer.code() != congvan::v1::STATUS_CODE_RECALL_REQUESTED) {
    return absl::InvalidArgumentError("a recall request is a status 13");
  }
  StoreState& s = *state_;
  internal::ScopedMessageLocks locks(s.message_locks, {request.message_id});
  const std::string key = internal::InboxKey(agency, request.message_id);
  records::InboxRecord r;
  ASSIGN_OR_RETURN(bool found, s.GetRecord(s.inbox, key, r));
  if (!found) return absl::NotFoundError("message " + request.message_id + " is not in the inbox of " + agency);
  rocksdb::WriteBatch batch;
  internal::DeliveryChanges states(s);
  bool added = false;
  RETURN_IF_ERROR(internal::AddAnswerTo(s, request, batch, states, &added));
  if (!added) return false;  // the same request again
  if (r.entry().state() != congvan::v1::DOCUMENT_STATE_RECALLED) {
    r.mutable_entry()->set_state(congvan::v1::DOCUMENT_STATE_RECALL_REQUESTED);
  }
  r.mutable_entry()->set_recall_reason(request.answer.reason());
  (void)batch.Put(s.inbox, key, r.SerializeAsString());
  states.WriteInto(batch);
  RETURN_IF_ERROR(s.Commit(batch, "recording a recall request"));
  return true;
}

}  // namespace congvan::store
