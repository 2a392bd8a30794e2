// Key layouts of every column family. Fixed-width integers are big-endian so
// that byte order is numeric order and range scans are cheap; variable
// strings (ids that never contain NUL) end with a NUL separator.
//
//   messages   <message_id>                                  -> MessageRecord
//   parts      'u' <upload_id:16>                            -> "" (upload not committed)
//              'c' <upload_id:16> <part:4> <chunk:8>         -> chunk bytes
//   outbox     'e' <entry_id>                                -> OutboxRecord
//              'd' <next_attempt_us:8> <entry_id>            -> "" (due index, pending only)
//              entry_id = <message_id> NUL <peer> NUL ('d' | 'a' <hex sha256 of answer body>)
//   inbox      <agency> NUL <message_id>                     -> InboxRecord
//              (message ids are UUIDv7: key order is arrival order)
//   registers  'o' <agency> NUL <year:4>                     -> last number:8
//              'r' <agency> NUL <request_id>                 -> IssuedRequestRecord
//   answers    'a' <message_id> NUL <agency> NUL <sha256:32> -> AnswerRecord
//              's' <message_id> NUL <agency>                 -> DeliveryRecord
//   dedup      <message_id>                                  -> DedupRecord
//   log        'q' <seq:8>                     -> AuditEvent (pending: logged, not yet in the tree)
//              'Q'                             -> next seq:8 (high-water mark of integrated events)
//              'e' <index:8>                   -> AuditEvent (leaf `index` of the tree)
//              'n' <level:1> <index:8>         -> hash of the complete subtree (level, index)
//              'S'                             -> tree size:8
//              'm' <message_id> NUL <index:8>  -> "" (the events of a message)
//              'h' <tree_size:8>               -> LoggedTreeHead
//              't' <tree_size:8>               -> "" (a head waiting for its timestamp)
//              'w' <child agency>              -> SignedMessage (the child's last witnessed head)
//   default    "probe"                         -> time:8 count:8 (Store::Probe's last write)
#ifndef CONGVAN_STORE_SRC_KEYS_H_
#define CONGVAN_STORE_SRC_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace congvan::store::internal {

inline constexpr size_t kUploadIdSize = 16;
inline constexpr size_t kMaxIdSize = 128;

void AppendU32(std::string& out, uint32_t v);
void AppendU64(std::string& out, uint64_t v);
uint32_t ReadU32(std::string_view in);  // first 4 bytes
uint64_t ReadU64(std::string_view in);  // first 8 bytes
// Times as microseconds since the epoch with the sign bit flipped, so that
// the byte order of the encoding is time order.
void AppendTime(std::string& out, absl::Time t);
int64_t ToMicros(absl::Time t);
absl::Time FromMicros(int64_t us);
// RFC 3339 in UTC, with the fraction of a second when there is one.
std::string Rfc3339(absl::Time t);

// INVALID_ARGUMENT unless `id` is a usable message or agency id: not empty,
// at most kMaxIdSize bytes, no NUL.
[[nodiscard]] absl::Status CheckId(std::string_view what, std::string_view id);

// The smallest key greater than every key starting with `prefix`.
std::string PrefixEnd(std::string prefix);

// parts
std::string PendingUploadKey(std::string_view upload_id);
std::string ChunkPrefix(std::string_view upload_id);  // all parts
std::string ChunkPrefix(std::string_view upload_id, uint32_t part);
std::string ChunkKey(std::string_view upload_id, uint32_t part, uint64_t chunk);

// outbox
std::string DocumentEntryId(std::string_view message_id, std::string_view peer);
// An answer is queued once per (body, final destination): the same 13 goes to
// several recipients through one peer.
std::string AnswerEntryId(std::string_view message_id, std::string_view peer, std::string_view body_sha256,
                          std::string_view to_agency);
std::string_view MessageIdOfEntry(std::string_view entry_id);
std::string_view PeerOfEntry(std::string_view entry_id);  // the hop it goes to
std::string EntryKey(std::string_view entry_id);
std::string EntryPrefix(std::string_view message_id);
std::string DueKey(absl::Time next_attempt, std::string_view entry_id);
std::string DueUpperBound(absl::Time now);  // DueKey(t, *) < bound  <=>  t <= now
inline constexpr size_t kDueKeyHeader = 1 + 8;

// inbox
std::string InboxKey(std::string_view agency, std::string_view message_id);
std::string InboxPrefix(std::string_view agency);

// registers
std::string RegisterKey(std::string_view agency, uint32_t year);
std::string IssuedRequestKey(std::string_view agency, std::string_view request_id);

// answers
std::string AnswerKey(std::string_view message_id, std::string_view agency, std::string_view body_sha256);
std::string AnswerPrefix(std::string_view message_id);
std::string DeliveryKey(std::string_view message_id, std::string_view agency);
std::string DeliveryPrefix(std::string_view message_id);

}  // namespace congvan::store::internal

#endif  // CONGVAN_STORE_SRC_KEYS_H_
