#include "ops.h"

#include <utility>

#include "congvan/signer/cms.h"
#include "congvan/signer/status_macros.h"
#include "keys.h"
#include "log.h"

namespace congvan::store::internal {

using congvan::v1::DeliveryState;

absl::StatusOr<records::DeliveryRecord*> DeliveryChanges::Load(std::string_view message_id,
                                                              std::string_view agency) {
  std::string key = DeliveryKey(message_id, agency);
  auto it = changed_.find(key);
  if (it != changed_.end()) return &it->second;
  records::DeliveryRecord record;
  ASSIGN_OR_RETURN(bool found, store_.GetRecord(store_.answers, key, record));
  (void)found;
  return &changed_.emplace(std::move(key), std::move(record)).first->second;
}

absl::Status DeliveryChanges::Queue(std::string_view message_id, std::string_view agency) {
  ASSIGN_OR_RETURN(records::DeliveryRecord * r, Load(message_id, agency));
  if (r->state() == DeliveryState::DELIVERY_STATE_DELIVERED) return absl::OkStatus();
  r->set_state(DeliveryState::DELIVERY_STATE_QUEUED);
  r->clear_failure();
  r->clear_via();
  return absl::OkStatus();
}

absl::Status DeliveryChanges::Forward(std::string_view message_id, std::string_view agency, std::string_view via) {
  ASSIGN_OR_RETURN(records::DeliveryRecord * r, Load(message_id, agency));
  if (r->state() == DeliveryState::DELIVERY_STATE_DELIVERED) return absl::OkStatus();
  r->set_state(DeliveryState::DELIVERY_STATE_IN_TRANSIT);
  r->clear_failure();
  r->set_via(std::string(via));
  return absl::OkStatus();
}

absl::Status DeliveryChanges::Fail(std::string_view message_id, std::string_view agency,
                                   const std::string& reason) {
  ASSIGN_OR_RETURN(records::DeliveryRecord * r, Load(message_id, agency));
  if (r->state() == DeliveryState::DELIVERY_STATE_DELIVERED) return absl::OkStatus();
  r->set_state(DeliveryState::DELIVERY_STATE_FAILED);
  r->set_failure(reason);
  return absl::OkStatus();
}

absl::Status DeliveryChanges::Deliver(std::string_view message_id, std::string_view agency) {
  ASSIGN_OR_RETURN(records::DeliveryRecord * r, Load(message_id, agency));
  r->set_state(DeliveryState::DELIVERY_STATE_DELIVERED);
  r->clear_failure();
  r->clear_via();
  return absl::OkStatus();
}

void DeliveryChanges::WriteInto(rocksdb::WriteBatch& batch) const {
  for (const auto& [key, record] : changed_) {
    // A Put into a WriteBatch fails only past its size limit, which is unset.
    (void)batch.Put(store_.answers, key, record.SerializeAsString());
  }
}

void AddMessageIds(const std::vector<NewOutboxEntry>& entries, std::vector<std::string_view>& ids) {
  for (const NewOutboxEntry& e : entries) ids.push_back(e.message_id);
}

namespace {

absl::Status CheckEntry(const NewOutboxEntry& e) {
  RETURN_IF_ERROR(CheckId("outbox peer", e.peer));
  RETURN_IF_ERROR(CheckId("outbox message id", e.message_id));
  if (e.answer.has_value() == !e.recipients.empty()) {
    return absl::InvalidArgumentError("an outbox entry carries either recipients or an answer");
  }
  for (const std::string& r : e.recipients) RETURN_IF_ERROR(CheckId("recipient", r));
  if (e.answer.has_value() && e.answer->answer().body().empty()) {
    return absl::InvalidArgumentError("an outbox answer has no body");
  }
  return absl::OkStatus();
}

std::string EntryIdOf(const NewOutboxEntry& e) {
  if (e.answer.has_value()) {
    return AnswerEntryId(e.message_id, e.peer, signer::Sha256(e.answer->answer().body()), e.answer->to_agency());
  }
  return DocumentEntryId(e.message_id, e.peer);
}

}  // namespace

absl::Status AddEntries(StoreState& store, const std::vector<NewOutboxEntry>& entries,
                        rocksdb::WriteBatch& batch, DeliveryChanges& states) {
  std::set<std::string> ids;
  for (const NewOutboxEntry& e : entries) {
    RETURN_IF_ERROR(CheckEntry(e));
    std::string id = EntryIdOf(e);
    if (!ids.insert(id).second) {
      return absl::InvalidArgumentError("two outbox entries for message " + e.message_id + " to peer " + e.peer);
    }
    ASSIGN_OR_RETURN(std::optional<std::string> existing, store.Get(store.outbox, EntryKey(id)));
    if (existing.has_value()) {
      if (e.answer.has_value()) continue;  // the same answer to the same peer: queued already
      return absl::AlreadyExistsError("message " + e.message_id + " is already queued for " + e.peer);
    }
    records::OutboxRecord r;
    r.set_peer(e.peer);
    r.set_message_id(e.message_id);
    for (const std::string& recipient : e.recipients) {
      r.add_recipients(recipient);
      RETURN_IF_ERROR(states.Queue(e.message_id, recipient));
    }
    if (e.answer.has_value()) *r.mutable_answer() = *e.answer;
    r.set_next_attempt_us(ToMicros(e.next_attempt));
    r.set_deadline_us(ToMicros(e.deadline));
    r.set_state(records::OutboxRecord::STATE_PENDING);
    (void)batch.Put(store.outbox, EntryKey(id), r.SerializeAsString());
    (void)batch.Put(store.outbox, DueKey(e.next_attempt, id), "");
  }
  return absl::OkStatus();
}

absl::Status CheckAnswer(const Answer& answer) {
  RETURN_IF_ERROR(CheckId("answer message id", answer.message_id));
  RETURN_IF_ERROR(CheckId("answering agency", answer.agency));
  if (answer.answer.signed_().body().empty()) return absl::InvalidArgumentError("the answer has no body");
  return absl::OkStatus();
}

absl::Status AddAnswerTo(StoreState& store, const Answer& answer, rocksdb::WriteBatch& batch,
                         DeliveryChanges& states, bool* added) {
  RETURN_IF_ERROR(CheckAnswer(answer));
  std::string key = AnswerKey(answer.message_id, answer.agency, signer::Sha256(answer.answer.signed_().body()));
  ASSIGN_OR_RETURN(std::optional<std::string> existing, store.Get(store.answers, key));
  *added = !existing.has_value();
  if (!*added) return absl::OkStatus();
  records::AnswerRecord r;
  *r.mutable_answer() = answer.answer;
  (void)batch.Put(store.answers, key, r.SerializeAsString());
  congvan::v1::AuditEvent event =
      DocumentEvent(congvan::v1::AUDIT_EVENT_ANSWER, answer.answer.signed_(), answer.message_id, answer.agency);
  event.set_code(answer.answer.code());
  AddEvent(store, batch, std::move(event));
  if (answer.answer.signed_().kind() == congvan::v1::MESSAGE_KIND_RECEIPT) {
    RETURN_IF_ERROR(states.Deliver(answer.message_id, answer.agency));
  }
  if (answer.answer.signed_().kind() == congvan::v1::MESSAGE_KIND_DELIVERY_REPORT) {
    for (const std::string& recipient : answer.failed_recipients) {
      RETURN_IF_ERROR(CheckId("reported recipient", recipient));
      RETURN_IF_ERROR(states.Fail(answer.message_id, recipient, answer.answer.reason()));
    }
  }
  return absl::OkStatus();
}

OutboxEntry ToEntry(std::string id, const records::OutboxRecord& r) {
  OutboxEntry e;
  e.id = std::move(id);
  e.peer = r.peer();
  e.message_id = r.message_id();
  e.recipients.assign(r.recipients().begin(), r.recipients().end());
  if (r.has_answer()) e.answer = r.answer();
  e.next_attempt = FromMicros(r.next_attempt_us());
  e.deadline = FromMicros(r.deadline_us());
  e.attempts = r.attempts();
  e.last_error = r.last_error();
  e.state = r.state() == records::OutboxRecord::STATE_FAILED ? OutboxState::kFailed : OutboxState::kPending;
  e.failure = r.failure();
  return e;
}

Answer ToAnswer(std::string_view message_id, std::string_view agency, const records::AnswerRecord& r) {
  return Answer{std::string(message_id), std::string(agency), r.answer()};
}

}  // namespace congvan::store::internal
