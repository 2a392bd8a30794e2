// Operations of real congvand processes: the gRPC health names on both
// ports, the outbox, signature, store and certificate metrics as a document
// waits for a node that is down and then goes, the log line of a delivery
// that fails (carrying the message id and the peer), a certificate within
// [operations] certificate_warning_days, and the JSON log.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "congvan/config/node_config.h"
#include "congvan/config/profile.h"
#include "congvan/node/tls.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "testing/cluster.h"
#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::MetricValue;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::RunResult;
using ::congvan::testing::WaitFor;
using ::congvan::testing::WriteTestFile;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Ge;
using ::testing::HasSubstr;
using ::testing::Le;
using Serving = grpc::health::v1::HealthCheckResponse;

constexpr char kHongGai[] = "000.01.01.H49";  // a commune
constexpr char kHaLong[] = "000.00.01.H49";   // its district, its parent
const char* const kHealthNames[] = {"", "congvan.v1.Store", "congvan.v1.Certificates", "congvan.v1.AuditService"};

// The health of `service` at `address`, asked with the TLS identity in
// `cert_file` / `key_file`.
Serving::ServingStatus Health(const std::string& address, const std::string& cert_file, const std::string& key_file,
                              const std::vector<std::string>& anchors, const std::string& service) {
  auto credentials = MakeChannelCredentials({cert_file, key_file, anchors});
  EXPECT_OK(credentials);
  auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(address, *credentials));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  Serving response;
  const grpc::Status status = stub->Check(&context, request, &response);
  EXPECT_TRUE(status.ok()) << "'" << service << "' at " << address << ": " << status.error_message();
  return response.status();
}

// As a person of the node asks it on its people port.
Serving::ServingStatus PeopleHealth(const Cluster& cluster, const std::string& login, const std::string& service) {
  auto profile = config::LoadProfile(cluster.Profile(login));
  EXPECT_OK(profile);
  return Health(profile->node.ToString(), profile->tls.cert_file, profile->tls.key_file, profile->trust.anchor_files,
                service);
}

// As the node of `peer` asks `agency`'s node on its peers port (as its
// delivery loop does before it queues failed deliveries again).
Serving::ServingStatus PeersHealth(const Cluster& cluster, const std::string& agency, const std::string& peer,
                                   const std::string& service) {
  auto node = config::LoadNodeConfig(cluster.NodeConfig(agency));
  auto caller = config::LoadNodeConfig(cluster.NodeConfig(peer));
  EXPECT_OK(node);
  EXPECT_OK(caller);
  return Health(node->listen.peers.ToString(), caller->tls.cert_file, caller->tls.key_file, caller->trust.anchor_files,
                service);
}

// Signs a small document on the commune leader's token and sends it to the
// district; returns its message id.
std::string Send(const Cluster& cluster) {
  WriteTestFile(cluster.File("cong-van.pdf"), "%PDF-1.7 Công văn số 7/UBND\n" + std::string(4000, 'x'));
  const std::string leader = cluster.Person("leader-honggai");
  RunResult sign =
      cluster.Congvan("", {"sign", "--cert", leader + "/sign.pem", "--token-config", leader + "/token.toml", "--in",
                           cluster.File("cong-van.pdf"), "--out", cluster.File("cong-van.pdf.p7s")});
  EXPECT_EQ(sign.exit_code, 0) << sign.err;
  RunResult sent =
      cluster.Congvan("clerk-honggai", {"send", "--to", kHaLong, "--subject", "Về việc họp", "--type", "Công văn",
                                        "--notation", "7/UBND-VP", "--file", cluster.File("cong-van.pdf"),
                                        "--leader-sig", cluster.File("cong-van.pdf.p7s"), "--json"});
  EXPECT_EQ(sent.exit_code, 0) << sent.err;
  return sent.exit_code == 0 ? nlohmann::json::parse(sent.out).value("message_id", "") : "";
}

