// Opening the database: column families and their tuning, the collection of
// uploads a crash left behind; and the shared StoreState operations.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <utility>

#include "congvan/signer/status_macros.h"
#include "congvan/store/store.h"
#include "congvan/store/rocksdb_options.h"
#include "diagnostic_log.h"
#include "keys.h"
#include "log.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_manager.h"
#include "rocksdb/table.h"
#include "rocksdb/write_buffer_manager.h"
#include "state.h"

namespace congvan::store {

namespace internal {

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string message = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return absl::NotFoundError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsNoSpace() || s.subcode() == rocksdb::Status::kSpaceLimit || s.IsMemoryLimit()) {
    return absl::ResourceExhaustedError(message);
  }
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain() || s.IsShutdownInProgress() ||
      s.IsIncomplete()) {
    return absl::UnavailableError(message);
  }
  if (s.IsNotSupported()) return absl::UnimplementedError(message);
  if (s.IsAborted()) return absl::AbortedError(message);
  return absl::InternalError(message);
}

#if defined(__SANITIZE_THREAD__)
extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);
#endif

namespace {

// Runs `read` with the calling thread's memory accesses hidden from
// ThreadSanitizer (in a TSan build; otherwise just runs it).
template <typename Read>
auto UnseenByTsan(Read read) {
#if defined(__SANITIZE_THREAD__)
  AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
  auto result = read();
  AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
  return result;
#else
  return read();
#endif
}

}  // namespace

std::string CopyOfRocksMemory(const rocksdb::Slice& bytes) {
  return UnseenByTsan([&] { return std::string(bytes.data(), bytes.size()); });
}

bool ParseRocksValue(google::protobuf::MessageLite& record, const rocksdb::Slice& bytes) {
  return UnseenByTsan([&] { return record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())); });
}

size_t MessageLocks::StripeOf(std::string_view message_id) const {
  return std::hash<std::string_view>{}(message_id) % kStripes;
}

ScopedMessageLocks::ScopedMessageLocks(MessageLocks& locks, const std::vector<std::string_view>& message_ids)
    : locks_(locks) {
  for (std::string_view id : message_ids) held_.insert(locks_.StripeOf(id));
  for (size_t i : held_) locks_.Stripe(i).Lock();
}

ScopedMessageLocks::~ScopedMessageLocks() {
  for (auto it = held_.rbegin(); it != held_.rend(); ++it) locks_.Stripe(*it).Unlock();
}

StoreState::~StoreState() {
  if (db == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  (void)db->Close();
}

absl::Status StoreState::Written(const rocksdb::Status& s, std::string_view what) const {
  // A write that found the disk full, or a database stopped since one did:
  // what the clerk or peer is told, and what the operator must do.
  if (s.IsNoSpace() || s.subcode() == rocksdb::Status::kSpaceLimit) {
    return absl::ResourceExhaustedError(
        std::string(what) + ": the node's disk is full: nothing was stored; free space on " + options.path +
        " (the node takes documents again by itself once " + std::to_string(resume_free_bytes >> 20) +
        " MiB are free there) [" + s.ToString() + "]");
  }
  return FromRocks(s, what);
}

absl::Status StoreState::Commit(rocksdb::WriteBatch& batch, std::string_view what) {
  RETURN_IF_ERROR(Written(db->Write(commit_write, &batch), what));
  // After the write, never before: a walk between the two would raise the
  // floor past a key it could not yet see.
  LowerDueFloor(batch);
  return absl::OkStatus();
}

void StoreState::LowerDueFloor(const rocksdb::WriteBatch& batch) {
  if (!batch.HasPut()) return;
  // The least key the batch puts into the outbox's due index ("d..."); the
  // other operations are passed over.
  class LeastDueKey : public rocksdb::WriteBatch::Handler {
   public:
    explicit LeastDueKey(uint32_t outbox) : outbox_(outbox) {}
    rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& key, const rocksdb::Slice&) override {
      if (cf == outbox_ && key.starts_with("d") && (least.empty() || key.compare(least) < 0)) least = key.ToString();
      return rocksdb::Status::OK();
    }
    rocksdb::Status DeleteCF(uint32_t, const rocksdb::Slice&) override { return rocksdb::Status::OK(); }
    rocksdb::Status SingleDeleteCF(uint32_t, const rocksdb::Slice&) override { return rocksdb::Status::OK(); }
    rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
      return rocksdb::Status::OK();
    }
    rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
      return rocksdb::Status::OK();
    }
    std::string least;

   private:
    uint32_t outbox_;
  } handler(outbox->GetID());
  // A batch that cannot be read back (it was just written) lowers the floor
  // to the index's start: slower walks, never a key missed.
  if (!batch.Iterate(&handler).ok()) handler.least = "d";
  if (handler.least.empty()) return;
  absl::MutexLock lock(&due_mu);
  for (auto& [walk, lowered] : due_walks) {
    if (lowered.empty() || handler.least < lowered) lowered = handler.least;
  }
  if (handler.least < due_floor) due_floor = std::move(handler.least);
}

