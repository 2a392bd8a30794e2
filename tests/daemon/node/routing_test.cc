// Routing through the hierarchy of the sample topology with real congvand
// processes: a commune reaching a commune of another province through five
// relays, with the signed trace matching `congvan route`; a ministry's
// broadcast to every commune of a province in one send; a relay killed in the
// middle of a run; a relay down past the deadline, then back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "testing/cluster.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::RunResult;
using ::congvan::testing::WaitFor;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

constexpr char kRoot[] = "000.00.00.A00";
constexpr char kMinistry[] = "000.00.00.G12";
constexpr char kHaNoi[] = "000.00.00.H29";
constexpr char kHoanKiem[] = "000.01.05.H29";  // a ward hung directly under Hà Nội (a topology override)
constexpr char kCuaNam[] = "000.02.05.H29";
constexpr char kQuangNinh[] = "000.00.00.H49";
constexpr char kHaLong[] = "000.00.01.H49";
constexpr char kVanDon[] = "000.00.02.H49";
constexpr char kHongGai[] = "000.01.01.H49";
constexpr char kBaiChay[] = "000.02.01.H49";
constexpr char kQuanLan[] = "000.01.02.H49";
constexpr char kMinhChau[] = "000.02.02.H49";

nlohmann::json Json(const RunResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

// A document of `agency`'s leader (key file, or token when the sample puts
// it there), sent by its clerk to `to`; returns the message id.
std::string SendSigned(const Cluster& cluster, const std::string& unit, const std::vector<std::string>& to,
                       const std::string& subject, const std::string& content,
                       const std::vector<std::string>& extra = {}) {
  const std::string file = cluster.File(subject + ".pdf");
  WriteTestFile(file, content);
  const std::string leader = cluster.Person("leader-" + unit);
  const bool token = std::ifstream(leader + "/token.toml").good();
  RunResult sign = cluster.Congvan("", {"sign", "--cert", leader + "/sign.pem", token ? "--token-config" : "--key",
                                        leader + (token ? "/token.toml" : "/sign.key"), "--in", file, "--out",
                                        file + ".p7s"});
  EXPECT_EQ(sign.exit_code, 0) << sign.err;
  std::string recipients;
  for (const std::string& r : to) recipients += (recipients.empty() ? "" : ",") + r;
  std::vector<std::string> args = {"send",       "--to",   recipients, "--subject",    subject, "--type",
                                   "Công văn",   "--notation", "1/UBND", "--file", file,    "--leader-sig",
                                   file + ".p7s", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  nlohmann::json sent = Json(cluster.Congvan("clerk-" + unit, args));
  return sent.value("message_id", "");
}

nlohmann::json Track(const Cluster& cluster, const std::string& login, const std::string& id) {
  return Json(cluster.Congvan(login, {"track", id, "--json"}));
}

// recipient -> its codes, from the sender's track.
std::map<std::string, std::vector<std::string>> Codes(const nlohmann::json& track) {
  std::map<std::string, std::vector<std::string>> codes;
  for (const auto& r : track.value("recipients", nlohmann::json::array())) {
    auto& list = codes[r["agency"]];
    for (const auto& a : r["answers"]) list.push_back(a["code"]);
  }
  return codes;
}

bool AllArrived(const nlohmann::json& track, size_t recipients) {
  size_t arrived = 0;
  for (const auto& r : track.value("recipients", nlohmann::json::array())) {
    bool has01 = false;
    for (const auto& a : r["answers"]) has01 = has01 || a["code"] == "01";
    if (has01 && r["state"] == "delivered") ++arrived;
  }
  return arrived == recipients;
}

std::vector<std::string> Agencies(const nlohmann::json& list) {
  std::vector<std::string> out;
  for (const auto& hop : list) out.push_back(hop["agency"]);
  return out;
}

TEST(Routing, CommuneToACommuneOfAnotherProvinceThroughFiveRelaysWithTheTraceOfRoute) {
  Cluster cluster;
  for (const char* agency : {kHongGai, kHaLong, kQuangNinh, kRoot, kHaNoi, kHoanKiem}) cluster.Start(agency);

  // The operator's view of the way there: up three levels, down two.
  nlohmann::json route = Json(cluster.Congvan("operator-honggai", {"route", kHoanKiem, "--json"}));
  const std::vector<std::string> expected_path = {kHongGai, kHaLong, kQuangNinh, kRoot, kHaNoi, kHoanKiem};
  EXPECT_EQ(Agencies(route["hops"]), expected_path);
  std::vector<std::string> links;
  for (const auto& hop : route["hops"]) links.push_back(hop["link"]);
  EXPECT_EQ(links, (std::vector<std::string>{"", "parent", "parent", "parent", "child", "child"}));
  EXPECT_EQ(route["hops"][5]["name"], "UBND phường Hoàn Kiếm");

  const std::string content = "%PDF-1.7 Công văn gửi phường Hoàn Kiếm về hợp tác du lịch";
  const std::string id = SendSigned(cluster, "honggai", {kHoanKiem}, "hop-tac-du-lich", content);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor([&] { return AllArrived(Track(cluster, "clerk-honggai", id), 1); }, 60))
      << cluster.Congvan("clerk-honggai", {"track", id}).out << cluster.Log(kHaLong) << cluster.Log(kRoot);

  // The recipient sees the path the document took, hop by hop, and it is the
  // one `route` announced; every relay signed its hop.
  nlohmann::json fetched = Json(cluster.Congvan("clerk-hoankiem", {"fetch", id, "--out", cluster.File("in"), "--json"}));
  EXPECT_EQ(ReadTestFile(cluster.File("in/hop-tac-du-lich.pdf")), content);
  EXPECT_EQ(Agencies(fetched["trace"]), expected_path);
  for (size_t i = 0; i < fetched["trace"].size(); ++i) {
    const bool relay = i > 0 && i + 1 < fetched["trace"].size();
    EXPECT_EQ(fetched["trace"][i]["signed"], relay) << "hop " << i;
  }
  // The sender sees the same path, from the recipient's signed receipt.
  nlohmann::json sender_view = Track(cluster, "clerk-honggai", id);
  EXPECT_EQ(Agencies(sender_view["recipients"][0]["path"]), expected_path);
  EXPECT_THAT(cluster.Congvan("clerk-honggai", {"track", id}).out,
              HasSubstr("path to " + std::string(kHoanKiem) + ": " + kHongGai + " -> " + kHaLong));
  // The answer travels the same way back.
  ASSERT_EQ(cluster.Congvan("clerk-hoankiem", {"set-status", id, "--code", "03"}).exit_code, 0);
  EXPECT_TRUE(WaitFor([&] {
    auto codes = Codes(Track(cluster, "clerk-honggai", id))[kHoanKiem];
    return std::find(codes.begin(), codes.end(), "03") != codes.end();
  }, 60));
  // No relay keeps a copy in its inbox.
  EXPECT_EQ(Json(cluster.Congvan("clerk-halong", {"inbox", "--json"})).size(), 0u);
  EXPECT_EQ(Json(cluster.Congvan("clerk-h29", {"inbox", "--json"})).size(), 0u);
}

TEST(Routing, AMinistryReachesEveryCommuneOfAProvinceWithOneSend) {
  Cluster cluster;
  const std::vector<std::string> communes = {kHongGai, kBaiChay, kQuanLan, kMinhChau};
  for (const char* agency : {kMinistry, kRoot, kQuangNinh, kHaLong, kVanDon}) cluster.Start(agency);
  for (const std::string& commune : communes) cluster.Start(commune);

  const std::string id = SendSigned(cluster, "g12", communes, "huong-dan-cai-cach", "%PDF-1.7 Hướng dẫn cải cách");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor([&] { return AllArrived(Track(cluster, "clerk-g12", id), communes.size()); }, 60))
      << cluster.Congvan("clerk-g12", {"track", id}).out;

  // Every commune holds exactly one copy; the sender holds every receipt.
  const std::map<std::string, std::string> clerks = {{kHongGai, "clerk-honggai"},
                                                     {kBaiChay, "clerk-baichay"},
                                                     {kQuanLan, "clerk-quanlan"},
                                                     {kMinhChau, "clerk-minhchau"}};
  for (const auto& [commune, clerk] : clerks) {
    nlohmann::json inbox = Json(cluster.Congvan(clerk, {"inbox", "--json"}));
    ASSERT_EQ(inbox.size(), 1u) << commune;
    EXPECT_EQ(inbox[0]["message_id"], id);
    nlohmann::json fetched = Json(cluster.Congvan(clerk, {"fetch", id, "--out", cluster.File(commune), "--json"}));
    nlohmann::json route = Json(cluster.Congvan("operator-g12", {"route", commune, "--json"}));
    EXPECT_EQ(Agencies(fetched["trace"]), Agencies(route["hops"])) << commune;
    EXPECT_EQ(fetched["trace"].size(), 5u) << commune;  // G12, the axis, the province, the district, the commune
  }
  // The sender sees each recipient's path, from its signed receipt.
  nlohmann::json track = Track(cluster, "clerk-g12", id);
  for (const auto& recipient : track["recipients"]) {
    nlohmann::json route = Json(cluster.Congvan("operator-g12", {"route", recipient["agency"], "--json"}));
    EXPECT_EQ(Agencies(recipient["path"]), Agencies(route["hops"])) << recipient["agency"];
  }
  auto codes = Codes(Track(cluster, "clerk-g12", id));
  ASSERT_EQ(codes.size(), communes.size());
  for (const auto& [commune, list] : codes) EXPECT_EQ(list, std::vector<std::string>{"01"}) << commune;
}

