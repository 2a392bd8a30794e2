// `congvan pki init` writes a node.toml for every agency and a profile.toml
// for every person of the topology; all of them load and pass the checks,
// and together they describe the topology's tree on 127.0.0.1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "congvan/config/node_config.h"
#include "congvan/config/profile.h"
#include "congvan/pki/layout.h"
#include "congvan/pki/topology.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace congvan::config {
namespace {

using ::congvan::testing::Bin;
using ::congvan::testing::RunResult;
using ::congvan::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kSample = std::string(CONGVAN_SOURCE_DIR) + "/deploy/topologies/sample.toml";

std::vector<std::string> Strings(const std::vector<ConfigProblem>& problems) {
  std::vector<std::string> out;
  for (const ConfigProblem& p : problems) out.push_back(p.ToString());
  return out;
}

class PkiInitNodeFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    run_ = new RunResult(::congvan::testing::Run(
        {Bin("congvan"), "pki", "init", "--topology", kSample, "--out", tmp_->File("pki"), "--key-type", "p256"}));
  }
  static void TearDownTestSuite() {
    delete run_;
    delete tmp_;
  }
  void SetUp() override {
    ASSERT_EQ(run_->exit_code, 0) << run_->err;
    ASSERT_OK_AND_ASSIGN(pki::Topology topology, pki::Topology::Load(kSample));
    topology_ = std::make_unique<pki::Topology>(std::move(topology));
  }

  static TempDir* tmp_;
  static RunResult* run_;
  pki::PkiLayout layout_{tmp_ != nullptr ? tmp_->File("pki") : ""};
  std::unique_ptr<pki::Topology> topology_;
};

TempDir* PkiInitNodeFiles::tmp_ = nullptr;
RunResult* PkiInitNodeFiles::run_ = nullptr;

TEST_F(PkiInitNodeFiles, EveryNodeConfigLoadsAndPassesTheChecks) {
  std::map<signer::AgencyId, NodeConfig> nodes;
  for (const pki::Agency& agency : topology_->agencies()) {
    SCOPED_TRACE(agency.id.str());
    const std::string path = layout_.NodeConfig(agency.id);
    EXPECT_THAT(Strings(CheckNodeConfig(path)), IsEmpty());
    ASSERT_OK_AND_ASSIGN(NodeConfig c, LoadNodeConfig(path));
    EXPECT_EQ(c.agency, agency.id);
    EXPECT_EQ(c.agency_name, agency.name);
    EXPECT_EQ(c.data_dir, layout_.NodeDataDir(agency.id));
    EXPECT_EQ(c.topology_file, layout_.Topology());
    EXPECT_EQ(c.seal.cert_file, layout_.SealCert(agency.id));
    EXPECT_EQ(c.seal.key.key_file, layout_.SealKey(agency.id));
    EXPECT_EQ(c.tls.cert_file, layout_.NodeTlsCert(agency.id));
    EXPECT_EQ(c.tls.key_file, layout_.NodeTlsKey(agency.id));
    EXPECT_EQ(c.trust.anchor_files, std::vector<std::string>{layout_.RootCert()});
    EXPECT_EQ(c.trust.crl_files, std::vector<std::string>{layout_.Crl()});
    EXPECT_EQ(c.listen.peers.host, "127.0.0.1");
    EXPECT_EQ(c.listen.people.host, "127.0.0.1");
    // The people of the agency, with the topology's roles.
    std::vector<std::pair<std::string, std::vector<Role>>> want_people, got_people;
    for (const pki::Person& p : topology_->people()) {
      if (p.agency != agency.id) continue;
      std::vector<Role> roles;
      for (pki::Role r : p.roles) roles.push_back(*ParseRole(pki::RoleName(r)));
      want_people.emplace_back(p.login, roles);
    }
    for (const PersonConfig& p : c.people) got_people.emplace_back(p.login, p.roles);
    EXPECT_EQ(got_people, want_people);
    EXPECT_THAT(c.peers.direct, IsEmpty());
    nodes.emplace(agency.id, std::move(c));
  }
  ASSERT_EQ(nodes.size(), topology_->agencies().size());

  // Three ports per agency from 27400: peers and people in pairs in
  // topology order, then the metrics ports (on the loopback) in the same
  // order. All different.
  std::set<int> ports;
  const int n = static_cast<int>(topology_->agencies().size());
  int i = 0;
  for (const pki::Agency& agency : topology_->agencies()) {
    const NodeConfig& c = nodes.at(agency.id);
    EXPECT_EQ(c.listen.peers.port, 27400 + 2 * i) << agency.id.str();
    EXPECT_EQ(c.listen.people.port, 27400 + 2 * i + 1) << agency.id.str();
    ASSERT_TRUE(c.listen.metrics.has_value()) << agency.id.str();
    EXPECT_EQ(*c.listen.metrics, (NetAddress{"127.0.0.1", 27400 + 2 * n + i})) << agency.id.str();
    ++i;
    ports.insert(c.listen.peers.port);
    ports.insert(c.listen.people.port);
    ports.insert(c.listen.metrics->port);
  }
  EXPECT_EQ(ports.size(), 3 * nodes.size());
  EXPECT_EQ(*ports.rbegin(), 27400 + 3 * n - 1);

  // Parent and children as in the topology's hierarchy, each at the other
  // node's listen.peers address.
  const signer::Hierarchy& hierarchy = topology_->hierarchy();
  for (const auto& [id, c] : nodes) {
    SCOPED_TRACE(id.str());
    std::optional<signer::AgencyId> parent = hierarchy.ParentOf(id);
    ASSERT_EQ(c.peers.parent.has_value(), parent.has_value());
    if (parent.has_value()) {
      EXPECT_EQ(c.peers.parent->agency, *parent);
      EXPECT_EQ(c.peers.parent->address, nodes.at(*parent).listen.peers);
    }
    std::set<signer::AgencyId> want_children, got_children;
    for (const pki::Agency& other : topology_->agencies()) {
      if (hierarchy.ParentOf(other.id) == id) want_children.insert(other.id);
    }
    for (const Peer& child : c.peers.children) {
      got_children.insert(child.agency);
      EXPECT_EQ(child.address, nodes.at(child.agency).listen.peers) << child.agency.str();
    }
    EXPECT_EQ(got_children, want_children);
    EXPECT_EQ(c.peers.children.size(), want_children.size());
  }
  EXPECT_FALSE(nodes.at(topology_->root()).peers.parent.has_value());
  EXPECT_EQ(nodes.at(*signer::AgencyId::Parse("000.00.00.H49")).peers.children.size(), 2u);
}

