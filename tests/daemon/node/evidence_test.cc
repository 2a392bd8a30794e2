// Issue #5 end to end, with real congvand processes, the root's
// time-stamping authority over HTTPS, and the openssl CLI as the
// independent verifier: a document delivered and answered, its evidence
// exported and verified offline; every byte of the container matters; the
// evidence outlives the certificates; and a log rewritten behind its node's
// back is caught by the parent and by an auditor.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include <grpcpp/grpcpp.h>

#include "congvan/audit/container.h"
#include "congvan/config/profile.h"
#include "congvan/node/tls.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "rocksdb/db.h"
#include "testing/cluster.h"
#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::MetricValue;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::Replace;
using ::congvan::testing::RunResult;
using ::congvan::testing::WaitFor;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

constexpr char kRoot[] = "000.00.00.A00";     // the time-stamping authority
constexpr char kHongGai[] = "000.01.01.H49";  // sends; its auditor exports
constexpr char kHaLong[] = "000.00.01.H49";   // receives, answers; Hồng Gai's parent, which witnesses its log

nlohmann::json Json(const RunResult& r) {
  return r.out.empty() ? nlohmann::json::object() : nlohmann::json::parse(r.out, nullptr, false);
}

// Sends a document signed on the leader's token from Hồng Gai to Hạ Long;
// returns its message id.
std::string SendSigned(Cluster& cluster, const std::string& name) {
  WriteTestFile(cluster.File(name), "%PDF-1.7 Công văn " + name + "\n" + std::string(5000, 'x'));
  const std::string leader = cluster.Person("leader-honggai");
  RunResult sign = cluster.Congvan("", {"sign", "--cert", leader + "/sign.pem", "--token-config",
                                        leader + "/token.toml", "--in", cluster.File(name), "--out",
                                        cluster.File(name + ".p7s")});
  EXPECT_EQ(sign.exit_code, 0) << sign.err;
  RunResult sent = cluster.Congvan("clerk-honggai", {"send", "--to", kHaLong, "--subject", "Báo cáo " + name, "--type",
                                                     "Báo cáo", "--notation", "15/BC-UBND", "--file",
                                                     cluster.File(name), "--leader-sig", cluster.File(name + ".p7s"),
                                                     "--json"});
  EXPECT_EQ(sent.exit_code, 0) << sent.err;
  return Json(sent).value("message_id", "");
}

bool HasAnswer(const Cluster& cluster, const std::string& id, const std::string& code) {
  nlohmann::json track = Json(cluster.Congvan("clerk-honggai", {"track", id, "--json"}));
  if (!track.contains("recipients") || track["recipients"].empty()) return false;
  for (const auto& answer : track["recipients"][0]["answers"]) {
    if (answer["code"] == code) return true;
  }
  return false;
}

// Exports until the container holds a timestamped tree head that covers
// every answer (the audit loop runs every second in a dev topology).
bool ExportTimestamped(const Cluster& cluster, const std::string& id, const std::string& out, size_t answers) {
  return WaitFor([&] {
    std::filesystem::remove(out);
    if (cluster.Congvan("auditor-honggai", {"export", id, "--out", out}).exit_code != 0) return false;
    auto reader = audit::ContainerReader::Open(out);
    if (!reader.ok() || !(*reader)->Has("log/tree-head.tst")) return false;
    size_t seals = 0;
    for (const std::string& name : (*reader)->names()) seals += name.rfind("answers/", 0) == 0 && name.ends_with(".p7s");
    return seals >= answers;
  }, 60);
}

RunResult Verify(const Cluster& cluster, const std::string& container, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"verify", container, "--trust", cluster.Root(), "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  return cluster.Congvan("", args);
}

// A copy of `container` with one byte of `entry` flipped.
void WriteTampered(const std::string& container, const std::string& entry, const std::string& out) {
  auto reader = audit::ContainerReader::Open(container);
  ASSERT_OK(reader);
  auto writer = audit::ContainerWriter::Create(out);
  ASSERT_OK(writer);
  for (const std::string& name : (*reader)->names()) {
    auto bytes = (*reader)->Read(name);
    ASSERT_OK(bytes);
    std::string data = *std::move(bytes);
    if (name == entry) {
      if (data.empty()) data = "x";
      data[data.size() / 2] ^= 0x01;
    }
    ASSERT_OK((*writer)->AddBytes(name, std::move(data)));
  }
  ASSERT_OK((*writer)->Close());
}

