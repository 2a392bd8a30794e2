// What a Store holds: the RocksDB handles, the write options, the locks; and
// the few operations every part of the store shares (reads, commits, status
// conversion). Private to the library.
#ifndef CONGVAN_STORE_SRC_STATE_H_
#define CONGVAN_STORE_SRC_STATE_H_

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "congvan/store/store.h"
#include "google/protobuf/message_lite.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "congvan/audit/merkle.h"
#include "congvan/signer/cms.h"
#include "congvan/v1/audit.pb.h"

namespace congvan::store::internal {

// rocksdb::Status -> absl::Status; `what` says what was being done.
absl::Status FromRocks(const rocksdb::Status& s, std::string_view what);

// A copy of bytes RocksDB hands out from its memtable (an iterator's key or
// value), for a reader that may run right after another thread committed
// them. RocksDB (Debian's, not built with ThreadSanitizer) orders that read
// after the write through atomics TSan cannot see, so under TSan the copy
// is made with the thread's accesses ignored (tests/sanitize/README.md);
// otherwise it is a plain copy.
std::string CopyOfRocksMemory(const rocksdb::Slice& bytes);
// Parses `record` from such bytes in place, the same way under TSan.
[[nodiscard]] bool ParseRocksValue(google::protobuf::MessageLite& record, const rocksdb::Slice& bytes);

// Locks per message id (hashed onto a fixed set of stripes): every
// read-modify-write of a message's records runs under its stripe, so two
// writers never interleave on one message while writers on different
// messages still share fsyncs.
//
// A call on many messages holds every stripe at once, and RocksDB's own
// mutexes under them: 32 stripes keep that below the 64 locks a thread may
// hold under ThreadSanitizer's deadlock detector (tests/sanitize), which
// aborts the process past it. Collisions stay rare with the daemon's few
// dozen threads.
class MessageLocks {
 public:
  static constexpr size_t kStripes = 32;
  size_t StripeOf(std::string_view message_id) const;
  absl::Mutex& Stripe(size_t i) { return stripes_[i]; }

 private:
  std::array<absl::Mutex, kStripes> stripes_;
};

// Holds the stripes of a set of message ids, taken in ascending order so that
// two holders never deadlock.
class ScopedMessageLocks {
 public:
  ScopedMessageLocks(MessageLocks& locks, const std::vector<std::string_view>& message_ids);
  ~ScopedMessageLocks();
  ScopedMessageLocks(const ScopedMessageLocks&) = delete;
  ScopedMessageLocks& operator=(const ScopedMessageLocks&) = delete;

 private:
  MessageLocks& locks_;
  std::set<size_t> held_;
};

struct StoreState {
  StoreOptions options;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // all open CFs; destroyed before db
  rocksdb::ColumnFamilyHandle* messages = nullptr;
  rocksdb::ColumnFamilyHandle* parts = nullptr;
  rocksdb::ColumnFamilyHandle* outbox = nullptr;
  rocksdb::ColumnFamilyHandle* inbox = nullptr;
  rocksdb::ColumnFamilyHandle* registers = nullptr;
  rocksdb::ColumnFamilyHandle* answers = nullptr;
  rocksdb::ColumnFamilyHandle* dedup = nullptr;
  rocksdb::ColumnFamilyHandle* log = nullptr;
  rocksdb::WriteOptions commit_write;  // sync = options.sync
  rocksdb::WriteOptions bulk_write;    // part chunks: never synced on their own
  rocksdb::WriteOptions direct_write;  // part chunks of large uploads: no WAL
  // The free space after which a store stopped by a full disk resumes (the
  // largest memtable: RocksDB's SstFileManager waits for that much).
  uint64_t resume_free_bytes = 0;

  // Issuing (issue.cc): numbers are taken under issue_mu, documents sealed
  // outside it in parallel, and written in number order by whichever issuer
  // finds the next number sealed, with those after it, in one synced write.
  // A number that will not be written (its seal or an earlier write failed)
  // starts a new generation: every issue not yet written seals again under
  // a new number, so that what is stored never has a gap.
  struct QueuedIssue;
  struct RegisterInFlight {
    uint64_t taken = 0;    // the last number handed out
    uint64_t written = 0;  // the last number stored
    std::map<uint64_t, QueuedIssue*> sealed;  // waiting for the numbers before them
  };
  absl::Mutex issue_mu;
  std::map<std::string, RegisterInFlight> registers_in_flight ABSL_GUARDED_BY(issue_mu);
  uint64_t issue_generation ABSL_GUARDED_BY(issue_mu) = 0;
  bool issue_writing ABSL_GUARDED_BY(issue_mu) = false;
  // The message ids of the issues sealed and not yet written: a second
  // issue of one of them is refused as one already stored is. (Message
  // locks cannot be held while an issue waits for the numbers before it:
  // their issuers may need the same stripes.)
  std::set<std::string> issuing_ids ABSL_GUARDED_BY(issue_mu);
  std::set<std::string> issuing_requests ABSL_GUARDED_BY(issue_mu);  // IssuedRequestKey of each Issue in flight
  MessageLocks message_locks;

  // The audit log (log.cc). Pending events take the next sequence number;
  // the integrator appends them to the tree under log_mu.
  std::atomic<uint64_t> next_event_seq{0};
  mutable absl::Mutex log_mu;
  audit::MerkleFrontier frontier ABSL_GUARDED_BY(log_mu);
  LogDamage log_damage;  // set by Open, then read-only