absl::Status StoreState::WriteUnsynced(rocksdb::WriteBatch& batch, std::string_view what) {
  return Written(db->Write(bulk_write, &batch), what);
}

absl::Status StoreState::WriteDirect(rocksdb::WriteBatch& batch) {
  return Written(db->Write(direct_write, &batch), "storing part data");
}

absl::Status StoreState::FlushParts() {
  rocksdb::FlushOptions flush;
  flush.wait = true;
  return Written(db->Flush(flush, parts), "flushing part data");
}

absl::StatusOr<std::optional<std::string>> StoreState::Get(rocksdb::ColumnFamilyHandle* cf,
                                                           const std::string& key,
                                                           const rocksdb::Snapshot* snapshot) {
  std::string value;
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  rocksdb::Status s = db->Get(ro, cf, key, &value);
  if (s.IsNotFound()) return std::nullopt;
  RETURN_IF_ERROR(FromRocks(s, "reading the store"));
  return value;
}

namespace {

constexpr const char* kColumnFamilies[] = {"messages", "parts",   "outbox", "inbox",
                                           "registers", "answers", "dedup",  "log"};

rocksdb::DBOptions MakeDbOptions(const StoreOptions& options) {
  rocksdb::DBOptions o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  // One budget for every memtable: part data streaming through the parts
  // CF must not make memory grow with document size.
  o.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(options.memtable_budget);
  // Part data fills WAL files that small CFs would otherwise keep alive:
  // past this, RocksDB flushes the CFs that pin old WAL files.
  o.max_total_wal_size = 4 * options.memtable_budget;
  o.max_background_jobs = 2;
  o.info_log = std::make_shared<DiagnosticLog>(options.path, size_t{8} << 20);
  // A full disk stops the database's writes (a WAL write, a flush or a
  // compaction that got ENOSPC is a background error). With an
  // SstFileManager, RocksDB's error handler hands the error to it, and it
  // polls the free space (every 5 s) and resumes the database once the
  // largest memtable fits again — no reopen, no restart.
  o.sst_file_manager.reset(rocksdb::NewSstFileManager(rocksdb::Env::Default(), o.info_log));
  // Group commit is RocksDB's default write path: concurrent writers queue,
  // the leader writes and syncs the WAL once for the whole group. Pipelined
  // writes (WAL and memtable stages overlapped) measured no faster for these
  // small synced batches (README.md), so the default path stays.
  o.enable_pipelined_write = false;
  return o;
}

rocksdb::ColumnFamilyOptions MakeCfOptions(const std::string& name, const StoreOptions& options,
                                           const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  o.write_buffer_size = 8 << 20;
  if (name == "parts") {
    o.write_buffer_size = std::min<size_t>(16 << 20, options.memtable_budget / 2);
    o.compression = rocksdb::kNoCompression;  // documents are mostly compressed already
    // Chunks go to blob files at flush; compaction then moves only keys.
    o.enable_blob_files = options.blob_files;
    o.min_blob_size = 16 << 10;
    o.blob_compression_type = rocksdb::kNoCompression;
    // No blob GC: documents are an archive and are not deleted; garbage comes
    // only from uploads never committed, whose blob files (one per flush)
    // become wholly garbage and are dropped once compaction removes their
    // keys. GC's relocation of the oldest blob files measured +60% disk
    // writes per document (README.md).
    o.enable_blob_garbage_collection = false;
  }
  return o;
}

// Deletes the data of every upload not committed (a crash, a client gone).
// Returns the key ranges deleted, for compaction.
absl::StatusOr<std::vector<std::string>> CollectUncommittedUploads(StoreState& s) {
  std::vector<std::string> ids;
  {
    rocksdb::ReadOptions ro;
    std::string upper = "v";  // PrefixEnd("u")
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(ro, s.parts));
    for (it->Seek("u"); it->Valid(); it->Next()) ids.push_back(it->key().ToString().substr(1));
    RETURN_IF_ERROR(FromRocks(it->status(), "listing uncommitted uploads"));
  }
  if (ids.empty()) return ids;
  rocksdb::WriteBatch batch;
  for (const std::string& id : ids) DeleteUploadInto(s, id, batch);
  RETURN_IF_ERROR(s.Commit(batch, "deleting uncommitted uploads"));
  return ids;
}

}  // namespace
}  // namespace internal

