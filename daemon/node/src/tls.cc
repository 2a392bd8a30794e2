#include "congvan/node/tls.h"

#include <sys/stat.h>

#include "congvan/signer/certificate.h"
#include "congvan/signer/status_macros.h"

namespace congvan::node {
namespace {

struct TlsMaterial {
  std::string cert_chain;
  std::string private_key;
  std::string anchors;
};

absl::StatusOr<TlsMaterial> ReadTlsFiles(const TlsFiles& files) {
  TlsMaterial material;
  ASSIGN_OR_RETURN(material.cert_chain, signer::ReadFile(files.cert_chain));
  struct stat st {};
  if (stat(files.private_key.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError("TLS key " + files.private_key +
                                         " is readable by other users; run: chmod 600 " + files.private_key);
  }
  ASSIGN_OR_RETURN(material.private_key, signer::ReadFile(files.private_key));
  if (files.anchors.empty()) return absl::InvalidArgumentError("no trust anchor configured for TLS");
  for (const std::string& anchor : files.anchors) {
    ASSIGN_OR_RETURN(std::string pem, signer::ReadFile(anchor));
    material.anchors += pem;
  }
  return material;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const TlsFiles& files) {
  ASSIGN_OR_RETURN(TlsMaterial material, ReadTlsFiles(files));
  grpc::SslServerCredentialsOptions options(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = material.anchors;
  options.pem_key_cert_pairs.push_back({material.private_key, material.cert_chain});
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(const TlsFiles& files) {
  ASSIGN_OR_RETURN(TlsMaterial material, ReadTlsFiles(files));
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = material.anchors;
  options.pem_private_key = material.private_key;
  options.pem_cert_chain = material.cert_chain;
  return grpc::SslCredentials(options);
}

}  // namespace congvan::node
