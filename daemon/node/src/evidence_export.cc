#include "evidence_export.h"

#include <map>
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "congvan/audit/asic_manifest.h"
#include "congvan/audit/evidence_layout.h"
#include "congvan/node/audit_service.h"
#include "congvan/node/documents.h"
#include "congvan/signer/status_macros.h"

namespace congvan::node {
namespace {

namespace layout = audit::evidence;

constexpr size_t kChunk = size_t{1} << 20;

// Streams files and keeps what the manifest lists of each.
class EvidenceStream {
 public:
  explicit EvidenceStream(absl::FunctionRef<absl::Status(const v1::ExportChunk&)> send) : send_(send) {}

  absl::Status AddBytes(const std::string& name, std::string_view bytes,
                        const std::string& media_type = "") {
    v1::ExportChunk chunk;
    chunk.set_name(name);
    size_t at = 0;
    do {
      chunk.set_data(std::string(bytes.substr(at, kChunk)));
      RETURN_IF_ERROR(send_(chunk));
      chunk.clear_name();
      at += kChunk;
    } while (at < bytes.size());
    manifest_.push_back({name, media_type.empty() ? layout::MediaType(name) : media_type, signer::Sha256(bytes)});
    return absl::OkStatus();
  }

  absl::Status AddPart(const std::string& name, const std::string& media_type, store::Store& store,
                       const std::string& message_id, uint32_t part) {
    v1::ExportChunk chunk;
    chunk.set_name(name);
    RETURN_IF_ERROR(send_(chunk));  // names the file, even an empty one
    chunk.clear_name();
    signer::Sha256Stream hash;
    RETURN_IF_ERROR(store.ReadPart(message_id, part, [&](std::string_view data) {
      hash.Update(data);
      chunk.set_data(std::string(data));
      return send_(chunk);
    }));
    manifest_.push_back({name, media_type, hash.Finish()});
    return absl::OkStatus();
  }

  // The certificates `cms_der` carries go into certs/chain.pem.
  void CollectCertificates(std::string_view cms_der) {
    absl::StatusOr<std::vector<signer::Certificate>> certs = signer::CertificatesInCms(cms_der);
    if (!certs.ok()) return;
    for (signer::Certificate& c : *certs) certificates_.emplace(c.Sha256Hex(), std::move(c));
  }

  std::string ChainPem() const {
    std::string pem;
    for (const auto& [digest, cert] : certificates_) pem += cert.Pem();
    return pem;
  }

  const std::vector<audit::ManifestEntry>& manifest() const { return manifest_; }

