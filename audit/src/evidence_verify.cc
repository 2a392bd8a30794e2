// VerifyEvidence: checks 1–6 of audit/README.md "Verification" (the
// container, the manifest, its seal, the token, the tree head, the log), then
// CheckDocument (evidence_document.cc) for 7–11.
#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "congvan/audit/asic_manifest.h"
#include "congvan/audit/evidence.h"
#include "congvan/audit/evidence_layout.h"
#include "congvan/audit/tree_head.h"
#include "congvan/signer/status_macros.h"
#include "congvan/signer/timestamp.h"
#include "congvan/signer/verify_error.h"
#include "evidence_internal.h"
#include "seal_shape.h"

namespace congvan::audit {
namespace {

namespace layout = evidence;
using internal::EvidenceContext;
using internal::kMaxCertFile;
using internal::kMaxSmallFile;
using internal::ProvenEvent;
using internal::Rfc3339;

// The caller's anchors and CRLs: errors here are usage errors.
struct CallerTrust {
  std::vector<signer::Certificate> anchors;
  std::vector<signer::Crl> crls;
};

absl::StatusOr<CallerTrust> LoadCallerTrust(const VerifyEvidenceOptions& options) {
  CallerTrust trust;
  for (const std::string& file : options.trust_files) {
    ASSIGN_OR_RETURN(std::vector<signer::Certificate> certs, signer::LoadCertificates(file));
    trust.anchors.insert(trust.anchors.end(), certs.begin(), certs.end());
  }
  for (const std::string& file : options.crl_files) {
    ASSIGN_OR_RETURN(std::vector<signer::Crl> crls, signer::Crl::Load(file));
    trust.crls.insert(trust.crls.end(), crls.begin(), crls.end());
  }
  if (trust.anchors.empty()) return absl::InvalidArgumentError("no trust anchor given (--trust ROOT.pem)");
  // Fails here, not per container, for an anchor that is not a CA.
  RETURN_IF_ERROR(signer::TrustStore::Create(trust.anchors, trust.crls).status());
  return trust;
}

// The message of `status` without a leading "<file>: " (CheckManifest's).
std::string WithoutPrefix(const absl::Status& status, const std::string& file) {
  std::string message(status.message());
  if (absl::StartsWith(message, file + ": ")) message.erase(0, file.size() + 2);
  return message;
}

// Check 2: every file against the manifest. Files that match are recorded
// with their digest, so that later checks need not read them again.
void CheckFiles(EvidenceContext& context) {
  const std::string what = "every file against the manifest's SHA-256";
  absl::StatusOr<std::vector<FileCheck>> files = CheckManifest(context.reader());
  if (!files.ok()) return context.Fail(what, kManifestName, WithoutPrefix(files.status(), kManifestName));
  absl::StatusOr<std::string> xml = context.reader().Read(kManifestName, kMaxSmallFile);
  absl::StatusOr<ParsedManifest> manifest = xml.ok() ? ParseManifest(*xml) : xml.status();
  if (!manifest.ok()) return context.Fail(what, kManifestName, std::string(manifest.status().message()));
  std::map<std::string, std::string> listed;
  for (const ManifestEntry& entry : manifest->entries) listed[entry.name] = entry.sha256;
  size_t failed = 0;
  for (const FileCheck& file : *files) {
    if (file.ok) {
      context.KnowDigest(file.name, listed[file.name]);
    } else {
      ++failed;
      context.Fail("the file against the manifest", file.name, file.problem);
    }
  }
  if (failed == 0) {
    context.Pass(absl::StrCat("every file matches the manifest (", files->size(), " files)"), kManifestName);
  }
}

// The CRLs of certs/crls.pem; a failed check when it is missing or holds
// something else. An empty file (a node without CRLs) holds none.
std::vector<signer::Crl> ContainerCrls(EvidenceContext& context) {
  const std::string what = "the CRLs the exporting node held";
  std::optional<std::string> pem = context.Read(what, layout::kCrls, kMaxCertFile);
  if (!pem.has_value()) return {};
  if (pem->find_first_not_of(" \t\r\n") == std::string::npos) {
    context.Pass(what + ": none (revocation is checked only with --crl)", layout::kCrls);
    return {};
  }
  absl::StatusOr<std::vector<signer::Crl>> crls = signer::Crl::Parse(*pem);
  if (!crls.ok()) {
    context.Fail(what, layout::kCrls, std::string(crls.status().message()));
    return {};
  }
  context.Pass(absl::StrCat(what, ": ", crls->size(), " CRLs"), layout::kCrls);
  return *std::move(crls);
}

// Check 3: the exporter's seal over the manifest, at its own signingTime.
// Nothing else binds this file, so its shape is checked byte for byte too.
void CheckManifestSeal(EvidenceContext& context, const std::string& exporter) {
  const std::string what = "the exporting node's seal over the manifest";
  std::optional<std::string> manifest = context.Read(what, kManifestName);
  std::optional<std::string> signature = context.Read(what, kManifestSignatureName);
  if (!manifest.has_value() || !signature.has_value()) return;
  absl::StatusOr<absl::Time> claimed = internal::CheckSealShape(*signature);
  if (!claimed.ok()) return context.Fail(what, kManifestSignatureName, std::string(claimed.status().message()));
  absl::StatusOr<signer::VerifiedSignature> seal =
      signer::VerifyDigest(signer::Sha256(*manifest), *signature, context.trust(), *claimed);
  if (!seal.ok()) {
    if (signer::VerifyFailureOf(seal.status()) == signer::VerifyFailure::kContentMismatch) {
      // Either of the two was changed; nothing tells which.
      context.Fail(
          what, kManifestName,
          "it is not what " + std::string(kManifestSignatureName) + " signed: it, or the signature, was changed");
      return context.Fail(what, kManifestSignatureName,
                          "it is not a signature over " + std::string(kManifestName) +
                              " as it is: the signature, or the manifest, was changed");
    }
    return context.Fail(what, kManifestSignatureName,
                        absl::StrCat(seal.status().message(), " (checked at its signingTime ", Rfc3339(*claimed), ")"));
  }
  if (seal->signing_time != *claimed) {
    return context.Fail(what, kManifestSignatureName, "its signingTime is not the one it signed");
  }
  if (!exporter.empty() && (seal->signer.AgencyId() != exporter || seal->signer.PersonLogin().has_value())) {
    return context.Fail(what, kManifestSignatureName,
                        "signed by " + seal->signer.Subject() + ", not by the seal of " + exporter +
                            ", whose log the container proves");
  }
  context.Pass(absl::StrCat(what, ", by ", seal->signer.AgencyId().value_or("?"), " at its signingTime ",
                            Rfc3339(seal->signing_time)),
               kManifestSignatureName);
}

// Check 4: the token over log/tree-head.pb. Its genTime when it verifies.
std::optional<absl::Time> CheckToken(EvidenceContext& context, const std::optional<std::string>& head_bytes,
                                     absl::Time fallback) {
  const std::string what = "the RFC 3161 timestamp over the tree head";
  if (!context.reader().Has(layout::kTreeHeadToken)) {
    context.Fail("no timestamp", layout::kTreeHeadToken,
                 "no timestamp: the container has no token over " + std::string(layout::kTreeHead) +
                     " (the authority had not answered at export); signatures are checked at " + Rfc3339(fallback));
    return std::nullopt;
  }
  std::optional<std::string> token = context.Read(what, layout::kTreeHeadToken);
  if (!token.has_value()) return std::nullopt;
  if (!head_bytes.has_value()) {
    context.Fail(what, layout::kTreeHeadToken,
                 "there is no readable " + std::string(layout::kTreeHead) + " it is over");
    return std::nullopt;
  }
  absl::StatusOr<signer::VerifiedTimestamp> verified =
      signer::VerifyTimestampToken(*token, signer::Sha256(*head_bytes), context.trust());
  if (!verified.ok()) {
    std::string detail(verified.status().message());
    if (signer::VerifyFailureOf(verified.status()) == signer::VerifyFailure::kContentMismatch) {
      detail = "it is not over " + std::string(layout::kTreeHead) + " as it is: " + detail;
    }
    context.Fail(what, layout::kTreeHeadToken, detail + "; signatures are checked at " + Rfc3339(fallback));
    return std::nullopt;
  }
  context.Pass(absl::StrCat(what, ": ", Rfc3339(verified->gen_time), " by ", verified->tsa.CommonName()),
               layout::kTreeHeadToken);
  return verified->gen_time;
}

// Check 5: the tree head and its seal, by the agency whose log it is.
void CheckTreeHead(EvidenceContext& context, const std::optional<std::string>& head_bytes,
                   const absl::StatusOr<v1::TreeHead>& parsed) {
  const std::string what = "the tree head's seal";
  if (!head_bytes.has_value()) return;  // Read reported it
  if (!parsed.ok()) return context.Fail("the tree head", layout::kTreeHead, std::string(parsed.status().message()));
  std::optional<std::string> seal = context.Read(what, layout::kTreeHeadSeal);
  if (!seal.has_value()) return;
  std::optional<signer::VerifiedSignature> verified =
      context.VerifySignature({.what = what,
                               .content_name = layout::kTreeHead,
                               .content_sha256 = signer::Sha256(*head_bytes),
                               .signature_name = layout::kTreeHeadSeal,
                               .signature = *seal,
                               .agency = parsed->agency()});
  if (!verified.has_value()) return;
  context.Pass(absl::StrCat("the tree head (", parsed->tree_size(), " events, sealed ", parsed->time(),
                            ") is sealed by ", parsed->agency()),
               layout::kTreeHeadSeal);
}

// The index of "log/events/<i>.pb" under `dir`; nullopt for another name.
std::optional<uint64_t> IndexOf(const std::string& name, const std::string& dir) {
  if (!absl::StartsWith(name, dir) || !absl::EndsWith(name, ".pb")) return std::nullopt;
  const std::string digits = name.substr(dir.size(), name.size() - dir.size() - 3);
  uint64_t index = 0;
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(digits, &index) || absl::StrCat(index) != digits) {
    return std::nullopt;
  }
  return index;
}

// Check 6: each event's inclusion proof leads to the head's root. Returns the
// events proven.
std::vector<ProvenEvent> CheckEvents(EvidenceContext& context, const absl::StatusOr<v1::TreeHead>& head,
                                     const std::string& message_id) {
  std::set<uint64_t> indexes;
  for (const std::string& name : context.reader().names()) {
    const bool event = absl::StartsWith(name, layout::kEventsDir);
    if (!event && !absl::StartsWith(name, layout::kProofsDir)) continue;
    std::optional<uint64_t> index = IndexOf(name, event ? layout::kEventsDir : layout::kProofsDir);
    if (index.has_value()) {
      indexes.insert(*index);
    } else {
      context.Fail("a file of the log", name, "not named <index>.pb as an event or a proof");
    }
  }
  std::vector<ProvenEvent> proven;
  if (indexes.empty()) {
    context.Fail("the log's events about the document", layout::kEventsDir, "the container holds no event");
    return proven;
  }
  for (uint64_t index : indexes) {
    const std::string event_name = layout::Event(index);
    const std::string proof_name = layout::Proof(index);
    const std::string what = absl::StrCat("event ", index, " is in the log under the tree head");
    if (!context.reader().Has(event_name)) {
      context.Fail(what, event_name, "missing, though " + proof_name + " proves it");
      continue;
    }
    if (!context.reader().Has(proof_name)) {
      context.Fail(what, proof_name, "missing: nothing proves " + event_name);
      continue;
    }
    std::optional<std::string> bytes = context.Read(what, event_name);
    std::optional<std::string> proof_bytes = context.Read(what, proof_name);
    if (!bytes.has_value() || !proof_bytes.has_value()) continue;
    v1::AuditEvent event;
    v1::InclusionProof proof;
    if (!event.ParseFromString(*bytes)) {
      context.Fail(what, event_name, "it is not an AuditEvent");
      continue;
    }
    if (!proof.ParseFromString(*proof_bytes)) {
      context.Fail(what, proof_name, "it is not an InclusionProof");
      continue;
    }
    if (proof.index() != index) {
      context.Fail(what, proof_name, absl::StrCat("it proves event ", proof.index(), ", not ", index));
      continue;
    }
    if (!message_id.empty() && event.message_id() != message_id) {
      context.Fail(what, event_name, "it is about message " + event.message_id() + ", not " + message_id);
      continue;
    }
    if (!head.ok()) {
      context.Fail(what, event_name,
                   "there is no tree head to prove it under (" + std::string(layout::kTreeHead) + ")");
      continue;
    }
    proof.set_event(*std::move(bytes));
    if (absl::Status s = VerifyEventInclusion(proof, *head); !s.ok()) {
      if (s.code() == absl::StatusCode::kUnauthenticated) {
        context.Fail(what, event_name,
                     absl::StrCat("its proof (", proof_name, ") does not lead to the root of ", layout::kTreeHead, ": ",
                                  s.message()));
      } else {
        context.Fail(what, proof_name, std::string(s.message()));
      }
      continue;
    }
    context.Pass(absl::StrCat("event ", index, " (", internal::EventKindName(event.kind()), ", ", event.agency(), ", ",
                              event.time(), ") is in the log under the tree head"),
                 event_name);
    proven.push_back({index, std::move(event)});
  }
  return proven;
}

}  // namespace