RunResult Openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  return ::congvan::testing::Run(args);
}

TEST(Evidence, ExportedAfterReceiptsAndStatusesItVerifiesOfflineAndWithOpenssl) {
  Cluster cluster;
  cluster.Start(kRoot);
  cluster.Start(kHaLong);
  cluster.Start(kHongGai);
  const std::string id = SendSigned(cluster, "bao-cao.pdf");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor([&] { return HasAnswer(cluster, id, "01"); }, 60));
  ASSERT_EQ(cluster.Congvan("clerk-halong", {"set-status", id, "--code", "03"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return HasAnswer(cluster, id, "03"); }, 60));

  const std::string zip = cluster.File("evidence.zip");
  ASSERT_TRUE(ExportTimestamped(cluster, id, zip, 2)) << cluster.Log(kHongGai);
  // The audit service is the auditor's alone; its answers check out.
  RunResult clerk = cluster.Congvan("clerk-honggai", {"export", id, "--out", cluster.File("clerk.zip")});
  EXPECT_EQ(clerk.exit_code, 1);
  EXPECT_THAT(clerk.out + clerk.err, HasSubstr("auditor"));
  RunResult prove = cluster.Congvan("auditor-honggai", {"audit", "prove", id});
  EXPECT_EQ(prove.exit_code, 0) << prove.out << prove.err;
  EXPECT_THAT(prove.out, HasSubstr("4 events of message " + id + ", each proven under this head"));
  RunResult verified = Verify(cluster, zip);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  nlohmann::json report = Json(verified);
  EXPECT_EQ(report.value("ok", false), true) << verified.out;
  EXPECT_EQ(report.value("message_id", ""), id);

  // The same pieces, unzipped, pass openssl's own checks.
  const std::string dir = cluster.File("unzipped");
  ASSERT_EQ(::congvan::testing::Run({"unzip", "-q", zip, "-d", dir}).exit_code, 0);
  auto cms = [&](const std::string& sig, const std::string& content) {
    return Openssl({"cms", "-verify", "-binary", "-inform", "DER", "-in", dir + "/" + sig, "-content",
                    dir + "/" + content, "-CAfile", cluster.Root(), "-out", "/dev/null"});
  };
  RunResult seal = cms("document/seal.p7s", "document/header.pb");
  EXPECT_EQ(seal.exit_code, 0) << seal.err;
  RunResult leader = cms("document/leader-1.p7s", "document/parts/bao-cao.pdf");
  EXPECT_EQ(leader.exit_code, 0) << leader.err;
  int answers = 0;
  for (const auto& file : std::filesystem::directory_iterator(dir + "/answers")) {
    const std::string name = file.path().filename().string();
    if (!name.ends_with(".p7s")) continue;
    const std::string stem = name.substr(0, name.size() - 4);
    RunResult answer = cms("answers/" + name, "answers/" + stem + ".pb");
    EXPECT_EQ(answer.exit_code, 0) << name << ": " << answer.err;
    ++answers;
  }
  EXPECT_EQ(answers, 2);  // the 01 receipt and the 03 status
  RunResult head = cms("log/tree-head.p7s", "log/tree-head.pb");
  EXPECT_EQ(head.exit_code, 0) << head.err;
  RunResult token = Openssl({"ts", "-verify", "-token_in", "-in", dir + "/log/tree-head.tst", "-data",
                             dir + "/log/tree-head.pb", "-CAfile", cluster.Root(), "-untrusted",
                             dir + "/certs/chain.pem"});
  EXPECT_EQ(token.exit_code, 0) << token.out << token.err;
  RunResult manifest = cms("META-INF/signature.p7s", "META-INF/ASiCManifest.xml");
  EXPECT_EQ(manifest.exit_code, 0) << manifest.err;

  // Changing any single byte of any file makes verify fail and name it.
  auto reader = audit::ContainerReader::Open(zip);
  ASSERT_OK(reader);
  std::vector<std::string> names = (*reader)->names();
  EXPECT_GT(names.size(), 12u);
  for (const std::string& name : names) {
    const std::string tampered = cluster.File("tampered.zip");
    WriteTampered(zip, name, tampered);
    RunResult r = Verify(cluster, tampered);
    EXPECT_EQ(r.exit_code, 1) << name << ": " << r.out;
    bool named = false;
    for (const auto& check : Json(r).value("checks", nlohmann::json::array())) {
      if (!check.value("ok", true) && check.value("file", "") == name) named = true;
    }
    EXPECT_TRUE(named) << "no failed check names " << name << ": " << r.out;
  }

  // Years later, every certificate expired: the timestamp still proves the
  // signatures were made while they were valid.
  RunResult later = Verify(cluster, zip, {"--at", "2046-01-01T00:00:00Z"});
  EXPECT_EQ(later.exit_code, 0) << later.out;
  RunResult openssl_later = Openssl({"cms", "-verify", "-binary", "-inform", "DER", "-in", dir + "/document/seal.p7s",
                                     "-content", dir + "/document/header.pb", "-CAfile", cluster.Root(), "-attime",
                                     "2340000000", "-out", "/dev/null"});
  EXPECT_NE(openssl_later.exit_code, 0) << "the seal certificate should have expired by 2044";

  // The leader's certificate revoked after the fact: a new export carries
  // the CRL with the revocation, and the evidence, older than it, holds.
  RunResult revoked = cluster.Congvan("", {"pki", "revoke", "--dir", cluster.dir(), "--cert",
                                           cluster.Person("leader-honggai") + "/sign.pem"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  const std::string after = cluster.File("after-revocation.zip");
  ASSERT_TRUE(WaitFor([&] {
    std::filesystem::remove(after);
    if (cluster.Congvan("auditor-honggai", {"export", id, "--out", after}).exit_code != 0) return false;
    auto r = audit::ContainerReader::Open(after);
    if (!r.ok()) return false;
    auto crls = (*r)->Read("certs/crls.pem");
    return crls.ok() && *crls == ReadTestFile(cluster.Crl());
  }, 60));
  RunResult still = Verify(cluster, after);
  EXPECT_EQ(still.exit_code, 0) << still.out;
  // ... while a check of the signature today, with that CRL, refuses it.
  RunResult today = Openssl({"cms", "-verify", "-binary", "-inform", "DER", "-in", dir + "/document/leader-1.p7s",
                             "-content", dir + "/document/parts/bao-cao.pdf", "-CAfile", cluster.Root(),
                             "-crl_check_all", "-CRLfile", cluster.Crl(), "-out", "/dev/null"});
  EXPECT_NE(today.exit_code, 0) << "the leader's certificate should be revoked now";
}

// Deletes event `index` from a stopped node's audit log, as someone with
// access to its database could.
void DeleteLogEvent(const std::string& db_path, uint64_t index) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db_path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), db_path, descriptors, &handles, &db).ok());
  std::string key = "e";
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>((index >> shift) & 0xff));
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "log") {
      std::string value;
      EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), handles[i], key, &value).ok()) << "no event " << index;
      EXPECT_TRUE(db->Delete(rocksdb::WriteOptions(), handles[i], key).ok());
    }
  }
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  delete db;
}