  // The outbox's due index (outbox.cc): a key at or below every due key
  // that may be live, where ListDue seeks instead of the index's start.
  // From the start, each walk passed over the tombstone of every entry
  // delivered since the last compaction: under load, thousands per pass.
  // Commit lowers it, once the batch is written, to the least due key the
  // batch puts, and notes that key in every walk in progress (due_walks:
  // walk -> least due key committed since it began, empty for none). A walk
  // raises the floor to the first key it met, or to the least key noted in
  // it if lower: a key its snapshot may not have seen.
  absl::Mutex due_mu;
  std::string due_floor ABSL_GUARDED_BY(due_mu) = "d";
  std::map<uint64_t, std::string> due_walks ABSL_GUARDED_BY(due_mu);
  uint64_t next_due_walk ABSL_GUARDED_BY(due_mu) = 0;

  // Store::Probe (operations.cc).
  absl::Mutex probe_mu;
  uint64_t probes ABSL_GUARDED_BY(probe_mu) = 0;

  // Uploads whose delete failed (a full disk refuses it too): deleted again
  // by the next probe that can write, or else by the next Open.
  absl::Mutex orphans_mu;
  std::vector<std::string> orphaned_uploads ABSL_GUARDED_BY(orphans_mu);

  ~StoreState();

  // A write's outcome: RESOURCE_EXHAUSTED, saying what to free where, for a
  // full disk; otherwise FromRocks.
  [[nodiscard]] absl::Status Written(const rocksdb::Status& s, std::string_view what) const;
  // One state change: the batch, written atomically with the WAL synced.
  [[nodiscard]] absl::Status Commit(rocksdb::WriteBatch& batch, std::string_view what);
  // Lowers due_floor to the least due key `batch` puts, if below it.
  void LowerDueFloor(const rocksdb::WriteBatch& batch);
  // Part data on its way: made durable by the next Commit.
  [[nodiscard]] absl::Status WriteUnsynced(rocksdb::WriteBatch& batch, std::string_view what);
  // Part data bypassing the WAL: made durable only by FlushParts.
  [[nodiscard]] absl::Status WriteDirect(rocksdb::WriteBatch& batch);
  // Flushes the parts memtables to SST and blob files, synced, and waits.
  [[nodiscard]] absl::Status FlushParts();
  // The value of `key`, or nullopt.
  [[nodiscard]] absl::StatusOr<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* cf,
                                                                const std::string& key,
                                                                const rocksdb::Snapshot* snapshot = nullptr);
  // Get + parse into `record`; false if absent. DATA_LOSS if unparsable.
  template <typename Record>
  [[nodiscard]] absl::StatusOr<bool> GetRecord(rocksdb::ColumnFamilyHandle* cf, const std::string& key,
                                               Record& record, const rocksdb::Snapshot* snapshot = nullptr) {
    auto value = Get(cf, key, snapshot);
    if (!value.ok()) return value.status();
    if (!value->has_value()) return false;
    if (!record.ParseFromString(**value)) return absl::DataLossError("unreadable record in the store");
    return true;
  }
};

// Adds the deletion of upload `id`'s chunks and pending marker to `b`.
void DeleteUploadInto(const StoreState& store, std::string_view id, rocksdb::WriteBatch& b);

// The state of one upload (upload.h).
struct UploadState {
  enum class Phase { kOpen, kFinished, kCommitted, kAborted, kBroken };

  StoreState* store = nullptr;
  std::string id;  // kUploadIdSize random bytes
  Phase phase = Phase::kOpen;
  // The part being appended to, its next chunk number, and its bytes not yet
  // put into `batch`.
  int64_t part = -1;
  uint64_t next_chunk = 0;
  std::string chunk;
  rocksdb::WriteBatch batch;  // chunks not yet written
  signer::Sha256Stream hash;
  uint64_t part_size = 0;
  std::vector<PartDigest> done;  // parts before `part`
  uint64_t bytes = 0;
  uint32_t finished_count = 0;
  bool written = false;  // the marker and some chunks are in the database
  bool direct = false;   // some chunks bypassed the WAL: Finish flushes

  // Adds the deletion of this upload's chunks and marker to `b`.
  void DeleteInto(rocksdb::WriteBatch& b) const;
  // The start of the write that commits this upload: the chunks not yet
  // written (all of a small upload's), and the removal of the marker.
  rocksdb::WriteBatch CommitBatch() const;
  // After that write succeeded.
  void Committed();
  // FAILED_PRECONDITION unless finished and not committed; then checks the
  // digests against a header's parts (INVALID_ARGUMENT when they differ).
  [[nodiscard]] absl::Status CheckCommittable(const congvan::v1::DocumentHeader& header) const;
};

// The part records of a finished upload, for a MessageRecord.
template <typename PartRecords>
void AddPartRecords(const UploadState& upload, PartRecords* out) {
  for (const PartDigest& d : upload.done) {
    auto* p = out->Add();
    p->set_size(d.size);
    p->set_sha256(d.sha256);
  }
}

}  // namespace congvan::store::internal

#endif  // CONGVAN_STORE_SRC_STATE_H_
