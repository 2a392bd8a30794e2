// Health: the names a node's gRPC health answers, asked over gRPC from real
// servers' health services (two, as the node has), as each signal changes.
#include "congvan/node/health.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "congvan/v1/node.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace congvan::node {
namespace {

using Serving = grpc::health::v1::HealthCheckResponse;

class HealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    for (int i = 0; i < 2; ++i) {
      grpc::ServerBuilder builder;
      builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &ports_[i]);
      builder.RegisterService(&services_[i]);  // a server needs a service besides health
      servers_[i] = builder.BuildAndStart();
      ASSERT_NE(servers_[i], nullptr);
      ASSERT_NE(servers_[i]->GetHealthCheckService(), nullptr);
    }
    health_ = std::make_unique<Health>(std::vector<grpc::HealthCheckServiceInterface*>{
        servers_[0]->GetHealthCheckService(), servers_[1]->GetHealthCheckService()});
  }

  void TearDown() override {
    for (auto& server : servers_) {
      if (server) server->Shutdown();
    }
  }

  // What server `i` answers for `name`, as a peer's or a monitor's client asks.
  Serving::ServingStatus Check(int i, const std::string& name) {
    auto stub = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(ports_[i]), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(name);
    Serving response;
    const grpc::Status status = stub->Check(&context, request, &response);
    EXPECT_TRUE(status.ok()) << name << ": " << status.error_message();
    return response.status();
  }

  // Both servers answer `status` for `name`, and Health says the same.
  void ExpectBoth(const std::string& name, Serving::ServingStatus status) {
    EXPECT_EQ(Check(0, name), status) << "'" << name << "' on the first server";
    EXPECT_EQ(Check(1, name), status) << "'" << name << "' on the second server";
    EXPECT_EQ(health_->Serving(name), status == Serving::SERVING) << name;
  }

  int ports_[2] = {0, 0};
  v1::NodeService::Service services_[2];  // every method unimplemented
  std::unique_ptr<grpc::Server> servers_[2];
  std::unique_ptr<Health> health_;
};

TEST_F(HealthTest, EveryNameStartsServing) {
  for (const char* name : {Health::kNode, Health::kStore, Health::kCertificates, Health::kAudit}) {
    ExpectBoth(name, Serving::SERVING);
  }
  EXPECT_FALSE(health_->Serving("congvan.v1.NoSuchService"));
}

TEST_F(HealthTest, AStoreThatCannotWriteTakesTheNodeDownUntilItWritesAgain) {
  health_->SetStoreWritable(false);
  ExpectBoth(Health::kNode, Serving::NOT_SERVING);
  ExpectBoth(Health::kStore, Serving::NOT_SERVING);
  ExpectBoth(Health::kCertificates, Serving::SERVING);
  ExpectBoth(Health::kAudit, Serving::SERVING);
  health_->SetStoreWritable(true);
  ExpectBoth(Health::kNode, Serving::SERVING);
  ExpectBoth(Health::kStore, Serving::SERVING);
}

TEST_F(HealthTest, ExpiringCertificatesAndATimestampAlarmLeaveTheNodeServing) {
  health_->SetCertificatesValid(false);
  ExpectBoth(Health::kCertificates, Serving::NOT_SERVING);
  ExpectBoth(Health::kNode, Serving::SERVING);
  ExpectBoth(Health::kStore, Serving::SERVING);
  health_->SetTimestampAlarm(true);
  ExpectBoth(Health::kAudit, Serving::NOT_SERVING);
  ExpectBoth(Health::kNode, Serving::SERVING);
  // Each signal is its own: the store going down and up changes neither.
  health_->SetStoreWritable(false);
  health_->SetStoreWritable(true);
  ExpectBoth(Health::kCertificates, Serving::NOT_SERVING);
  ExpectBoth(Health::kAudit, Serving::NOT_SERVING);
  health_->SetCertificatesValid(true);
  health_->SetTimestampAlarm(false);
  ExpectBoth(Health::kCertificates, Serving::SERVING);
  ExpectBoth(Health::kAudit, Serving::SERVING);
}

}  // namespace
}  // namespace congvan::node
