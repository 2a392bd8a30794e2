// A hop that answers a delivery with a receipt that is not the delivery's
// (tests/SECURITY.md, "a receipt in a Deliver response that does not match
// the delivery"): the sender refuses it, keeps the entry queued and delivers
// again, until a receipt that matches comes back. The sender is a real node;
// its parent is played by a NodeService server on the parent's peers
// address, with the parent's TLS identity and seal from `pki init`.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "absl/synchronization/mutex.h"
#include "congvan/config/node_config.h"
#include "congvan/node/documents.h"
#include "congvan/node/tls.h"
#include "congvan/signer/cms.h"
#include "congvan/v1/node.grpc.pb.h"
#include "testing/cluster.h"
#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::RunResult;
using ::congvan::testing::WaitFor;
using ::congvan::testing::WriteTestFile;

constexpr char kHongGai[] = "000.01.01.H49";  // the sender, a real node
constexpr char kHaLong[] = "000.00.01.H49";   // its parent and the recipient, played by the test
constexpr char kBaiChay[] = "000.02.01.H49";  // an agency the delivery does not serve

// An agency's seal as `pki init` made it.
struct AgencySeal {
  std::unique_ptr<signer::KeyBackend> key;
  std::vector<signer::Certificate> certs;
};
AgencySeal LoadSeal(const Cluster& cluster, const std::string& agency) {
  const std::string dir = cluster.dir() + "/agencies/" + agency;
  auto key = signer::LoadKeyFile(dir + "/seal.key");
  auto certs = signer::LoadCertificates(dir + "/seal.pem");
  EXPECT_OK(key);
  EXPECT_OK(certs);
  AgencySeal seal;
  if (key.ok()) seal.key = std::move(key).value();
  if (certs.ok()) seal.certs = std::move(certs).value();
  return seal;
}

// How the hop answers the n-th delivery it takes.
enum class Reply { kOtherDocument, kOtherAgency, kOtherHeader, kStatusNotReceipt, kRight };

// Hạ Long's NodeService: takes every Deliver stream to its end and answers
// with the receipt the script says, sealed by `sealer`.
class ScriptedHop final : public v1::NodeService::Service {
 public:
  ScriptedHop(const Cluster& cluster, std::vector<Reply> script) : script_(std::move(script)) {
    for (const char* agency : {kHaLong, kBaiChay}) seals_[agency] = LoadSeal(cluster, agency);
  }

  grpc::Status Deliver(grpc::ServerContext*, grpc::ServerReader<v1::DeliverRequest>* reader,
                       v1::DeliverResponse* response) override {
    v1::DeliverRequest request;
    if (!reader->Read(&request) || !request.has_envelope()) return {grpc::StatusCode::INVALID_ARGUMENT, "envelope"};
    const v1::Envelope envelope = request.envelope();
    while (reader->Read(&request)) {
    }
    v1::DocumentHeader header;
    header.ParseFromString(envelope.document().body());
    size_t n;
    {
      absl::MutexLock lock(&mu_);
      n = delivered_.size();
      delivered_.push_back(header.message_id());
    }
    const Reply answer = n < script_.size() ? script_[n] : Reply::kRight;
    v1::ReceiptBody body;
    body.set_message_id(answer == Reply::kOtherDocument ? "01900000-0000-7000-8000-000000000000"
                                                         : header.message_id());
    body.set_header_sha256(answer == Reply::kOtherHeader ? std::string(32, 'h')
                                                          : signer::Sha256(envelope.document().body()));
    const std::string sealer = answer == Reply::kOtherAgency ? kBaiChay : kHaLong;
    body.set_recipient(sealer);
    body.set_code(v1::STATUS_CODE_ARRIVED);
    body.set_time(FormatRfc3339(absl::Now()));
    std::string bytes = body.SerializeAsString();
    v1::MessageKind kind = v1::MESSAGE_KIND_RECEIPT;
    if (answer == Reply::kStatusNotReceipt) {
      // A sealed status 03 of the right document, in the place of its receipt.
      v1::StatusBody status;
      status.set_message_id(header.message_id());
      status.set_header_sha256(signer::Sha256(envelope.document().body()));
      status.set_agency(kHaLong);
      status.set_code(v1::STATUS_CODE_ACCEPTED);
      status.set_time(body.time());
      bytes = status.SerializeAsString();
      kind = v1::MESSAGE_KIND_STATUS;
    }
    const AgencySeal& seal = seals_.at(sealer);
    auto sealed = Seal(kind, bytes, {seal.key.get(), seal.certs.front(), {seal.certs.begin() + 1, seal.certs.end()}},
                       absl::Now());
    if (!sealed.ok()) return {grpc::StatusCode::INTERNAL, std::string(sealed.status().message())};
    *response->add_receipts() = *std::move(sealed);
    return grpc::Status::OK;
  }

