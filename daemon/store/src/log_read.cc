// The audit log's read side: roots, proofs, a message's events; and what
// the log keeps beside the tree: sealed tree heads and their timestamps, and
// (at a parent) the heads of the children it witnessed.
#include <utility>

#include "absl/strings/str_cat.h"
#include "congvan/audit/merkle.h"
#include "congvan/signer/status_macros.h"
#include "congvan/store/store.h"
#include "keys.h"
#include "log.h"

namespace congvan::store {

using internal::StoreState;

namespace {

absl::Status CheckSize(uint64_t size, uint64_t log_size) {
  if (size > log_size) {
    return absl::InvalidArgumentError(absl::StrCat("the audit log has ", log_size, " events, not ", size));
  }
  return absl::OkStatus();
}

absl::StatusOr<congvan::v1::TreeHead> ParseHead(const congvan::v1::SignedMessage& head) {
  congvan::v1::TreeHead body;
  if (head.kind() != congvan::v1::MESSAGE_KIND_TREE_HEAD || !body.ParseFromString(head.body())) {
    return absl::InvalidArgumentError("not a sealed tree head");
  }
  return body;
}

// The first head at or after `from` (forward) or at or before it.
absl::StatusOr<std::optional<congvan::v1::LoggedTreeHead>> SeekHead(StoreState& s, const std::string& from,
                                                                     bool forward) {
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(rocksdb::ReadOptions(), s.log));
  forward ? it->Seek(from) : it->SeekForPrev(from);
  RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading tree heads"));
  if (!it->Valid() || !it->key().starts_with("h") || it->key().size() != 9) return std::nullopt;
  congvan::v1::LoggedTreeHead head;
  if (!internal::ParseRocksValue(head, it->value())) {
    return absl::DataLossError("unreadable tree head in the audit log");
  }
  return head;
}

}  // namespace

uint64_t Store::LogSize() const {
  absl::MutexLock lock(&state_->log_mu);
  return state_->frontier.size();
}

absl::StatusOr<std::string> Store::LogRoot(uint64_t size) {
  {
    absl::MutexLock lock(&state_->log_mu);
    RETURN_IF_ERROR(CheckSize(size, state_->frontier.size()));
    if (size == state_->frontier.size()) return state_->frontier.Root();
  }
  // Stored subtree hashes never change once written: no lock needed.
  return audit::RootHash(size, [this](uint32_t level, uint64_t index) {
    return internal::ReadSubtree(*state_, level, index);
  });
}

absl::StatusOr<congvan::v1::InclusionProof> Store::ProveInclusion(uint64_t index, uint64_t size) {
  RETURN_IF_ERROR(CheckSize(size, LogSize()));
  ASSIGN_OR_RETURN(std::optional<std::string> event, state_->Get(state_->log, internal::LogEventKey(index)));
  if (index < size && !event.has_value()) {
    return absl::DataLossError(absl::StrCat("the audit log has no event ", index));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> path,
                   audit::InclusionProof(index, size, [this](uint32_t level, uint64_t i) {
                     return internal::ReadSubtree(*state_, level, i);
                   }));
  congvan::v1::InclusionProof proof;
  proof.set_index(index);
  proof.set_tree_size(size);
  proof.set_event(*std::move(event));
  for (std::string& h : path) proof.add_hashes(std::move(h));
  return proof;
}

absl::StatusOr<congvan::v1::ConsistencyProof> Store::ProveConsistency(uint64_t old_size, uint64_t new_size) {
  RETURN_IF_ERROR(CheckSize(new_size, LogSize()));
  ASSIGN_OR_RETURN(std::vector<std::string> path,
                   audit::ConsistencyProof(old_size, new_size, [this](uint32_t level, uint64_t i) {
                     return internal::ReadSubtree(*state_, level, i);
                   }));
  congvan::v1::ConsistencyProof proof;
  proof.set_old_size(old_size);
  proof.set_new_size(new_size);
  for (std::string& h : path) proof.add_hashes(std::move(h));
  return proof;
}