TEST_F(PkiInitNodeFiles, EveryProfileLoadsAndPointsAtItsAgencysNode) {
  for (const pki::Person& person : topology_->people()) {
    SCOPED_TRACE(person.login);
    const std::string path = layout_.Profile(person.login);
    EXPECT_THAT(Strings(CheckProfile(path)), IsEmpty());
    ASSERT_OK_AND_ASSIGN(Profile p, LoadProfile(path));
    EXPECT_EQ(p.login, person.login);
    EXPECT_EQ(p.agency, person.agency);
    ASSERT_OK_AND_ASSIGN(NodeConfig node, LoadNodeConfig(layout_.NodeConfig(person.agency)));
    EXPECT_EQ(p.node, node.listen.people);
    EXPECT_NE(node.FindPerson(person.login), nullptr);
    EXPECT_EQ(p.tls.cert_file, layout_.PersonTlsCert(person.login));
    EXPECT_EQ(p.tls.key_file, layout_.PersonTlsKey(person.login));
    EXPECT_EQ(p.trust.anchor_files, std::vector<std::string>{layout_.RootCert()});
  }
}

TEST(PkiInitBasePort, MovesEveryPortAndRefusesOnesThatDoNotFit) {
  TempDir tmp;
  RunResult moved = ::congvan::testing::Run({Bin("congvan"), "pki", "init", "--topology", kSample, "--out",
                                             tmp.File("pki"), "--key-type", "p256", "--base-port", "40000"});
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  ASSERT_OK_AND_ASSIGN(pki::Topology topology, pki::Topology::Load(kSample));
  const pki::PkiLayout layout(tmp.File("pki"));
  ASSERT_OK_AND_ASSIGN(NodeConfig root, LoadNodeConfig(layout.NodeConfig(topology.root())));
  EXPECT_EQ(root.listen.peers.ToString(), "127.0.0.1:40000");
  EXPECT_EQ(root.listen.people.ToString(), "127.0.0.1:40001");
  EXPECT_EQ(root.listen.metrics->ToString(), "127.0.0.1:40024");  // after the 2 x 12 ports of the others
  // The root is the time-stamping authority, on the first port after the
  // metrics ports; every node asks it for timestamps.
  ASSERT_TRUE(root.tsa.has_value());
  EXPECT_EQ(root.tsa->listen.ToString(), "127.0.0.1:40036");
  EXPECT_EQ(root.tsa->cert_file, layout.TsaCert(topology.root()));
  for (const pki::Agency& agency : topology.agencies()) {
    ASSERT_OK_AND_ASSIGN(NodeConfig node, LoadNodeConfig(layout.NodeConfig(agency.id)));
    EXPECT_EQ(node.audit.tsa_url, "https://127.0.0.1:40036/") << agency.id.str();
    if (agency.id != topology.root()) EXPECT_FALSE(node.tsa.has_value()) << agency.id.str();
  }
  ASSERT_OK_AND_ASSIGN(Profile clerk, LoadProfile(layout.Profile("clerk-a00")));
  EXPECT_EQ(clerk.node.ToString(), "127.0.0.1:40001");

  // 12 agencies need 48 ports: 65488 is the last base that fits.
  RunResult high = ::congvan::testing::Run({Bin("congvan"), "pki", "init", "--topology", kSample, "--out",
                                            tmp.File("high"), "--key-type", "p256", "--base-port", "65489"});
  EXPECT_EQ(high.exit_code, 1);
  EXPECT_THAT(high.err, HasSubstr("base port 65489 does not fit: 12 agencies need 48 ports"));
  EXPECT_THAT(high.err, HasSubstr("the highest base port here is 65488"));
  EXPECT_FALSE(std::filesystem::exists(tmp.File("high")));

  RunResult privileged = ::congvan::testing::Run(
      {Bin("congvan"), "pki", "init", "--topology", kSample, "--out", tmp.File("low"), "--base-port", "80"});
  EXPECT_EQ(privileged.exit_code, 2) << privileged.err;
}

}  // namespace
}  // namespace congvan::config
