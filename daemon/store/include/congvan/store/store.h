// congvan::store — a node's durable state in one RocksDB database
// (shared/DESIGN.md "Storage", "Flows", "Routing").
//
// Every state change is ONE atomic WriteBatch written with a synced WAL
// (StoreOptions::sync): when a method returns OK, the change survives a crash
// of the process or the machine; when it returns an error, nothing of it was
// written. Concurrent writers share fsyncs through RocksDB's group commit.
//
// Thread-safety: Store is thread-safe; all methods may be called from any
// thread. Read-modify-write sequences are serialised per message id (and
// Issue per outgoing register) inside the store. Upload objects are
// single-threaded (see upload.h).
//
// Errors: storage failures never cross as rocksdb::Status. An I/O error is
// UNAVAILABLE, a full disk RESOURCE_EXHAUSTED, corruption DATA_LOSS. Input
// that breaks this contract (a bad id, parts that do not match the header) is
// INVALID_ARGUMENT; an unknown message or entry NOT_FOUND.
//
// A full disk: the write that found no space fails, and every change after
// it, with RESOURCE_EXHAUSTED ("the node's disk is full: nothing was stored;
// free space on <path> ..."), until the store resumes by itself — RocksDB's
// SstFileManager looks at the free space every 5 s and, once the largest
// memtable (8 MiB for the node) fits, flushes and takes writes again. No
// reopen. Everything acknowledged before stays readable throughout; reads
// never stop.
#ifndef CONGVAN_STORE_STORE_H_
#define CONGVAN_STORE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/store/audit_log.h"
#include "congvan/store/outbox.h"
#include "congvan/store/upload.h"
#include "congvan/v1/message.pb.h"
#include "congvan/v1/node.pb.h"

