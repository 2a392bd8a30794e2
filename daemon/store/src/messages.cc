// Reading stored messages and streaming their parts back.
#include "congvan/signer/status_macros.h"
#include "congvan/store/store.h"
#include "keys.h"
#include "records.pb.h"
#include "congvan/signer/cms.h"
#include "state.h"

namespace congvan::store {

using internal::StoreState;

namespace {

absl::StatusOr<records::MessageRecord> LoadMessage(StoreState& s, const std::string& message_id) {
  RETURN_IF_ERROR(internal::CheckId("message id", message_id));
  records::MessageRecord r;
  ASSIGN_OR_RETURN(bool found, s.GetRecord(s.messages, message_id, r));
  if (!found) return absl::NotFoundError("no message " + message_id);
  return r;
}

}  // namespace

absl::StatusOr<bool> Store::HasMessage(const std::string& message_id) {
  RETURN_IF_ERROR(internal::CheckId("message id", message_id));
  ASSIGN_OR_RETURN(std::optional<std::string> value, state_->Get(state_->messages, message_id));
  return value.has_value();
}

absl::StatusOr<StoredMessage> Store::GetMessage(const std::string& message_id) {
  ASSIGN_OR_RETURN(records::MessageRecord r, LoadMessage(*state_, message_id));
  StoredMessage m;
  if (!m.header.ParseFromString(r.document().document().body())) {
    return absl::DataLossError("unreadable header of stored message " + message_id);
  }
  m.document = std::move(*r.mutable_document());
  for (const records::PartRecord& p : r.parts()) m.parts.push_back(PartDigest{p.size(), p.sha256()});
  m.issued_here = r.issued_here();
  m.stored_at = internal::FromMicros(r.stored_at_us());
  return m;
}

absl::Status Store::ReadPart(const std::string& message_id, uint32_t part, PartSink sink) {
  StoreState& s = *state_;
  ASSIGN_OR_RETURN(records::MessageRecord r, LoadMessage(s, message_id));
  if (part >= static_cast<uint32_t>(r.parts_size())) {
    return absl::NotFoundError("message " + message_id + " has no part " + std::to_string(part));
  }
  const records::PartRecord& expected = r.parts(static_cast<int>(part));
  std::string prefix = internal::ChunkPrefix(r.upload_id(), part);
  std::string upper = internal::PrefixEnd(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  ro.fill_cache = false;  // a document read once should not evict the indexes
  signer::Sha256Stream hash;
  uint64_t size = 0;
  uint64_t next_chunk = 0;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro, s.parts));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if (it->key().size() != prefix.size() + 8 ||
        internal::ReadU64(std::string_view(it->key().data() + prefix.size(), 8)) != next_chunk) {
      return absl::DataLossError("part " + std::to_string(part) + " of " + message_id + " is missing data");
    }
    ++next_chunk;
    std::string_view chunk(it->value().data(), it->value().size());
    hash.Update(chunk);
    size += chunk.size();
    RETURN_IF_ERROR(sink(chunk));
  }
  RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading part data"));
  if (size != expected.size() || hash.Finish() != expected.sha256()) {
    return absl::DataLossError("part " + std::to_string(part) + " of " + message_id +
                               " does not match its recorded size and SHA-256");
  }
  return absl::OkStatus();
}

}  // namespace congvan::store
