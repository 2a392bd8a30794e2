// Who is calling, over a real mutual-TLS gRPC connection on 127.0.0.1: the
// node's server credentials, the client credentials people and peers use,
// and IdentifyCaller with revocation. A health Check handler stands in for
// any node method: it answers with what IdentifyCaller decided.
#include "congvan/node/caller.h"

#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "congvan/node/grpc_status.h"
#include "congvan/node/tls.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "testing/status_matchers.h"
#include "testing/test_pki.h"

namespace congvan::node {
namespace {

using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;
using ::grpc::health::v1::Health;
using ::grpc::health::v1::HealthCheckRequest;
using ::grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

class IdentifyingService final : public Health::Service {
 public:
  explicit IdentifyingService(const signer::TrustStore& trust) : trust_(trust) {}
  grpc::Status Check(grpc::ServerContext* context, const HealthCheckRequest*, HealthCheckResponse* response) override {
    auto caller = IdentifyCaller(*context->auth_context(), trust_, absl::Now());
    if (!caller.ok()) return ToGrpcStatus(caller.status());
    response->set_status(HealthCheckResponse::SERVING);
    context->AddTrailingMetadata("agency", caller->agency);
    context->AddTrailingMetadata("login", caller->login);
    context->AddTrailingMetadata("kind", caller->kind == CallerKind::kPerson ? "person" : "node");
    return grpc::Status::OK;
  }

 private:
  const signer::TrustStore& trust_;
};

class CallerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<TestLeaf>(
        pki_.Issue({.profile = signer::CertificateProfile::kNodeTls, .person_login = ""}, "node"));
  }

  void StartServer(bool with_crls) {
    trust_ = std::make_unique<signer::TrustStore>(pki_.Trust(with_crls));
    service_ = std::make_unique<IdentifyingService>(*trust_);
    auto credentials = MakeServerCredentials({node_->cert_path, node_->key_path, {pki_.root_path()}});
    ASSERT_OK(credentials);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }

  // Calls the server presenting `leaf`; returns the status and the identity.
  grpc::Status CallAs(const TestLeaf& leaf, std::string anchor, std::multimap<std::string, std::string>* identity) {
    auto credentials = MakeChannelCredentials({leaf.cert_path, leaf.key_path, {std::move(anchor)}});
    EXPECT_OK(credentials);
    return CallWith(*credentials, identity);
  }

  grpc::Status CallWith(std::shared_ptr<grpc::ChannelCredentials> credentials,
                        std::multimap<std::string, std::string>* identity = nullptr) {
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), credentials);
    auto stub = Health::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    HealthCheckResponse response;
    grpc::Status status = stub->Check(&context, HealthCheckRequest(), &response);
    if (identity != nullptr) {
      for (const auto& [k, v] : context.GetServerTrailingMetadata()) {
        identity->emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
      }
    }
    return status;
  }

  TestPki pki_;
  std::unique_ptr<TestLeaf> node_;
  std::unique_ptr<signer::TrustStore> trust_;
  std::unique_ptr<IdentifyingService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(CallerTest, APersonIsIdentifiedByAgencyAndLogin) {
  StartServer(/*with_crls=*/true);
  TestLeaf person = pki_.Issue({.profile = signer::CertificateProfile::kPersonTls, .person_login = "clerk-h49"}, "p");
  std::multimap<std::string, std::string> identity;
  grpc::Status status = CallAs(person, pki_.root_path(), &identity);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(identity.find("kind")->second, "person");
  EXPECT_EQ(identity.find("login")->second, "clerk-h49");
  EXPECT_EQ(identity.find("agency")->second, "000.00.00.H49");
}

TEST_F(CallerTest, ANodeIsIdentifiedByItsAgency) {
  StartServer(true);
  TestLeaf peer = pki_.Issue({.profile = signer::CertificateProfile::kNodeTls, .agency_id = "000.00.01.H49",
                              .person_login = ""},
                             "peer");
  std::multimap<std::string, std::string> identity;
  grpc::Status status = CallAs(peer, pki_.root_path(), &identity);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(identity.find("kind")->second, "node");
  EXPECT_EQ(identity.find("agency")->second, "000.00.01.H49");
}

TEST_F(CallerTest, NoClientCertificateFailsTheHandshake) {
  StartServer(true);
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = pki_.root().Pem();
  grpc::Status status = CallWith(grpc::SslCredentials(options));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(CallerTest, ACertificateFromAnotherCaFailsTheHandshake) {
  StartServer(true);
  TestPki other;
  TestLeaf stranger = other.Issue({.profile = signer::CertificateProfile::kPersonTls}, "stranger");
  // The stranger trusts our root (to reach the server) but holds a
  // certificate from another CA.
  grpc::Status status = CallAs(stranger, pki_.root_path(), nullptr);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(CallerTest, ARevokedCertificateIsUnauthenticatedWithTheReason) {
  TestLeaf person = pki_.Issue({.profile = signer::CertificateProfile::kPersonTls}, "p");
  pki_.Revoke(person.cert, pki_.now() - absl::Minutes(5));
  StartServer(true);
  grpc::Status status = CallAs(person, pki_.root_path(), nullptr);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("revoked"));
}

TEST_F(CallerTest, ASigningCertificateCannotBeUsedForTls) {
  StartServer(true);
  TestLeaf signing = pki_.Issue({.profile = signer::CertificateProfile::kPersonSigning}, "sign");
  grpc::Status status = CallAs(signing, pki_.root_path(), nullptr);
  // Refused by the handshake or by IdentifyCaller's purpose check; never served.
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(status.error_code(), ::testing::AnyOf(grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::UNAUTHENTICATED,
                                                    grpc::StatusCode::PERMISSION_DENIED));
}

TEST(ServerCredentials, RefuseAKeyReadableByOthers) {
  TestPki pki;
  TestLeaf node = pki.Issue({.profile = signer::CertificateProfile::kNodeTls, .person_login = ""}, "node");
  chmod(node.key_path.c_str(), 0644);
  EXPECT_THAT(MakeServerCredentials({node.cert_path, node.key_path, {pki.root_path()}}),
              ::congvan::testing::StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("chmod 600")));
}

}  // namespace
}  // namespace congvan::node
