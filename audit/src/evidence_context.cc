// EvidenceContext (evidence_internal.h): the report lines, bounded reads and
// the signature checks that every check of VerifyEvidence shares.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "congvan/signer/verify_error.h"
#include "evidence_internal.h"

namespace congvan::audit::internal {

std::string Rfc3339(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

void EvidenceContext::Pass(std::string what, std::string file) {
  report_.checks.push_back({true, std::move(what), std::move(file), ""});
}

void EvidenceContext::Fail(std::string what, std::string file, std::string detail) {
  report_.checks.push_back({false, std::move(what), std::move(file), std::move(detail)});
}

std::optional<std::string> EvidenceContext::Read(const std::string& what, const std::string& name, uint64_t max_bytes) {
  if (!reader_.Has(name)) {
    Fail(what, name, "missing from the container");
    return std::nullopt;
  }
  absl::StatusOr<std::string> bytes = reader_.Read(name, max_bytes);
  if (!bytes.ok()) {
    Fail(what, name,
         bytes.status().code() == absl::StatusCode::kResourceExhausted
             ? absl::StrCat("larger than the ", max_bytes >> 20, " MiB such a file may have")
             : "could not be read: " + std::string(bytes.status().message()));
    return std::nullopt;
  }
  return *std::move(bytes);
}

absl::StatusOr<std::string> EvidenceContext::Digest(const std::string& name) {
  if (auto it = digests_.find(name); it != digests_.end()) return it->second;
  return reader_.Sha256Of(name);
}

std::optional<signer::VerifiedSignature> EvidenceContext::VerifySignature(const SignatureCheck& check) {
  absl::StatusOr<signer::VerifiedSignature> verified =
      signer::VerifyDigest(check.content_sha256, check.signature, *trust_, at_);
  if (!verified.ok()) {
    std::string detail(verified.status().message());
    if (signer::VerifyFailureOf(verified.status()) == signer::VerifyFailure::kContentMismatch) {
      detail = "it is not a signature over " + check.content_name + " as it is: " + detail;
    } else {
      detail += " (checked at " + Rfc3339(at_) + ")";
    }
    Fail(check.what, check.signature_name, detail);
    return std::nullopt;
  }
  if (!check.agency.empty() &&
      (verified->signer.AgencyId() != check.agency || verified->signer.PersonLogin().has_value())) {
    Fail(check.what, check.signature_name,
         absl::StrCat("signed by ", verified->signer.Subject(),
                      verified->signer.PersonLogin().has_value() ? " (a person)" : "", ", not by the seal of ",
                      check.agency));
    return std::nullopt;
  }
  return *std::move(verified);
}

std::string EventKindName(v1::AuditEventKind kind) {
  std::string name = v1::AuditEventKind_Name(kind);
  if (absl::StartsWith(name, "AUDIT_EVENT_")) name.erase(0, 12);
  return name.empty() ? absl::StrCat("kind ", static_cast<int>(kind)) : name;
}

}  // namespace congvan::audit::internal