 private:
  absl::FunctionRef<absl::Status(const v1::ExportChunk&)> send_;
  std::vector<audit::ManifestEntry> manifest_;
  std::map<std::string, signer::Certificate> certificates_;  // by SHA-256, for a stable order
};

std::string CodeName(const v1::TrackedAnswer& answer) {
  if (answer.signed_().kind() == v1::MESSAGE_KIND_DELIVERY_REPORT) return "report";
  const int code = static_cast<int>(answer.code());
  return absl::StrCat(code < 10 ? "0" : "", code);
}

}  // namespace

absl::Status ExportEvidence(NodeContext& node, const std::string& message_id,
                            absl::FunctionRef<absl::Status(const v1::ExportChunk&)> send) {
  absl::StatusOr<store::StoredMessage> stored = node.store->GetMessage(message_id);
  if (absl::IsNotFound(stored.status())) {
    return absl::NotFoundError("no document " + message_id + " is stored at " + node.agency());
  }
  RETURN_IF_ERROR(stored.status());
  ASSIGN_OR_RETURN(v1::MessageEventsResponse events, MessageEventsUnderHead(node, message_id));
  ASSIGN_OR_RETURN(std::vector<store::Answer> answers, node.store->ListAnswers(message_id));
  const v1::FetchedDocument& document = stored->document;
  const v1::DocumentHeader& header = stored->header;
  const v1::LoggedTreeHead& head = events.head();
  const absl::Time now = node.now();

  std::string main_part;
  for (const v1::PartInfo& part : header.parts()) {
    if (part.main()) main_part = part.name();
  }
  EvidenceStream out(send);
  RETURN_IF_ERROR(out.AddBytes(layout::kReadme, EvidenceReadme(header, node.agency(), FormatRfc3339(now), main_part,
                                                               !head.timestamp_token().empty())));
  RETURN_IF_ERROR(out.AddBytes(layout::kHeader, document.document().body()));
  RETURN_IF_ERROR(out.AddBytes(layout::kSeal, document.document().seal_signature()));
  out.CollectCertificates(document.document().seal_signature());
  for (int i = 0; i < document.leader_signatures_size(); ++i) {
    RETURN_IF_ERROR(out.AddBytes(layout::LeaderSignature(i + 1), document.leader_signatures(i)));
    out.CollectCertificates(document.leader_signatures(i));
  }
  for (int i = 0; i < header.parts_size(); ++i) {
    RETURN_IF_ERROR(out.AddPart(layout::Part(header.parts(i).name()), header.parts(i).media_type(), *node.store,
                                message_id, static_cast<uint32_t>(i)));
  }
  int hop = 0;
  for (const v1::TraceEntry& entry : document.trace()) {
    if (entry.signed_().body().empty()) continue;  // the sender's and the recipient's own entries
    ++hop;
    RETURN_IF_ERROR(out.AddBytes(layout::TraceHop(hop), entry.signed_().body()));
    RETURN_IF_ERROR(out.AddBytes(layout::TraceHopSeal(hop), entry.signed_().seal_signature()));
    out.CollectCertificates(entry.signed_().seal_signature());
  }
  // An answer goes in only when the log under the head records it: one
  // stored after that head was sealed waits for the next export.
  std::set<std::string> logged_answers;
  for (const v1::InclusionProof& proof : events.events()) {
    v1::AuditEvent event;
    if (event.ParseFromString(proof.event()) && event.kind() == v1::AUDIT_EVENT_ANSWER) {
      logged_answers.insert(event.body_sha256());
    }
  }
  int n = 0;
  for (const store::Answer& a : answers) {
    if (!logged_answers.contains(signer::Sha256(a.answer.signed_().body()))) continue;
    ++n;
    const std::string code = CodeName(a.answer);
    RETURN_IF_ERROR(out.AddBytes(layout::AnswerBody(n, a.agency, code), a.answer.signed_().body()));
    RETURN_IF_ERROR(out.AddBytes(layout::AnswerSeal(n, a.agency, code), a.answer.signed_().seal_signature()));
    out.CollectCertificates(a.answer.signed_().seal_signature());
  }
  for (const v1::InclusionProof& proof : events.events()) {
    RETURN_IF_ERROR(out.AddBytes(layout::Event(proof.index()), proof.event()));
    v1::InclusionProof path = proof;
    path.clear_event();  // the event's bytes are its own file
    RETURN_IF_ERROR(out.AddBytes(layout::Proof(proof.index()), path.SerializeAsString()));
  }
  RETURN_IF_ERROR(out.AddBytes(layout::kTreeHead, head.head().body()));
  RETURN_IF_ERROR(out.AddBytes(layout::kTreeHeadSeal, head.head().seal_signature()));
  out.CollectCertificates(head.head().seal_signature());
  if (!head.timestamp_token().empty()) {
    RETURN_IF_ERROR(out.AddBytes(layout::kTreeHeadToken, head.timestamp_token()));
    out.CollectCertificates(head.timestamp_token());
  }
  RETURN_IF_ERROR(out.AddBytes(layout::kChain, out.ChainPem()));
  std::string crls;
  // The snapshot is held while its CRLs are read: the trust reloader may put
  // a new one in place meanwhile and drop the last other reference.
  const std::shared_ptr<const signer::TrustStore> trust = node.trust->Current();
  for (const signer::Crl& crl : trust->crls()) crls += crl.Pem();
  RETURN_IF_ERROR(out.AddBytes(layout::kCrls, crls));

  const std::string manifest = audit::BuildManifest(out.manifest());
  ASSIGN_OR_RETURN(v1::SignedMessage sealed, Seal(v1::MESSAGE_KIND_EVIDENCE_MANIFEST, manifest, *node.seal, now));
  v1::ExportChunk chunk;
  chunk.set_name(audit::kManifestName);
  chunk.set_data(manifest);
  RETURN_IF_ERROR(send(chunk));
  chunk.set_name(audit::kManifestSignatureName);
  chunk.set_data(sealed.seal_signature());
  return send(chunk);
}

}  // namespace congvan::node
