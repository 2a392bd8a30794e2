// Who is calling a node: the identity in the caller's TLS certificate,
// validated with revocation on every call (gRPC's handshake checks the chain
// against the anchors but knows nothing of CRLs).
#ifndef CONGVAN_NODE_CALLER_H_
#define CONGVAN_NODE_CALLER_H_

#include <grpcpp/security/auth_context.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/trust.h"

namespace congvan::node {

enum class CallerKind {
  kNode,    // a node TLS certificate: agency ID only
  kPerson,  // a person's TLS certificate: agency ID and login
};

struct Caller {
  CallerKind kind;
  std::string agency;  // from urn:congvan:agency:<ID>
  std::string login;   // from urn:congvan:person:<login>; empty for a node
  signer::Certificate certificate;
};

// Identifies the caller of a call from its TLS auth context: the peer's
// certificate and chain as presented, validated against `trust` (with its
// CRLs) for TLS client use at `now`. Errors: UNAUTHENTICATED when there is
// no certificate or it does not validate (expired, revoked, untrusted: the
// message says which), PERMISSION_DENIED when the certificate carries no
// agency ID.
[[nodiscard]] absl::StatusOr<Caller> IdentifyCaller(const grpc::AuthContext& auth, const signer::TrustStore& trust,
                                                    absl::Time now);

}  // namespace congvan::node

#endif  // CONGVAN_NODE_CALLER_H_
