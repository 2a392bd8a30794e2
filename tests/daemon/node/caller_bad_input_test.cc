// TLS client certificates outside their validity, over a real mutual-TLS
// gRPC connection on 127.0.0.1 (tests/SECURITY.md, the TLS rows that
// caller_test.cc leaves): an expired certificate and one not yet valid get
// no answer from a node's method.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "congvan/node/caller.h"
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

// Answers SERVING only to a caller IdentifyCaller accepts, as every node
// method does before anything else.
class IdentifyingService final : public Health::Service {
 public:
  IdentifyingService(const signer::TrustStore& trust, absl::Time now) : trust_(trust), now_(now) {}
  grpc::Status Check(grpc::ServerContext* context, const HealthCheckRequest*, HealthCheckResponse* response) override {
    auto caller = IdentifyCaller(*context->auth_context(), trust_, now_);
    if (!caller.ok()) return ToGrpcStatus(caller.status());
    response->set_status(HealthCheckResponse::SERVING);
    return grpc::Status::OK;
  }

 private:
  const signer::TrustStore& trust_;
  const absl::Time now_;
};

class CallerBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestLeaf node = pki_.Issue({.profile = signer::CertificateProfile::kNodeTls, .person_login = ""}, "node");
    trust_ = std::make_unique<signer::TrustStore>(pki_.Trust(true));
    service_ = std::make_unique<IdentifyingService>(*trust_, pki_.now());
    auto credentials = MakeServerCredentials({node.cert_path, node.key_path, {pki_.root_path()}});
    ASSERT_OK(credentials);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  grpc::Status CallAs(const TestLeaf& leaf) {
    auto credentials = MakeChannelCredentials({leaf.cert_path, leaf.key_path, {pki_.root_path()}});
    EXPECT_OK(credentials);
    auto stub = Health::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), *credentials));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    HealthCheckResponse response;
    return stub->Check(&context, HealthCheckRequest(), &response);
  }

  TestLeaf PersonTls(absl::Duration from, absl::Duration valid, const std::string& stem) {
    return pki_.Issue({.profile = signer::CertificateProfile::kPersonTls, .person_login = "clerk-h49",
                       .valid_from = from, .valid_for = valid},
                      stem);
  }

  TestPki pki_;
  std::unique_ptr<signer::TrustStore> trust_;
  std::unique_ptr<IdentifyingService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(CallerBadInputTest, AValidCertificateIsServed) {
  EXPECT_TRUE(CallAs(PersonTls(absl::Hours(-1), absl::Hours(24), "valid")).ok());
}

// The node's TLS verifies the client's chain, times included, in the
// handshake (tls.cc, REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY): the call fails
// as a connection that never came up (UNAVAILABLE) and no method runs.
TEST_F(CallerBadInputTest, AnExpiredCertificateFailsTheHandshake) {
  const grpc::Status status = CallAs(PersonTls(absl::Hours(-48), absl::Hours(24), "expired"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(CallerBadInputTest, ACertificateNotYetValidFailsTheHandshake) {
  const grpc::Status status = CallAs(PersonTls(absl::Hours(24), absl::Hours(24), "future"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

// What the handshake lets through is checked again when the node
// identifies the caller, at the node's own time: a certificate valid for
// the handshake's clock but expired at the node's is refused with the reason.
TEST(CallerBadInput, IdentifyCallerRefusesACertificateExpiredAtTheNodesTime) {
  TestPki pki;
  TestLeaf person = pki.Issue({.profile = signer::CertificateProfile::kPersonTls, .person_login = "clerk-h49",
                               .valid_from = absl::Hours(-1), .valid_for = absl::Hours(2)},
                              "person");
  TestLeaf node = pki.Issue({.profile = signer::CertificateProfile::kNodeTls, .person_login = ""}, "node");
  signer::TrustStore trust = pki.Trust(true);
  IdentifyingService later(trust, pki.now() + absl::Hours(3));
  auto server_credentials = MakeServerCredentials({node.cert_path, node.key_path, {pki.root_path()}});
  ASSERT_OK(server_credentials);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", *server_credentials, &port);
  builder.RegisterService(&later);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto credentials = MakeChannelCredentials({person.cert_path, person.key_path, {pki.root_path()}});
  ASSERT_OK(credentials);
  auto stub = Health::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port), *credentials));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, HealthCheckRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("expired"));
  server->Shutdown();
}

}  // namespace
}  // namespace congvan::node