  std::vector<std::string> delivered() const {
    absl::MutexLock lock(&mu_);
    return delivered_;
  }

 private:
  const std::vector<Reply> script_;
  std::map<std::string, AgencySeal> seals_;
  mutable absl::Mutex mu_;
  std::vector<std::string> delivered_ ABSL_GUARDED_BY(mu_);
};

// The hop's server on Hạ Long's peers address, with Hạ Long's TLS identity.
std::unique_ptr<grpc::Server> Serve(const Cluster& cluster, grpc::Service* service) {
  auto config = config::LoadNodeConfig(cluster.NodeConfig(kHaLong));
  EXPECT_OK(config);
  const std::string dir = cluster.dir() + "/agencies/" + kHaLong;
  auto credentials = MakeServerCredentials({dir + "/tls.pem", dir + "/tls.key", {cluster.Root()}});
  EXPECT_OK(credentials);
  if (!config.ok() || !credentials.ok()) return nullptr;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config->listen.peers.ToString(), *credentials);
  builder.RegisterService(service);
  return builder.BuildAndStart();
}

TEST(DeliveryReceipt, AReceiptThatDoesNotMatchTheDeliveryIsRefusedAndTheDocumentDeliveredAgain) {
  Cluster cluster;
  // Retries come quickly, so that four attempts take a second or two.
  const std::string config = cluster.NodeConfig(kHongGai);
  WriteTestFile(config, ReadTestFile(config) + "\n[retry]\ninitial_backoff = \"100ms\"\nmax_backoff = \"200ms\"\n");
  ScriptedHop hop(cluster, {Reply::kOtherDocument, Reply::kOtherAgency, Reply::kOtherHeader,
                            Reply::kStatusNotReceipt, Reply::kRight});
  std::unique_ptr<grpc::Server> server = Serve(cluster, &hop);
  ASSERT_NE(server, nullptr);
  cluster.Start(kHongGai);

  const std::string file = cluster.File("bao-cao.pdf");
  WriteTestFile(file, "%PDF-1.7 báo cáo gửi thành phố");
  const std::string leader = cluster.Person("leader-honggai");
  ASSERT_EQ(cluster.Congvan("", {"sign", "--cert", leader + "/sign.pem", "--token-config", leader + "/token.toml",
                                 "--in", file, "--out", file + ".p7s"})
                .exit_code,
            0);
  RunResult sent = cluster.Congvan("clerk-honggai", {"send", "--to", kHaLong, "--subject", "Về việc báo cáo",
                                                     "--type", "Báo cáo", "--notation", "7/BC-UBND", "--file", file,
                                                     "--leader-sig", file + ".p7s", "--json"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  const std::string id = nlohmann::json::parse(sent.out).value("message_id", "");

  // Four wrong receipts, each refused and the document sent again; the
  // fifth delivery's receipt is the one the sender keeps.
  ASSERT_TRUE(WaitFor([&] { return hop.delivered().size() >= 5; })) << cluster.Log(kHongGai);
  nlohmann::json track;
  ASSERT_TRUE(WaitFor([&] {
    RunResult r = cluster.Congvan("clerk-honggai", {"track", id, "--json"});
    if (r.exit_code != 0) return false;
    track = nlohmann::json::parse(r.out);
    return track["recipients"][0]["state"] == "delivered";
  })) << track.dump();
  for (const std::string& delivered : hop.delivered()) EXPECT_EQ(delivered, id);
  ASSERT_EQ(track["recipients"].size(), 1u) << track.dump();
  const nlohmann::json& answers = track["recipients"][0]["answers"];
  ASSERT_EQ(answers.size(), 1u) << track.dump();  // none of the wrong ones was kept
  EXPECT_EQ(answers[0]["code"], "01");

  const std::string log = cluster.Log(kHongGai);
  size_t refused = 0;
  for (size_t at = log.find("returned a receipt that does not match the delivery"); at != std::string::npos;
       at = log.find("returned a receipt that does not match the delivery", at + 1)) {
    ++refused;
  }
  EXPECT_EQ(refused, 4u) << log;
  EXPECT_EQ(hop.delivered().size(), 5u);  // delivered: not sent again
  const std::string metrics = cluster.Metrics(kHongGai);
  EXPECT_EQ(::congvan::testing::MetricValue(
                metrics, "congvan_deliveries_total{peer=\"" + std::string(kHaLong) + "\",result=\"retry\"}"),
            4);
  server->Shutdown();
}

}  // namespace
}  // namespace congvan::node
