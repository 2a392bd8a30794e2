// Streaming part data into the store (shared/DESIGN.md "Storage": part data
// is streamed to storage while hashing; memory does not grow with document
// size).
//
// An Upload receives the bytes of a document's parts as they arrive from a
// clerk's Send or a peer's Deliver stream, hashes each part (SHA-256) and
// cuts it into chunks (StoreOptions::chunk_size), written to the parts column
// family in bounded unsynced batches (StoreOptions::flush_bytes). The data
// becomes reachable, and durable, only when Store::Issue or Store::Receive
// commits a message record that names the upload; that commit is a synced
// write, which makes the WAL durable up to every chunk written before it.
// A small upload (under flush_bytes) writes nothing before that commit: its
// chunks go into the commit's one write. A large upload (past
// StoreOptions::wal_bypass_bytes) writes its further chunks without the WAL
// and Finish() flushes them to blob files, synced, before returning: the
// document is written to disk once, not twice.
// An upload that is never committed (aborted, destroyed, or left behind by a
// crash) is deleted: by Abort(), by the destructor, and at the next
// Store::Open.
//
// Thread-safety: an Upload belongs to one stream; call it from one thread at
// a time. Different uploads may be used concurrently. The Store must outlive
// its uploads.
#ifndef CONGVAN_STORE_UPLOAD_H_
#define CONGVAN_STORE_UPLOAD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace congvan::store {

class Store;
namespace internal {
struct StoreState;
struct UploadState;
}  // namespace internal

// What the store knows about one stored part.
struct PartDigest {
  uint64_t size = 0;
  std::string sha256;  // 32 raw bytes
};

class Upload {
 public:
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;
  // Discards the data unless a commit took it (best effort: whatever a
  // failed delete leaves behind is collected at the next Store::Open).
  ~Upload();

  // Appends `data` to part `part`. Parts arrive in order, each part's bytes
  // in order (node.proto PartChunk): `part` may stay or grow, never go back;
  // parts skipped over are empty. INVALID_ARGUMENT if `part` goes back;
  // FAILED_PRECONDITION after Finish/Abort; storage errors as Store's.
  [[nodiscard]] absl::Status Append(uint32_t part, std::string_view data);

  // Ends the stream: writes what is buffered and returns the size and SHA-256
  // of parts 0 .. part_count-1 (parts never appended to are empty).
  // INVALID_ARGUMENT if a part >= part_count was appended. Idempotent for the
  // same part_count once it succeeded.
  [[nodiscard]] absl::StatusOr<std::vector<PartDigest>> Finish(uint32_t part_count);

  // Deletes everything written so far. FAILED_PRECONDITION once committed.
  [[nodiscard]] absl::Status Abort();

  // Bytes appended so far, over all parts.
  uint64_t bytes() const;
  // A printable id for logs (hex).
  std::string id() const;

 private:
  friend class Store;
  explicit Upload(std::unique_ptr<internal::UploadState> state);
  internal::UploadState& state() { return *state_; }

  std::unique_ptr<internal::UploadState> state_;
};

}  // namespace congvan::store

#endif  // CONGVAN_STORE_UPLOAD_H_