namespace congvan::store {

struct StoreOptions {
  // Directory of the database; created if missing. Required.
  std::string path;
  // Size of one stored chunk of part data (one RocksDB value). Default: 1 MiB.
  size_t chunk_size = size_t{1} << 20;
  // An upload writes its chunks in unsynced batches of about this many bytes.
  // An upload holds at most about chunk_size + flush_bytes of memory until
  // its commit. Default: 4 MiB.
  size_t flush_bytes = size_t{4} << 20;
  // An upload past this size writes its further chunks without the WAL and
  // flushes them to blob files when it finishes (Upload::Finish waits for
  // that flush): a large document is written to disk once instead of twice
  // (WAL + blob file). 0: always through the WAL. Default: 64 MiB.
  size_t wal_bypass_bytes = size_t{64} << 20;
  // Sync the WAL on every state change. Turn off only for throw-away data.
  // Default: true.
  bool sync = true;
  // Keep part chunks in RocksDB blob files (integrated BlobDB) so that
  // compaction moves only small keys, not the documents. Default: true.
  bool blob_files = true;
  // Memory for all memtables together (RocksDB WriteBufferManager): the
  // bound of what the database buffers before flushing. Default: 64 MiB.
  size_t memtable_budget = size_t{64} << 20;
  // The time written into audit events. Default: the system clock.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// A message as stored: what Fetch and Export need.
struct StoredMessage {
  congvan::v1::FetchedDocument document;  // sealed header bytes, leader signatures, trace
  congvan::v1::DocumentHeader header;     // parsed from document.document().body()
  std::vector<PartDigest> parts;          // size and SHA-256 as stored
  bool issued_here = false;               // issued by this node (else received)
  absl::Time stored_at;
};

// A receipt, status or delivery report of `agency` about a message.
struct Answer {
  std::string message_id;
  std::string agency;                 // who answers (the recipient, the sender for 13, the relay for a report)
  congvan::v1::TrackedAnswer answer;  // code, time, reason, and the SignedMessage
  // A DELIVERY_REPORT: the recipients it names, which become FAILED with the
  // answer's reason unless already delivered.
  std::vector<std::string> failed_recipients;
};

// An inbox entry with the latest answer this node gave for it.
struct InboxItem {
  congvan::v1::InboxEntry entry;           // status: the latest code answered
  congvan::v1::SignedMessage latest_answer;  // the receipt, then each status set
};

// --- Issue (sender side) -----------------------------------------------------

struct IssueRequest {
  std::string agency;       // the issuing agency, whose outgoing register numbers it
  uint32_t year = 0;        // the register's year
  Upload* upload = nullptr;  // the parts, Finish()ed; not owned
  absl::Time issued_at;     // recorded as stored_at
  // The clerk's request id (SendHeader.request_id), or empty, and the
  // caller's digest of what was asked. Once an issue with this id is
  // written, Issue answers it again (replayed, nothing built or written)
  // when `fingerprint` is the same, and is ALREADY_EXISTS when it is not;
  // while it is being issued, another Issue with it is ABORTED.
  std::string request_id;
  std::string fingerprint;
};

// What the build callback returns for the number it was given.
struct IssuedDocument {
  // The sealed header (registration.year/number and from_agency must be the
  // request's), the leader signatures, the trace.
  congvan::v1::FetchedDocument document;
  std::vector<NewOutboxEntry> deliveries;  // one per next hop
};

struct IssueResult {
  std::string message_id;
  uint32_t year = 0;
  uint64_t number = 0;
  bool replayed = false;  // an earlier issue of the same request id
};

// Called with the next number; builds and seals the header. It runs while the
// register is held: it must not call Issue. An error returned from it is
// returned by Issue, and no number is consumed.
using IssueBuilder = absl::FunctionRef<absl::StatusOr<IssuedDocument>(uint64_t number)>;

// --- Receive (receiver side) -------------------------------------------------

// A final recipient served at this node and the receipt it answers with.
struct LocalDelivery {
  std::string recipient;                // agency ID
  congvan::v1::TrackedAnswer receipt;   // code 01, time, and the signed receipt
};

struct ReceiveRequest {
  congvan::v1::FetchedDocument document;  // from the envelope, trace including this hop
  Upload* upload = nullptr;                // the parts, Finish()ed; not owned
  absl::Time received_at;
  std::string from;                        // the node that delivered it (its TLS identity), for the log
  std::vector<std::string> served;         // Envelope.serve
  std::vector<LocalDelivery> local;        // filed in the inbox, receipts kept
  std::vector<NewOutboxEntry> forward;     // relayed to next hops
};

struct ReceiveResult {
  // True when the message id was already received: nothing was stored, the
  // upload was discarded, and `receipts` are the ones answered the first time.
  bool duplicate = false;
  std::vector<congvan::v1::SignedMessage> receipts;
};

// --- Reading -------------------------------------------------------------------

struct InboxQuery {
  std::string agency;   // whose inbox
  std::string before;   // message id cursor: list older ones only; empty: from the newest
  size_t limit = 1000;
};

// Part bytes, in order, in chunks of at most StoreOptions::chunk_size.
using PartSink = absl::FunctionRef<absl::Status(std::string_view chunk)>;

// The outbox's depth (operators' metrics): entries by state.
struct OutboxCounts {
  uint64_t pending = 0;  // waiting for an attempt, or between attempts
  uint64_t failed = 0;   // given up at their deadline, until re-armed
};

// Diagnostics (operators, tests). Reads all part data: slow on a large store.
struct PartsUsage {
  uint64_t pending_uploads = 0;  // uploads not yet committed
  uint64_t chunks = 0;
  uint64_t bytes = 0;
};

class Store {
 public:
  // Opens (creating if needed) the database at options.path with every
  // column family, and deletes the data of uploads a crash left uncommitted.
  // UNAVAILABLE if another process holds the database.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // --- uploads
  // Starts receiving the parts of one document.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Upload>> BeginUpload();

  // --- issuing: next number of (agency, year) + build + store + queue, in one
  // synced write. A failed callback or write consumes no number. Numbers start
  // at 1 per agency and year and have no gap.
  [[nodiscard]] absl::StatusOr<IssueResult> Issue(const IssueRequest& request, IssueBuilder build);
  // The issue written for `agency`'s request id, as Issue would answer it
  // again (replayed), or nullopt; ALREADY_EXISTS if it was issued for
  // another fingerprint. Lets a node answer a repeated Send before its parts
  // stream.
  [[nodiscard]] absl::StatusOr<std::optional<IssueResult>> FindIssuedRequest(const std::string& agency,
                                                                            const std::string& request_id,
                                                                            std::string_view fingerprint);
  // The last number issued in (agency, year); 0 if none.
  [[nodiscard]] absl::StatusOr<uint64_t> LastNumber(const std::string& agency, uint32_t year);

  // --- receiving: stores the message, inbox entries, receipts, dedup record
  // and forwards in one synced write. A known message id stores nothing and
  // answers the original receipts (exactly-once in effect).
  [[nodiscard]] absl::StatusOr<ReceiveResult> Receive(const ReceiveRequest& request);
  // The receipts answered for a message already received, or nullopt: lets a
  // receiver answer a redelivery from its envelope, before the parts stream.
  [[nodiscard]] absl::StatusOr<std::optional<std::vector<congvan::v1::SignedMessage>>> KnownReceipts(
      const std::string& message_id);

