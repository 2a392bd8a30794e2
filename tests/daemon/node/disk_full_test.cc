// A real congvand whose disk fills: the district's data_dir is a small tmpfs
// (testing/small_disk.h) that a filler file takes over while the node runs.
// The node stays up, refuses its clerk's documents with RESOURCE_EXHAUSTED
// and says what to free, turns its health NOT_SERVING, loses nothing it
// acknowledged; its commune's delivery is refused too, stays queued there
// and is retried; once the filler is gone the same process (no restart)
// serves again, the delivery lands exactly once, what the node accepted
// goes on to its recipient, and the clerk's next document takes the next
// number (the refused one took none).
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "congvan/config/node_config.h"
#include "congvan/node/tls.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "testing/cluster.h"
#include "testing/small_disk.h"
#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::MetricValue;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::RunResult;
using ::congvan::testing::SmallDisk;
using ::congvan::testing::WaitFor;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;
using Serving = grpc::health::v1::HealthCheckResponse;

constexpr char kHongGai[] = "000.01.01.H49";  // a commune
constexpr char kHaLong[] = "000.00.01.H49";   // its district, whose disk fills

// The health of `service` on `agency`'s peers port, asked as `peer`'s node
// asks it (the delivery loop's probe does the same).
Serving::ServingStatus PeersHealth(const Cluster& cluster, const std::string& agency, const std::string& peer,
                                   const std::string& service) {
  auto node = config::LoadNodeConfig(cluster.NodeConfig(agency));
  auto caller = config::LoadNodeConfig(cluster.NodeConfig(peer));
  EXPECT_OK(node);
  EXPECT_OK(caller);
  if (!node.ok() || !caller.ok()) return Serving::UNKNOWN;
  auto credentials =
      MakeChannelCredentials({caller->tls.cert_file, caller->tls.key_file, caller->trust.anchor_files});
  EXPECT_OK(credentials);
  if (!credentials.ok()) return Serving::UNKNOWN;
  auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(node->listen.peers.ToString(), *credentials));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  Serving response;
  const grpc::Status status = stub->Check(&context, request, &response);
  EXPECT_TRUE(status.ok()) << "'" << service << "': " << status.error_message();
  return response.status();
}

bool Serves(const Cluster& cluster, const std::string& service, Serving::ServingStatus want) {
  return PeersHealth(cluster, kHaLong, kHongGai, service) == want;
}

// Puts `agency`'s data_dir at `dir` (before it starts).
void MoveDataDir(const Cluster& cluster, const std::string& agency, const std::string& dir) {
  const std::string path = cluster.NodeConfig(agency);
  const std::string text = ReadTestFile(path);
  const std::regex line("(^|\n)data_dir = [^\n]*");
  ASSERT_TRUE(std::regex_search(text, line)) << text;
  WriteTestFile(path, std::regex_replace(text, line, "$1data_dir = \"" + dir + "\"",
                                         std::regex_constants::format_first_only));
}

// Retries quickly, so that the test does not wait out a long back-off.
void ShortRetry(const Cluster& cluster, const std::string& agency) {
  const std::string path = cluster.NodeConfig(agency);
  WriteTestFile(path, ReadTestFile(path) + "\n[retry]\ninitial_backoff = \"200ms\"\nmax_backoff = \"1s\"\n");
}

// `congvan send --json` of a document of `size` bytes from `clerk`'s agency,
// signed with the key (file or token) of `leader`.
RunResult SendDocument(const Cluster& cluster, const std::string& clerk, const std::string& leader,
                       const std::string& to, const std::string& name, size_t size) {
  std::string body = "%PDF-1.7 " + name + "\n";
  for (size_t i = body.size(); i < size; ++i) body += static_cast<char>((i * 131) ^ (i >> 7));
  const std::string file = cluster.File(name + ".pdf");
  WriteTestFile(file, body);
  const std::string dir = cluster.Person(leader);
  std::vector<std::string> sign = {"sign", "--cert", dir + "/sign.pem", "--in", file, "--out", file + ".p7s"};
  if (std::filesystem::exists(dir + "/token.toml")) {
    sign.insert(sign.end(), {"--token-config", dir + "/token.toml"});
  } else {
    sign.insert(sign.end(), {"--key", dir + "/sign.key"});
  }
  RunResult signed_ = cluster.Congvan("", sign);
  EXPECT_EQ(signed_.exit_code, 0) << signed_.err;
  return cluster.Congvan(clerk, {"send", "--to", to, "--subject", "Về việc " + name, "--type", "Công văn",
                                 "--notation", "UBND-VP", "--file", file, "--leader-sig", file + ".p7s", "--json"});
}

