// Uploads: part bytes hashed and written in chunks, in bounded unsynced
// batches, under a pending marker that the message commit removes.
#include "congvan/store/upload.h"

#include <algorithm>
#include <random>

#include "congvan/signer/cms.h"
#include "congvan/signer/status_macros.h"
#include "congvan/store/store.h"
#include "keys.h"
#include "state.h"

namespace congvan::store {

using internal::UploadState;
using Phase = internal::UploadState::Phase;

namespace internal {

void DeleteUploadInto(const StoreState& store, std::string_view id, rocksdb::WriteBatch& b) {
  (void)b.DeleteRange(store.parts, ChunkPrefix(id), PrefixEnd(ChunkPrefix(id)));
  (void)b.Delete(store.parts, PendingUploadKey(id));
}

void UploadState::DeleteInto(rocksdb::WriteBatch& b) const { DeleteUploadInto(*store, id, b); }

rocksdb::WriteBatch UploadState::CommitBatch() const {
  rocksdb::WriteBatch b = batch;  // a copy: a failed commit leaves the upload as it was
  if (written) (void)b.Delete(store->parts, PendingUploadKey(id));
  return b;
}

void UploadState::Committed() {
  phase = Phase::kCommitted;
  batch = rocksdb::WriteBatch();
}

absl::Status UploadState::CheckCommittable(const congvan::v1::DocumentHeader& header) const {
  if (phase != Phase::kFinished) return absl::FailedPreconditionError("the upload is not finished");
  if (done.size() != static_cast<size_t>(header.parts_size())) {
    return absl::InvalidArgumentError("the header lists " + std::to_string(header.parts_size()) +
                                      " parts but " + std::to_string(done.size()) + " were received");
  }
  for (size_t i = 0; i < done.size(); ++i) {
    const auto& p = header.parts(static_cast<int>(i));
    if (p.size() != done[i].size || p.sha256() != done[i].sha256) {
      return absl::InvalidArgumentError("part " + std::to_string(i) + " (" + p.name() +
                                        ") does not match the size and SHA-256 in the header");
    }
  }
  return absl::OkStatus();
}

namespace {

std::string NewUploadId() {
  std::random_device rd;
  std::string id;
  while (id.size() < kUploadIdSize) AppendU32(id, rd());
  return id;
}

// Writes the batch of chunks: through the WAL, or past wal_bypass_bytes
// straight to the memtable (Finish then flushes). The first write carries the
// pending marker with it, so no chunk is ever stored without one.
absl::Status WriteBatchOf(UploadState& u) {
  if (!u.written) {
    (void)u.batch.Put(u.store->parts, PendingUploadKey(u.id), "");
    u.written = true;
  }
  const size_t bypass = u.store->options.wal_bypass_bytes;
  if (bypass > 0 && u.bytes >= bypass) {
    u.direct = true;
    RETURN_IF_ERROR(u.store->WriteDirect(u.batch));
  } else {
    RETURN_IF_ERROR(u.store->WriteUnsynced(u.batch, "storing part data"));
  }
  u.batch.Clear();
  return absl::OkStatus();
}

// Moves the chunk being filled into the batch; writes the batch once it holds
// flush_bytes.
absl::Status PutChunk(UploadState& u) {
  (void)u.batch.Put(u.store->parts, ChunkKey(u.id, static_cast<uint32_t>(u.part), u.next_chunk++), u.chunk);
  u.chunk.clear();
  if (u.batch.GetDataSize() < u.store->options.flush_bytes) return absl::OkStatus();
  return WriteBatchOf(u);
}

// Ends the current part, and records parts skipped up to `next` as empty.
absl::Status ClosePartsBefore(UploadState& u, int64_t next) {
  if (u.part >= 0 && static_cast<int64_t>(u.done.size()) == u.part) {
    if (!u.chunk.empty()) RETURN_IF_ERROR(PutChunk(u));
    u.done.push_back(PartDigest{u.part_size, u.hash.Finish()});
  }
  while (static_cast<int64_t>(u.done.size()) < next) {
    u.done.push_back(PartDigest{0, signer::Sha256("")});
  }
  u.part_size = 0;
  u.next_chunk = 0;
  return absl::OkStatus();
}

// A storage error leaves the upload unusable; it is deleted like any other.
absl::Status Broken(UploadState& u, absl::Status s) {
  if (!s.ok()) u.phase = Phase::kBroken;
  return s;
}

}  // namespace
}  // namespace internal

absl::StatusOr<std::unique_ptr<Upload>> Store::BeginUpload() {
  auto u = std::make_unique<UploadState>();
  u->store = state_.get();
  u->id = internal::NewUploadId();
  return std::unique_ptr<Upload>(new Upload(std::move(u)));
}

Upload::Upload(std::unique_ptr<UploadState> state) : state_(std::move(state)) {}

Upload::~Upload() {
  if (state_->phase != Phase::kCommitted && state_->phase != Phase::kAborted) (void)Abort();
}

absl::Status Upload::Append(uint32_t part, std::string_view data) {
  UploadState& u = *state_;
  if (u.phase != Phase::kOpen) return absl::FailedPreconditionError("the upload no longer takes data");
  if (static_cast<int64_t>(part) < u.part) {
    return absl::InvalidArgumentError("part " + std::to_string(part) + " arrived after part " +
                                      std::to_string(u.part));
  }
  if (static_cast<int64_t>(part) > u.part) {
    RETURN_IF_ERROR(internal::Broken(u, internal::ClosePartsBefore(u, part)));
    u.part = part;
  }
  u.hash.Update(data);
  u.part_size += data.size();
  u.bytes += data.size();
  const size_t chunk_size = u.store->options.chunk_size;
  while (!data.empty()) {
    size_t take = std::min(chunk_size - u.chunk.size(), data.size());
    u.chunk.append(data.data(), take);
    data.remove_prefix(take);
    if (u.chunk.size() == chunk_size) RETURN_IF_ERROR(internal::Broken(u, internal::PutChunk(u)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PartDigest>> Upload::Finish(uint32_t part_count) {
  UploadState& u = *state_;
  if (u.phase == Phase::kFinished && part_count == u.finished_count) return u.done;
  if (u.phase != Phase::kOpen) return absl::FailedPreconditionError("the upload is not open");
  if (u.part >= static_cast<int64_t>(part_count)) {
    return absl::InvalidArgumentError("part " + std::to_string(u.part) + " was received but the document has " +
                                      std::to_string(part_count) + " parts");
  }
  RETURN_IF_ERROR(internal::Broken(u, internal::ClosePartsBefore(u, part_count)));
  // A small upload has written nothing yet: its chunks stay in `batch` and
  // go into the commit's one write. A large one writes the rest now.
  if (u.written && u.batch.Count() > 0) RETURN_IF_ERROR(internal::Broken(u, internal::WriteBatchOf(u)));
  // Chunks that bypassed the WAL become durable here, before any commit
  // can make them reachable.
  if (u.direct) RETURN_IF_ERROR(internal::Broken(u, u.store->FlushParts()));
  u.chunk = std::string();  // give the buffer back
  if (u.written) u.batch = rocksdb::WriteBatch();
  u.phase = Phase::kFinished;
  u.finished_count = part_count;
  return u.done;
}

absl::Status Upload::Abort() {
  UploadState& u = *state_;
  if (u.phase == Phase::kCommitted) return absl::FailedPreconditionError("the upload is committed");
  if (u.phase == Phase::kAborted) return absl::OkStatus();
  absl::Status deleted;
  if (u.written) {
    rocksdb::WriteBatch batch;
    u.DeleteInto(batch);
    // Unsynced: should a crash lose the delete, Open deletes the upload again.
    deleted = u.store->WriteUnsynced(batch, "discarding an upload");
    if (!deleted.ok()) {
      // A full disk refuses the delete too: the store deletes the upload
      // once it writes again (Store::Probe).
      absl::MutexLock lock(&u.store->orphans_mu);
      u.store->orphaned_uploads.push_back(u.id);
    }
  }
  u.phase = Phase::kAborted;
  u.batch = rocksdb::WriteBatch();
  u.chunk = std::string();
  return deleted;
}

uint64_t Upload::bytes() const { return state_->bytes; }

std::string Upload::id() const { return signer::HexEncode(state_->id); }

}  // namespace congvan::store