  // --- outbox
  // Queues entries on their own (e.g. a relay forwarding an answer). An answer
  // entry already queued is skipped; a document entry already queued for the
  // same peer is ALREADY_EXISTS.
  [[nodiscard]] absl::Status Enqueue(const std::vector<NewOutboxEntry>& entries);
  // Pending entries with next_attempt <= now, earliest first, at most `limit`.
  // Entries in `skip` (a dispatcher's calls in flight) are passed over
  // without being read and do not count towards `limit`. So are those whose
  // hop `wanted` (when given) refuses: it is asked once per candidate, in
  // order, and lets a dispatcher read only what its free streams can carry.
  [[nodiscard]] absl::StatusOr<std::vector<OutboxEntry>> ListDue(
      absl::Time now, size_t limit, const std::set<std::string, std::less<>>& skip = {},
      const std::function<bool(std::string_view peer)>& wanted = nullptr);
  // Every entry (pending or failed) of a message.
  [[nodiscard]] absl::StatusOr<std::vector<OutboxEntry>> ListOutbox(const std::string& message_id);
  // The hop accepted: removes the entry, stores the receipts it answered
  // (recipients with a RECEIPT become DELIVERED) and queues `enqueue`.
  // NOT_FOUND if the entry is gone (already marked by someone else).
  [[nodiscard]] absl::Status MarkDelivered(const std::string& entry_id, const std::vector<Answer>& receipts,
                                           const std::vector<NewOutboxEntry>& enqueue = {});
  // An attempt failed: attempts + 1, last_error, next try at `next_attempt`.
  // FAILED_PRECONDITION if the entry is failed.
  [[nodiscard]] absl::Status MarkRetry(const std::string& entry_id, absl::Time next_attempt,
                                       const std::string& error);
  // Gives up (deadline passed): the entry and its recipients become FAILED
  // with `reason`; it is no longer due. Queues `enqueue` with it (a relay's
  // report to the sender).
  [[nodiscard]] absl::Status MarkFailed(const std::string& entry_id, const std::string& reason,
                                        const std::vector<NewOutboxEntry>& enqueue = {});
  // Every failed entry, oldest message first, at most `limit`.
  [[nodiscard]] absl::StatusOr<std::vector<OutboxEntry>> ListFailed(size_t limit);
  // Queues a failed entry again (`congvan retry`). FAILED_PRECONDITION if it
  // is not failed.
  [[nodiscard]] absl::Status Rearm(const std::string& entry_id, absl::Time next_attempt, absl::Time deadline);

  // --- answers (track)
  // Stores a receipt, status or delivery report, deduplicated by the SHA-256
  // of its body, and queues `enqueue` with it. A RECEIPT makes its agency
  // DELIVERED; a DELIVERY_REPORT makes its failed_recipients FAILED unless
  // delivered. Returns false, writing nothing, if the same answer is
  // already stored.
  [[nodiscard]] absl::StatusOr<bool> AddAnswer(const Answer& answer,
                                               const std::vector<NewOutboxEntry>& enqueue = {});
  [[nodiscard]] absl::StatusOr<std::vector<Answer>> ListAnswers(const std::string& message_id);
  // Delivery state and answers per recipient of a stored message.
  [[nodiscard]] absl::StatusOr<congvan::v1::TrackResponse> Track(const std::string& message_id);

  // --- inbox
  // Newest first.
  [[nodiscard]] absl::StatusOr<std::vector<InboxItem>> ListInbox(const InboxQuery& query);
  [[nodiscard]] absl::StatusOr<InboxItem> GetInboxItem(const std::string& agency, const std::string& message_id);
  // Records the status a clerk of `status.agency` set (stored as an answer
  // too) and queues `enqueue` (the status on its way to the sender).
  // NOT_FOUND if the message is not in that agency's inbox.
  // 15 and 16 move the document (or, for an update or replacement, the one
  // it references) as lifecycle.h says; FAILED_PRECONDITION when
  // CheckStatusAllowed refuses the code.
  [[nodiscard]] absl::Status SetInboxStatus(const Answer& status, const std::vector<NewOutboxEntry>& enqueue = {});
  // The sender of a document in `agency`'s inbox asks for its recall:
  // stores the 13 (`request`, answered by the sender's agency) and marks the
  // entry RECALL_REQUESTED with the reason. False, writing nothing, when the
  // same request is stored already. NOT_FOUND if it is not in the inbox.
  [[nodiscard]] absl::StatusOr<bool> RequestRecall(const std::string& agency, const Answer& request);

