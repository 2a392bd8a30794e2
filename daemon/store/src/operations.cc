// What operators watch of the store: the outbox's depth, the disk it takes,
// and whether it can still write (metrics and gRPC health, every few
// seconds).
#include <filesystem>
#include <system_error>

#include "congvan/signer/status_macros.h"
#include "congvan/store/store.h"
#include "keys.h"
#include "records.pb.h"
#include "state.h"

namespace congvan::store {
namespace {

// In the default column family, which holds nothing else: the probe never
// touches the records of the domain, nor the audit log's keys.
constexpr char kProbeKey[] = "probe";

// The uploads a full disk kept from being deleted (upload.cc), now that the
// store writes again: they would otherwise hold their space until a restart.
absl::Status DeleteOrphanedUploads(internal::StoreState& s) {
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&s.orphans_mu);
    ids.swap(s.orphaned_uploads);
  }
  if (ids.empty()) return absl::OkStatus();
  rocksdb::WriteBatch batch;
  for (const std::string& id : ids) internal::DeleteUploadInto(s, id, batch);
  const absl::Status deleted = s.WriteUnsynced(batch, "discarding uploads a full disk left behind");
  if (!deleted.ok()) {
    absl::MutexLock lock(&s.orphans_mu);
    s.orphaned_uploads.insert(s.orphaned_uploads.end(), ids.begin(), ids.end());
  }
  return deleted;
}

}  // namespace

absl::StatusOr<OutboxCounts> Store::CountOutbox() {
  internal::StoreState& s = *state_;
  // The entries themselves ('e'), not the due index: a failed entry has no
  // due key. One iterator reads one implicit snapshot.
  const std::string prefix = "e";
  const std::string upper = internal::PrefixEnd(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  ro.fill_cache = false;  // a periodic scan must not push the working set out of the cache
  OutboxCounts counts;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro, s.outbox));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    records::OutboxRecord r;
    if (!internal::ParseRocksValue(r, it->value())) {
      return absl::DataLossError("unreadable outbox entry");
    }
    if (r.state() == records::OutboxRecord::STATE_FAILED) {
      ++counts.failed;
    } else {
      ++counts.pending;
    }
  }
  RETURN_IF_ERROR(internal::FromRocks(it->status(), "counting the outbox"));
  return counts;
}

absl::StatusOr<uint64_t> Store::DiskUsage() {
  const std::string& path = state_->options.path;
  std::error_code error;
  std::filesystem::recursive_directory_iterator it(path, error);
  if (error) return absl::UnavailableError("cannot read the store's directory " + path + ": " + error.message());
  uint64_t bytes = 0;
  // RocksDB deletes files as it compacts: one gone meanwhile is not an error.
  for (const std::filesystem::recursive_directory_iterator end; it != end; it.increment(error)) {
    if (error) break;
    std::error_code file_error;
    if (!it->is_regular_file(file_error) || file_error) continue;
    const uintmax_t size = it->file_size(file_error);
    if (!file_error) bytes += size;
  }
  if (error) return absl::UnavailableError("cannot read the store's directory " + path + ": " + error.message());
  return bytes;
}

absl::Status Store::Probe() {
  internal::StoreState& s = *state_;
  // One probe at a time, so that the read-back sees its own write; and a
  // value no earlier probe wrote (the time, and a count for a clock that
  // stands still).
  absl::MutexLock lock(&s.probe_mu);
  std::string value;
  internal::AppendTime(value, s.options.now());
  internal::AppendU64(value, ++s.probes);
  rocksdb::WriteBatch batch;
  (void)batch.Put(s.db->DefaultColumnFamily(), kProbeKey, value);
  RETURN_IF_ERROR(s.Commit(batch, "probing the store with a write"));
  ASSIGN_OR_RETURN(std::optional<std::string> read, s.Get(s.db->DefaultColumnFamily(), kProbeKey));
  if (read != value) return absl::DataLossError("the store's probe record reads back other bytes than were written");
  return DeleteOrphanedUploads(s);
}

}  // namespace congvan::store
