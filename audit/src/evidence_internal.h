// What the checks of VerifyEvidence share (evidence.h): the container, the
// report being written, the trust store and time T, and the digests already
// proven (evidence_context.cc). evidence_verify.cc runs checks 1–6 (the
// container, the manifest, its seal, the token, the tree head and the log);
// evidence_document.cc runs checks 7–11 (the document, its parts and
// signatures, relays and answers).
#ifndef CONGVAN_AUDIT_SRC_EVIDENCE_INTERNAL_H_
#define CONGVAN_AUDIT_SRC_EVIDENCE_INTERNAL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/audit/container.h"
#include "congvan/audit/evidence.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/trust.h"
#include "congvan/v1/audit.pb.h"

namespace congvan::audit::internal {

// The largest single file read into memory: a header, a signature, a token,
// an event, a proof, a body. Default: 16 MiB.
inline constexpr uint64_t kMaxSmallFile = uint64_t{16} << 20;
// certs/chain.pem and certs/crls.pem. Default: 64 MiB.
inline constexpr uint64_t kMaxCertFile = uint64_t{64} << 20;

// An event of the log whose inclusion proof led to the tree head's root.
struct ProvenEvent {
  uint64_t index = 0;
  v1::AuditEvent event;
};

// One verification in progress. Not thread-safe.
class EvidenceContext {
 public:
  // `trust` must outlive the context (or the next SetTrust).
  EvidenceContext(ContainerReader& reader, EvidenceReport& report, const signer::TrustStore* trust, absl::Time at)
      : reader_(reader), report_(report), trust_(trust), at_(at) {}

  ContainerReader& reader() { return reader_; }
  const signer::TrustStore& trust() const { return *trust_; }
  void SetTrust(const signer::TrustStore* trust) { trust_ = trust; }
  // T: the time every signature but the manifest's is checked at.
  absl::Time at() const { return at_; }
  void SetAt(absl::Time at) { at_ = at; }

  void Pass(std::string what, std::string file);
  void Fail(std::string what, std::string file, std::string detail);

  // The bytes of `name`, at most `max_bytes`; on any failure (missing,
  // larger, unreadable) a failed check `what` naming the file, and nullopt.
  std::optional<std::string> Read(const std::string& what, const std::string& name, uint64_t max_bytes = kMaxSmallFile);

  // Records that `name` holds bytes with this SHA-256 (it matched the manifest).
  void KnowDigest(const std::string& name, std::string sha256) { digests_[name] = std::move(sha256); }
  // The SHA-256 of `name`: known, or streamed from the container.
  [[nodiscard]] absl::StatusOr<std::string> Digest(const std::string& name);

  // A detached signature `signature_name` over content whose SHA-256 is
  // `content_sha256` (the file `content_name`), checked at at(), by the seal
  // of `agency` (an agency certificate, no person) when `agency` is not
  // empty. On failure a failed check `what` naming the signature (the
  // content's own change shows in the manifest check), and nullopt.
  struct SignatureCheck {
    std::string what;
    std::string content_name;
    std::string content_sha256;
    std::string signature_name;
    std::string signature;  // its bytes
    std::string agency;     // the agency whose seal it must be; empty: anyone's
  };
  std::optional<signer::VerifiedSignature> VerifySignature(const SignatureCheck& check);

 private:
  ContainerReader& reader_;
  EvidenceReport& report_;
  const signer::TrustStore* trust_;
  absl::Time at_;
  std::map<std::string, std::string> digests_;
};

// RFC 3339 in UTC to the second, as the report shows times.
std::string Rfc3339(absl::Time t);

// "ISSUED", "ANSWER", ...
std::string EventKindName(v1::AuditEventKind kind);

// Checks 7–11 against the proven events of the log.
void CheckDocument(EvidenceContext& context, const std::vector<ProvenEvent>& events);

}  // namespace congvan::audit::internal

#endif  // CONGVAN_AUDIT_SRC_EVIDENCE_INTERNAL_H_