// Shortens a node's retry policy in its node.toml (before it starts).
void SetRetry(const Cluster& cluster, const std::string& agency, const std::string& retry_table) {
  const std::string path = cluster.NodeConfig(agency);
  std::string text = ReadTestFile(path);
  const size_t at = text.find("[retry]");
  if (at != std::string::npos) {
    const size_t end = text.find("\n[", at + 1);
    text.erase(at, end == std::string::npos ? std::string::npos : end + 1 - at);
  }
  WriteTestFile(path, text + "\n[retry]\n" + retry_table);
}

TEST(Routing, ARelayKilledMidRunLosesNothingAndDuplicatesNothing) {
  Cluster cluster;
  for (const char* agency : {kHongGai, kHaLong, kQuangNinh, kRoot, kHaNoi, kHoanKiem, kCuaNam}) {
    SetRetry(cluster, agency, "initial_backoff = \"100ms\"\nmax_backoff = \"500ms\"\n");
    cluster.Start(agency);
  }
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) ^ (i >> 9));
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    if (i == 4) cluster.Kill(kQuangNinh);  // the province's node, in the middle of every path
    if (i == 8) cluster.Start(kQuangNinh);
    ids.push_back(SendSigned(cluster, "honggai", {kHoanKiem, kCuaNam}, "doc-" + std::to_string(i),
                             "%PDF-1.7 " + std::to_string(i) + big));
    ASSERT_FALSE(ids.back().empty());
    if (i == 2) {
      // Kill the relay while it carries documents, then bring it back.
      cluster.Kill(kQuangNinh);
      cluster.Start(kQuangNinh);
    }
  }
  for (const std::string& id : ids) {
    ASSERT_TRUE(WaitFor([&] { return AllArrived(Track(cluster, "clerk-honggai", id), 2); }, 90))
        << id << cluster.Congvan("clerk-honggai", {"track", id}).out << cluster.Log(kQuangNinh);
  }
  for (const std::string clerk : {"clerk-hoankiem", "clerk-cuanam"}) {
    nlohmann::json inbox = Json(cluster.Congvan(clerk, {"inbox", "--json"}));
    std::multiset<std::string> got;
    for (const auto& entry : inbox) got.insert(entry["message_id"].get<std::string>());
    EXPECT_EQ(got, std::multiset<std::string>(ids.begin(), ids.end())) << clerk;
  }
  // Each receipt reached the sender once.
  for (const std::string& id : ids) {
    for (const auto& [agency, list] : Codes(Track(cluster, "clerk-honggai", id))) {
      EXPECT_EQ(list, std::vector<std::string>{"01"}) << id << " " << agency;
    }
  }
}