// The lines of `log` that contain `text`.
std::vector<std::string> LinesWith(const std::string& log, const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(text) != std::string::npos) out.push_back(line);
  }
  return out;
}

TEST(NodeOperations, AHealthyNodeIsServingUnderEveryNameOnBothPorts) {
  Cluster cluster;
  cluster.Start(kHaLong);
  for (const char* name : kHealthNames) {
    EXPECT_EQ(PeopleHealth(cluster, "clerk-halong", name), Serving::SERVING) << "'" << name << "'";
    EXPECT_EQ(PeersHealth(cluster, kHaLong, kHongGai, name), Serving::SERVING) << "'" << name << "'";
  }
  const std::string metrics = cluster.Metrics(kHaLong);
  EXPECT_GT(MetricValue(metrics, "congvan_store_bytes"), 0) << metrics;
  EXPECT_EQ(MetricValue(metrics, R"(congvan_outbox_entries{state="pending"})"), 0);
  EXPECT_EQ(MetricValue(metrics, R"(congvan_outbox_entries{state="failed"})"), 0);
  // `pki init` issues end entities for two years and the root for twenty.
  EXPECT_THAT(MetricValue(metrics, R"(congvan_certificate_expiry_days{certificate="seal"})"), AllOf(Ge(729), Le(731)));
  EXPECT_THAT(MetricValue(metrics, R"(congvan_certificate_expiry_days{certificate="tls"})"), AllOf(Ge(729), Le(731)));
  EXPECT_GT(MetricValue(metrics, R"(congvan_certificate_expiry_days{certificate="anchor"})"), 7000);
  EXPECT_THAT(metrics, ::testing::Not(HasSubstr("certificate=\"tsa\"")));  // not the authority
}

TEST(NodeOperations, ADocumentWaitingForANodeThatIsDownIsInTheOutboxAndInTheLog) {
  Cluster cluster;
  cluster.Start(kHongGai);  // the district is down
  const std::string id = Send(cluster);
  ASSERT_FALSE(id.empty());

  // The log says which message failed to reach which peer, and why.
  std::string line;
  ASSERT_TRUE(WaitFor([&] {
    const auto lines = LinesWith(cluster.Log(kHongGai), "message=" + id + " peer=" + kHaLong + " attempt=1");
    if (!lines.empty()) line = lines.front();
    return !lines.empty();
  })) << cluster.Log(kHongGai);
  EXPECT_TRUE(std::regex_search(
      line, std::regex("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z info 000\\.01\\.01\\.H49 message=" + id +
                       " peer=000\\.00\\.01\\.H49 attempt=1 document delivery failed, retrying: ")))
      << line;
  EXPECT_THAT(LinesWith(cluster.Log(kHongGai), "message=" + id + " recipients=1 document 1/"),
              ::testing::SizeIs(1));  // issued

  // The outbox holds it, counted within a round of the periodic check.
  EXPECT_TRUE(WaitFor([&] {
    return MetricValue(cluster.Metrics(kHongGai), R"(congvan_outbox_entries{state="pending"})") == 1;
  })) << cluster.Metrics(kHongGai);
  const std::string commune = cluster.Metrics(kHongGai);
  EXPECT_GE(MetricValue(commune, R"(congvan_signatures_total{operation="made"})"), 1);      // the document's seal
  EXPECT_GE(MetricValue(commune, R"(congvan_signatures_total{operation="verified"})"), 1);  // the leader's signature

  // The district comes back: the document goes, the outbox empties, and
  // the district verified the seal and the leader's signature and sealed a
  // receipt.
  cluster.Start(kHaLong);
  EXPECT_TRUE(WaitFor(
      [&] { return MetricValue(cluster.Metrics(kHongGai), R"(congvan_outbox_entries{state="pending"})") == 0; }, 60))
      << cluster.Log(kHongGai);
  const std::string district = cluster.Metrics(kHaLong);
  EXPECT_GE(MetricValue(district, R"(congvan_signatures_total{operation="verified"})"), 2) << district;
  EXPECT_GE(MetricValue(district, R"(congvan_signatures_total{operation="made"})"), 1);
  EXPECT_THAT(LinesWith(cluster.Log(kHongGai), "message=" + id + " peer=" + kHaLong),
              Contains(HasSubstr("document delivered")));
  EXPECT_THAT(LinesWith(cluster.Log(kHaLong),
                        "message=" + id + " peer=" + kHongGai + " recipients_here=1 next_hops=0 document stored"),
              ::testing::SizeIs(1));
}

