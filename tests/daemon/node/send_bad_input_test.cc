// A clerk's Send that must issue nothing, seen at a real node
// (tests/SECURITY.md, the Send rows and the part-file row): a leader whose
// certificate `congvan pki revoke` revoked while the node runs, a clerk who
// cancels mid-stream, and a part file that grows while `congvan send`
// streams it. In each case no register number is taken (the next document
// gets the next one), no outbox entry is made and no part data is left in
// the node's RocksDB.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "congvan/config/profile.h"
#include "congvan/node/tls.h"
#include "congvan/signer/cms.h"
#include "congvan/store/store.h"
#include "congvan/v1/audit.pb.h"
#include "congvan/v1/node.grpc.pb.h"
#include "rocksdb/db.h"
#include "testing/cluster.h"
#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::ClusterOptions;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::Replace;
using ::congvan::testing::RunResult;
using ::congvan::testing::TempDir;
using ::congvan::testing::WaitFor;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

constexpr char kProvince[] = "000.00.00.H49";  // the recipient; its node is not started
constexpr char kHaLong[] = "000.00.01.H49";    // the node under test

// Two leaders at Hạ Long: one to revoke, one whose documents show the next number.
constexpr char kTopology[] = R"(root = "000.00.00.H49"

[[agency]]
id = "000.00.00.H49"
name = "UBND tỉnh Quảng Ninh"

[[agency]]
id = "000.00.01.H49"
name = "UBND thành phố Hạ Long"

[[person]]
login = "leader-hl"
agency = "000.00.01.H49"
name = "Vũ Văn Diện"
position = "Chủ tịch"
roles = ["leader"]

[[person]]
login = "leader-hl2"
agency = "000.00.01.H49"
name = "Nguyễn Thị Hạnh"
position = "Phó Chủ tịch"
roles = ["leader"]

[[person]]
login = "clerk-hl"
agency = "000.00.01.H49"
name = "Đặng Thu Trang"
position = "Văn thư"
roles = ["clerk"]

[[person]]
login = "clerk-qn"
agency = "000.00.00.H49"
name = "Lê Văn Toàn"
position = "Văn thư"
roles = ["clerk"]
)";

class NodeSendBadInput : public ::testing::Test {
 protected:
  NodeSendBadInput() : cluster_(Options(topology_dir_)) {}

  static ClusterOptions Options(const TempDir& dir) {
    WriteTestFile(dir.File("topology.toml"), kTopology);
    ClusterOptions options;
    options.topology = dir.File("topology.toml");
    return options;
  }

  // Writes `content` to NAME.pdf and `leader`'s signature over it to NAME.pdf.p7s.
  std::string Signed(const std::string& name, const std::string& content, const std::string& leader) {
    const std::string file = cluster_.File(name + ".pdf");
    WriteTestFile(file, content);
    const std::string dir = cluster_.Person(leader);
    RunResult signed_ = cluster_.Congvan("", {"sign", "--cert", dir + "/sign.pem", "--key", dir + "/sign.key", "--in",
                                              file, "--out", file + ".p7s"});
    EXPECT_EQ(signed_.exit_code, 0) << signed_.err;
    return file;
  }

  RunResult Send(const std::string& file, const std::string& profile = "") {
    std::vector<std::string> args = {"send", "--to", kProvince, "--subject", "Về việc thử gửi", "--type",
                                     "Công văn", "--notation", "9/UBND", "--file", file, "--leader-sig",
                                     file + ".p7s", "--json"};
    if (!profile.empty()) args.insert(args.begin() + 1, {"--profile", profile});
    return cluster_.Congvan(profile.empty() ? "clerk-hl" : "", args);
  }

  // The register number the node gave a document sent with `leader`'s signature.
  uint64_t SendGood(const std::string& name, const std::string& leader) {
    RunResult sent = Send(Signed(name, "%PDF-1.7 " + name, leader));
    EXPECT_EQ(sent.exit_code, 0) << sent.err;
    return sent.exit_code == 0 ? nlohmann::json::parse(sent.out).value("number", 0u) : 0;
  }