uint64_t TreeSize(const Cluster& cluster) {
  RunResult head = cluster.Congvan("auditor-honggai", {"audit", "tree-head", "--json"});
  return head.exit_code == 0 ? Json(head).value("tree_size", uint64_t{0}) : 0;
}

TEST(Evidence, ALogRewrittenBehindTheNodesBackIsCaughtByItsParentAndByAnAuditor) {
  Cluster cluster;
  cluster.Start(kHaLong);
  cluster.Start(kHongGai);
  const std::string first = SendSigned(cluster, "mot.pdf");
  ASSERT_TRUE(WaitFor([&] { return TreeSize(cluster) >= 1; }, 60));
  const uint64_t first_size = TreeSize(cluster);
  ASSERT_TRUE(WaitFor([&] { return HasAnswer(cluster, first, "01"); }, 60));
  // The parent has witnessed a head that covers the receipt.
  ASSERT_TRUE(WaitFor([&] {
    return MetricValue(cluster.Metrics(kHaLong), R"(congvan_audit_witness_total{role="parent",result="accepted"})") >=
               1 &&
           TreeSize(cluster) >= 3 &&
           MetricValue(cluster.Metrics(kHongGai), R"(congvan_audit_witness_total{role="child",result="sent"})") >= 1 &&
           MetricValue(cluster.Metrics(kHongGai), "congvan_audit_log_events") == TreeSize(cluster);
  }, 60)) << cluster.Log(kHongGai);
  const uint64_t old_size = TreeSize(cluster);
  RunResult before = cluster.Congvan("auditor-honggai",
                                     {"audit", "consistency", std::to_string(first_size), std::to_string(old_size)});
  EXPECT_EQ(before.exit_code, 0) << before.out << before.err;

  cluster.Stop(kHongGai);
  DeleteLogEvent(cluster.dir() + "/nodes/" + kHongGai + "/data", 0);
  cluster.Start(kHongGai);
  EXPECT_THAT(cluster.Log(kHongGai), HasSubstr("changed behind the node's back"));
  EXPECT_EQ(MetricValue(cluster.Metrics(kHongGai), "congvan_audit_log_damaged"), 1);

  // New events, a new head: the parent cannot be shown it extends the old one.
  const std::string second = SendSigned(cluster, "hai.pdf");
  ASSERT_TRUE(WaitFor([&] { return HasAnswer(cluster, second, "01"); }, 60));
  EXPECT_TRUE(WaitFor([&] {
    return MetricValue(cluster.Metrics(kHaLong), R"(congvan_audit_witness_total{role="parent",result="inconsistent"})") >=
           1;
  }, 60)) << cluster.Log(kHaLong);
  EXPECT_THAT(cluster.Log(kHaLong), HasSubstr("rewritten"));

  ASSERT_TRUE(WaitFor([&] { return TreeSize(cluster) > old_size; }, 30));
  const uint64_t new_size = TreeSize(cluster);
  RunResult after = cluster.Congvan("auditor-honggai",
                                    {"audit", "consistency", std::to_string(old_size), std::to_string(new_size)});
  EXPECT_EQ(after.exit_code, 1) << after.out << after.err;
  EXPECT_THAT(after.out + after.err, HasSubstr("rewritten"));
}

