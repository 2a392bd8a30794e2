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

// Replays a batch's records into another: RocksDB's public API has no
// WriteBatch::Append.
class Replay : public rocksdb::WriteBatch::Handler {
 public:
  Replay(StoreState& s, rocksdb::WriteBatch& into) : into_(into) {
    for (rocksdb::ColumnFamilyHandle* h : s.handles) handles_[h->GetID()] = h;
  }
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    return into_.Put(Handle(cf), key, value);
  }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& key) override { return into_.Delete(Handle(cf), key); }
  rocksdb::Status SingleDeleteCF(uint32_t cf, const rocksdb::Slice& key) override {
    return into_.SingleDelete(Handle(cf), key);
  }
  rocksdb::Status DeleteRangeCF(uint32_t cf, const rocksdb::Slice& begin, const rocksdb::Slice& end) override {
    return into_.DeleteRange(Handle(cf), begin, end);
  }
  rocksdb::Status MergeCF(uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice& value) override {
    return into_.Merge(Handle(cf), key, value);
  }
  void LogData(const rocksdb::Slice& blob) override { (void)into_.PutLogData(blob); }

 private:
  rocksdb::ColumnFamilyHandle* Handle(uint32_t cf) { return handles_.at(cf); }
  rocksdb::WriteBatch& into_;
  std::map<uint32_t, rocksdb::ColumnFamilyHandle*> handles_;
};

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

// The issue written for request key `key`, or nullopt; ALREADY_EXISTS for
// another fingerprint.
absl::StatusOr<std::optional<IssueResult>> IssuedRequest(StoreState& s, const std::string& key,
                                                         std::string_view request_id, std::string_view fingerprint) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, s.Get(s.registers, key));
  if (!value.has_value()) return std::nullopt;
  records::IssuedRequestRecord record;
  if (!record.ParseFromString(*value)) {
    return absl::DataLossError("unreadable record of request id " + std::string(request_id));
  }
  if (record.fingerprint() != fingerprint) {
    return absl::AlreadyExistsError("request id " + std::string(request_id) +
                                    " was already used for another document (" + record.message_id() + ", number " +
                                    std::to_string(record.number()) + "/" + std::to_string(record.year()) +
                                    "): a new document needs a new request id");
  }
  return IssueResult{record.message_id(), record.year(), record.number(), true};
}

}  // namespace

// One sealed issue waiting for its write.
struct StoreState::QueuedIssue {
  std::string key;  // the register
  uint64_t number = 0;
  rocksdb::WriteBatch batch;
  std::string what;
  bool done = false;
  bool renumber = false;  // not written: seal again under a new number
  absl::Status result;
};

namespace internal {
namespace {

// How often one document may be sealed again because others' failures
// took its number away, before the clerk is told to try later.
constexpr int kIssueAttempts = 5;

// A number will not be written: every issue not yet written gets a new
// one (a seal failed), or fails with `write_error` (the store stopped
// writing: sealing again would only fail again).
void Renumber(StoreState& s, const absl::Status& write_error = absl::OkStatus())
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.issue_mu) {
  ++s.issue_generation;
  for (auto& [key, r] : s.registers_in_flight) {
    for (auto& [number, issue] : r.sealed) {
      if (write_error.ok()) {
        issue->renumber = true;
      } else {
        issue->result = absl::Status(write_error.code(), "an earlier document's write failed, so this one was not "
                                                         "stored either: " + std::string(write_error.message()));
      }
      issue->done = true;
    }
  }
  s.registers_in_flight.clear();
}

// `number` of register `key` will not be written. The last one handed out
// is simply given back; an earlier one takes the later ones with it.
void GiveBack(StoreState& s, const std::string& key, uint64_t number) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.issue_mu) {
  StoreState::RegisterInFlight& r = s.registers_in_flight[key];
  if (r.taken == number) {
    --r.taken;
  } else {
    Renumber(s);
  }
}

