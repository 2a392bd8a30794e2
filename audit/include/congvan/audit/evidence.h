// The offline verification of an evidence container (audit/README.md,
// "Verification"): what `congvan verify` runs, years after the export,
// against nothing but the auditor's trust anchors and CRLs.
//
// Every signature in the container is checked with its certificates valid
// and unrevoked at the proven time T: the genTime of the RFC 3161 token over
// the tree head, or, without a token that verifies, options.at. The manifest
// seal alone is checked at its own signingTime (it is the exporter's claim
// of when it exported). The CRLs are those of certs/crls.pem plus the
// caller's.
//
// Untrusted input: the container is read through ContainerReader (its limits
// hold), single files of at most a few MiB are read into memory and parts
// are only ever streamed.
//
// Thread-safety: VerifyEvidence is thread-safe (it shares nothing).
#ifndef CONGVAN_AUDIT_EVIDENCE_H_
#define CONGVAN_AUDIT_EVIDENCE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/audit/container.h"

namespace congvan::audit {

// One line of the report: a check of one file (or of the container).
struct EvidenceCheck {
  bool ok = false;
  std::string what;    // what was checked, e.g. "the sender's seal over the header, by 000.00.00.H49"
  std::string file;    // the container's file concerned; the container's path for check 1
  std::string detail;  // why it failed; empty when ok
};

struct EvidenceReport {
  // In the order of audit/README.md's list (1 to 11); within a check, in the
  // order of the files.
  std::vector<EvidenceCheck> checks;
  // The token's genTime, when log/tree-head.tst verified.
  std::optional<absl::Time> proven_time;
  // The time T the signatures were checked at: proven_time, else options.at.
  absl::Time checked_at;
  // The document's id, from document/header.pb; empty if it does not parse.
  std::string message_id;

  // Every check passed (and there was at least one).
  bool ok() const;
};

struct VerifyEvidenceOptions {
  // Trust anchor certificates (PEM or DER), e.g. a dev PKI's ca/root.pem.
  std::vector<std::string> trust_files;
  // CRL files (PEM or DER), used beside the container's certs/crls.pem.
  std::vector<std::string> crl_files;
  // The time signatures are checked at when the container has no valid
  // token. Default: absl::Now() at the call.
  std::optional<absl::Time> at;
  // Bounds on the container. Default: ContainerLimits's.
  ContainerLimits limits;
};

// Verifies the container at `container_path`. Everything wrong with the
// container (it does not open, a file changed, a signature that fails, no
// timestamp) is a failed check in the report, naming the file. Errors only
// for the caller's own inputs: NOT_FOUND / INVALID_ARGUMENT for a trust or
// CRL file that cannot be read or holds no certificate / CRL, or no anchor.
[[nodiscard]] absl::StatusOr<EvidenceReport> VerifyEvidence(const std::string& container_path,
                                                            const VerifyEvidenceOptions& options);

}  // namespace congvan::audit

#endif  // CONGVAN_AUDIT_EVIDENCE_H_