TEST(NodeOperations, ACertificateWithinTheWarningWindowTurnsOffItsHealthAndIsLogged) {
  Cluster cluster;
  const std::string toml = cluster.NodeConfig(kHaLong);
  // Two-year certificates are within a window of 1000 days; the twenty-year root is not.
  WriteTestFile(toml, ReadTestFile(toml) + "\n[operations]\ncertificate_warning_days = 1000\n");
  cluster.Start(kHaLong);
  EXPECT_EQ(PeopleHealth(cluster, "clerk-halong", "congvan.v1.Certificates"), Serving::NOT_SERVING);
  EXPECT_EQ(PeersHealth(cluster, kHaLong, kHongGai, "congvan.v1.Certificates"), Serving::NOT_SERVING);
  EXPECT_EQ(PeopleHealth(cluster, "clerk-halong", ""), Serving::SERVING);  // the node itself serves on
  EXPECT_EQ(PeersHealth(cluster, kHaLong, kHongGai, ""), Serving::SERVING);
  EXPECT_EQ(PeopleHealth(cluster, "clerk-halong", "congvan.v1.Store"), Serving::SERVING);

  ASSERT_OK_AND_ASSIGN(config::NodeConfig node, config::LoadNodeConfig(toml));
  const std::string log = cluster.Log(kHaLong);
  for (const std::string& file : {node.seal.cert_file, node.tls.cert_file}) {
    const auto lines = LinesWith(log, " warn " + std::string(kHaLong) + " certificate=");
    EXPECT_THAT(lines, Contains(HasSubstr("file=" + file + " expires="))) << log;
  }
  EXPECT_THAT(LinesWith(log, "certificate=anchor"), ::testing::IsEmpty());
  // Logged before the node said it serves: at start-up.
  EXPECT_LT(log.find("certificate=seal"), log.find("serving"));
  EXPECT_LT(MetricValue(cluster.Metrics(kHaLong), R"(congvan_certificate_expiry_days{certificate="seal"})"), 1000);
}

TEST(NodeOperations, TheLogInJsonIsOneObjectPerLine) {
  Cluster cluster;
  // Up for a few seconds, then SIGTERM: it starts, serves and stops.
  RunResult r =
      ::congvan::testing::Run({"timeout", "--preserve-status", "-s", "TERM", "4", ::congvan::testing::Bin("congvand"),
                               "--config", cluster.NodeConfig(kHaLong), "--log-format", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_EQ(j.value("agency", ""), kHaLong) << line;
    EXPECT_TRUE(std::regex_match(j.value("time", ""), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"))) << line;
    EXPECT_TRUE(j.contains("level") && j.contains("msg")) << line;
    lines.push_back(std::move(j));
  }
  ASSERT_GE(lines.size(), 2u) << r.out;
  EXPECT_THAT(lines.front().value("msg", ""), HasSubstr("serving peers on port"));
  EXPECT_EQ(lines.back().value("msg", ""), "congvand stopped");
  EXPECT_THAT(::congvan::testing::Run(
                  {::congvan::testing::Bin("congvand"), "--config", cluster.NodeConfig(kHaLong), "--log-format", "xml"})
                  .exit_code,
              ::testing::Ne(0));
}

}  // namespace
}  // namespace congvan::node