  std::shared_ptr<grpc::Channel> ClerkChannel(const std::string& login = "clerk-hl") {
    auto profile = config::LoadProfile(cluster_.Profile(login));
    EXPECT_OK(profile);
    auto credentials =
        MakeChannelCredentials({profile->tls.cert_file, profile->tls.key_file, profile->trust.anchor_files});
    EXPECT_OK(credentials);
    return grpc::CreateChannel(profile->node.ToString(), *credentials);
  }

  std::string DataDir() const { return cluster_.dir() + "/nodes/" + kHaLong + "/data"; }

  // The part data in the stopped node's database, read as it is on disk
  // (Store::Open would collect what an upload left behind, and hide it):
  // pending-upload markers and chunks.
  std::pair<int, int> PartKeys() const {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), DataDir(), &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    const rocksdb::Status opened = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), DataDir(), descriptors,
                                                                &handles, &raw);
    EXPECT_TRUE(opened.ok()) << opened.ToString();
    if (!opened.ok()) return {-1, -1};
    std::unique_ptr<rocksdb::DB> db(raw);
    int pending = 0, chunks = 0;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] != "parts") continue;
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        pending += it->key().starts_with("u") ? 1 : 0;
        chunks += it->key().starts_with("c") ? 1 : 0;
      }
    }
    for (rocksdb::ColumnFamilyHandle* h : handles) db->DestroyColumnFamilyHandle(h);
    return {pending, chunks};
  }

  // The stopped node's outbox and every event of its audit log.
  struct Stored {
    store::OutboxCounts outbox;
    std::vector<v1::AuditEvent> events;
  };
  Stored Open() const {
    Stored stored;
    auto store = store::Store::Open({.path = DataDir()});
    EXPECT_OK(store);
    if (!store.ok()) return stored;
    while ((*store)->IntegrateLog().value_or(0) > 0) {
    }
    stored.outbox = (*store)->CountOutbox().value_or(store::OutboxCounts{});
    const uint64_t size = (*store)->LogSize();
    for (uint64_t i = 0; i < size; ++i) {
      auto proof = (*store)->ProveInclusion(i, size);
      EXPECT_OK(proof);
      if (proof.ok()) stored.events.emplace_back().ParseFromString(proof->event());
    }
    return stored;
  }

  TempDir topology_dir_;
  Cluster cluster_;
};

