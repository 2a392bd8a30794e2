// Mutual-TLS credentials for the node's servers and for the channels that
// nodes and people open to a node. Every connection presents a certificate
// and verifies the other side's against the trust anchors; revocation is
// checked per call (caller.h), where the CRLs live.
#ifndef CONGVAN_NODE_TLS_H_
#define CONGVAN_NODE_TLS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace congvan::node {

struct TlsFiles {
  std::string cert_chain;            // PEM: the certificate, then its issuing CA(s)
  std::string private_key;           // PEM; must be mode 0600 or stricter
  std::vector<std::string> anchors;  // PEM trust anchors
};

// Server credentials that require and verify a client certificate. Errors:
// NOT_FOUND (a file), FAILED_PRECONDITION (a key readable by others).
[[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const TlsFiles& files);

// Channel credentials that present `files.cert_chain` and verify the server
// against the anchors (the server's certificate must name the host dialled:
// node TLS certificates carry DNS localhost and IP 127.0.0.1 in the dev PKI).
[[nodiscard]] absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(const TlsFiles& files);

}  // namespace congvan::node

#endif  // CONGVAN_NODE_TLS_H_
