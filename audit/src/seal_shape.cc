#include "seal_shape.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/time/civil_time.h"
#include "congvan/signer/status_macros.h"

namespace congvan::audit::internal {
namespace {

constexpr uint8_t kInteger = 0x02;
constexpr uint8_t kOctetString = 0x04;
constexpr uint8_t kNull = 0x05;
constexpr uint8_t kOid = 0x06;
constexpr uint8_t kUtcTime = 0x17;
constexpr uint8_t kGeneralizedTime = 0x18;
constexpr uint8_t kSequence = 0x30;
constexpr uint8_t kSet = 0x31;
constexpr uint8_t kConstructed = 0x20;
constexpr uint8_t kExplicit0 = 0xA0;  // [0] constructed
constexpr uint8_t kExplicit1 = 0xA1;  // [1] constructed
constexpr uint8_t kImplicit0 = 0x80;  // [0] primitive: a subjectKeyIdentifier
constexpr int kMaxDepth = 32;

// DER contents of the OIDs that matter.
constexpr std::string_view kSignedData = "\x2A\x86\x48\x86\xF7\x0D\x01\x07\x02";     // 1.2.840.113549.1.7.2
constexpr std::string_view kData = "\x2A\x86\x48\x86\xF7\x0D\x01\x07\x01";           // 1.2.840.113549.1.7.1
constexpr std::string_view kSha256 = "\x60\x86\x48\x01\x65\x03\x04\x02\x01";         // 2.16.840.1.101.3.4.2.1
constexpr std::string_view kSigningTime = "\x2A\x86\x48\x86\xF7\x0D\x01\x09\x05";    // 1.2.840.113549.1.9.5
constexpr std::string_view kEcdsaSha256 = "\x2A\x86\x48\xCE\x3D\x04\x03\x02";        // 1.2.840.10045.4.3.2
constexpr std::string_view kRsaEncryption = "\x2A\x86\x48\x86\xF7\x0D\x01\x01\x01";  // 1.2.840.113549.1.1.1
constexpr std::string_view kSha256WithRsa = "\x2A\x86\x48\x86\xF7\x0D\x01\x01\x0B";  // 1.2.840.113549.1.1.11

absl::Status Invalid(const std::string& what) {
  return absl::InvalidArgumentError("it is not a seal as congvan makes them: " + what);
}

struct Tlv {
  uint8_t tag = 0;
  std::string_view value;
};

// Reads the TLVs of one level of DER, strictly.
class Der {
 public:
  explicit Der(std::string_view bytes) : rest_(bytes) {}
  bool done() const { return rest_.empty(); }
  uint8_t PeekTag() const { return rest_.empty() ? 0 : static_cast<uint8_t>(rest_[0]); }

  absl::StatusOr<Tlv> Next() {
    if (rest_.size() < 2) return Invalid("its DER is truncated");
    const uint8_t tag = static_cast<uint8_t>(rest_[0]);
    if ((tag & 0x1F) == 0x1F) return Invalid("its DER has a high tag number");
    const uint8_t first = static_cast<uint8_t>(rest_[1]);
    size_t header = 2;
    size_t length = first;
    if (first >= 0x80) {
      const size_t n = first & 0x7F;
      if (n == 0) return Invalid("its DER has an indefinite length");
      if (n > 4 || rest_.size() < 2 + n) return Invalid("its DER has a length that does not fit");
      length = 0;
      for (size_t i = 0; i < n; ++i) length = (length << 8) | static_cast<uint8_t>(rest_[2 + i]);
      if (rest_[2] == 0 || length < 0x80) return Invalid("its DER has a length not in its shortest form");
      header += n;
    }
    if (rest_.size() - header < length) return Invalid("its DER has a value longer than what holds it");
    Tlv tlv{tag, rest_.substr(header, length)};
    rest_.remove_prefix(header + length);
    return tlv;
  }

  absl::StatusOr<Tlv> Expect(uint8_t tag, const std::string& what) {
    ASSIGN_OR_RETURN(Tlv tlv, Next());
    if (tlv.tag != tag) return Invalid(what + " is not where it belongs");
    return tlv;
  }