TEST(Routing, ARelayDownPastTheDeadlineShowsFailedThenDeliversWhenItReturns) {
  Cluster cluster;
  SetRetry(cluster, kHongGai,
           "initial_backoff = \"100ms\"\nmax_backoff = \"300ms\"\ndelivery_deadline = \"2s\"\n"
           "probe_interval = \"500ms\"\n");
  cluster.Start(kHongGai);
  cluster.Start(kBaiChay);  // Hạ Long, the relay between them, is down

  const std::string id = SendSigned(cluster, "honggai", {kBaiChay}, "bao-cao-nhanh", "%PDF-1.7 Báo cáo nhanh");
  ASSERT_FALSE(id.empty());
  nlohmann::json failed;
  ASSERT_TRUE(WaitFor([&] {
    failed = Track(cluster, "clerk-honggai", id);
    return failed["recipients"][0]["state"] == "failed";
  }, 30)) << failed.dump();
  const std::string reason = failed["recipients"][0]["failure"];
  EXPECT_THAT(reason, HasSubstr(kHaLong));
  EXPECT_THAT(reason, HasSubstr("deadline"));
  RunResult text = cluster.Congvan("clerk-honggai", {"track", id});
  EXPECT_THAT(text.out, HasSubstr("failed"));

  cluster.Start(kHaLong);
  ASSERT_TRUE(WaitFor([&] { return AllArrived(Track(cluster, "clerk-honggai", id), 1); }, 30))
      << cluster.Congvan("clerk-honggai", {"track", id}).out << cluster.Log(kHongGai);
  EXPECT_EQ(Json(cluster.Congvan("clerk-baichay", {"inbox", "--json"})).size(), 1u);
}

