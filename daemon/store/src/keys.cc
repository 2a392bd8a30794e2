#include "keys.h"

#include "congvan/signer/cms.h"

namespace congvan::store::internal {

void AppendU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void AppendU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

uint32_t ReadU32(std::string_view in) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

uint64_t ReadU64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

int64_t ToMicros(absl::Time t) {
  if (t == absl::InfinitePast()) return INT64_MIN;
  if (t == absl::InfiniteFuture()) return INT64_MAX;
  return absl::ToUnixMicros(t);
}

absl::Time FromMicros(int64_t us) {
  if (us == INT64_MIN) return absl::InfinitePast();
  if (us == INT64_MAX) return absl::InfiniteFuture();
  return absl::FromUnixMicros(us);
}

std::string Rfc3339(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone()); }

void AppendTime(std::string& out, absl::Time t) {
  AppendU64(out, static_cast<uint64_t>(ToMicros(t)) ^ (uint64_t{1} << 63));
}

absl::Status CheckId(std::string_view what, std::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError(std::string(what) + " is empty");
  if (id.size() > kMaxIdSize || id.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(std::string(what) + " is not a valid identifier");
  }
  return absl::OkStatus();
}

std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char last = static_cast<unsigned char>(prefix.back());
    if (last != 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;  // only reached for an all-0xff prefix, which no layout uses
}

namespace {
// tag + s. (Built by hand: GCC 12 warns falsely on "x" + std::string.)
std::string Tagged(char tag, std::string_view s) {
  std::string k;
  k.reserve(1 + s.size() + 16);
  k.push_back(tag);
  k.append(s);
  return k;
}

std::string Joined(char tag, std::string_view a, std::string_view b) {
  std::string k = Tagged(tag, a);
  k.push_back('\0');
  k.append(b);
  return k;
}
}  // namespace

std::string PendingUploadKey(std::string_view upload_id) { return Tagged('u', upload_id); }

std::string ChunkPrefix(std::string_view upload_id) { return Tagged('c', upload_id); }

std::string ChunkPrefix(std::string_view upload_id, uint32_t part) {
  std::string k = ChunkPrefix(upload_id);
  AppendU32(k, part);
  return k;
}

std::string ChunkKey(std::string_view upload_id, uint32_t part, uint64_t chunk) {
  std::string k = ChunkPrefix(upload_id, part);
  AppendU64(k, chunk);
  return k;
}

std::string DocumentEntryId(std::string_view message_id, std::string_view peer) {
  std::string id(message_id);
  id.push_back('\0');
  id.append(peer);
  id.push_back('\0');
  id.push_back('d');
  return id;
}

std::string AnswerEntryId(std::string_view message_id, std::string_view peer, std::string_view body_sha256,
                          std::string_view to_agency) {
  std::string id(message_id);
  id.push_back('\0');
  id.append(peer);
  id.push_back('\0');
  id.push_back('a');
  id.append(signer::HexEncode(body_sha256));
  id.push_back('>');
  id.append(to_agency);
  return id;
}

std::string_view MessageIdOfEntry(std::string_view entry_id) {
  return entry_id.substr(0, entry_id.find('\0'));
}

std::string_view PeerOfEntry(std::string_view entry_id) {
  const size_t start = entry_id.find('\0');
  if (start == std::string_view::npos) return {};
  const std::string_view rest = entry_id.substr(start + 1);
  return rest.substr(0, rest.find('\0'));
}

std::string EntryKey(std::string_view entry_id) { return Tagged('e', entry_id); }

std::string EntryPrefix(std::string_view message_id) {
  std::string k = Tagged('e', message_id);
  k.push_back('\0');
  return k;
}

std::string DueKey(absl::Time next_attempt, std::string_view entry_id) {
  std::string k = "d";
  AppendTime(k, next_attempt);
  k.append(entry_id);
  return k;
}

std::string DueUpperBound(absl::Time now) {
  // Every key of the same time, whatever its entry id, sorts before the
  // encoding of the next microsecond.
  std::string k = "d";
  int64_t us = ToMicros(now);
  AppendTime(k, us == INT64_MAX ? absl::InfiniteFuture() : FromMicros(us + 1));
  if (us == INT64_MAX) k = PrefixEnd(k);
  return k;
}

std::string InboxKey(std::string_view agency, std::string_view message_id) {
  return InboxPrefix(agency) + std::string(message_id);
}

std::string InboxPrefix(std::string_view agency) {
  std::string k(agency);
  k.push_back('\0');
  return k;
}

std::string RegisterKey(std::string_view agency, uint32_t year) {
  std::string k = Tagged('o', agency);
  k.push_back('\0');
  AppendU32(k, year);
  return k;
}

std::string IssuedRequestKey(std::string_view agency, std::string_view request_id) {
  return Joined('r', agency, request_id);
}

std::string AnswerKey(std::string_view message_id, std::string_view agency, std::string_view body_sha256) {
  std::string k = Joined('a', message_id, agency);
  k.push_back('\0');
  k.append(body_sha256);
  return k;
}

std::string AnswerPrefix(std::string_view message_id) {
  std::string k = Tagged('a', message_id);
  k.push_back('\0');
  return k;
}

std::string DeliveryKey(std::string_view message_id, std::string_view agency) {
  return Joined('s', message_id, agency);
}

std::string DeliveryPrefix(std::string_view message_id) {
  std::string k = Tagged('s', message_id);
  k.push_back('\0');
  return k;
}

}  // namespace congvan::store::internal
