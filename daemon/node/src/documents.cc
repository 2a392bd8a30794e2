#include "congvan/node/documents.h"

#include <algorithm>
#include <cstdio>

#include "absl/random/distributions.h"
#include "absl/strings/ascii.h"
#include "congvan/signer/agency_id.h"
#include "congvan/signer/status_macros.h"
#include "congvan/signer/verify_error.h"

namespace congvan::node {
namespace {

constexpr size_t kSha256Size = 32;

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

absl::Status CheckText(const std::string& field, const std::string& value, bool required, size_t max) {
  if (required && value.empty()) return Invalid(field + " is required");
  if (value.size() > max) return Invalid(field + " is longer than " + std::to_string(max) + " bytes");
  for (unsigned char c : value) {
    if (c < 0x20 && c != '\t') return Invalid(field + " contains a control character");
  }
  return absl::OkStatus();
}

template <typename Parts>
absl::Status CheckParts(const Parts& parts, const DocumentLimits& limits) {
  if (parts.empty()) return Invalid("the document has no part");
  if (static_cast<size_t>(parts.size()) > limits.max_parts) {
    return absl::ResourceExhaustedError("the document has " + std::to_string(parts.size()) +
                                        " parts; at most " + std::to_string(limits.max_parts) + " are allowed");
  }
  int mains = 0;
  uint64_t total = 0;
  std::set<std::string> names;
  for (int i = 0; i < parts.size(); ++i) {
    const auto& part = parts[i];
    const std::string field = "part " + std::to_string(i + 1);
    if (absl::Status name = CheckPartName(part.name()); !name.ok()) {
      return Invalid(field + ": " + std::string(name.message()));
    }
    if (!names.insert(part.name()).second) return Invalid(field + ": two parts are named '" + part.name() + "'");
    RETURN_IF_ERROR(CheckText(field + " media type", part.media_type(), true, 255));
    if (part.sha256().size() != kSha256Size) return Invalid(field + ": its SHA-256 must have 32 bytes");
    if (part.size() > limits.max_message_bytes || total + part.size() > limits.max_message_bytes) {
      return absl::ResourceExhaustedError("the document is larger than the limit of " +
                                          std::to_string(limits.max_message_bytes) + " bytes");
    }
    total += part.size();
    if (part.main()) ++mains;
  }
  if (mains != 1) return Invalid("exactly one part must be the main part (the one the leaders sign)");
  return absl::OkStatus();
}

template <typename Parts>
std::string MainDigest(const Parts& parts) {
  for (const auto& part : parts) {
    if (part.main()) return part.sha256();
  }
  return "";
}

absl::Status CheckRecipients(const google::protobuf::RepeatedPtrField<std::string>& recipients,
                             std::string_view own_agency, const DocumentLimits& limits) {
  if (recipients.empty()) return Invalid("the document has no recipient");
  if (static_cast<size_t>(recipients.size()) > limits.max_recipients) {
    return absl::ResourceExhaustedError("too many recipients (at most " + std::to_string(limits.max_recipients) + ")");
  }
  std::set<std::string> seen;
  for (const std::string& recipient : recipients) {
    auto id = signer::AgencyId::Parse(recipient);
    if (!id.ok()) return Invalid("recipient: " + std::string(id.status().message()));
    if (recipient == own_agency) return Invalid("recipient " + recipient + " is the sending agency itself");
    if (!seen.insert(recipient).second) return Invalid("recipient " + recipient + " is listed twice");
  }
  return absl::OkStatus();
}

bool IsLeaderSignatureName(std::string_view name) {
  const std::string_view prefix = kLeaderSignaturePrefix;
  if (!name.starts_with(prefix) || !name.ends_with(".p7s")) return false;
  std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - 4);
  return !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

absl::Status CheckRequestId(std::string_view id) {
  constexpr size_t kMaxRequestId = 64;
  if (id.size() > kMaxRequestId) {
    return Invalid("the request id is longer than " + std::to_string(kMaxRequestId) + " characters");
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' && c != '-') {
      return Invalid("the request id may hold only letters, digits and . _ : - (e.g. 32 hex digits)");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPartName(std::string_view name) {
  if (name.empty()) return Invalid("a part has an empty name");
  for (unsigned char c : name) {
    // The name is not echoed: it would carry the control character along.
    if (c < 0x20 || c == 0x7F) return Invalid("a part name contains a control character");
  }
  const std::string quoted = "part name '" + std::string(name) + "' ";
  if (name.size() > 255) return Invalid(quoted + "is longer than 255 bytes");
  if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos) {
    return Invalid(quoted + "contains a directory separator: a part must be a plain file name");
  }
  if (name.find("..") != std::string_view::npos) return Invalid(quoted + "contains '..'");
  if (name == ".") return Invalid(quoted + "is not a file name");
  if (name == kHeaderFileName || name == kSealFileName || IsLeaderSignatureName(name)) {
    return Invalid(quoted + "is reserved for the evidence congvan fetch writes next to the parts");
  }
  if (name.ends_with(kPartialSuffix)) {
    return Invalid(quoted + "ends in " + kPartialSuffix + ", reserved for files being written");
  }
  return absl::OkStatus();
}

std::string FormatRfc3339(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

std::string NewMessageId(absl::Time now, absl::BitGenRef random) {
  uint8_t b[16];
  const uint64_t ms = static_cast<uint64_t>(absl::ToUnixMillis(now));
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  for (int i = 6; i < 16; ++i) b[i] = absl::Uniform<uint8_t>(random);
  b[6] = static_cast<uint8_t>(0x70 | (b[6] & 0x0f));  // version 7
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3f));  // variant 10
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

absl::Status ValidateSendHeader(const v1::SendHeader& header, std::string_view own_agency,
                                const DocumentLimits& limits) {
  RETURN_IF_ERROR(CheckRecipients(header.recipients(), own_agency, limits));
  RETURN_IF_ERROR(CheckText("subject", header.subject(), true, limits.max_text_bytes));
  RETURN_IF_ERROR(CheckText("document type", header.document_type(), true, limits.max_text_bytes));
  RETURN_IF_ERROR(CheckText("notation", header.notation(), true, limits.max_text_bytes));
  RETURN_IF_ERROR(CheckText("document date", header.document_date(), false, 10));
  RETURN_IF_ERROR(CheckText("due date", header.due_date(), false, 10));
  RETURN_IF_ERROR(CheckParts(header.parts(), limits));
  RETURN_IF_ERROR(CheckRequestId(header.request_id()));
  if (header.leader_signatures().empty()) {
    return Invalid("the main part carries no leader signature: have a leader sign it first (congvan sign)");
  }
  switch (header.action()) {
    case v1::BUSINESS_ACTION_UNSPECIFIED:
    case v1::BUSINESS_ACTION_NEW:
      if (!header.reference_message_id().empty()) {
        return Invalid("a new document references no earlier message: send it as an update or a replacement");
      }
      return absl::OkStatus();
    case v1::BUSINESS_ACTION_UPDATE:
    case v1::BUSINESS_ACTION_REPLACE:
      if (header.reference_message_id().empty()) {
        return Invalid("an update or a replacement must name the earlier message it acts on");
      }
      return absl::OkStatus();
    case v1::BUSINESS_ACTION_REVOKE:
      return Invalid("a recall is not a new document: ask for it with `congvan recall MESSAGE_ID --reason ...`");
    default:
      return Invalid("unknown business action " + std::to_string(header.action()));
  }
}

absl::StatusOr<std::vector<v1::SignerInfo>> CheckLeaderSignatures(const std::vector<std::string>& signatures,
                                                                  std::string_view main_sha256,
                                                                  const signer::TrustStore& trust, absl::Time at,
                                                                  const LeaderPolicy& policy,
                                                                  SignatureCounter* counter) {
  std::vector<v1::SignerInfo> signers;
  for (size_t i = 0; i < signatures.size(); ++i) {
    const std::string which = "leader signature " + std::to_string(i + 1);
    auto verified = signer::VerifyDigest(main_sha256, signatures[i], trust, at);
    if (!verified.ok()) {
      return signer::WithContext(verified.status(), which);
    }
    if (counter != nullptr) counter->Verified();
    const signer::Certificate& cert = verified->signer;
    const std::string agency = cert.AgencyId().value_or("");
    const std::string login = cert.PersonLogin().value_or("");
    if (login.empty()) return absl::PermissionDeniedError(which + " is not a person's signature");
    if (agency != policy.agency) {
      return absl::PermissionDeniedError(which + " is by " + login + " of agency " + agency +
                                         ", who cannot sign for agency " + policy.agency);
    }
    if (policy.leaders.count(login) == 0) {
      return absl::PermissionDeniedError(which + " is by " + login +
                                         ", who does not hold the leader role at this node");
    }
    v1::SignerInfo info;
    info.set_person_login(login);
    info.set_agency_id(agency);
    info.set_full_name(cert.CommonName());
    info.set_signature_sha256(signer::Sha256(signatures[i]));
    signers.push_back(std::move(info));
  }
  return signers;
}

v1::DocumentHeader BuildHeader(const v1::SendHeader& request, const Issuance& issuance) {
  v1::DocumentHeader header;
  header.set_message_id(issuance.message_id);
  header.set_from_agency(issuance.from_agency);
  header.set_from_name(issuance.from_name);
  *header.mutable_recipients() = request.recipients();
  *header.mutable_registration() = issuance.registration;
  header.set_document_date(request.document_date());
  header.set_document_type(request.document_type());
  header.set_subject(request.subject());
  for (const v1::SignerInfo& s : issuance.signers) *header.add_signers() = s;
  header.set_priority(request.priority() == v1::PRIORITY_UNSPECIFIED ? v1::PRIORITY_NORMAL : request.priority());
  header.set_due_date(request.due_date());
  header.set_action(request.action() == v1::BUSINESS_ACTION_UNSPECIFIED ? v1::BUSINESS_ACTION_NEW : request.action());
  if (!request.reference_message_id().empty()) header.mutable_reference()->set_message_id(request.reference_message_id());
  for (const v1::PartSpec& spec : request.parts()) {
    v1::PartInfo* part = header.add_parts();
    part->set_name(spec.name());
    part->set_media_type(spec.media_type());
    part->set_size(spec.size());
    part->set_sha256(spec.sha256());
    part->set_main(spec.main());
  }
  return header;
}

absl::StatusOr<v1::SignedMessage> Seal(v1::MessageKind kind, std::string body, const SealCredentials& seal,
                                       absl::Time now) {
  signer::SignRequest request{seal.key, seal.certificate, seal.chain, now};
  ASSIGN_OR_RETURN(std::string signature, signer::SignDetached(body, request));
  if (seal.counter != nullptr) seal.counter->Made();
  v1::SignedMessage message;
  message.set_kind(kind);
  message.set_body(std::move(body));
  message.set_seal_signature(std::move(signature));
  return message;
}

absl::StatusOr<VerifiedSeal> VerifySeal(const v1::SignedMessage& message, const signer::TrustStore& trust,
                                        absl::Time at, SignatureCounter* counter) {
  auto verified = signer::VerifyDetached(message.body(), message.seal_signature(), trust, at);
  if (!verified.ok()) {
    return signer::WithContext(verified.status(), "seal");
  }
  if (counter != nullptr) counter->Verified();
  if (verified->signer.PersonLogin().has_value()) {
    return absl::PermissionDeniedError("the seal is a person's signature, not an agency's seal");
  }
  std::optional<std::string> agency = verified->signer.AgencyId();
  if (!agency.has_value()) return absl::PermissionDeniedError("the seal certificate names no agency");
  return VerifiedSeal{*agency, *std::move(verified)};
}

absl::StatusOr<v1::DocumentHeader> VerifyEnvelope(const v1::Envelope& envelope, const signer::TrustStore& trust,
                                                  absl::Time at, const DocumentLimits& limits,
                                                  SignatureCounter* counter) {
  const v1::SignedMessage& document = envelope.document();
  if (document.kind() != v1::MESSAGE_KIND_DOCUMENT) return Invalid("the envelope does not carry a document");
  v1::DocumentHeader header;
  if (!header.ParseFromString(document.body())) return Invalid("the document header cannot be parsed");
  if (header.message_id().size() != 36) return Invalid("the document has no valid message id");
  auto from = signer::AgencyId::Parse(header.from_agency());
  if (!from.ok()) return Invalid("from: " + std::string(from.status().message()));
  RETURN_IF_ERROR(CheckRecipients(header.recipients(), header.from_agency(), limits));
  // The texts as ValidateSendHeader bounds them at the sender: a peer's
  // header is no less untrusted than a clerk's request.
  RETURN_IF_ERROR(CheckText("subject", header.subject(), true, limits.max_text_bytes));
  RETURN_IF_ERROR(CheckText("document type", header.document_type(), true, limits.max_text_bytes));
  RETURN_IF_ERROR(CheckText("notation", header.registration().notation(), false, limits.max_text_bytes));
  RETURN_IF_ERROR(CheckText("sender name", header.from_name(), false, limits.max_text_bytes));
  RETURN_IF_ERROR(CheckText("document date", header.document_date(), false, 10));
  RETURN_IF_ERROR(CheckText("due date", header.due_date(), false, 10));
  RETURN_IF_ERROR(CheckParts(header.parts(), limits));
  for (const std::string& served : envelope.serve()) {
    if (std::find(header.recipients().begin(), header.recipients().end(), served) == header.recipients().end()) {
      return Invalid("the envelope asks to serve " + served + ", who is not a recipient of the document");
    }
  }

  ASSIGN_OR_RETURN(VerifiedSeal seal, VerifySeal(document, trust, at, counter));
  if (seal.agency != header.from_agency()) {
    return absl::PermissionDeniedError("the document claims to come from " + header.from_agency() +
                                       " but is sealed by " + seal.agency);
  }
  if (envelope.leader_signatures_size() != header.signers_size() || header.signers_size() == 0) {
    return Invalid("the envelope carries " + std::to_string(envelope.leader_signatures_size()) +
                   " leader signatures for " + std::to_string(header.signers_size()) + " signers in the header");
  }
  const std::string main_sha256 = MainDigest(header.parts());
  for (int i = 0; i < header.signers_size(); ++i) {
    const std::string& signature = envelope.leader_signatures(i);
    const v1::SignerInfo& info = header.signers(i);
    const std::string which = "leader signature " + std::to_string(i + 1);
    if (signer::Sha256(signature) != info.signature_sha256()) {
      return Invalid(which + " is not the one the header names");
    }
    auto verified = signer::VerifyDigest(main_sha256, signature, trust, at);
    if (!verified.ok()) {
      return signer::WithContext(verified.status(), which);
    }
    if (counter != nullptr) counter->Verified();
    if (verified->signer.AgencyId() != header.from_agency() || verified->signer.PersonLogin() != info.person_login()) {
      return absl::PermissionDeniedError(which + " is not by " + info.person_login() + " of " + header.from_agency());
    }
  }
  return header;
}

absl::StatusOr<v1::SignedMessage> MakeReceipt(const v1::DocumentHeader& header, std::string_view header_bytes,
                                              const std::string& recipient, v1::StatusCode code,
                                              const std::string& reason, const SealCredentials& seal, absl::Time now,
                                              const std::vector<v1::TraceEntry>& path) {
  v1::ReceiptBody body;
  body.set_message_id(header.message_id());
  body.set_header_sha256(signer::Sha256(header_bytes));
  body.set_recipient(recipient);
  body.set_code(code);
  body.set_reason(reason);
  body.set_time(FormatRfc3339(now));
  for (const v1::TraceEntry& hop : path) {
    v1::TraceEntry* entry = body.add_trace();
    entry->set_agency(hop.agency());
    entry->set_time(hop.time());
  }
  return Seal(v1::MESSAGE_KIND_RECEIPT, body.SerializeAsString(), seal, now);
}

}  // namespace congvan::node