  absl::Status End(const std::string& what) {
    return done() ? absl::OkStatus() : Invalid("there is more than " + what + " holds");
  }

 private:
  std::string_view rest_;
};

// Every constructed value, parsed to its end.
absl::Status CheckStrict(std::string_view bytes, int depth) {
  if (depth > kMaxDepth) return Invalid("its DER is nested too deep");
  Der der(bytes);
  while (!der.done()) {
    ASSIGN_OR_RETURN(Tlv tlv, der.Next());
    if ((tlv.tag & kConstructed) != 0) RETURN_IF_ERROR(CheckStrict(tlv.value, depth + 1));
  }
  return absl::OkStatus();
}

// An AlgorithmIdentifier with one of `oids` and no parameters or NULL.
absl::Status CheckAlgorithm(const Tlv& algorithm, std::initializer_list<std::string_view> oids,
                            const std::string& what) {
  Der der(algorithm.value);
  ASSIGN_OR_RETURN(Tlv oid, der.Expect(kOid, what));
  if (std::find(oids.begin(), oids.end(), oid.value) == oids.end()) return Invalid(what + " is not the expected one");
  if (!der.done()) {
    ASSIGN_OR_RETURN(Tlv parameters, der.Next());
    if (parameters.tag != kNull || !parameters.value.empty()) return Invalid(what + " has parameters");
  }
  return der.End(what);
}

absl::StatusOr<absl::Time> ParseTime(const Tlv& t) {
  std::string text(t.value);
  if (t.tag == kUtcTime && text.size() == 13) {
    text = (text[0] < '5' ? "20" : "19") + text;
  } else if (t.tag != kGeneralizedTime || text.size() != 15) {
    return Invalid("its signingTime is not a UTCTime or GeneralizedTime to the second in UTC");
  }
  if (text.back() != 'Z' || !std::all_of(text.begin(), text.end() - 1, [](char c) { return absl::ascii_isdigit(c); })) {
    return Invalid("its signingTime is not a time in UTC");
  }
  auto number = [&](size_t at, size_t digits) {
    int n = 0;
    for (size_t i = at; i < at + digits; ++i) n = n * 10 + (text[i] - '0');
    return n;
  };
  const int year = number(0, 4), month = number(4, 2), day = number(6, 2);
  const int hour = number(8, 2), minute = number(10, 2), second = number(12, 2);
  const absl::CivilSecond civil(year, month, day, hour, minute, second);
  if (civil.year() != year || civil.month() != month || civil.day() != day || civil.hour() != hour ||
      civil.minute() != minute || civil.second() != second) {
    return Invalid("its signingTime is not a valid time");
  }
  return absl::FromCivil(civil, absl::UTCTimeZone());
}

// The one signingTime among the signed attributes.
absl::StatusOr<absl::Time> SigningTime(std::string_view attributes) {
  Der der(attributes);
  std::optional<absl::Time> found;
  while (!der.done()) {
    ASSIGN_OR_RETURN(Tlv attribute, der.Expect(kSequence, "a signed attribute"));
    Der parts(attribute.value);
    ASSIGN_OR_RETURN(Tlv oid, parts.Expect(kOid, "a signed attribute's type"));
    ASSIGN_OR_RETURN(Tlv values, parts.Expect(kSet, "a signed attribute's values"));
    RETURN_IF_ERROR(parts.End("a signed attribute"));
    if (oid.value != kSigningTime) continue;
    if (found.has_value()) return Invalid("it has two signingTime attributes");
    Der value(values.value);
    ASSIGN_OR_RETURN(Tlv time, value.Next());
    RETURN_IF_ERROR(value.End("the signingTime attribute"));
    ASSIGN_OR_RETURN(found, ParseTime(time));
  }
  if (!found.has_value()) return Invalid("it has no signingTime attribute");
  return *found;
}

}  // namespace

absl::StatusOr<absl::Time> CheckSealShape(std::string_view der) {
  Der top(der);
  ASSIGN_OR_RETURN(Tlv content_info, top.Expect(kSequence, "the ContentInfo"));
  RETURN_IF_ERROR(top.End("the ContentInfo"));
  RETURN_IF_ERROR(CheckStrict(content_info.value, 1));

  Der ci(content_info.value);
  ASSIGN_OR_RETURN(Tlv type, ci.Expect(kOid, "the content type"));
  if (type.value != kSignedData) return Invalid("it is not SignedData");
  ASSIGN_OR_RETURN(Tlv wrapper, ci.Expect(kExplicit0, "the SignedData"));
  RETURN_IF_ERROR(ci.End("the ContentInfo"));
  Der wrapped(wrapper.value);
  ASSIGN_OR_RETURN(Tlv signed_data, wrapped.Expect(kSequence, "the SignedData"));
  RETURN_IF_ERROR(wrapped.End("the SignedData"));

  Der sd(signed_data.value);
  ASSIGN_OR_RETURN(Tlv sd_version, sd.Expect(kInteger, "the SignedData version"));
  ASSIGN_OR_RETURN(Tlv digests, sd.Expect(kSet, "the digest algorithms"));
  Der digest_set(digests.value);
  ASSIGN_OR_RETURN(Tlv digest, digest_set.Expect(kSequence, "the digest algorithm"));
  RETURN_IF_ERROR(CheckAlgorithm(digest, {kSha256}, "the digest algorithm"));
  RETURN_IF_ERROR(digest_set.End("SHA-256 as the only digest algorithm"));
  ASSIGN_OR_RETURN(Tlv encapsulated, sd.Expect(kSequence, "the encapsulated content info"));
  Der encap(encapsulated.value);
  ASSIGN_OR_RETURN(Tlv encap_type, encap.Expect(kOid, "the encapsulated content type"));
  if (encap_type.value != kData) return Invalid("its content type is not id-data");
  RETURN_IF_ERROR(encap.End("a detached signature"));
  if (sd.PeekTag() == kExplicit0) RETURN_IF_ERROR(sd.Next().status());  // certificates
  if (sd.PeekTag() == kExplicit1) RETURN_IF_ERROR(sd.Next().status());  // CRLs
  ASSIGN_OR_RETURN(Tlv signer_infos, sd.Expect(kSet, "the signer infos"));
  RETURN_IF_ERROR(sd.End("the SignedData"));
  Der signers(signer_infos.value);
  ASSIGN_OR_RETURN(Tlv signer_info, signers.Expect(kSequence, "the signer info"));
  RETURN_IF_ERROR(signers.End("one signer"));

  Der si(signer_info.value);
  ASSIGN_OR_RETURN(Tlv si_version, si.Expect(kInteger, "the signer info's version"));
  if (si_version.value != "\x01" && si_version.value != "\x03")
    return Invalid("its signer info's version is not 1 or 3");
  // RFC 5652 5.1: version 3 exactly when a signer is named by its key id.
  if (sd_version.value != si_version.value) return Invalid("its SignedData version does not match its signer's");
  ASSIGN_OR_RETURN(Tlv sid, si.Next());
  if (sid.tag != (si_version.value == "\x01" ? kSequence : kImplicit0)) {
    return Invalid("its signer identifier does not match its version");
  }
  ASSIGN_OR_RETURN(Tlv si_digest, si.Expect(kSequence, "the signer's digest algorithm"));
  RETURN_IF_ERROR(CheckAlgorithm(si_digest, {kSha256}, "the signer's digest algorithm"));
  ASSIGN_OR_RETURN(Tlv attributes, si.Expect(kExplicit0, "the signed attributes"));
  ASSIGN_OR_RETURN(Tlv signature_algorithm, si.Expect(kSequence, "the signature algorithm"));
  RETURN_IF_ERROR(
      CheckAlgorithm(signature_algorithm, {kEcdsaSha256, kRsaEncryption, kSha256WithRsa}, "the signature algorithm"));
  RETURN_IF_ERROR(si.Expect(kOctetString, "the signature value").status());
  RETURN_IF_ERROR(si.End("the signer info (congvan adds no unsigned attributes)"));
  return SigningTime(attributes.value);
}

}  // namespace congvan::audit::internal
