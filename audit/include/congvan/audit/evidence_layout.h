// The names of the files in an evidence container (audit/README.md,
// "Evidence container"): what `congvan export` writes and `congvan verify`
// reads. Pure string arithmetic.
#ifndef CONGVAN_AUDIT_EVIDENCE_LAYOUT_H_
#define CONGVAN_AUDIT_EVIDENCE_LAYOUT_H_

#include <cstdint>
#include <string>

#include "congvan/v1/message.pb.h"

namespace congvan::audit::evidence {

inline constexpr char kReadme[] = "README.txt";
inline constexpr char kHeader[] = "document/header.pb";  // the DocumentHeader bytes the sender sealed
inline constexpr char kSeal[] = "document/seal.p7s";     // the sender's seal over them
inline constexpr char kPartsDir[] = "document/parts/";   // + the part's name
inline constexpr char kTreeHead[] = "log/tree-head.pb";  // the exporting node's TreeHead
inline constexpr char kTreeHeadSeal[] = "log/tree-head.p7s";
inline constexpr char kTreeHeadToken[] = "log/tree-head.tst";  // RFC 3161 token over SHA-256(tree-head.pb)
inline constexpr char kEventsDir[] = "log/events/";            // + <index>.pb: AuditEvent bytes
inline constexpr char kProofsDir[] = "log/proofs/";            // + <index>.pb: InclusionProof without the event
inline constexpr char kChain[] = "certs/chain.pem";  // every certificate the signatures and the token carry
inline constexpr char kCrls[] = "certs/crls.pem";    // the CRLs the exporting node held

// document/leader-<n>.p7s, n from 1 in DocumentHeader.signers order.
std::string LeaderSignature(int n);
// document/trace/hop-<n>.pb and .p7s: the n-th relay's TraceHop (from 1, path order).
std::string TraceHop(int n);
std::string TraceHopSeal(int n);
// answers/<nn>-<agency>-<code>.pb and .p7s: a receipt, status or delivery
// report (nn from 01 in log order; code "01".."16", or "report").
std::string AnswerBody(int n, const std::string& agency, const std::string& code);
std::string AnswerSeal(int n, const std::string& agency, const std::string& code);
std::string Event(uint64_t index);
std::string Proof(uint64_t index);
std::string Part(const std::string& name);

// The media type a file of the container is listed with in the manifest.
std::string MediaType(const std::string& name);

}  // namespace congvan::audit::evidence

#endif  // CONGVAN_AUDIT_EVIDENCE_LAYOUT_H_
