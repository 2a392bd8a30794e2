// A node's /metrics, scraped over HTTP from real congvand processes while a
// document goes from a commune to its district and a status comes back:
// each counter moves by exactly what happened. And a node whose metrics port
// is taken refuses to start, saying so.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "congvan/config/node_config.h"
#include "congvan/config/profile.h"
#include "congvan/node/tls.h"
#include "congvan/v1/node.grpc.pb.h"
#include "testing/cluster.h"
#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::MetricValue;
using ::congvan::testing::RunResult;
using ::congvan::testing::WaitFor;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

constexpr char kHongGai[] = "000.01.01.H49";  // a commune; its leader signs on a token
constexpr char kHaLong[] = "000.00.01.H49";   // its district

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 random(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(random());
  return out;
}

// `name{peer="...",result="..."}` as the node renders it.
std::string Series(const std::string& name, const std::string& peer, const std::string& result = "") {
  return name + "{peer=\"" + peer + "\"" + (result.empty() ? "" : ",result=\"" + result + "\"") + "}";
}

bool HasAnswer(const Cluster& cluster, const std::string& login, const std::string& id, const std::string& code) {
  RunResult r = cluster.Congvan(login, {"track", id, "--json"});
  if (r.exit_code != 0) return false;
  nlohmann::json track = nlohmann::json::parse(r.out);
  for (const auto& answer : track["recipients"][0]["answers"]) {
    if (answer["code"] == code) return true;
  }
  return false;
}

TEST(NodeMetrics, ADocumentFromCommuneToDistrictMovesEachCounterOnce) {
  Cluster cluster;
  cluster.Start(kHongGai);
  cluster.Start(kHaLong);
  const std::string commune_before = cluster.Metrics(kHongGai);
  const std::string district_before = cluster.Metrics(kHaLong);
  ASSERT_THAT(commune_before, HasSubstr("congvan_documents_issued_total 0\n"));
  ASSERT_THAT(district_before, HasSubstr("# TYPE congvan_received_total counter\n"));

  const std::string main_part = RandomBytes(300'000, 1);
  const std::string annex = RandomBytes(2'500'000, 2);  // several 1 MiB chunks
  const double part_bytes = static_cast<double>(main_part.size() + annex.size());
  WriteTestFile(cluster.File("bao-cao.pdf"), main_part);
  WriteTestFile(cluster.File("phu-luc.xlsx"), annex);
  const std::string leader = cluster.Person("leader-honggai");
  ASSERT_EQ(cluster.Congvan("", {"sign", "--cert", leader + "/sign.pem", "--token-config", leader + "/token.toml",
                                 "--in", cluster.File("bao-cao.pdf"), "--out", cluster.File("bao-cao.pdf.p7s")})
                .exit_code,
            0);
  RunResult sent = cluster.Congvan(
      "clerk-honggai", {"send", "--to", kHaLong, "--subject", "Báo cáo tháng 11", "--type", "Báo cáo", "--notation",
                        "15/BC-UBND", "--file", cluster.File("bao-cao.pdf"), "--attach", cluster.File("phu-luc.xlsx"),
                        "--leader-sig", cluster.File("bao-cao.pdf.p7s"), "--json"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  const std::string id = nlohmann::json::parse(sent.out)["message_id"];
  ASSERT_TRUE(WaitFor([&] { return HasAnswer(cluster, "clerk-honggai", id, "01"); })) << cluster.Log(kHongGai);

  // The commune issued one document and delivered it once to the district.
  const std::string commune = cluster.Metrics(kHongGai);
  EXPECT_EQ(MetricValue(commune, "congvan_documents_issued_total"), 1) << commune;
  EXPECT_EQ(MetricValue(commune, Series("congvan_deliveries_total", kHaLong, "delivered")), 1) << commune;
  EXPECT_EQ(MetricValue(commune, Series("congvan_deliveries_total", kHaLong, "retry")), 0);
  EXPECT_EQ(MetricValue(commune, Series("congvan_delivery_bytes_total", kHaLong)), part_bytes);
  EXPECT_EQ(MetricValue(commune, "congvan_delivery_seconds_count"), 1);
  EXPECT_EQ(MetricValue(commune, "congvan_delivery_seconds_bucket{le=\"+Inf\"}"), 1);
  EXPECT_GT(MetricValue(commune, "congvan_delivery_seconds_sum"), 0);
  EXPECT_EQ(MetricValue(commune, Series("congvan_received_total", kHaLong, "stored")), 0);

  // The district stored it once, from the commune; it issued nothing.
  const std::string district = cluster.Metrics(kHaLong);
  EXPECT_EQ(MetricValue(district, Series("congvan_received_total", kHongGai, "stored")), 1) << district;
  EXPECT_EQ(MetricValue(district, Series("congvan_received_total", kHongGai, "duplicate")), 0);
  EXPECT_EQ(MetricValue(district, Series("congvan_received_bytes_total", kHongGai)), part_bytes);
  EXPECT_EQ(MetricValue(district, "congvan_documents_issued_total"), 0);
  EXPECT_EQ(MetricValue(district, "congvan_delivery_seconds_count"), 0);

  // The district's status goes back with NodeService.Answer.
  ASSERT_EQ(cluster.Congvan("clerk-halong", {"set-status", id, "--code", "03"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return HasAnswer(cluster, "clerk-honggai", id, "03"); }));
  EXPECT_EQ(MetricValue(cluster.Metrics(kHaLong), Series("congvan_answers_forwarded_total", kHongGai, "delivered")),
            1);
}

// A person's certificate on the peers port: refused, and counted as a
// rejection from an unknown peer.
TEST(NodeMetrics, ADeliveryFromSomeoneWhoIsNotAPeerIsCountedAsRejected) {
  Cluster cluster;
  cluster.Start(kHaLong);
  ASSERT_OK_AND_ASSIGN(config::Profile profile, config::LoadProfile(cluster.Profile("clerk-halong")));
  ASSERT_OK_AND_ASSIGN(config::NodeConfig node, config::LoadNodeConfig(cluster.NodeConfig(kHaLong)));
  ASSERT_OK_AND_ASSIGN(auto credentials, MakeChannelCredentials({profile.tls.cert_file, profile.tls.key_file,
                                                                 profile.trust.anchor_files}));
  auto stub = v1::NodeService::NewStub(grpc::CreateChannel(node.listen.peers.ToString(), credentials));
  grpc::ClientContext context;
  v1::DeliverResponse response;
  auto writer = stub->Deliver(&context, &response);
  writer->WritesDone();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);

  const std::string text = cluster.Metrics(kHaLong);
  EXPECT_EQ(MetricValue(text, Series("congvan_received_total", "unknown", "rejected")), 1) << text;
  EXPECT_EQ(MetricValue(text, Series("congvan_received_bytes_total", "unknown")), 0);
}

TEST(NodeMetrics, ANodeWhoseMetricsPortIsTakenDoesNotStart) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(config::NodeConfig node, config::LoadNodeConfig(cluster.NodeConfig(kHaLong)));
  ASSERT_TRUE(node.listen.metrics.has_value());
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(node.listen.metrics->port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 1), 0);

  RunResult r = ::congvan::testing::Run(
      {"timeout", "60", ::congvan::testing::Bin("congvand"), "--config", cluster.NodeConfig(kHaLong)});
  close(fd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot serve metrics on " + node.listen.metrics->ToString() + " (listen.metrics)"));
}

}  // namespace
}  // namespace congvan::node
