// An auditor asking for the evidence of a document whose events no sealed
// tree head covers yet (tests/SECURITY.md, "GetMessageEvents: events not
// yet under a sealed head"): UNAVAILABLE, saying when to try again, not
// NOT_FOUND (fixed here: a document stored here, whose events wait for the
// audit loop's next round, was "not found"). The window is held open with a
// tree_head_interval of an hour; restarted with 1 s, the same call answers.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "congvan/config/profile.h"
#include "congvan/node/tls.h"
#include "congvan/v1/audit.grpc.pb.h"
#include "testing/cluster.h"
#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::Replace;
using ::congvan::testing::RunResult;
using ::congvan::testing::WaitFor;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

constexpr char kHongGai[] = "000.01.01.H49";  // the node under test
constexpr char kHaLong[] = "000.00.01.H49";   // the recipient (not started)
constexpr char kUnknownId[] = "01900000-0000-7000-8000-000000000000";

grpc::Status Events(const Cluster& cluster, const std::string& id) {
  auto profile = config::LoadProfile(cluster.Profile("auditor-honggai"));
  EXPECT_OK(profile);
  auto credentials =
      MakeChannelCredentials({profile->tls.cert_file, profile->tls.key_file, profile->trust.anchor_files});
  EXPECT_OK(credentials);
  auto stub = v1::AuditService::NewStub(grpc::CreateChannel(profile->node.ToString(), *credentials));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::MessageEventsRequest request;
  request.set_message_id(id);
  v1::MessageEventsResponse response;
  return stub->GetMessageEvents(&context, request, &response);
}

TEST(AuditBadInput, EventsNotYetUnderASealedTreeHeadAreUnavailableWithWhenToTryAgain) {
  Cluster cluster;
  const std::string config = cluster.NodeConfig(kHongGai);
  const std::string every_second = ReadTestFile(config);
  WriteTestFile(config, Replace(every_second, "tree_head_interval = \"1s\"", "tree_head_interval = \"1h\""));
  cluster.Start(kHongGai);
  const std::string file = cluster.File("cv.pdf");
  WriteTestFile(file, "%PDF-1.7 chưa niêm phong");
  const std::string leader = cluster.Person("leader-honggai");
  ASSERT_EQ(cluster.Congvan("", {"sign", "--cert", leader + "/sign.pem", "--token-config", leader + "/token.toml",
                                 "--in", file, "--out", file + ".p7s"})
                .exit_code,
            0);
  RunResult sent = cluster.Congvan("clerk-honggai", {"send", "--to", kHaLong, "--subject", "Về việc kiểm tra",
                                                     "--type", "Công văn", "--notation", "13/UBND", "--file", file,
                                                     "--leader-sig", file + ".p7s", "--json"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  const std::string id = nlohmann::json::parse(sent.out).value("message_id", "");

  const grpc::Status waiting = Events(cluster, id);
  EXPECT_EQ(waiting.error_code(), grpc::StatusCode::UNAVAILABLE) << waiting.error_message();
  EXPECT_THAT(waiting.error_message(), HasSubstr("not under a sealed tree head yet; try again in 1h"));
  RunResult exported = cluster.Congvan("auditor-honggai", {"export", id, "--out", cluster.File("e.zip"), "--json"});
  EXPECT_EQ(exported.exit_code, 1) << exported.err;
  EXPECT_THAT(exported.out, HasSubstr("try again in 1h"));
  // A message the node does not hold is still not found.
  EXPECT_EQ(Events(cluster, kUnknownId).error_code(), grpc::StatusCode::NOT_FOUND);

  // Back to a head a second: the first round after the start seals them.
  cluster.Stop(kHongGai);
  WriteTestFile(config, every_second);
  cluster.Start(kHongGai);
  grpc::Status answered;
  EXPECT_TRUE(WaitFor([&] { return (answered = Events(cluster, id)).ok(); })) << answered.error_message();
}

}  // namespace
}  // namespace congvan::node
