// Issuing (DESIGN.md "Flows" 2): the next number of the outgoing register,
// the sealed header, the message, its parts and its deliveries in one synced
// write.
#include "congvan/signer/status_macros.h"
#include "congvan/store/store.h"
#include "keys.h"
#include "log.h"
#include "ops.h"
#include "records.pb.h"
#include "state.h"

namespace congvan::store {

using internal::StoreState;

namespace {

absl::StatusOr<uint64_t> ReadNumber(StoreState& s, const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, s.Get(s.registers, key));
  if (!value.has_value()) return 0;
  if (value->size() != 8) return absl::DataLossError("unreadable outgoing register");
  return internal::ReadU64(*value);
}

// The document parsed from what the builder sealed, checked against the
// number it was given.
absl::StatusOr<congvan::v1::DocumentHeader> CheckIssued(const IssueRequest& request, uint64_t number,
                                                        const IssuedDocument& issued) {
  const congvan::v1::SignedMessage& doc = issued.document.document();
  congvan::v1::DocumentHeader header;
  if (doc.kind() != congvan::v1::MESSAGE_KIND_DOCUMENT || !header.ParseFromString(doc.body())) {
    return absl::InvalidArgumentError("the issued document is not a DOCUMENT with a readable header");
  }
  RETURN_IF_ERROR(internal::CheckId("message id", header.message_id()));
  if (header.registration().year() != request.year || header.registration().number() != number ||
      header.from_agency() != request.agency) {
    return absl::InvalidArgumentError("the issued header does not carry the agency, year and number taken");
  }
  for (const NewOutboxEntry& e : issued.deliveries) {
    if (e.message_id != header.message_id()) {
      return absl::InvalidArgumentError("a delivery names another message than the one issued");
    }
  }
  return header;
}

}  // namespace

absl::StatusOr<IssueResult> Store::Issue(const IssueRequest& request, IssueBuilder build) {
  RETURN_IF_ERROR(internal::CheckId("issuing agency", request.agency));
  if (request.year == 0) return absl::InvalidArgumentError("issuing needs a year");
  if (request.upload == nullptr || UploadOf(*request.upload).store != state_.get()) {
    return absl::InvalidArgumentError("issuing needs an upload of this store");
  }
  internal::UploadState& upload = UploadOf(*request.upload);
  if (upload.phase != internal::UploadState::Phase::kFinished) {
    return absl::FailedPreconditionError("the upload is not finished");
  }
  StoreState& s = *state_;

  // Held across build and write: the number is consumed only by a
  // successful write, and no later number can be written before it.
  absl::MutexLock register_lock(&s.register_mu);
  const std::string register_key = internal::RegisterKey(request.agency, request.year);
  ASSIGN_OR_RETURN(uint64_t last, ReadNumber(s, register_key));
  const uint64_t number = last + 1;
  ASSIGN_OR_RETURN(IssuedDocument issued, build(number));
  ASSIGN_OR_RETURN(congvan::v1::DocumentHeader header, CheckIssued(request, number, issued));
  RETURN_IF_ERROR(upload.CheckCommittable(header));
  const std::string& message_id = header.message_id();

  std::vector<std::string_view> ids{message_id};
  internal::AddMessageIds(issued.deliveries, ids);
  internal::ScopedMessageLocks locks(s.message_locks, ids);
  ASSIGN_OR_RETURN(std::optional<std::string> existing, s.Get(s.messages, message_id));
  if (existing.has_value()) return absl::AlreadyExistsError("message " + message_id + " is already stored");

  congvan::v1::AuditEvent event = internal::DocumentEvent(
      congvan::v1::AUDIT_EVENT_ISSUED, issued.document.document(), message_id, request.agency);
  event.set_time(internal::Rfc3339(request.issued_at));
  *event.mutable_recipients() = header.recipients();
  records::MessageRecord record;
  *record.mutable_document() = std::move(issued.document);
  record.set_upload_id(upload.id);
  internal::AddPartRecords(upload, record.mutable_parts());
  record.set_issued_here(true);
  record.set_stored_at_us(internal::ToMicros(request.issued_at));

  rocksdb::WriteBatch batch = upload.CommitBatch();
  std::string value;
  internal::AppendU64(value, number);
  (void)batch.Put(s.registers, register_key, value);
  (void)batch.Put(s.messages, message_id, record.SerializeAsString());
  internal::DeliveryChanges states(s);
  RETURN_IF_ERROR(internal::AddEntries(s, issued.deliveries, batch, states));
  states.WriteInto(batch);
  internal::AddEvent(s, batch, std::move(event));
  RETURN_IF_ERROR(s.Commit(batch, "issuing message " + message_id));
  upload.Committed();
  return IssueResult{message_id, request.year, number};
}

absl::StatusOr<uint64_t> Store::LastNumber(const std::string& agency, uint32_t year) {
  RETURN_IF_ERROR(internal::CheckId("agency", agency));
  return ReadNumber(*state_, internal::RegisterKey(agency, year));
}

}  // namespace congvan::store