nlohmann::json Json(const RunResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

// How many times `id` is in `clerk`'s inbox.
int InInbox(const Cluster& cluster, const std::string& clerk, const std::string& id) {
  int n = 0;
  for (const auto& entry : Json(cluster.Congvan(clerk, {"inbox", "--json"}))) n += entry["message_id"] == id ? 1 : 0;
  return n;
}

TEST(NodeDiskFull, RefusesWorkKeepsWhatItAcknowledgedAndTakesQueuedDeliveriesWhenSpaceReturns) {
  Cluster cluster;
  SmallDisk disk(cluster.File("disk"), 64 << 20);
  if (!disk.mounted()) GTEST_SKIP() << disk.why();
  const std::string data_dir = disk.File("data");
  MoveDataDir(cluster, kHaLong, data_dir);
  ShortRetry(cluster, kHongGai);
  cluster.Start(kHaLong);
  cluster.Start(kHongGai);
  const pid_t pid = cluster.Pid(kHaLong);

  // Acknowledged before the disk fills.
  nlohmann::json before = Json(SendDocument(cluster, "clerk-honggai", "leader-honggai", kHaLong, "truoc", 200 << 10));
  const std::string before_id = before.value("message_id", "");
  ASSERT_TRUE(WaitFor([&] { return InInbox(cluster, "clerk-halong", before_id) == 1; })) << cluster.Log(kHongGai);

  // The disk fills. The node's own writes (its audit log seals a tree head
  // every second) and the clerk's documents find it full.
  ASSERT_OK(disk.FillLeaving(0));
  // What the database had taken of the disk before (the WAL's preallocated
  // tail) still takes a few: acknowledged, they are kept like any other.
  RunResult refused;
  std::vector<std::string> accepted;
  ASSERT_TRUE(WaitFor([&] {
    refused = SendDocument(cluster, "clerk-halong", "leader-halong", kHongGai,
                           "day-" + std::to_string(accepted.size()), 1 << 20);
    if (refused.exit_code == 0) accepted.push_back(nlohmann::json::parse(refused.out).value("message_id", ""));
    return refused.exit_code != 0;
  })) << "the full node still takes documents";
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  nlohmann::json error = nlohmann::json::parse(refused.out, nullptr, false);
  EXPECT_EQ(error.value("code", ""), "RESOURCE_EXHAUSTED") << refused.out;
  EXPECT_THAT(error.value("error", ""), HasSubstr("the node's disk is full: nothing was stored; free space on " +
                                                  data_dir));
  EXPECT_TRUE(WaitFor([&] { return Serves(cluster, "congvan.v1.Store", Serving::NOT_SERVING); }));
  EXPECT_EQ(PeersHealth(cluster, kHaLong, kHongGai, ""), Serving::NOT_SERVING);

  // The commune's node takes a document for the district and queues it: its
  // deliveries are refused with the district's reason, and retried.
  nlohmann::json during = Json(SendDocument(cluster, "clerk-honggai", "leader-honggai", kHaLong, "trong", 300 << 10));
  const std::string during_id = during.value("message_id", "");
  ASSERT_FALSE(during_id.empty());
  const std::string retried = "message=" + during_id + " peer=" + kHaLong + " attempt=2 document delivery failed";
  ASSERT_TRUE(WaitFor([&] { return cluster.Log(kHongGai).find(retried) != std::string::npos; }))
      << cluster.Log(kHongGai);
  std::istringstream log(cluster.Log(kHongGai));
  for (std::string line; std::getline(log, line);) {
    if (line.find(retried) != std::string::npos) {
      EXPECT_THAT(line, HasSubstr("node " + std::string(kHaLong) + " answered: "));
      EXPECT_THAT(line, HasSubstr("disk is full"));
    }
  }
  // Reads go on: what was acknowledged is there.
  EXPECT_EQ(InInbox(cluster, "clerk-halong", before_id), 1);
  RunResult fetched = cluster.Congvan("clerk-halong", {"fetch", before_id, "--out", cluster.File("fetched")});
  EXPECT_EQ(fetched.exit_code, 0) << fetched.err;
  EXPECT_EQ(ReadTestFile(cluster.File("fetched/truoc.pdf")), ReadTestFile(cluster.File("truoc.pdf")));
  EXPECT_EQ(InInbox(cluster, "clerk-halong", during_id), 0);

  // Space returns: the same process serves again, by itself.
  disk.Free();
  EXPECT_TRUE(WaitFor([&] { return Serves(cluster, "", Serving::SERVING); }, 60)) << cluster.Log(kHaLong);
  EXPECT_EQ(PeersHealth(cluster, kHaLong, kHongGai, "congvan.v1.Store"), Serving::SERVING);
  EXPECT_TRUE(WaitFor([&] { return InInbox(cluster, "clerk-halong", during_id) >= 1; }, 60))
      << cluster.Log(kHongGai) << cluster.Log(kHaLong);
  EXPECT_EQ(InInbox(cluster, "clerk-halong", during_id), 1);
  // The commune has the district's receipt.
  EXPECT_TRUE(WaitFor([&] {
    const nlohmann::json track = Json(cluster.Congvan("clerk-honggai", {"track", during_id, "--json"}));
    return track.contains("recipients") && !track["recipients"].empty() &&
           !track["recipients"][0]["answers"].empty() && track["recipients"][0]["answers"][0]["code"] == "01";
  }));
  nlohmann::json after = Json(SendDocument(cluster, "clerk-halong", "leader-halong", kHongGai, "sau", 1 << 20));
  EXPECT_EQ(after.value("number", 0), accepted.size() + 1);  // the refused one took no number
  // What the full node acknowledged reaches its recipient, once each.
  for (const std::string& id : accepted) {
    EXPECT_TRUE(WaitFor([&] { return InInbox(cluster, "clerk-honggai", id) == 1; }, 60)) << id;
  }
  EXPECT_EQ(cluster.Pid(kHaLong), pid);
  EXPECT_TRUE(cluster.Running(kHaLong));
  EXPECT_EQ(InInbox(cluster, "clerk-halong", before_id), 1);
}

// A delivery that went through but cannot be recorded (the disk filled in
// between) stays due, and is sent again: the peer answers each time with
// the receipt it kept (a duplicate). While the disk stays full the node must
// not do that in a loop — it would burn the CPU of both nodes and fill the
// peer's log — but at the pace of its retry back-off.
TEST(NodeDiskFull, ADeliveryItCannotRecordIsNotSentAgainInALoop) {
  Cluster cluster;
  SmallDisk disk(cluster.File("disk"), 64 << 20);
  if (!disk.mounted()) GTEST_SKIP() << disk.why();
  MoveDataDir(cluster, kHaLong, disk.File("data"));
  cluster.Start(kHaLong);  // the commune is down: what the district issues waits in its outbox

  ASSERT_OK(disk.FillLeaving(0));
  std::vector<std::string> queued;
  ASSERT_TRUE(WaitFor([&] {
    RunResult sent = SendDocument(cluster, "clerk-halong", "leader-halong", kHongGai,
                                  "cho-" + std::to_string(queued.size()), 1 << 20);
    if (sent.exit_code == 0) queued.push_back(nlohmann::json::parse(sent.out).value("message_id", ""));
    return sent.exit_code != 0;
  }));
  ASSERT_FALSE(queued.empty()) << "the WAL's preallocated tail took no document: nothing is queued to test with";

  cluster.Start(kHongGai);  // takes each document, and answers every later copy with its receipt
  ASSERT_TRUE(WaitFor([&] {
    return MetricValue(cluster.Metrics(kHongGai),
                       "congvan_received_total{peer=\"" + std::string(kHaLong) + "\",result=\"stored\"}") ==
           static_cast<double>(queued.size());
  })) << cluster.Log(kHaLong);
  std::this_thread::sleep_for(std::chrono::seconds(5));
  const double copies = MetricValue(cluster.Metrics(kHongGai), "congvan_received_total{peer=\"" +
                                                                   std::string(kHaLong) + "\",result=\"duplicate\"}");
  // The default back-off (1 s, doubling) allows 3 copies of each in 5 s.
  EXPECT_LE(copies, 4.0 * static_cast<double>(queued.size())) << "copies of " << queued.size() << " documents";

  disk.Free();
  for (const std::string& id : queued) {
    EXPECT_TRUE(WaitFor([&] { return InInbox(cluster, "clerk-honggai", id) == 1; }, 60)) << id;
  }
  EXPECT_TRUE(WaitFor([&] {
    return MetricValue(cluster.Metrics(kHaLong), R"(congvan_outbox_entries{state="pending"})") == 0;
  }, 60)) << cluster.Log(kHaLong);
}

}  // namespace
}  // namespace congvan::node
