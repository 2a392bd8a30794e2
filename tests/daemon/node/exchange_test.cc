// Two agencies exchange a document with legal evidence on both sides, with
// real congvand processes over mutual TLS on 127.0.0.1, certificates from
// `congvan pki init`, a leader's key on a SoftHSM2 token, and the openssl
// CLI as the independent verifier of the receipt.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "congvan/config/profile.h"
#include "congvan/node/tls.h"
#include "congvan/v1/node.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "testing/cluster.h"
#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::WaitFor;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::RunResult;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

constexpr char kHongGai[] = "000.01.01.H49";  // a commune (phường), its leader signs on a token
constexpr char kHaLong[] = "000.00.01.H49";   // its district-level city
constexpr char kBaiChay[] = "000.02.01.H49";  // another commune under Hạ Long

nlohmann::json Json(const RunResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

// The codes in `track --json`'s answers for the first recipient.
std::vector<std::string> AnswerCodes(const Cluster& cluster, const std::string& login, const std::string& id) {
  nlohmann::json track = Json(cluster.Congvan(login, {"track", id, "--json"}));
  std::vector<std::string> codes;
  if (track.contains("recipients") && !track["recipients"].empty()) {
    for (const auto& answer : track["recipients"][0]["answers"]) codes.push_back(answer["code"]);
  }
  return codes;
}

bool Has(const std::vector<std::string>& codes, const std::string& code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

// The signed answers of a tracked document, through the gRPC API as a
// document-management system would read them.
v1::TrackResponse TrackOverGrpc(const Cluster& cluster, const std::string& login, const std::string& id) {
  auto profile = config::LoadProfile(cluster.Profile(login));
  EXPECT_OK(profile);
  auto credentials = MakeChannelCredentials({profile->tls.cert_file, profile->tls.key_file, profile->trust.anchor_files});
  EXPECT_OK(credentials);
  auto stub = v1::ClerkService::NewStub(grpc::CreateChannel(profile->node.ToString(), *credentials));
  grpc::ClientContext context;
  v1::TrackRequest request;
  request.set_message_id(id);
  v1::TrackResponse response;
  grpc::Status status = stub->Track(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

TEST(Exchange, NodesAnswerTheStandardHealthCheck) {
  Cluster cluster;
  cluster.Start(kHaLong);
  auto profile = config::LoadProfile(cluster.Profile("clerk-halong"));
  ASSERT_OK(profile);
  auto credentials = MakeChannelCredentials({profile->tls.cert_file, profile->tls.key_file, profile->trust.anchor_files});
  ASSERT_OK(credentials);
  auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(profile->node.ToString(), *credentials));
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = health->Check(&context, grpc::health::v1::HealthCheckRequest(), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST(Exchange, CommuneToDistrictAndDistrictToCommuneWithSignedEvidence) {
  Cluster cluster;
  cluster.Start(kHongGai);
  cluster.Start(kHaLong);
  cluster.Start(kBaiChay);

  // 1. The commune's leader signs on the token; its clerk sends to the district.
  std::string main_pdf = "%PDF-1.7 Báo cáo tình hình tháng 11\n";
  for (int i = 0; i < 20000; ++i) main_pdf += static_cast<char>('A' + i % 26);
  const std::string annex(3 << 20, '\x7f');  // 3 MiB: several chunks
  WriteTestFile(cluster.File("bao-cao.pdf"), main_pdf);
  WriteTestFile(cluster.File("phu-luc.xlsx"), annex);
  const std::string leader = cluster.Person("leader-honggai");
  RunResult sign = cluster.Congvan("", {"sign", "--cert", leader + "/sign.pem", "--token-config",
                                        leader + "/token.toml", "--in", cluster.File("bao-cao.pdf"), "--out",
                                        cluster.File("bao-cao.pdf.p7s")});
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  nlohmann::json sent = Json(cluster.Congvan(
      "clerk-honggai", {"send", "--to", kHaLong, "--subject", "Báo cáo tình hình tháng 11", "--type", "Báo cáo",
                        "--notation", "15/BC-UBND", "--file", cluster.File("bao-cao.pdf"), "--attach",
                        cluster.File("phu-luc.xlsx"), "--leader-sig", cluster.File("bao-cao.pdf.p7s"), "--json"}));
  const std::string id = sent["message_id"];
  EXPECT_EQ(sent["number"], 1);

  ASSERT_TRUE(WaitFor([&] { return Has(AnswerCodes(cluster, "clerk-honggai", id), "01"); }))
      << cluster.Congvan("clerk-honggai", {"track", id}).out << cluster.Log(kHongGai);

  // 2. The district's inbox holds it; the fetched parts are the originals.
  nlohmann::json inbox = Json(cluster.Congvan("clerk-halong", {"inbox", "--json"}));
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0]["message_id"], id);
  EXPECT_EQ(inbox[0]["from"], kHongGai);
  RunResult fetch = cluster.Congvan("clerk-halong", {"fetch", id, "--out", cluster.File("fetched")});
  ASSERT_EQ(fetch.exit_code, 0) << fetch.err;
  EXPECT_EQ(ReadTestFile(cluster.File("fetched/bao-cao.pdf")), main_pdf);
  EXPECT_EQ(ReadTestFile(cluster.File("fetched/phu-luc.xlsx")), annex);

  // 3. The signed 01 receipt at the sender passes openssl cms -verify.
  v1::TrackResponse track = TrackOverGrpc(cluster, "clerk-honggai", id);
  ASSERT_EQ(track.recipients_size(), 1);
  ASSERT_GE(track.recipients(0).answers_size(), 1);
  const v1::SignedMessage& receipt = track.recipients(0).answers(0).signed_();
  EXPECT_EQ(receipt.kind(), v1::MESSAGE_KIND_RECEIPT);
  WriteTestFile(cluster.File("receipt.pb"), receipt.body());
  WriteTestFile(cluster.File("receipt.p7s"), receipt.seal_signature());
  RunResult openssl = ::congvan::testing::Run({"openssl", "cms", "-verify", "-binary", "-inform", "DER", "-content",
                                               cluster.File("receipt.pb"), "-in", cluster.File("receipt.p7s"),
                                               "-CAfile", cluster.Root(), "-out", "/dev/null"});
  EXPECT_EQ(openssl.exit_code, 0) << openssl.err;
  v1::ReceiptBody body;
  ASSERT_TRUE(body.ParseFromString(receipt.body()));
  EXPECT_EQ(body.recipient(), kHaLong);
  EXPECT_EQ(body.code(), v1::STATUS_CODE_ARRIVED);

  // 4. The district accepts (03): it comes back to the commune.
  ASSERT_EQ(cluster.Congvan("clerk-halong", {"set-status", id, "--code", "03"}).exit_code, 0);
  EXPECT_TRUE(WaitFor([&] { return Has(AnswerCodes(cluster, "clerk-honggai", id), "03"); }));

  // 5. The district sends down to another commune, which rejects (02).
  WriteTestFile(cluster.File("cong-van.pdf"), "%PDF-1.7 Công văn về việc phòng chống bão số 3");
  const std::string district_leader = cluster.Person("leader-halong");
  ASSERT_EQ(cluster.Congvan("", {"sign", "--cert", district_leader + "/sign.pem", "--key", district_leader + "/sign.key",
                                 "--in", cluster.File("cong-van.pdf"), "--out", cluster.File("cong-van.pdf.p7s")})
                .exit_code,
            0);
  nlohmann::json down = Json(cluster.Congvan(
      "clerk-halong", {"send", "--to", kBaiChay, "--subject", "Phòng chống bão số 3", "--type", "Công văn", "--notation",
                       "88/UBND-VP", "--file", cluster.File("cong-van.pdf"), "--leader-sig",
                       cluster.File("cong-van.pdf.p7s"), "--json"}));
  const std::string down_id = down["message_id"];
  EXPECT_EQ(down["number"], 1);  // the district's own register
  ASSERT_TRUE(WaitFor([&] { return Has(AnswerCodes(cluster, "clerk-halong", down_id), "01"); }));
  RunResult fetched = cluster.Congvan("clerk-baichay", {"fetch", down_id, "--out", cluster.File("down")});
  ASSERT_EQ(fetched.exit_code, 0) << fetched.err;
  EXPECT_EQ(ReadTestFile(cluster.File("down/cong-van.pdf")), "%PDF-1.7 Công văn về việc phòng chống bão số 3");
  ASSERT_EQ(cluster.Congvan("clerk-baichay", {"set-status", down_id, "--code", "02", "--reason", "Sai thẩm quyền"})
                .exit_code,
            0);
  ASSERT_TRUE(WaitFor([&] { return Has(AnswerCodes(cluster, "clerk-halong", down_id), "02"); }));
  nlohmann::json rejected = Json(cluster.Congvan("clerk-halong", {"track", down_id, "--json"}));
  EXPECT_EQ(rejected["recipients"][0]["answers"].back()["reason"], "Sai thẩm quyền");
}

// A clerk whose answer was lost sends again with the request id the first
// attempt printed: the node answers with the issue it made, and the
// recipient gets the document once.
TEST(Exchange, ASendRepeatedWithItsRequestIdIsIssuedAndDeliveredOnce) {
  Cluster cluster;
  cluster.Start(kHaLong);
  cluster.Start(kBaiChay);
  const std::string leader = cluster.Person("leader-halong");
  auto signed_file = [&](const std::string& name, const std::string& text) {
    WriteTestFile(cluster.File(name), text);
    EXPECT_EQ(cluster.Congvan("", {"sign", "--cert", leader + "/sign.pem", "--key", leader + "/sign.key", "--in",
                                   cluster.File(name), "--out", cluster.File(name + ".p7s")})
                  .exit_code,
              0);
  };
  signed_file("cv.pdf", "%PDF-1.7 Công văn về lịch tiếp công dân");
  signed_file("tb.pdf", "%PDF-1.7 Thông báo khác");
  auto send = [&](const std::string& file, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"send", "--to", kBaiChay, "--subject", "Lịch tiếp công dân", "--type",
                                     "Công văn", "--notation", "90/UBND-VP", "--date", "2026-12-01", "--file",
                                     cluster.File(file), "--leader-sig", cluster.File(file + ".p7s"), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return cluster.Congvan("clerk-halong", args);
  };

  nlohmann::json first = Json(send("cv.pdf", {"--request-id", "3f2a9c01-lost-answer"}));
  EXPECT_EQ(first["number"], 1);
  EXPECT_EQ(first["replayed"], false);
  nlohmann::json again = Json(send("cv.pdf", {"--request-id", "3f2a9c01-lost-answer"}));
  EXPECT_EQ(again["message_id"], first["message_id"]);
  EXPECT_EQ(again["number"], 1);
  EXPECT_EQ(again["replayed"], true);
  // The same request id for another document is refused.
  RunResult other = send("tb.pdf", {"--request-id", "3f2a9c01-lost-answer"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_THAT(other.out, HasSubstr("ALREADY_EXISTS"));
  EXPECT_THAT(other.out, HasSubstr("was already used for another document"));
  EXPECT_EQ(send("cv.pdf", {"--request-id", "có dấu"}).exit_code, 2);
  // Without --request-id every send is a new document.
  nlohmann::json next = Json(send("tb.pdf", {}));
  EXPECT_EQ(next["number"], 2);

  ASSERT_TRUE(WaitFor([&] { return Has(AnswerCodes(cluster, "clerk-halong", next["message_id"]), "01"); }));
  ASSERT_TRUE(WaitFor([&] { return Has(AnswerCodes(cluster, "clerk-halong", first["message_id"]), "01"); }));
  nlohmann::json inbox = Json(cluster.Congvan("clerk-baichay", {"inbox", "--json"}));
  std::vector<std::string> ids;
  for (const auto& entry : inbox) ids.push_back(entry["message_id"]);
  EXPECT_THAT(ids, ::testing::UnorderedElementsAre(first["message_id"].get<std::string>(),
                                                   next["message_id"].get<std::string>()));
  EXPECT_THAT(cluster.Metrics(kHaLong), HasSubstr("congvan_sends_replayed_total 1"));
}

// Hồng Gai and Bãi Cháy are both under Hạ Long: the city's node relays the
// document down, and the receipt and the status back up.
TEST(Exchange, ThroughARelayTheReceiptAndStatusesReachTheSender) {
  Cluster cluster;
  cluster.Start(kHongGai);
  cluster.Start(kHaLong);
  cluster.Start(kBaiChay);
  WriteTestFile(cluster.File("to-trinh.pdf"), "%PDF-1.7 Tờ trình liên phường");
  const std::string leader = cluster.Person("leader-honggai");
  ASSERT_EQ(cluster.Congvan("", {"sign", "--cert", leader + "/sign.pem", "--token-config", leader + "/token.toml",
                                 "--in", cluster.File("to-trinh.pdf"), "--out", cluster.File("to-trinh.pdf.p7s")})
                .exit_code,
            0);
  nlohmann::json sent = Json(cluster.Congvan(
      "clerk-honggai", {"send", "--to", kBaiChay, "--subject", "Tờ trình liên phường", "--type", "Tờ trình",
                        "--notation", "3/TTr-UBND", "--file", cluster.File("to-trinh.pdf"), "--leader-sig",
                        cluster.File("to-trinh.pdf.p7s"), "--json"}));
  const std::string id = sent["message_id"];
  ASSERT_TRUE(WaitFor([&] { return Has(AnswerCodes(cluster, "clerk-honggai", id), "01"); }))
      << cluster.Congvan("clerk-honggai", {"track", id}).out << cluster.Log(kHaLong);
  nlohmann::json track = Json(cluster.Congvan("clerk-honggai", {"track", id, "--json"}));
  EXPECT_EQ(track["recipients"][0]["agency"], kBaiChay);
  EXPECT_EQ(track["recipients"][0]["state"], "delivered");

  // The relay keeps no copy in its inbox; the recipient has exactly one.
  EXPECT_EQ(Json(cluster.Congvan("clerk-halong", {"inbox", "--json"})).size(), 0u);
  nlohmann::json inbox = Json(cluster.Congvan("clerk-baichay", {"inbox", "--json"}));
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0]["message_id"], id);

  ASSERT_EQ(cluster.Congvan("clerk-baichay", {"set-status", id, "--code", "04"}).exit_code, 0);
  EXPECT_TRUE(WaitFor([&] { return Has(AnswerCodes(cluster, "clerk-honggai", id), "04"); }));
}

}  // namespace
}  // namespace congvan::node