TEST_F(NodeSendBadInput, ALeaderRevokedWhileTheNodeRunsIsUnauthenticatedAndTakesNoNumber) {
  cluster_.Start(kHaLong);
  ASSERT_EQ(SendGood("truoc", "leader-hl"), 1u);
  RunResult revoked = cluster_.Congvan("", {"pki", "revoke", "--dir", cluster_.dir(), "--cert",
                                            cluster_.Person("leader-hl") + "/sign.pem", "--reason", "keyCompromise"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  // The node takes the new CRL without a restart (within a second).
  ASSERT_TRUE(WaitFor([&] { return cluster_.Log(kHaLong).find("CRLs reloaded") != std::string::npos; }))
      << cluster_.Log(kHaLong);

  // A signature made after the revocation, and the one made before it.
  RunResult after = Send(Signed("sau", "%PDF-1.7 sau khi thu hồi", "leader-hl"));
  EXPECT_EQ(after.exit_code, 1) << after.err;
  ASSERT_FALSE(after.out.empty()) << after.err;
  const nlohmann::json refused = nlohmann::json::parse(after.out);
  EXPECT_EQ(refused.value("code", ""), "UNAUTHENTICATED") << after.out;
  EXPECT_THAT(refused.value("error", ""), HasSubstr("revoked")) << after.out;
  EXPECT_THAT(refused.value("error", ""), HasSubstr("leader signature 1")) << after.out;
  RunResult before = Send(cluster_.File("truoc.pdf"));
  EXPECT_EQ(before.exit_code, 1) << before.out;
  EXPECT_THAT(before.out, HasSubstr("revoked"));

  // The other leader's document takes number 2: the refused took none.
  EXPECT_EQ(SendGood("leader-khac", "leader-hl2"), 2u);
  cluster_.Stop(kHaLong);
  const Stored stored = Open();
  EXPECT_EQ(stored.outbox.pending, 2u);  // the two documents issued, nothing for the refused
  int issued = 0, rejected = 0;
  for (const v1::AuditEvent& e : stored.events) {
    issued += e.kind() == v1::AUDIT_EVENT_ISSUED ? 1 : 0;
    if (e.kind() == v1::AUDIT_EVENT_REJECTED && e.detail().find("revoked") != std::string::npos) ++rejected;
  }
  EXPECT_EQ(issued, 2);
  EXPECT_EQ(rejected, 2);  // each refusal is in the audit log, with its reason
}

TEST_F(NodeSendBadInput, AClerkWhoCancelsMidStreamGetsNothingIssuedAndLeavesNoPartData) {
  cluster_.Start(kHaLong);
  // A 24 MiB main part, of which 12 MiB are streamed: past the upload's
  // first unsynced batch (4 MiB), so that part data was written.
  std::string main(24 << 20, '\0');
  for (size_t i = 0; i < main.size(); ++i) main[i] = static_cast<char>((i * 7919) >> 11);
  const std::string file = cluster_.File("lon.pdf");
  WriteTestFile(file, main);
  const std::string leader = cluster_.Person("leader-hl");
  ASSERT_EQ(cluster_.Congvan("", {"sign", "--cert", leader + "/sign.pem", "--key", leader + "/sign.key", "--in",
                                  file, "--out", file + ".p7s"})
                .exit_code,
            0);
  v1::SendRequest first;
  v1::SendHeader* header = first.mutable_header();
  header->add_recipients(kProvince);
  header->set_subject("Về việc gửi dở");
  header->set_document_type("Công văn");
  header->set_notation("10/UBND");
  v1::PartSpec* part = header->add_parts();
  part->set_name("lon.pdf");
  part->set_media_type("application/pdf");
  part->set_size(main.size());
  part->set_sha256(signer::Sha256(main));
  part->set_main(true);
  header->add_leader_signatures(ReadTestFile(file + ".p7s"));

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::SendResponse response;
  auto writer = v1::ClerkService::NewStub(ClerkChannel())->Send(&context, &response);
  ASSERT_TRUE(writer->Write(first));
  constexpr size_t kPiece = 256 << 10;
  for (size_t at = 0; at < (12u << 20); at += kPiece) {
    v1::SendRequest chunk;
    chunk.mutable_chunk()->set_part(0);
    chunk.mutable_chunk()->set_data(main.substr(at, kPiece));
    ASSERT_TRUE(writer->Write(chunk));
  }
  context.TryCancel();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);

  // The register's first number goes to the next document.
  EXPECT_EQ(SendGood("sau-khi-huy", "leader-hl"), 1u);
  cluster_.Stop(kHaLong);
  const auto [pending, chunks] = PartKeys();
  EXPECT_EQ(pending, 0);
  EXPECT_EQ(chunks, 1);  // the one chunk of the document issued after
  const Stored stored = Open();
  EXPECT_EQ(stored.outbox.pending, 1u);
  for (const v1::AuditEvent& e : stored.events) {
    // A cancelled call is no input the node refused: nothing says it was.
    EXPECT_NE(e.kind(), v1::AUDIT_EVENT_REJECTED) << e.detail();
  }
}

// A TCP relay between `congvan send` and the node that stops taking the
// client's bytes once `pause_at` of them passed, until Release(): the test
// changes the part file while the client is part-way through it. TLS goes
// through untouched.
class PausingRelay {
 public:
  PausingRelay(int target_port, uint64_t pause_at) : target_port_(target_port), pause_at_(pause_at) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t size = sizeof addr;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &size);
    port_ = ntohs(addr.sin_port);
    listen(listener_, 4);
    thread_ = std::thread([this] { Run(); });
  }
  ~PausingRelay() {
    stop_ = true;
    thread_.join();
    close(listener_);
  }

  int port() const { return port_; }
  uint64_t upstream_bytes() const { return upstream_; }
  void Release() { released_ = true; }

 private:
  void Run() {
    int client = -1, node = -1;
    char buffer[64 << 10];
    while (!stop_) {
      std::vector<pollfd> fds = {{listener_, POLLIN, 0}};
      const bool paused = !released_ && upstream_ >= pause_at_;
      if (client >= 0) fds.push_back({client, static_cast<short>(paused ? 0 : POLLIN), 0});
      if (node >= 0) fds.push_back({node, POLLIN, 0});
      if (poll(fds.data(), fds.size(), 50) <= 0) continue;
      if ((fds[0].revents & POLLIN) != 0 && client < 0) {
        client = accept(listener_, nullptr, nullptr);
        node = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(target_port_));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(node, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
        continue;
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const int from = fds[i].fd, to = from == client ? node : client;
        const ssize_t n = read(from, buffer, sizeof buffer);
        if (n <= 0) {
          close(client);
          close(node);
          client = node = -1;  // one connection per relay: the client's one channel
          break;
        }
        for (ssize_t done = 0; done < n;) {
          const ssize_t w = write(to, buffer + done, static_cast<size_t>(n - done));
          if (w <= 0) break;
          done += w;
        }
        if (from == client) upstream_ += static_cast<uint64_t>(n);
      }
    }
    if (client >= 0) close(client);
    if (node >= 0) close(node);
  }

  const int target_port_;
  const uint64_t pause_at_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<uint64_t> upstream_{0};
  std::atomic<bool> released_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(NodeSendBadInput, APartFileThatGrowsWhileItIsSentIsCancelledAndIssuesNothing) {
  cluster_.Start(kHaLong);
  // 48 MiB: far more than what TCP and gRPC buffer while the relay holds
  // the stream after its first 2 MiB, so the client is still reading the
  // file when it grows.
  const std::string file = Signed("thay-doi", std::string(48 << 20, 'x'), "leader-hl");
  auto profile = config::LoadProfile(cluster_.Profile("clerk-hl"));
  ASSERT_OK(profile);
  PausingRelay relay(profile->node.port, 2 << 20);
  const std::string relayed = cluster_.Person("clerk-hl") + "/relayed.toml";
  WriteTestFile(relayed, Replace(ReadTestFile(cluster_.Profile("clerk-hl")), profile->node.ToString(),
                                 "127.0.0.1:" + std::to_string(relay.port())));

  RunResult sent;
  std::thread send([&] { sent = Send(file, relayed); });
  ASSERT_TRUE(WaitFor([&] { return relay.upstream_bytes() >= (2u << 20); }));
  {
    std::ofstream grow(file, std::ios::app | std::ios::binary);
    grow << "thêm một trang sau khi ký";
  }
  relay.Release();
  send.join();
  EXPECT_EQ(sent.exit_code, 1) << sent.err;
  EXPECT_THAT(sent.out, HasSubstr("changed while it was being sent")) << sent.err;
  EXPECT_THAT(sent.out, HasSubstr("FAILED_PRECONDITION"));

  EXPECT_EQ(SendGood("sau-khi-doi", "leader-hl"), 1u);
  cluster_.Stop(kHaLong);
  const auto [pending, chunks] = PartKeys();
  EXPECT_EQ(pending, 0);
  EXPECT_EQ(chunks, 1);
  EXPECT_EQ(Open().outbox.pending, 1u);
}

}  // namespace
}  // namespace congvan::node
