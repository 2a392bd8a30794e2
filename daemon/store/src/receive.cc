// Receiving (DESIGN.md "Flows" 3): the message, its parts, the inbox entries
// and receipts of the final recipients here, the dedup record and the
// forwards, in one synced write; a known message id answers its original
// receipts instead.
#include <set>

#include "absl/time/time.h"
#include "congvan/signer/status_macros.h"
#include "congvan/store/lifecycle.h"
#include "congvan/store/store.h"
#include "keys.h"
#include "log.h"
#include "ops.h"
#include "records.pb.h"
#include "state.h"

namespace congvan::store {

using internal::StoreState;

namespace {

absl::StatusOr<congvan::v1::DocumentHeader> CheckReceived(const ReceiveRequest& request) {
  const congvan::v1::SignedMessage& doc = request.document.document();
  congvan::v1::DocumentHeader header;
  if (doc.kind() != congvan::v1::MESSAGE_KIND_DOCUMENT || !header.ParseFromString(doc.body())) {
    return absl::InvalidArgumentError("the received document is not a DOCUMENT with a readable header");
  }
  RETURN_IF_ERROR(internal::CheckId("message id", header.message_id()));
  for (const std::string& agency : request.served) RETURN_IF_ERROR(internal::CheckId("served agency", agency));
  std::set<std::string> local;
  for (const LocalDelivery& d : request.local) {
    RETURN_IF_ERROR(internal::CheckId("recipient", d.recipient));
    if (!local.insert(d.recipient).second) {
      return absl::InvalidArgumentError("recipient " + d.recipient + " is listed twice");
    }
    if (d.receipt.signed_().body().empty()) {
      return absl::InvalidArgumentError("the receipt of " + d.recipient + " has no body");
    }
  }
  for (const NewOutboxEntry& e : request.forward) {
    if (e.message_id != header.message_id()) {
      return absl::InvalidArgumentError("a forward names another message than the one received");
    }
  }
  return header;
}

records::InboxRecord InboxRecordOf(const congvan::v1::DocumentHeader& header, const LocalDelivery& d,
                                   absl::Time received_at) {
  records::InboxRecord r;
  congvan::v1::InboxEntry* e = r.mutable_entry();
  e->set_message_id(header.message_id());
  e->set_from_agency(header.from_agency());
  e->set_from_name(header.from_name());
  e->set_subject(header.subject());
  e->set_number(header.registration().number());
  e->set_notation(header.registration().notation());
  e->set_received_at(internal::Rfc3339(received_at));
  e->set_status(d.receipt.code());
  e->set_action(header.action());
  e->set_reference_message_id(header.reference().message_id());
  e->set_state(congvan::v1::DOCUMENT_STATE_ACTIVE);
  *r.mutable_latest_answer() = d.receipt.signed_();
  return r;
}

}  // namespace

absl::StatusOr<ReceiveResult> Store::Receive(const ReceiveRequest& request) {
  if (request.upload == nullptr || UploadOf(*request.upload).store != state_.get()) {
    return absl::InvalidArgumentError("receiving needs an upload of this store");
  }
  internal::UploadState& upload = UploadOf(*request.upload);
  ASSIGN_OR_RETURN(congvan::v1::DocumentHeader header, CheckReceived(request));
  const std::string& message_id = header.message_id();
  StoreState& s = *state_;

  std::vector<std::string_view> ids{message_id};
  internal::AddMessageIds(request.forward, ids);
  internal::ScopedMessageLocks locks(s.message_locks, ids);
  records::DedupRecord dedup;
  ASSIGN_OR_RETURN(bool known, s.GetRecord(s.dedup, message_id, dedup));
  if (known) {
    // A redelivery: answer as the first time. The upload's data is garbage;
    // should discarding it fail, the next Open collects it.
    (void)request.upload->Abort();
    return ReceiveResult{true, {dedup.receipts().begin(), dedup.receipts().end()}};
  }
  ASSIGN_OR_RETURN(std::optional<std::string> issued, s.Get(s.messages, message_id));
  if (issued.has_value()) {
    return absl::AlreadyExistsError("message " + message_id + " was issued by this node");
  }
  RETURN_IF_ERROR(upload.CheckCommittable(header));

  records::MessageRecord record;
  *record.mutable_document() = request.document;
  record.set_upload_id(upload.id);
  internal::AddPartRecords(upload, record.mutable_parts());
  record.set_issued_here(false);
  record.set_stored_at_us(internal::ToMicros(request.received_at));

  rocksdb::WriteBatch batch = upload.CommitBatch();
  (void)batch.Put(s.messages, message_id, record.SerializeAsString());
  internal::DeliveryChanges states(s);
  for (const std::string& agency : request.served) dedup.add_served(agency);
  for (const LocalDelivery& d : request.local) {
    records::InboxRecord entry = InboxRecordOf(header, d, request.received_at);
    (void)batch.Put(s.inbox, internal::InboxKey(d.recipient, message_id), entry.SerializeAsString());
    if (Supersedes(entry.entry())) {
      // The earlier document shows that an update or replacement waits for
      // the clerk's 15 or 16.
      const std::string earlier_key = internal::InboxKey(d.recipient, entry.entry().reference_message_id());
      records::InboxRecord earlier;
      ASSIGN_OR_RETURN(bool found, s.GetRecord(s.inbox, earlier_key, earlier));
      if (found) {
        earlier.mutable_entry()->set_superseded_by(message_id);
        (void)batch.Put(s.inbox, earlier_key, earlier.SerializeAsString());
      }
    }
    bool added = false;
    RETURN_IF_ERROR(internal::AddAnswerTo(s, Answer{message_id, d.recipient, d.receipt}, batch, states, &added));
    *dedup.add_receipts() = d.receipt.signed_();
  }
  (void)batch.Put(s.dedup, message_id, dedup.SerializeAsString());
  RETURN_IF_ERROR(internal::AddEntries(s, request.forward, batch, states));
  states.WriteInto(batch);
  congvan::v1::AuditEvent event =
      internal::DocumentEvent(congvan::v1::AUDIT_EVENT_RECEIVED, request.document.document(), message_id, request.from);
  event.set_time(internal::Rfc3339(request.received_at));
  *event.mutable_recipients() = {request.served.begin(), request.served.end()};
  internal::AddEvent(s, batch, std::move(event));
  RETURN_IF_ERROR(s.Commit(batch, "storing received message " + message_id));
  upload.Committed();
  return ReceiveResult{false, {dedup.receipts().begin(), dedup.receipts().end()}};
}

absl::StatusOr<std::optional<std::vector<congvan::v1::SignedMessage>>> Store::KnownReceipts(
    const std::string& message_id) {
  RETURN_IF_ERROR(internal::CheckId("message id", message_id));
  records::DedupRecord dedup;
  ASSIGN_OR_RETURN(bool known, state_->GetRecord(state_->dedup, message_id, dedup));
  if (!known) return std::nullopt;
  return std::vector<congvan::v1::SignedMessage>(dedup.receipts().begin(), dedup.receipts().end());
}

}  // namespace congvan::store