// The gRPC health of `service` at the node of `login`'s profile.
grpc::health::v1::HealthCheckResponse::ServingStatus Health(const Cluster& cluster, const std::string& login,
                                                             const std::string& service) {
  auto profile = config::LoadProfile(cluster.Profile(login));
  EXPECT_OK(profile);
  auto credentials = MakeChannelCredentials({profile->tls.cert_file, profile->tls.key_file, profile->trust.anchor_files});
  EXPECT_OK(credentials);
  auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(profile->node.ToString(), *credentials));
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = health->Check(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response.status();
}

TEST(Evidence, ATimeStampingAuthorityDownDelaysTheTokensNeverTheDocumentsAndRaisesAnAlarm) {
  Cluster cluster;
  const std::string config = cluster.NodeConfig(kHongGai);
  WriteTestFile(config, Replace(ReadTestFile(config), "[audit]\n", "[audit]\ntsa_alarm_after = \"2s\"\n"));
  cluster.Start(kHaLong);
  cluster.Start(kHongGai);  // the root, the authority, is down
  using Serving = grpc::health::v1::HealthCheckResponse;
  EXPECT_EQ(Health(cluster, "clerk-honggai", "congvan.v1.AuditService"), Serving::SERVING);

  const std::string id = SendSigned(cluster, "khong-cho.pdf");
  ASSERT_TRUE(WaitFor([&] { return HasAnswer(cluster, id, "01"); }, 60));  // documents flow
  ASSERT_TRUE(WaitFor([&] {
    return Health(cluster, "clerk-honggai", "congvan.v1.AuditService") == Serving::NOT_SERVING;
  }, 30)) << cluster.Log(kHongGai);
  EXPECT_THAT(cluster.Log(kHongGai), HasSubstr("ALARM"));
  EXPECT_GT(MetricValue(cluster.Metrics(kHongGai), "congvan_audit_timestamp_pending_seconds"), 2);
  EXPECT_GE(MetricValue(cluster.Metrics(kHongGai), R"(congvan_audit_timestamps_total{result="failed"})"), 1);
  EXPECT_EQ(Health(cluster, "clerk-honggai", ""), Serving::SERVING);  // the node itself serves on

  // The authority returns: the waiting heads get their tokens, the alarm ends.
  cluster.Start(kRoot);
  EXPECT_TRUE(WaitFor([&] {
    return Health(cluster, "clerk-honggai", "congvan.v1.AuditService") == Serving::SERVING;
  }, 60)) << cluster.Log(kHongGai);
  EXPECT_EQ(MetricValue(cluster.Metrics(kHongGai), "congvan_audit_timestamp_pending_seconds"), 0);
  EXPECT_TRUE(ExportTimestamped(cluster, id, cluster.File("late.zip"), 1));
  EXPECT_EQ(Verify(cluster, cluster.File("late.zip")).exit_code, 0);
}

}  // namespace
}  // namespace congvan::node