TEST(Routing, ARelayThatGivesUpTellsTheSenderAndDeliversWhenTheHopReturns) {
  Cluster cluster;
  // Hạ Long takes the document but cannot reach Bãi Cháy before its deadline.
  SetRetry(cluster, kHaLong,
           "initial_backoff = \"100ms\"\nmax_backoff = \"300ms\"\ndelivery_deadline = \"2s\"\n"
           "probe_interval = \"500ms\"\n");
  cluster.Start(kHongGai);
  cluster.Start(kHaLong);
  const std::string id = SendSigned(cluster, "honggai", {kBaiChay}, "thong-bao", "%PDF-1.7 Thông báo");
  ASSERT_FALSE(id.empty());
  nlohmann::json track;
  ASSERT_TRUE(WaitFor([&] {
    track = Track(cluster, "clerk-honggai", id);
    return track["recipients"][0]["state"] == "failed";
  }, 30)) << track.dump() << cluster.Log(kHaLong);
  // The relay's sealed report reached the sender: who gave up, on what hop.
  ASSERT_EQ(track["reports"].size(), 1u);
  const std::string reason = track["recipients"][0]["failure"];
  EXPECT_THAT(reason, HasSubstr("relay " + std::string(kHaLong)));
  EXPECT_THAT(reason, HasSubstr(kBaiChay));
  EXPECT_THAT(cluster.Congvan("clerk-honggai", {"track", id}).out, HasSubstr("reported at"));

  cluster.Start(kBaiChay);
  ASSERT_TRUE(WaitFor([&] { return AllArrived(Track(cluster, "clerk-honggai", id), 1); }, 30))
      << Track(cluster, "clerk-honggai", id).dump() << cluster.Log(kHaLong);
  EXPECT_EQ(Json(cluster.Congvan("clerk-baichay", {"inbox", "--json"})).size(), 1u);
}

// The port of `key` in a node.toml's [listen] table ("127.0.0.1:PORT").
int ListenPort(const Cluster& cluster, const std::string& agency, const std::string& key) {
  const std::string text = ReadTestFile(cluster.NodeConfig(agency));
  const size_t at = text.find("\n" + key + " = \"127.0.0.1:", text.find("[listen]"));
  return at == std::string::npos ? -1 : std::stoi(text.substr(at + key.size() + 15));
}

TEST(Routing, AHopThatHangsDoesNotHoldUpTheOthers) {
  Cluster cluster;
  // Hồng Gai's peers port accepts connections and never answers: the
  // district's delivery to it hangs until its call deadline.
  const int port = ListenPort(cluster, kHongGai, "peers");
  ASSERT_GT(port, 0);
  const int black_hole = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(black_hole, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(black_hole, 16), 0);
  cluster.Start(kHaLong);
  cluster.Start(kBaiChay);

  const std::string stuck = SendSigned(cluster, "halong", {kHongGai}, "gui-hong-gai", "%PDF-1.7 Gửi Hồng Gai");
  const std::string other = SendSigned(cluster, "halong", {kBaiChay}, "gui-bai-chay", "%PDF-1.7 Gửi Bãi Cháy");
  ASSERT_TRUE(WaitFor([&] { return AllArrived(Track(cluster, "clerk-halong", other), 1); }, 20))
      << Track(cluster, "clerk-halong", other).dump();
  EXPECT_EQ(Track(cluster, "clerk-halong", stuck)["recipients"][0]["state"], "queued");
  close(black_hole);
}

TEST(Routing, RetryQueuesAFailedDeliveryAgainAtOnce) {
  Cluster cluster;
  // Probes so rare that only `congvan retry` can bring the delivery back.
  SetRetry(cluster, kHongGai,
           "initial_backoff = \"100ms\"\nmax_backoff = \"300ms\"\ndelivery_deadline = \"2s\"\n"
           "probe_interval = \"1h\"\n");
  cluster.Start(kHongGai);
  const std::string id = SendSigned(cluster, "honggai", {kHaLong}, "de-nghi", "%PDF-1.7 Đề nghị");
  ASSERT_TRUE(WaitFor([&] { return Track(cluster, "clerk-honggai", id)["recipients"][0]["state"] == "failed"; }, 30));

  // Nothing failed yet for another message; an unknown one is not ours.
  RunResult unknown = cluster.Congvan("clerk-honggai", {"retry", "01890000-0000-7000-8000-000000000000"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("no document"));

  cluster.Start(kHaLong);
  nlohmann::json retried = Json(cluster.Congvan("clerk-honggai", {"retry", id, "--json"}));
  EXPECT_EQ(retried["peers"], nlohmann::json::array({kHaLong}));
  ASSERT_TRUE(WaitFor([&] { return AllArrived(Track(cluster, "clerk-honggai", id), 1); }, 30));
  RunResult again = cluster.Congvan("clerk-honggai", {"retry", id});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("nothing to retry"));
}

}  // namespace
}  // namespace congvan::node
