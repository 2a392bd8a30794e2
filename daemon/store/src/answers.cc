// Receipts and statuses about a message, and the track view built from them
// and from the recipients' delivery states.
#include <algorithm>
#include <map>
#include <tuple>

#include "congvan/signer/status_macros.h"
#include "congvan/store/store.h"
#include "keys.h"
#include "ops.h"
#include "records.pb.h"
#include "state.h"

namespace congvan::store {

using internal::StoreState;

absl::StatusOr<bool> Store::AddAnswer(const Answer& answer, const std::vector<NewOutboxEntry>& enqueue) {
  RETURN_IF_ERROR(internal::CheckAnswer(answer));
  StoreState& s = *state_;
  std::vector<std::string_view> ids{answer.message_id};
  internal::AddMessageIds(enqueue, ids);
  internal::ScopedMessageLocks locks(s.message_locks, ids);
  rocksdb::WriteBatch batch;
  internal::DeliveryChanges states(s);
  bool added = false;
  RETURN_IF_ERROR(internal::AddAnswerTo(s, answer, batch, states, &added));
  if (!added) return false;
  RETURN_IF_ERROR(internal::AddEntries(s, enqueue, batch, states));
  states.WriteInto(batch);
  RETURN_IF_ERROR(s.Commit(batch, "storing an answer"));
  return true;
}

absl::StatusOr<std::vector<Answer>> Store::ListAnswers(const std::string& message_id) {
  RETURN_IF_ERROR(internal::CheckId("message id", message_id));
  StoreState& s = *state_;
  std::string prefix = internal::AnswerPrefix(message_id);
  std::string upper = internal::PrefixEnd(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::vector<Answer> answers;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro, s.answers));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    // key: prefix <agency> NUL <sha256:32>
    std::string_view key(it->key().data(), it->key().size());
    if (key.size() < prefix.size() + 33) return absl::DataLossError("unreadable answer key");
    std::string_view agency = key.substr(prefix.size(), key.size() - prefix.size() - 33);
    records::AnswerRecord r;
    if (!internal::ParseRocksValue(r, it->value())) {
      return absl::DataLossError("unreadable answer");
    }
    answers.push_back(internal::ToAnswer(message_id, agency, r));
  }
  RETURN_IF_ERROR(internal::FromRocks(it->status(), "listing answers"));
  std::stable_sort(answers.begin(), answers.end(), [](const Answer& a, const Answer& b) {
    // Times have whole seconds: within one second, the status codes' own
    // order (01 arrived before 03 accepted) is the order they were given.
    const int code_a = a.answer.code(), code_b = b.answer.code();
    return std::tie(a.agency, a.answer.time(), code_a) < std::tie(b.agency, b.answer.time(), code_b);
  });
  return answers;
}

absl::StatusOr<congvan::v1::TrackResponse> Store::Track(const std::string& message_id) {
  ASSIGN_OR_RETURN(StoredMessage message, GetMessage(message_id));
  StoreState& s = *state_;
  congvan::v1::TrackResponse track;
  track.set_message_id(message_id);
  track.set_number(message.header.registration().number());
  // Recipients in header order; any other agency that answered after them.
  std::map<std::string, congvan::v1::RecipientTrack*> by_agency;
  auto recipient = [&](const std::string& agency) {
    auto [it, inserted] = by_agency.emplace(agency, nullptr);
    if (inserted) {
      it->second = track.add_recipients();
      it->second->set_agency(agency);
    }
    return it->second;
  };
  for (const std::string& agency : message.header.recipients()) recipient(agency);

  std::string prefix = internal::DeliveryPrefix(message_id);
  std::string upper = internal::PrefixEnd(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro, s.answers));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    records::DeliveryRecord r;
    if (!internal::ParseRocksValue(r, it->value())) {
      return absl::DataLossError("unreadable delivery state");
    }
    congvan::v1::RecipientTrack* t = recipient(it->key().ToString().substr(prefix.size()));
    t->set_state(r.state());
    t->set_failure(r.failure());
    t->set_via(r.via());
  }
  RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading delivery states"));

  ASSIGN_OR_RETURN(std::vector<Answer> answers, ListAnswers(message_id));
  for (Answer& a : answers) {
    // Relays' reports, and the sender's own statuses (13, requests to the
    // recipients), are not the recipients' answers.
    if (a.answer.signed_().kind() == congvan::v1::MESSAGE_KIND_DELIVERY_REPORT) {
      *track.add_reports() = std::move(a.answer);
    } else if (a.agency == message.header.from_agency()) {
      *track.add_requests() = std::move(a.answer);
    } else {
      *recipient(a.agency)->add_answers() = std::move(a.answer);
    }
  }
  return track;
}

}  // namespace congvan::store