// The register in flight for `key`, read from the store on first use.
// Waits for a write in progress: the stored number must be its last.
absl::StatusOr<StoreState::RegisterInFlight*> InFlight(StoreState& s, const std::string& key)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.issue_mu) {
  if (auto it = s.registers_in_flight.find(key); it != s.registers_in_flight.end()) return &it->second;
  auto idle = [&s]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.issue_mu) { return !s.issue_writing; };
  s.issue_mu.Await(absl::Condition(&idle));
  if (auto it = s.registers_in_flight.find(key); it != s.registers_in_flight.end()) return &it->second;
  ASSIGN_OR_RETURN(uint64_t last, ReadNumber(s, key));
  StoreState::RegisterInFlight& r = s.registers_in_flight[key];
  r.taken = r.written = last;
  return &r;
}

bool RunReady(const StoreState& s) ABSL_SHARED_LOCKS_REQUIRED(s.issue_mu) {
  for (const auto& [key, r] : s.registers_in_flight) {
    if (!r.sealed.empty() && r.sealed.begin()->first == r.written + 1) return true;
  }
  return false;
}

// The issues sealed with the next numbers of some register, in order; empty
// when no register's next number is sealed yet.
std::vector<StoreState::QueuedIssue*> NextRun(StoreState& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.issue_mu) {
  std::vector<StoreState::QueuedIssue*> run;
  for (auto& [key, r] : s.registers_in_flight) {
    uint64_t next = r.written + 1;
    for (auto it = r.sealed.begin(); it != r.sealed.end() && it->first == next; ++next) {
      run.push_back(it->second);
      it = r.sealed.erase(it);
    }
  }
  return run;
}

absl::Status WriteRun(StoreState& s, const std::vector<StoreState::QueuedIssue*>& run) {
  if (run.size() == 1) return s.Commit(run.front()->batch, run.front()->what);
  rocksdb::WriteBatch merged;
  Replay replay(s, merged);
  for (StoreState::QueuedIssue* issue : run) {
    rocksdb::Status replayed = issue->batch.Iterate(&replay);
    if (!replayed.ok()) return FromRocks(replayed, "grouping issued documents");
  }
  return s.Commit(merged, "issuing " + std::to_string(run.size()) + " documents");
}