  // --- messages
  [[nodiscard]] absl::StatusOr<bool> HasMessage(const std::string& message_id);
  [[nodiscard]] absl::StatusOr<StoredMessage> GetMessage(const std::string& message_id);
  // Streams part `part` of a stored message to `sink`, checking its size and
  // SHA-256 (DATA_LOSS if they differ from the record). A sink error stops
  // the stream and is returned.
  [[nodiscard]] absl::Status ReadPart(const std::string& message_id, uint32_t part, PartSink sink);

  [[nodiscard]] absl::StatusOr<PartsUsage> Usage();

  // --- operations (metrics and health, every few seconds)
  // The outbox's entries by state: one scan of the entries (O(entries), no
  // lock held), consistent in itself.
  [[nodiscard]] absl::StatusOr<OutboxCounts> CountOutbox();
  // The bytes of every file under StoreOptions::path: SST and blob files,
  // the WAL, the MANIFEST and RocksDB's own logs — what the database takes
  // of the disk. A file deleted while it is counted is skipped.
  // UNAVAILABLE if the directory cannot be read.
  [[nodiscard]] absl::StatusOr<uint64_t> DiskUsage();
  // Whether the store can still change: one write of a probe record (synced
  // like every state change) in the default column family, read back. The
  // write's error when it cannot (UNAVAILABLE for an I/O error or a database
  // that stopped writing after a background error, RESOURCE_EXHAUSTED for a
  // full disk); DATA_LOSS when the read-back differs. Once it writes, it also
  // deletes the uploads a full disk kept Upload::Abort from deleting.
  [[nodiscard]] absl::Status Probe();

  // --- audit log (audit_log.h)
  // Logs an event that comes with no state change (a rejected input), in a
  // synced write of its own. The time is set when empty.
  [[nodiscard]] absl::Status RecordEvent(congvan::v1::AuditEvent event);
  // Appends up to `limit` pending events to the tree in one synced write;
  // returns how many. Call from one thread at a time (it serialises itself).
  [[nodiscard]] absl::StatusOr<size_t> IntegrateLog(size_t limit = 10000);
  // Events logged but not yet in the tree (diagnostics, tests).
  [[nodiscard]] absl::StatusOr<uint64_t> PendingEvents();
  uint64_t LogSize() const;
  // The root of the tree of the first `size` events. INVALID_ARGUMENT past LogSize().
  [[nodiscard]] absl::StatusOr<std::string> LogRoot(uint64_t size);
  // Event `index` with its inclusion proof in the tree of `size` events.
  [[nodiscard]] absl::StatusOr<congvan::v1::InclusionProof> ProveInclusion(uint64_t index, uint64_t size);
  [[nodiscard]] absl::StatusOr<congvan::v1::ConsistencyProof> ProveConsistency(uint64_t old_size,
                                                                               uint64_t new_size);
  // The tree indexes of a message's events, in log order.
  [[nodiscard]] absl::StatusOr<std::vector<uint64_t>> MessageEvents(const std::string& message_id);
  // Keeps a sealed tree head (kind TREE_HEAD, body a TreeHead of this log),
  // keyed by its size; a head already kept at that size is replaced (with
  // its timestamp token, once the authority answered).
  [[nodiscard]] absl::Status PutTreeHead(const congvan::v1::LoggedTreeHead& head);
  // The head kept at `size`, or with size 0 the latest one; nullopt if none.
  [[nodiscard]] absl::StatusOr<std::optional<congvan::v1::LoggedTreeHead>> GetTreeHead(uint64_t size);
  // The smallest kept head whose size is at least `size`; nullopt if none.
  [[nodiscard]] absl::StatusOr<std::optional<congvan::v1::LoggedTreeHead>> TreeHeadCovering(uint64_t size);
  // Kept heads that have no timestamp token yet, oldest first.
  [[nodiscard]] absl::StatusOr<std::vector<congvan::v1::LoggedTreeHead>> HeadsWithoutTimestamp(size_t limit);
  // Witnessing (parent side): the last head of `child` recorded, and the
  // recording of a new one with its WITNESSED event, in one write.
  [[nodiscard]] absl::StatusOr<std::optional<congvan::v1::SignedMessage>> WitnessedHead(const std::string& child);
  [[nodiscard]] absl::Status RecordWitnessed(const std::string& child, const congvan::v1::SignedMessage& head,
                                             congvan::v1::AuditEvent event);
  // What Open found changed in the log behind the node's back.
  const LogDamage& log_damage() const;

 private:
  explicit Store(std::unique_ptr<internal::StoreState> state);
  static internal::UploadState& UploadOf(Upload& upload) { return upload.state(); }

  std::unique_ptr<internal::StoreState> state_;
};

}  // namespace congvan::store

#endif  // CONGVAN_STORE_STORE_H_
