// Checks 7–11 of audit/README.md "Verification": the document header and
// the sender's seal, the parts, the leaders' signatures, the relays'
// statements and the answers, each against the header and the proven log.
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "congvan/audit/evidence_layout.h"
#include "evidence_internal.h"

namespace congvan::audit::internal {
namespace {

namespace layout = evidence;

std::string Hex(const std::string& bytes) { return signer::HexEncode(bytes); }

// What the document checks share once the header has parsed.
struct Document {
  v1::DocumentHeader header;
  std::string header_sha256;
  std::string main_part;         // its name in the container; empty if none
  std::string main_part_sha256;  // of the file, when it could be read
};

// Check 7: the header, the sender's seal over it, and the log's record of both.
std::optional<Document> CheckHeader(EvidenceContext& context, const std::vector<ProvenEvent>& events) {
  std::optional<std::string> bytes = context.Read("the document header", layout::kHeader);
  if (!bytes.has_value()) return std::nullopt;
  Document doc;
  if (!doc.header.ParseFromString(*bytes)) {
    context.Fail("the document header", layout::kHeader, "it is not a DocumentHeader");
    return std::nullopt;
  }
  if (doc.header.message_id().empty() || doc.header.from_agency().empty()) {
    context.Fail("the document header", layout::kHeader, "it names no message id or no sending agency");
    return std::nullopt;
  }
  doc.header_sha256 = signer::Sha256(*bytes);
  const v1::DocumentHeader& h = doc.header;
  context.Pass(absl::StrCat("the document header: ", h.registration().notation(), " of ", h.from_agency(), ", message ",
                            h.message_id()),
               layout::kHeader);

  const std::string what = "the sender's seal over the header, by " + h.from_agency();
  std::optional<std::string> seal = context.Read(what, layout::kSeal);
  if (seal.has_value() && context.VerifySignature({.what = what,
                                                   .content_name = layout::kHeader,
                                                   .content_sha256 = doc.header_sha256,
                                                   .signature_name = layout::kSeal,
                                                   .signature = *seal,
                                                   .agency = h.from_agency()})) {
    context.Pass(what, layout::kSeal);
  }

  const std::string logged = "an ISSUED or RECEIVED event of the log names the header and its seal";
  const std::string seal_sha256 = signer::Sha256(seal.value_or(""));
  for (const ProvenEvent& e : events) {
    const bool kind = e.event.kind() == v1::AUDIT_EVENT_ISSUED || e.event.kind() == v1::AUDIT_EVENT_RECEIVED;
    if (kind && e.event.body_sha256() == doc.header_sha256 && seal.has_value() &&
        e.event.signature_sha256() == seal_sha256) {
      context.Pass(absl::StrCat(logged, " (", EventKindName(e.event.kind()), ", event ", e.index, ")"),
                   layout::Event(e.index));
      return doc;
    }
  }
  context.Fail(logged, layout::kHeader,
               absl::StrCat("no proven event names its SHA-256 ", Hex(doc.header_sha256),
                            seal.has_value() ? " with its seal's " + Hex(seal_sha256) : std::string()));
  return doc;
}

// Check 8: each part's size and SHA-256 against the header.
void CheckParts(EvidenceContext& context, Document& doc) {
  std::set<std::string> listed;
  int mains = 0;
  for (const v1::PartInfo& part : doc.header.parts()) {
    const std::string name = layout::Part(part.name());
    const std::string what = "part " + part.name() + " as the header describes it";
    if (part.main()) ++mains;
    if (part.main() && doc.main_part.empty()) doc.main_part = name;
    if (!listed.insert(name).second) {
      context.Fail(what, layout::kHeader, "the header lists part " + part.name() + " twice");
      continue;
    }
    if (absl::Status s = CheckEntryName(name); !s.ok()) {
      context.Fail(what, layout::kHeader, "its name cannot be a file of a container: " + std::string(s.message()));
      continue;
    }
    if (!context.reader().Has(name)) {
      context.Fail(what, name, "missing from the container");
      continue;
    }
    absl::StatusOr<uint64_t> size = context.reader().SizeOf(name);
    if (size.ok() && *size != part.size()) {
      context.Fail(what, name, absl::StrCat("it has ", *size, " bytes; the header says ", part.size()));
      continue;
    }
    absl::StatusOr<std::string> digest = context.Digest(name);
    if (!digest.ok()) {
      context.Fail(what, name, "could not be read: " + std::string(digest.status().message()));
      continue;
    }
    if (name == doc.main_part) doc.main_part_sha256 = *digest;
    if (*digest != part.sha256()) {
      context.Fail(what, name, "its SHA-256 " + Hex(*digest) + " is not the header's " + Hex(part.sha256()));
      continue;
    }
    context.Pass(absl::StrCat("part ", part.name(), ": ", part.size(), " bytes, SHA-256 as in the header",
                              part.main() ? " (main part)" : ""),
                 name);
  }
  if (mains != 1) {
    context.Fail("the header's main part", layout::kHeader, absl::StrCat("it marks ", mains, " main parts, not one"));
  }
  for (const std::string& name : context.reader().names()) {
    if (absl::StartsWith(name, layout::kPartsDir) && listed.count(name) == 0) {
      context.Fail("a part of the document", name, "the header lists no such part");
    }
  }
}

// Check 9: each leader signature, over the main part, by a person of the
// sending agency, bound to the header by its SHA-256.
void CheckLeaders(EvidenceContext& context, const Document& doc) {
  const v1::DocumentHeader& h = doc.header;
  std::set<std::string> expected;
  for (int i = 0; i < h.signers_size(); ++i) {
    const v1::SignerInfo& signer = h.signers(i);
    const std::string name = layout::LeaderSignature(i + 1);
    expected.insert(name);
    const std::string what = absl::StrCat("leader signature ", i + 1, " over the main part, by ", signer.person_login(),
                                          " of ", h.from_agency());
    std::optional<std::string> signature = context.Read(what, name);
    if (!signature.has_value()) continue;
    if (signer::Sha256(*signature) != signer.signature_sha256()) {
      context.Fail(what, name, absl::StrCat("its SHA-256 is not the one the header's signer entry ", i + 1, " names"));
      continue;
    }
    if (doc.main_part_sha256.empty()) {
      context.Fail(what, name, "there is no main part it could be checked over");
      continue;
    }
    std::optional<signer::VerifiedSignature> verified =
        context.VerifySignature({.what = what,
                                 .content_name = doc.main_part,
                                 .content_sha256 = doc.main_part_sha256,
                                 .signature_name = name,
                                 .signature = *signature,
                                 // A person's signature, not a seal: checked below.
                                 .agency = {}});
    if (!verified.has_value()) continue;
    const std::optional<std::string> login = verified->signer.PersonLogin();
    if (verified->signer.AgencyId() != h.from_agency() || !login.has_value()) {
      context.Fail(what, name, "signed by " + verified->signer.Subject() + ", not by a person of " + h.from_agency());
      continue;
    }
    if (*login != signer.person_login()) {
      context.Fail(what, name, "signed by " + *login + "; the header's signer entry names " + signer.person_login());
      continue;
    }
    context.Pass(absl::StrCat("leader signature ", i + 1, " over the main part, by ", verified->signer.CommonName(),
                              " (", *login, ") of ", h.from_agency()),
                 name);
  }
  for (const std::string& name : context.reader().names()) {
    if (absl::StartsWith(name, "document/leader-") && expected.count(name) == 0) {
      context.Fail("a leader signature", name, absl::StrCat("the header lists ", h.signers_size(), " signers"));
    }
  }
}

// Check 10: each relay's statement, sealed by the relay, about this header,
// chained to the statement before it.
void CheckRelays(EvidenceContext& context, const Document& doc) {
  std::set<std::string> seen;
  std::string previous_sha256;  // of the statement before; empty before the first
  for (int n = 1; context.reader().Has(layout::TraceHop(n)) || context.reader().Has(layout::TraceHopSeal(n)); ++n) {
    const std::string name = layout::TraceHop(n);
    const std::string seal_name = layout::TraceHopSeal(n);
    seen.insert(name);
    seen.insert(seal_name);
    const std::string what = absl::StrCat("relay statement ", n, ", sealed by its relay, about this header");
    std::optional<std::string> bytes = context.Read(what, name);
    std::optional<std::string> seal = context.Read(what, seal_name);
    if (!bytes.has_value() || !seal.has_value()) break;  // the chain cannot go on
    v1::TraceHop hop;
    const std::string hop_sha256 = signer::Sha256(*bytes);
    const std::string expected_previous = std::exchange(previous_sha256, hop_sha256);
    if (!hop.ParseFromString(*bytes) || hop.agency().empty()) {
      context.Fail(what, name, "it is not a TraceHop naming its relay");
      continue;
    }
    if (hop.message_id() != doc.header.message_id() || hop.header_sha256() != doc.header_sha256) {
      context.Fail(what, name, "it is about another document or another header than " + std::string(layout::kHeader));
      continue;
    }
    if (hop.previous_sha256() != expected_previous) {
      context.Fail(
          what, name,
          n == 1 ? std::string("the first relay's statement names a previous one")
                 : absl::StrCat("it does not follow ", layout::TraceHop(n - 1), " (its previous SHA-256 differs)"));
      continue;
    }
    if (!context.VerifySignature({.what = what,
                                  .content_name = name,
                                  .content_sha256 = hop_sha256,
                                  .signature_name = seal_name,
                                  .signature = *seal,
                                  .agency = hop.agency()})) {
      continue;
    }
    context.Pass(absl::StrCat("relay statement ", n, ": ", hop.agency(), " took the document from ", hop.from_agency(),
                              " at ", hop.time(), ", sealed by it"),
                 name);
  }
  for (const std::string& name : context.reader().names()) {
    if (absl::StartsWith(name, "document/trace/") && seen.count(name) == 0) {
      context.Fail("a relay statement", name, "not one of a sequence hop-1, hop-2, ... of statements with seals");
    }
  }
}

// The fields every answer has, whatever its kind.
struct AnswerFields {
  std::string kind;  // "receipt", "status", "delivery report"
  std::string message_id;
  std::string header_sha256;
  std::string agency;
  std::string code;  // "01".."16", or "report"
  std::string time;
};

std::string CodeDigits(v1::StatusCode code) { return absl::StrFormat("%02d", static_cast<int>(code)); }

std::optional<AnswerFields> ParseAnswer(v1::MessageKind kind, const std::string& bytes) {
  if (kind == v1::MESSAGE_KIND_DELIVERY_REPORT) {
    v1::DeliveryReport r;
    if (!r.ParseFromString(bytes)) return std::nullopt;
    return AnswerFields{"delivery report", r.message_id(), r.header_sha256(), r.relay(), "report", r.time()};
  }
  if (kind == v1::MESSAGE_KIND_RECEIPT) {
    v1::ReceiptBody r;
    if (!r.ParseFromString(bytes)) return std::nullopt;
    return AnswerFields{"receipt", r.message_id(), r.header_sha256(), r.recipient(), CodeDigits(r.code()), r.time()};
  }
  v1::StatusBody s;
  if (!s.ParseFromString(bytes)) return std::nullopt;
  return AnswerFields{"status", s.message_id(), s.header_sha256(), s.agency(), CodeDigits(s.code()), s.time()};
}

// Check 11: one answer, answers/<nn>-<agency>-<code>.pb and its seal.
void CheckAnswer(EvidenceContext& context, const Document& doc, const std::vector<ProvenEvent>& events,
                 const std::string& name) {
  const std::string stem = name.substr(0, name.size() - 3);
  const std::string seal_name = stem + ".p7s";
  std::vector<std::string> fields = absl::StrSplit(stem.substr(std::string("answers/").size()), '-');
  const std::string what = "answer " + stem.substr(8) + ", sealed by its agency, named in the log";
  if (fields.size() != 3 || fields[0].size() < 2) {
    return context.Fail("an answer", name, "not named answers/<nn>-<agency>-<code>.pb");
  }
  const std::string& agency = fields[1];
  const std::string& code = fields[2];
  std::optional<std::string> bytes = context.Read(what, name);
  std::optional<std::string> seal = context.Read(what, seal_name);
  if (!bytes.has_value() || !seal.has_value()) return;
  const std::string body_sha256 = signer::Sha256(*bytes);
  const ProvenEvent* logged = nullptr;
  for (const ProvenEvent& e : events) {
    if (e.event.kind() == v1::AUDIT_EVENT_ANSWER && e.event.body_sha256() == body_sha256) logged = &e;
  }
  // The log says which kind of body it is; without it, the name does.
  v1::MessageKind kind = code == "report" ? v1::MESSAGE_KIND_DELIVERY_REPORT
                         : code == "01"   ? v1::MESSAGE_KIND_RECEIPT
                                          : v1::MESSAGE_KIND_STATUS;
  if (logged != nullptr && logged->event.signed_kind() != v1::MESSAGE_KIND_UNSPECIFIED) {
    kind = logged->event.signed_kind();
  }
  std::optional<AnswerFields> answer = ParseAnswer(kind, *bytes);
  if (!answer.has_value()) return context.Fail(what, name, "its body does not parse");
  if (answer->message_id != doc.header.message_id() || answer->header_sha256 != doc.header_sha256) {
    return context.Fail(what, name,
                        "it answers another document or another header than " + std::string(layout::kHeader));
  }
  if (answer->agency != agency || answer->code != code) {
    return context.Fail(what, name,
                        absl::StrCat("it is the ", answer->kind, " ", answer->code, " of ", answer->agency,
                                     ", not what its name says"));
  }
  if (!context.VerifySignature({.what = what,
                                .content_name = name,
                                .content_sha256 = body_sha256,
                                .signature_name = seal_name,
                                .signature = *seal,
                                .agency = agency})) {
    return;
  }
  if (logged == nullptr) {
    return context.Fail(what, name, "no proven ANSWER event of the log names its SHA-256 " + Hex(body_sha256));
  }
  if (!logged->event.signature_sha256().empty() && logged->event.signature_sha256() != signer::Sha256(*seal)) {
    return context.Fail(what, seal_name,
                        absl::StrCat("event ", logged->index, " of the log names another seal over this answer"));
  }
  context.Pass(absl::StrCat("answer ", stem.substr(8), ": the ", answer->kind,
                            answer->code == "report" ? "" : " " + answer->code, " of ", agency, " at ", answer->time,
                            ", sealed by it, event ", logged->index, " of the log"),
               name);
}

void CheckAnswers(EvidenceContext& context, const Document& doc, const std::vector<ProvenEvent>& events) {
  std::set<std::string> bodies;
  for (const std::string& name : context.reader().names()) {
    if (!absl::StartsWith(name, "answers/")) continue;
    if (absl::EndsWith(name, ".pb")) {
      bodies.insert(name.substr(0, name.size() - 3));
      CheckAnswer(context, doc, events, name);
    }
  }
  for (const std::string& name : context.reader().names()) {
    if (!absl::StartsWith(name, "answers/") || absl::EndsWith(name, ".pb")) continue;
    if (!absl::EndsWith(name, ".p7s") || bodies.count(name.substr(0, name.size() - 4)) == 0) {
      context.Fail("an answer", name, "no answer body answers/<nn>-<agency>-<code>.pb goes with it");
    }
  }
}

}  // namespace

void CheckDocument(EvidenceContext& context, const std::vector<ProvenEvent>& events) {
  std::optional<Document> doc = CheckHeader(context, events);  // check 7
  if (!doc.has_value()) return;                                // nothing else can be checked against it
  CheckParts(context, *doc);                                   // check 8
  CheckLeaders(context, *doc);                                 // check 9
  CheckRelays(context, *doc);                                  // check 10
  CheckAnswers(context, *doc, events);                         // check 11
}

}  // namespace congvan::audit::internal
