// The documents a node issues and receives: building and sealing the header
// of a clerk's document, checking the leaders' signatures, verifying what a
// peer delivers, and the signed receipts. Pure functions over their inputs
// (time and randomness come in as arguments); the services call them around
// the store. What signs or verifies counts each signature it made, or that
// verified, on the SignatureCounter (metrics.h) it is given, if any.
#ifndef CONGVAN_NODE_DOCUMENTS_H_
#define CONGVAN_NODE_DOCUMENTS_H_

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/node/metrics.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/key_backend.h"
#include "congvan/signer/trust.h"
#include "congvan/v1/message.pb.h"
#include "congvan/v1/node.pb.h"

namespace congvan::node {

// Bounds on what a clerk or a peer may send (node.toml [limits]).
struct DocumentLimits {
  uint64_t max_message_bytes = uint64_t{2} << 30;  // Default: 2 GiB, all parts together
  size_t max_parts = 100;                           // Default: 100
  size_t max_recipients = 10000;                    // Default: 10,000
  size_t max_text_bytes = 4096;                     // Default: 4 KiB for subject, notation, names
};

// The agency's seal: its key (file or token) and certificate chain.
struct SealCredentials {
  signer::KeyBackend* key = nullptr;       // not owned
  signer::Certificate certificate;
  std::vector<signer::Certificate> chain;  // intermediates
  // Counts every seal made with these credentials. Not owned; nullptr: not counted.
  SignatureCounter* counter = nullptr;
};

// What `congvan fetch` writes next to the parts: a part may not be named so.
inline constexpr char kHeaderFileName[] = "header.pb";       // the sealed header bytes
inline constexpr char kSealFileName[] = "seal.p7s";          // the seal over them
inline constexpr char kLeaderSignaturePrefix[] = "leader-";  // leader-<n>.p7s, from 1
inline constexpr char kPartialSuffix[] = ".partial";         // a part being written

// A part name must be a plain file name that `congvan fetch` can write:
// 1-255 bytes, no '/' or '\\', no "..", no control characters, not a name
// reserved above. INVALID_ARGUMENT saying which rule it breaks. The node
// refuses such a document, so that every document it accepts can be fetched.
[[nodiscard]] absl::Status CheckPartName(std::string_view name);

// SendHeader.request_id: empty (none), or 1 to 64 of A-Z a-z 0-9 . _ : -.
// INVALID_ARGUMENT saying which rule it breaks. The CLI checks its
// --request-id with it before the node does.
[[nodiscard]] absl::Status CheckRequestId(std::string_view id);

// RFC 3339 in UTC to the second ("2026-11-22T10:00:00Z"): the times written
// into headers, receipts, statuses and traces.
std::string FormatRfc3339(absl::Time t);

// A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, variant 10,
// 74 random bits; lower-case hex with dashes.
std::string NewMessageId(absl::Time now, absl::BitGenRef random);

// Checks a clerk's SendHeader before anything is stored: recipients are
// well-formed agency IDs (not the sender), text fields are present and
// bounded, exactly one main part, part names are plain file names, sizes and
// digests are well-formed and within `limits`, at least one leader
// signature. INVALID_ARGUMENT (or RESOURCE_EXHAUSTED for sizes) naming the
// field.
[[nodiscard]] absl::Status ValidateSendHeader(const v1::SendHeader& header, std::string_view own_agency,
                                              const DocumentLimits& limits);

// Who may sign for the agency at this node.
struct LeaderPolicy {
  std::string agency;             // the node's agency
  std::set<std::string> leaders;  // logins holding the leader role here
};

// Verifies each leader signature over the main part (by its SHA-256) at
// `at`: valid for document signing, issued to a person of `policy.agency`
// who holds the leader role. Returns one SignerInfo per signature, in order.
// Errors: the signature's own (UNAUTHENTICATED / INVALID_ARGUMENT /
// PERMISSION_DENIED with the reason), PERMISSION_DENIED for another agency's
// person or a person without the leader role.
[[nodiscard]] absl::StatusOr<std::vector<v1::SignerInfo>> CheckLeaderSignatures(
    const std::vector<std::string>& signatures, std::string_view main_sha256, const signer::TrustStore& trust,
    absl::Time at, const LeaderPolicy& policy, SignatureCounter* counter = nullptr);

// Everything that goes into a header besides the clerk's request.
struct Issuance {
  std::string message_id;
  std::string from_agency;
  std::string from_name;
  v1::Registration registration;  // year, number, notation, issued_at
  std::vector<v1::SignerInfo> signers;
};

// The header of an issued document: the clerk's request plus `issuance`.
v1::DocumentHeader BuildHeader(const v1::SendHeader& request, const Issuance& issuance);

// Signs `body` with the seal into a SignedMessage of `kind` (counted on
// seal.counter).
[[nodiscard]] absl::StatusOr<v1::SignedMessage> Seal(v1::MessageKind kind, std::string body,
                                                     const SealCredentials& seal, absl::Time now);

// A SignedMessage whose seal verified.
struct VerifiedSeal {
  std::string agency;  // the sealing agency, from its certificate
  signer::VerifiedSignature signature;
};

// Verifies the seal over `message.body` at `at`: a valid document-signing
// certificate of an agency (a seal names no person). Errors as VerifyDigest,
// PERMISSION_DENIED when a person's certificate sealed it.
[[nodiscard]] absl::StatusOr<VerifiedSeal> VerifySeal(const v1::SignedMessage& message,
                                                      const signer::TrustStore& trust, absl::Time at,
                                                      SignatureCounter* counter = nullptr);

// Verifies a delivered envelope before any part arrives: the header parses
// and is well-formed, the seal is the `from` agency's, every leader
// signature verifies over the declared main-part digest and belongs to a
// person of the `from` agency, and the signers match the header. Returns the
// header. Errors carry the reason; PERMISSION_DENIED for a seal of another
// agency than `from`.
[[nodiscard]] absl::StatusOr<v1::DocumentHeader> VerifyEnvelope(const v1::Envelope& envelope,
                                                                const signer::TrustStore& trust, absl::Time at,
                                                                const DocumentLimits& limits,
                                                                SignatureCounter* counter = nullptr);

// A signed receipt of `recipient` for the document whose header bytes are
// `header_bytes`, naming the `path` it took (each hop's agency and time; the
// relays' sealed statements are left out).
[[nodiscard]] absl::StatusOr<v1::SignedMessage> MakeReceipt(const v1::DocumentHeader& header,
                                                            std::string_view header_bytes,
                                                            const std::string& recipient, v1::StatusCode code,
                                                            const std::string& reason, const SealCredentials& seal,
                                                            absl::Time now,
                                                            const std::vector<v1::TraceEntry>& path = {});

}  // namespace congvan::node

#endif  // CONGVAN_NODE_DOCUMENTS_H_