using internal::FromRocks;
using internal::StoreState;

rocksdb::DBOptions DatabaseOptions(const StoreOptions& options) { return internal::MakeDbOptions(options); }

Store::Store(std::unique_ptr<StoreState> state) : state_(std::move(state)) {}
Store::~Store() = default;

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("the store needs a path");
  if (options.chunk_size == 0 || options.flush_bytes == 0 || options.memtable_budget < (4 << 20)) {
    return absl::InvalidArgumentError("chunk_size, flush_bytes must be > 0 and memtable_budget >= 4 MiB");
  }
  auto state = std::make_unique<StoreState>();
  state->options = options;
  state->commit_write.sync = options.sync;
  state->bulk_write.sync = false;
  state->direct_write.disableWAL = true;

  rocksdb::DBOptions db_options = internal::MakeDbOptions(options);
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(16 << 20);
  // Open every CF on disk (a later version may have added some) plus ours.
  std::vector<std::string> names;
  rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(db_options, options.path, &names);
  if (!listed.ok()) names.clear();  // a new database
  if (std::find(names.begin(), names.end(), rocksdb::kDefaultColumnFamilyName) == names.end()) {
    names.push_back(rocksdb::kDefaultColumnFamilyName);
  }
  for (const char* name : internal::kColumnFamilies) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, internal::MakeCfOptions(name, options, cache));
    // What RocksDB waits for before it resumes after a full disk.
    state->resume_free_bytes = std::max<uint64_t>(state->resume_free_bytes, descriptors.back().options.write_buffer_size);
  }
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(db_options, options.path, descriptors, &state->handles, &raw),
                            "opening the store at " + options.path));
  state->db.reset(raw);
  for (size_t i = 0; i < names.size(); ++i) {
    rocksdb::ColumnFamilyHandle* h = state->handles[i];
    const std::string& n = names[i];
    if (n == "messages") state->messages = h;
    if (n == "parts") state->parts = h;
    if (n == "outbox") state->outbox = h;
    if (n == "inbox") state->inbox = h;
    if (n == "registers") state->registers = h;
    if (n == "answers") state->answers = h;
    if (n == "dedup") state->dedup = h;
    if (n == "log") state->log = h;
  }

  ASSIGN_OR_RETURN(std::vector<std::string> collected, internal::CollectUncommittedUploads(*state));
  for (const std::string& id : collected) {
    // Best effort: the data is already deleted; compaction only gives the
    // space (and the blob files) back sooner.
    std::string begin = internal::ChunkPrefix(id);
    std::string end = internal::PrefixEnd(begin);
    rocksdb::Slice b(begin), e(end);
    (void)state->db->CompactRange(rocksdb::CompactRangeOptions(), state->parts, &b, &e);
  }
  RETURN_IF_ERROR(internal::OpenLog(*state));
  return std::unique_ptr<Store>(new Store(std::move(state)));
}

absl::StatusOr<PartsUsage> Store::Usage() {
  StoreState& s = *state_;
  PartsUsage usage;
  std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(rocksdb::ReadOptions(), s.parts));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    rocksdb::Slice key = it->key();
    if (key.starts_with("u")) ++usage.pending_uploads;
    if (key.starts_with("c")) {
      ++usage.chunks;
      usage.bytes += it->value().size();
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "scanning part data"));
  return usage;
}

}  // namespace congvan::store