// Waits until `mine` is written or must be renumbered, writing the runs
// that are ready while no one else writes.
void AwaitWritten(StoreState& s, StoreState::QueuedIssue& mine) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.issue_mu) {
  while (!mine.done) {
    // No side effects here: absl::Mutex may evaluate it on other threads.
    auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.issue_mu) {
      return mine.done || (!s.issue_writing && RunReady(s));
    };
    s.issue_mu.Await(absl::Condition(&ready));
    if (mine.done) break;
    const std::vector<StoreState::QueuedIssue*> run = NextRun(s);
    s.issue_writing = true;
    s.issue_mu.Unlock();
    const absl::Status written = WriteRun(s, run);
    s.issue_mu.Lock();
    s.issue_writing = false;
    for (StoreState::QueuedIssue* issue : run) {
      issue->result = written;
      issue->done = true;
    }
    if (written.ok()) {
      // The run's numbers all come before any number given up on meanwhile
      // (a run stops at the first number not sealed): they stand.
      if (auto it = s.registers_in_flight.find(run.front()->key); it != s.registers_in_flight.end()) {
        for (StoreState::QueuedIssue* issue : run) {
          if (issue->key == it->first) it->second.written = std::max(it->second.written, issue->number);
        }
      }
    } else {
      Renumber(s, written);
    }
  }
}

}  // namespace
}  // namespace internal

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
  const std::string register_key = internal::RegisterKey(request.agency, request.year);

  // A request id already issued is answered again; one being issued is
  // refused until its write ends, so that two attempts never both issue.
  std::string request_key;
  class InFlight {
   public:
    InFlight(StoreState& s, const std::string& key) : s_(s), key_(key) {}
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
    ~InFlight() {
      absl::MutexLock lock(&s_.issue_mu);
      s_.issuing_requests.erase(key_);
    }

   private:
    StoreState& s_;
    const std::string& key_;
  };
  std::optional<InFlight> in_flight;
  if (!request.request_id.empty()) {
    RETURN_IF_ERROR(internal::CheckId("request id", request.request_id));
    const std::string key = internal::IssuedRequestKey(request.agency, request.request_id);
    absl::MutexLock lock(&s.issue_mu);
    if (s.issuing_requests.count(key) != 0) {
      return absl::AbortedError("an earlier attempt of this send (request id " + request.request_id +
                                ") is still being issued: ask again in a moment");
    }
    ASSIGN_OR_RETURN(std::optional<IssueResult> earlier,
                     IssuedRequest(s, key, request.request_id, request.fingerprint));
    if (earlier.has_value()) return *std::move(earlier);
    s.issuing_requests.insert(key);
    request_key = key;
    in_flight.emplace(s, request_key);
  }

  for (int attempt = 0; attempt < internal::kIssueAttempts; ++attempt) {
    // Take the next number.
    uint64_t number = 0;
    uint64_t generation = 0;
    {
      absl::MutexLock lock(&s.issue_mu);
      ASSIGN_OR_RETURN(StoreState::RegisterInFlight * r, internal::InFlight(s, register_key));
      number = ++r->taken;
      generation = s.issue_generation;
    }
    // Seal, and build the write, while others do the same.
    StoreState::QueuedIssue mine;
    mine.key = register_key;
    mine.number = number;
    std::string message_id;
    auto prepare = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(IssuedDocument issued, build(number));
      ASSIGN_OR_RETURN(congvan::v1::DocumentHeader header, CheckIssued(request, number, issued));
      RETURN_IF_ERROR(upload.CheckCommittable(header));
      message_id = header.message_id();
      {
        std::vector<std::string_view> ids{message_id};
        internal::AddMessageIds(issued.deliveries, ids);
        internal::ScopedMessageLocks locks(s.message_locks, ids);
        ASSIGN_OR_RETURN(std::optional<std::string> existing, s.Get(s.messages, message_id));
        if (existing.has_value()) return absl::AlreadyExistsError("message " + message_id + " is already stored");
      }

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

      rocksdb::WriteBatch& batch = mine.batch;
      batch = upload.CommitBatch();
      std::string value;
      internal::AppendU64(value, number);
      (void)batch.Put(s.registers, register_key, value);
      (void)batch.Put(s.messages, message_id, record.SerializeAsString());
      if (!request_key.empty()) {
        records::IssuedRequestRecord issued_request;
        issued_request.set_message_id(message_id);
        issued_request.set_year(request.year);
        issued_request.set_number(number);
        issued_request.set_fingerprint(request.fingerprint);
        (void)batch.Put(s.registers, request_key, issued_request.SerializeAsString());
      }
      internal::DeliveryChanges states(s);
      RETURN_IF_ERROR(internal::AddEntries(s, issued.deliveries, batch, states));
      states.WriteInto(batch);
      internal::AddEvent(s, batch, std::move(event));
      mine.what = "issuing message " + message_id;
      return absl::OkStatus();
    };
    const absl::Status prepared = prepare();

    absl::MutexLock lock(&s.issue_mu);
    if (s.issue_generation != generation) continue;  // the number was taken back: seal again
    if (!prepared.ok()) {
      internal::GiveBack(s, register_key, number);
      return prepared;
    }
    if (!s.issuing_ids.insert(message_id).second) {
      internal::GiveBack(s, register_key, number);
      return absl::AlreadyExistsError("message " + message_id + " is already being issued");
    }
    s.registers_in_flight[register_key].sealed[number] = &mine;
    internal::AwaitWritten(s, mine);
    s.issuing_ids.erase(message_id);
    if (mine.renumber) continue;
    RETURN_IF_ERROR(mine.result);
    upload.Committed();
    return IssueResult{message_id, request.year, number};
  }
  return absl::UnavailableError("the document could not be numbered: other documents' failures took its number " +
                                std::to_string(internal::kIssueAttempts) + " times; nothing was issued, send it again");
}

absl::StatusOr<std::optional<IssueResult>> Store::FindIssuedRequest(const std::string& agency,
                                                                   const std::string& request_id,
                                                                   std::string_view fingerprint) {
  RETURN_IF_ERROR(internal::CheckId("agency", agency));
  RETURN_IF_ERROR(internal::CheckId("request id", request_id));
  return IssuedRequest(*state_, internal::IssuedRequestKey(agency, request_id), request_id, fingerprint);
}

absl::StatusOr<uint64_t> Store::LastNumber(const std::string& agency, uint32_t year) {
  RETURN_IF_ERROR(internal::CheckId("agency", agency));
  return ReadNumber(*state_, internal::RegisterKey(agency, year));
}

}  // namespace congvan::store