absl::StatusOr<std::vector<uint64_t>> Store::MessageEvents(const std::string& message_id) {
  RETURN_IF_ERROR(internal::CheckId("message id", message_id));
  StoreState& s = *state_;
  const uint64_t size = LogSize();
  const std::string prefix = internal::LogMessagePrefix(message_id);
  const std::string upper = internal::PrefixEnd(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro, s.log));
  std::vector<uint64_t> indexes;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if (it->key().size() != prefix.size() + 8) return absl::DataLossError("unreadable audit log index");
    const uint64_t index = internal::ReadU64(std::string_view(it->key().data() + prefix.size(), 8));
    if (index < size) indexes.push_back(index);
  }
  RETURN_IF_ERROR(internal::FromRocks(it->status(), "reading a message's events"));
  return indexes;
}

absl::Status Store::PutTreeHead(const congvan::v1::LoggedTreeHead& head) {
  ASSIGN_OR_RETURN(congvan::v1::TreeHead body, ParseHead(head.head()));
  StoreState& s = *state_;
  rocksdb::WriteBatch batch;
  (void)batch.Put(s.log, internal::LogHeadKey(body.tree_size()), head.SerializeAsString());
  std::string waiting = "t";
  internal::AppendU64(waiting, body.tree_size());
  if (head.timestamp_token().empty()) {
    (void)batch.Put(s.log, waiting, "");
  } else {
    (void)batch.Delete(s.log, waiting);
  }
  return s.Commit(batch, "keeping a tree head");
}

absl::StatusOr<std::optional<congvan::v1::LoggedTreeHead>> Store::GetTreeHead(uint64_t size) {
  if (size == 0) return SeekHead(*state_, internal::LogHeadKey(~uint64_t{0}), /*forward=*/false);
  congvan::v1::LoggedTreeHead head;
  ASSIGN_OR_RETURN(bool found, state_->GetRecord(state_->log, internal::LogHeadKey(size), head));
  if (!found) return std::nullopt;
  return head;
}

absl::StatusOr<std::optional<congvan::v1::LoggedTreeHead>> Store::TreeHeadCovering(uint64_t size) {
  return SeekHead(*state_, internal::LogHeadKey(size), /*forward=*/true);
}

absl::StatusOr<std::vector<congvan::v1::LoggedTreeHead>> Store::HeadsWithoutTimestamp(size_t limit) {
  StoreState& s = *state_;
  const std::string upper = "u";  // PrefixEnd("t")
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro, s.log));
  std::vector<congvan::v1::LoggedTreeHead> heads;
  for (it->Seek("t"); it->Valid() && heads.size() < limit; it->Next()) {
    if (it->key().size() != 9) return absl::DataLossError("unreadable audit log key");
    ASSIGN_OR_RETURN(std::optional<congvan::v1::LoggedTreeHead> head,
                     GetTreeHead(internal::ReadU64(std::string_view(it->key().data() + 1, 8))));
    if (head.has_value()) heads.push_back(*std::move(head));
  }
  RETURN_IF_ERROR(internal::FromRocks(it->status(), "listing tree heads"));
  return heads;
}

absl::StatusOr<std::optional<congvan::v1::SignedMessage>> Store::WitnessedHead(const std::string& child) {
  RETURN_IF_ERROR(internal::CheckId("child agency", child));
  congvan::v1::SignedMessage head;
  ASSIGN_OR_RETURN(bool found, state_->GetRecord(state_->log, internal::LogWitnessKey(child), head));
  if (!found) return std::nullopt;
  return head;
}

absl::Status Store::RecordWitnessed(const std::string& child, const congvan::v1::SignedMessage& head,
                                    congvan::v1::AuditEvent event) {
  RETURN_IF_ERROR(internal::CheckId("child agency", child));
  RETURN_IF_ERROR(ParseHead(head).status());
  rocksdb::WriteBatch batch;
  (void)batch.Put(state_->log, internal::LogWitnessKey(child), head.SerializeAsString());
  internal::AddEvent(*state_, batch, std::move(event));
  return state_->Commit(batch, "recording a witnessed tree head");
}

}  // namespace congvan::store
