#include "congvan/node/caller.h"

#include <grpc/grpc_security_constants.h>

#include "congvan/signer/status_macros.h"

namespace congvan::node {
namespace {

std::string PropertyValue(const grpc::AuthContext& auth, const char* name) {
  std::string value;
  for (const grpc::string_ref& v : auth.FindPropertyValues(name)) {
    value.append(v.data(), v.size());
    break;
  }
  return value;
}

}  // namespace

absl::StatusOr<Caller> IdentifyCaller(const grpc::AuthContext& auth, const signer::TrustStore& trust, absl::Time now) {
  const std::string leaf_pem = PropertyValue(auth, GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (leaf_pem.empty()) {
    return absl::UnauthenticatedError(
        "no client certificate: connect over mutual TLS with your node or person TLS certificate");
  }
  auto leaf = signer::ParseCertificates(leaf_pem);
  if (!leaf.ok()) return absl::UnauthenticatedError("the client certificate cannot be read");
  std::vector<signer::Certificate> presented;
  if (auto chain = signer::ParseCertificates(PropertyValue(auth, GRPC_X509_PEM_CERT_CHAIN_PROPERTY_NAME)); chain.ok()) {
    presented = *std::move(chain);
  }
  const signer::Certificate& cert = leaf->front();
  auto validated = trust.Validate(cert, presented, signer::KeyPurpose::kTlsClient, now);
  if (!validated.ok()) {
    return absl::UnauthenticatedError("client certificate rejected: " + std::string(validated.status().message()));
  }
  std::optional<std::string> agency = cert.AgencyId();
  if (!agency.has_value()) {
    return absl::PermissionDeniedError("client certificate '" + cert.Subject() +
                                       "' names no agency (urn:congvan:agency:<ID>)");
  }
  std::optional<std::string> login = cert.PersonLogin();
  return Caller{login.has_value() ? CallerKind::kPerson : CallerKind::kNode, *agency, login.value_or(""), cert};
}

}  // namespace congvan::node