bool EvidenceReport::ok() const {
  return !checks.empty() && std::all_of(checks.begin(), checks.end(), [](const EvidenceCheck& c) { return c.ok; });
}

absl::StatusOr<EvidenceReport> VerifyEvidence(const std::string& container_path, const VerifyEvidenceOptions& options) {
  ASSIGN_OR_RETURN(CallerTrust caller, LoadCallerTrust(options));
  const absl::Time fallback = options.at.value_or(absl::Now());
  EvidenceReport report;
  report.checked_at = fallback;

  // Check 1.
  const std::string container_what = "an ASiC-E container: mimetype first and stored, safe names, readable";
  absl::StatusOr<std::unique_ptr<ContainerReader>> reader = ContainerReader::Open(container_path, options.limits);
  if (!reader.ok()) {
    report.checks.push_back({false, container_what, container_path, std::string(reader.status().message())});
    return report;
  }
  report.checks.push_back(
      {true, absl::StrCat(container_what, " (", (*reader)->names().size(), " files)"), container_path, ""});

  // Until the container's CRLs are read, and for reading them, the caller's.
  ASSIGN_OR_RETURN(signer::TrustStore caller_store, signer::TrustStore::Create(caller.anchors, caller.crls));
  EvidenceContext context(**reader, report, &caller_store, fallback);
  CheckFiles(context);  // check 2
  std::vector<signer::Crl> crls = caller.crls;
  for (signer::Crl& crl : ContainerCrls(context)) crls.push_back(std::move(crl));
  absl::StatusOr<signer::TrustStore> store = signer::TrustStore::Create(caller.anchors, crls);
  if (store.ok()) {
    context.SetTrust(&*store);
  } else {
    context.Fail("the CRLs the exporting node held", layout::kCrls, std::string(store.status().message()));
  }

  // The header and the tree head are needed before their own checks: the
  // message id to match events against, the exporter to match seals with.
  std::optional<std::string> head_bytes = context.Read("the tree head", layout::kTreeHead);
  v1::SignedMessage head_message;
  head_message.set_kind(v1::MESSAGE_KIND_TREE_HEAD);
  if (head_bytes.has_value()) head_message.set_body(*head_bytes);
  absl::StatusOr<v1::TreeHead> head =
      head_bytes.has_value() ? ParseTreeHead(head_message) : absl::NotFoundError("no tree head");
  if (absl::StatusOr<std::string> header_bytes = (*reader)->Read(layout::kHeader, kMaxSmallFile); header_bytes.ok()) {
    v1::DocumentHeader header;
    if (header.ParseFromString(*header_bytes)) report.message_id = header.message_id();
  }

  CheckManifestSeal(context, head.ok() ? head->agency() : "");                   // check 3
  std::optional<absl::Time> proven = CheckToken(context, head_bytes, fallback);  // check 4
  report.proven_time = proven;
  report.checked_at = proven.value_or(fallback);
  context.SetAt(report.checked_at);
  CheckTreeHead(context, head_bytes, head);                                         // check 5
  std::vector<ProvenEvent> events = CheckEvents(context, head, report.message_id);  // check 6
  internal::CheckDocument(context, events);                                         // checks 7–11
  return report;
}

}  // namespace congvan::audit
