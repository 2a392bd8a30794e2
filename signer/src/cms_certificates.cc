#include "cms_certificates.h"

#include <map>

#include "absl/synchronization/mutex.h"

namespace congvan::signer::internal {
namespace {

constexpr unsigned char kSequence = 0x30;
constexpr unsigned char kObjectId = 0x06;
constexpr unsigned char kContext0 = 0xA0;  // [0], constructed

// One DER element: its tag, where its contents are, and its whole encoding.
struct Element {
  unsigned char tag = 0;
  std::string_view contents;
  std::string_view whole;
};

// Reads the element at the start of `in` and advances past it. Definite
// lengths only, in their shortest form up to 4 bytes (DER).
std::optional<Element> Read(std::string_view& in) {
  if (in.size() < 2) return std::nullopt;
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(in[i]); };
  const unsigned char tag = byte(0);
  if ((tag & 0x1F) == 0x1F) return std::nullopt;  // multi-byte tags: not in SignedData's frame
  size_t length = byte(1);
  size_t header = 2;
  if (length & 0x80) {
    const size_t count = length & 0x7F;
    if (count == 0 || count > 4 || in.size() < 2 + count) return std::nullopt;
    length = 0;
    for (size_t i = 0; i < count; ++i) length = (length << 8) | byte(2 + i);
    if (length < 0x80 || (count > 1 && byte(2) == 0)) return std::nullopt;  // not the shortest form
    header += count;
  }
  if (in.size() - header < length) return std::nullopt;
  Element e{tag, in.substr(header, length), in.substr(0, header + length)};
  in.remove_prefix(header + length);
  return e;
}

void AppendLength(std::string& out, size_t length) {
  if (length < 0x80) {
    out.push_back(static_cast<char>(length));
    return;
  }
  std::string bytes;
  for (size_t n = length; n != 0; n >>= 8) bytes.insert(bytes.begin(), static_cast<char>(n & 0xFF));
  out.push_back(static_cast<char>(0x80 | bytes.size()));
  out += bytes;
}

std::string Wrap(unsigned char tag, std::string_view contents) {
  std::string out(1, static_cast<char>(tag));
  AppendLength(out, contents.size());
  out += contents;
  return out;
}

}  // namespace

std::optional<SplitSignedData> SplitCertificates(std::string_view der) {
  std::string_view in = der;
  auto info = Read(in);
  if (!info || info->tag != kSequence || !in.empty()) return std::nullopt;
  std::string_view fields = info->contents;
  auto type = Read(fields);
  auto explicit_content = Read(fields);
  if (!type || type->tag != kObjectId || !explicit_content || explicit_content->tag != kContext0 || !fields.empty()) {
    return std::nullopt;
  }
  std::string_view wrapped = explicit_content->contents;
  auto signed_data = Read(wrapped);
  if (!signed_data || signed_data->tag != kSequence || !wrapped.empty()) return std::nullopt;

  SplitSignedData split;
  std::string kept;  // SignedData's fields but the certificates
  bool found = false;
  for (std::string_view rest = signed_data->contents; !rest.empty();) {
    auto field = Read(rest);
    if (!field) return std::nullopt;
    if (field->tag != kContext0) {
      kept += field->whole;
      continue;
    }
    if (found) return std::nullopt;
    found = true;
    for (std::string_view certs = field->contents; !certs.empty();) {
      auto cert = Read(certs);
      if (!cert || cert->tag != kSequence) return std::nullopt;  // attribute or other certificates: OpenSSL's
      split.certificates.push_back(cert->whole);
    }
  }
  if (!found) return std::nullopt;
  split.without_certificates =
      Wrap(kSequence, std::string(type->whole) + Wrap(kContext0, Wrap(kSequence, kept)));
  return split;
}

absl::StatusOr<Certificate> CachedCertificate(std::string_view der) {
  // A node meets a few hundred signers; past this the cache starts again,
  // so that a stream of new certificates cannot grow it without bound.
  constexpr size_t kCapacity = 4096;
  static absl::Mutex mu(absl::kConstInit);
  static auto* cache = new std::map<std::string, Certificate, std::less<>>();
  {
    absl::MutexLock lock(&mu);
    if (auto it = cache->find(der); it != cache->end()) return it->second;
  }
  absl::StatusOr<Certificate> parsed = Certificate::FromDer(der);
  if (!parsed.ok()) return parsed.status();
  absl::MutexLock lock(&mu);
  if (cache->size() >= kCapacity) cache->clear();
  cache->emplace(std::string(der), *parsed);
  return parsed;
}

}  // namespace congvan::signer::internal
