// LoadNodeConfig: every key of node.toml, the defaults, relative paths, and
// one message per kind of mistake, naming the key.
#include "congvan/config/node_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ostream>
#include <string>
#include <vector>

#include "node_fixture.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"

namespace congvan::config {
namespace {

using ::congvan::testing::IsOk;
using ::congvan::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

signer::AgencyId Id(const char* text) { return *signer::AgencyId::Parse(text); }

TEST(NodeConfigLoad, ReadsEveryKeyAndResolvesPathsAgainstTheFilesDirectory) {
  NodeFixture fx;
  const std::string path = fx.Write(kFullNodeToml);
  EXPECT_THAT(CheckNodeConfig(path), IsEmpty());
  ASSERT_OK_AND_ASSIGN(NodeConfig c, LoadNodeConfig(path));

  EXPECT_EQ(c.source_file, path);
  EXPECT_EQ(c.agency, Id(kAgency));
  EXPECT_EQ(c.agency_name, "UBND tỉnh Quảng Ninh");
  EXPECT_EQ(c.data_dir, fx.File("data"));
  EXPECT_EQ(c.topology_file, fx.File("topology.toml"));
  EXPECT_EQ(c.listen.peers, (NetAddress{"0.0.0.0", 27406}));
  EXPECT_EQ(c.listen.people, (NetAddress{"127.0.0.1", 27407}));
  EXPECT_EQ(c.listen.metrics, (NetAddress{"127.0.0.1", 27408}));
  EXPECT_EQ(c.seal.cert_file, fx.File("seal.pem"));
  EXPECT_EQ(c.seal.key.key_file, fx.File("seal.key"));
  EXPECT_TRUE(c.seal.key.passphrase.empty());
  EXPECT_FALSE(c.seal.key.token.has_value());
  EXPECT_EQ(c.seal.token_config_file, "");
  EXPECT_EQ(c.tls.cert_file, fx.File("tls.pem"));
  EXPECT_EQ(c.tls.key_file, fx.File("tls.key"));
  EXPECT_THAT(c.trust.anchor_files, ElementsAre(fx.File("root.pem")));
  EXPECT_THAT(c.trust.crl_files, ElementsAre(fx.File("crl.pem")));

  ASSERT_TRUE(c.peers.parent.has_value());
  EXPECT_EQ(c.peers.parent->agency, Id("000.00.00.A00"));
  EXPECT_EQ(c.peers.parent->address, (NetAddress{"axis.gov.vn", 27400}));
  ASSERT_EQ(c.peers.children.size(), 2u);
  EXPECT_EQ(c.peers.children[0].agency, Id("000.00.01.H49"));
  EXPECT_EQ(c.peers.children[0].address.ToString(), "10.0.0.5:27400");
  EXPECT_EQ(c.peers.children[1].address, (NetAddress{"fd00::7", 27400}));
  EXPECT_EQ(c.peers.children[1].address.ToString(), "[fd00::7]:27400");
  ASSERT_EQ(c.peers.direct.size(), 1u);
  EXPECT_EQ(c.peers.direct[0].agency, Id("000.00.00.H29"));
  EXPECT_EQ(c.peers.Find(Id("000.00.02.H49")), &c.peers.children[1]);
  EXPECT_EQ(c.peers.Find(Id("000.00.00.H29")), &c.peers.direct[0]);
  EXPECT_EQ(c.peers.Find(Id("000.00.00.A00")), &*c.peers.parent);
  EXPECT_EQ(c.peers.Find(Id("000.00.00.G12")), nullptr);

  ASSERT_EQ(c.people.size(), 2u);
  EXPECT_EQ(c.people[0].login, "clerk-h49");
  EXPECT_THAT(c.people[0].roles, ElementsAre(Role::kClerk));
  EXPECT_THAT(c.people[1].roles, ElementsAre(Role::kLeader, Role::kAuditor));
  ASSERT_NE(c.FindPerson("leader-h49"), nullptr);
  EXPECT_TRUE(c.FindPerson("leader-h49")->HasRole(Role::kAuditor));
  EXPECT_FALSE(c.FindPerson("leader-h49")->HasRole(Role::kClerk));
  EXPECT_EQ(c.FindPerson("clerk-h29"), nullptr);

  EXPECT_EQ(c.limits.max_message_bytes, 512 << 20);
  EXPECT_EQ(c.limits.max_parts, 20);
  EXPECT_EQ(c.limits.chunk_bytes, 65536);
  EXPECT_EQ(c.limits.max_header_bytes, 256 << 10);
  EXPECT_EQ(c.retry.initial_backoff, absl::Milliseconds(500));
  EXPECT_EQ(c.retry.max_backoff, absl::Minutes(1));
  EXPECT_EQ(c.retry.delivery_deadline, absl::Hours(2));
  EXPECT_EQ(c.audit.tree_head_interval, absl::Seconds(2));
  EXPECT_EQ(c.audit.tsa_url, "https://tsa.axis.gov.vn:27700/");
  EXPECT_EQ(c.audit.tsa_alarm_after, absl::Minutes(30));
  ASSERT_TRUE(c.tsa.has_value());
  EXPECT_EQ(c.tsa->listen.ToString(), "127.0.0.1:27409");
  EXPECT_EQ(c.tsa->cert_file, fx.File("tsa.pem"));
  EXPECT_EQ(c.tsa->key_file, fx.File("tsa.key"));
  EXPECT_EQ(c.operations.certificate_warning_days, 14);
}

TEST(NodeConfigLoad, AppliesTheDocumentedDefaults) {
  NodeFixture fx;
  ASSERT_OK_AND_ASSIGN(NodeConfig c, LoadNodeConfig(fx.Write(kMinimalNodeToml)));
  EXPECT_EQ(c.agency_name, "");
  EXPECT_FALSE(c.listen.metrics.has_value());  // no metrics server
  EXPECT_THAT(c.trust.crl_files, IsEmpty());
  EXPECT_FALSE(c.peers.parent.has_value());
  EXPECT_THAT(c.peers.children, IsEmpty());
  EXPECT_THAT(c.peers.direct, IsEmpty());
  EXPECT_THAT(c.people, IsEmpty());
  EXPECT_EQ(c.limits.max_message_bytes, int64_t{2} << 30);
  EXPECT_EQ(c.limits.max_parts, 100);
  EXPECT_EQ(c.limits.chunk_bytes, 1 << 20);
  EXPECT_EQ(c.limits.max_header_bytes, 1 << 20);
  EXPECT_EQ(c.retry.initial_backoff, absl::Seconds(1));
  EXPECT_EQ(c.retry.max_backoff, absl::Minutes(5));
  EXPECT_EQ(c.retry.delivery_deadline, absl::Hours(24));
  EXPECT_EQ(c.audit.tree_head_interval, absl::Seconds(5));
  EXPECT_EQ(c.audit.tsa_url, "");  // no timestamps
  EXPECT_EQ(c.audit.tsa_alarm_after, absl::Hours(1));
  EXPECT_FALSE(c.tsa.has_value());  // no time-stamping authority
  EXPECT_EQ(c.operations.certificate_warning_days, 30);
  // The same defaults as a NodeConfig made in code.
  const NodeConfig made{.agency = Id(kAgency)};
  EXPECT_EQ(made.limits.max_message_bytes, c.limits.max_message_bytes);
  EXPECT_EQ(made.retry.max_backoff, c.retry.max_backoff);
  EXPECT_EQ(made.operations.certificate_warning_days, c.operations.certificate_warning_days);
}

TEST(NodeConfigLoad, AcceptsAbsolutePathsAndListenPortZero) {
  NodeFixture fx;
  std::string toml = Replace(kMinimalNodeToml, "cert = \"seal.pem\"", "cert = \"" + fx.File("seal.pem") + "\"");
  toml = Replace(toml, "127.0.0.1:27406", "127.0.0.1:0");
  toml = Replace(toml, "127.0.0.1:27407", "[::1]:0");
  ASSERT_OK_AND_ASSIGN(NodeConfig c, LoadNodeConfig(fx.Write(toml, "sub.toml")));
  EXPECT_EQ(c.seal.cert_file, fx.File("seal.pem"));
  EXPECT_EQ(c.listen.peers.port, 0);
  EXPECT_EQ(c.listen.people.ToString(), "[::1]:0");
}

TEST(NodeConfigLoad, ServesMetricsOnAnyLoopbackAddress) {
  NodeFixture fx;
  for (const char* address : {"127.0.0.1:9100", "127.42.0.7:27408", "[::1]:27408", "127.0.0.1:0"}) {
    SCOPED_TRACE(address);
    const std::string toml =
        Replace(kFullNodeToml, "metrics = \"127.0.0.1:27408\"", std::string("metrics = \"") + address + "\"");
    ASSERT_OK_AND_ASSIGN(NodeConfig c, LoadNodeConfig(fx.Write(toml)));
    ASSERT_TRUE(c.listen.metrics.has_value());
    EXPECT_EQ(c.listen.metrics->ToString(), address);
  }
}

TEST(NodeConfigLoad, AMissingFileIsNotFound) {
  NodeFixture fx;
  EXPECT_THAT(LoadNodeConfig(fx.File("nope.toml")),
              StatusIs(absl::StatusCode::kNotFound, fx.File("nope.toml") + ": the file does not exist"));
}

TEST(NodeConfigLoad, FailsWithTheFirstProblemNamingTheFileAndTheKey) {
  NodeFixture fx;
  std::string toml = Replace(kFullNodeToml, "max_parts = 20", "max_parts = 0");
  toml = Replace(toml, "initial_backoff = \"500ms\"", "initial_backoff = \"soon\"");
  const std::string path = fx.Write(toml);
  EXPECT_THAT(LoadNodeConfig(path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       path + ": limits.max_parts: must be between 1 and 10000, not 0 (and 1 more problem)"));
}

// One mistake each: CheckNodeConfig reports exactly one problem, under the
// key, and LoadNodeConfig fails with it.
struct BadCase {
  std::string name;
  std::string from;  // replaced in kFullNodeToml
  std::string to;
  std::string key;
  std::string message;  // a part of the message
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
};

// Names the case in test output (and in ctest's test names).
void PrintTo(const BadCase& bad, std::ostream* os) { *os << bad.name; }

class NodeConfigMistake : public ::testing::TestWithParam<BadCase> {};

TEST_P(NodeConfigMistake, IsReportedUnderItsKey) {
  const BadCase& bad = GetParam();
  NodeFixture fx;
  const std::string path = fx.Write(Replace(kFullNodeToml, bad.from, bad.to));
  const std::vector<ConfigProblem> problems = CheckNodeConfig(path);
  ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString([&] {
    std::vector<std::string> all;
    for (const ConfigProblem& p : problems) all.push_back(p.ToString());
    return all;
  }());
  EXPECT_EQ(problems[0].key, bad.key);
  EXPECT_THAT(problems[0].message, HasSubstr(bad.message));
  EXPECT_EQ(problems[0].code, bad.code) << problems[0].ToString();
  EXPECT_THAT(LoadNodeConfig(path), StatusIs(bad.code, HasSubstr(path + ": " + problems[0].ToString())));
}

const absl::StatusCode kNotFound = absl::StatusCode::kNotFound;
const absl::StatusCode kFailed = absl::StatusCode::kFailedPrecondition;

INSTANTIATE_TEST_SUITE_P(
    Cases, NodeConfigMistake,
    ::testing::Values(
        BadCase{"NotToml", "[listen]\n", "[listen\n", "", "line 7, column 8: not valid TOML"},
        BadCase{"UnknownTopLevelKey", "data_dir", "datadir = \"x\"\ndata_dir", "datadir", "unknown key (expected one of: agency, agency_name, data_dir, topology, listen, seal, tls, trust, peers, people, limits, retry, audit, tsa, operations)"},
        BadCase{"UnknownNestedKey", "[listen]\n", "[listen]\npeer = \"x:1\"\n", "listen.peer", "unknown key (expected one of: peers, people, metrics)"},
        BadCase{"MissingAgency", "agency = \"000.00.00.H49\"\n", "", "agency", "is missing"},
        BadCase{"MalformedAgency", "agency = \"000.00.00.H49\"", "agency = \"000.00.00.h49\"", "agency", "may contain only digits"},
        BadCase{"WrongType", "max_parts = 20", "max_parts = \"20\"", "limits.max_parts", "must be an integer, not a string"},
        BadCase{"MissingTable", "[tls]\ncert = \"tls.pem\"\nkey = \"tls.key\"\n", "", "tls", "is missing (a [tls] table"},
        BadCase{"NotHostPort", "peers = \"0.0.0.0:27406\"", "peers = \"localhost\"", "listen.peers", "'localhost' is not host:port"},
        BadCase{"PortTooLarge", "127.0.0.1:27407", "127.0.0.1:70000", "listen.people", "port 70000 is over 65535"},
        BadCase{"ListenPortsCollide", "127.0.0.1:27407", "127.0.0.1:27406", "listen.people", "port 27406 is also listen.peers' port"},
        BadCase{"MetricsOnEveryInterface", "127.0.0.1:27408", "0.0.0.0:27408", "listen.metrics", "'0.0.0.0:27408' is not a loopback address: the metrics are served over plain HTTP"},
        BadCase{"MetricsOnAPublicAddress", "127.0.0.1:27408", "10.0.0.9:27408", "listen.metrics", "is not a loopback address"},
        BadCase{"MetricsOnAHostName", "127.0.0.1:27408", "localhost:27408", "listen.metrics", "'localhost:27408' is not a loopback address"},
        BadCase{"MetricsOnIpv6NotLoopback", "127.0.0.1:27408", "[fd00::1]:27408", "listen.metrics", "is not a loopback address"},
        BadCase{"MetricsNotHostPort", "127.0.0.1:27408", "27408", "listen.metrics", "'27408' is not host:port"},
        BadCase{"MetricsOnThePeersPort", "127.0.0.1:27408", "127.0.0.1:27406", "listen.metrics", "port 27406 is also listen.peers' port (0.0.0.0:27406)"},
        BadCase{"MetricsOnThePeoplePort", "127.0.0.1:27408", "127.0.0.1:27407", "listen.metrics", "port 27407 is also listen.people' port"},
        BadCase{"PeerAtOwnMetricsAddress", "127.0.0.1:27404", "127.0.0.1:27408", "peers.direct[1].address", "is this node's own listen.metrics address"},
        BadCase{"PeerPortZero", "axis.gov.vn:27400", "axis.gov.vn:0", "peers.parent.address", "port 0 is only for listen addresses"},
        BadCase{"PeerWithoutAddress", "address = \"10.0.0.5:27400\"\n", "", "peers.children[1].address", "is missing"},
        BadCase{"PeerTwice", "agency = \"000.00.00.H29\"", "agency = \"000.00.01.H49\"", "peers.direct[1].agency", "already configured as peers.children[1]"},
        BadCase{"PeerIsItself", "agency = \"000.00.00.H29\"", "agency = \"000.00.00.H49\"", "peers.direct[1].agency", "is this node's own agency"},
        BadCase{"PeerAtOwnAddress", "127.0.0.1:27404", "127.0.0.1:27407", "peers.direct[1].address", "is this node's own listen.people address"},
        BadCase{"PeersShareAnAddress", "127.0.0.1:27404", "10.0.0.5:27400", "peers.direct[1].address", "is also the address of peers.children[1]"},
        BadCase{"PeersNotAnArrayOfTables", "[[peers.direct]]", "[peers.direct]", "peers.direct", "must be written as [[peers.direct]] tables"},
        BadCase{"SealKeyAndToken", "key = \"seal.key\"", "key = \"seal.key\"\ntoken_config = \"token.toml\"", "seal.token_config", "not both"},
        BadCase{"SealWithoutKey", "key = \"seal.key\"\n", "", "seal.key", "is missing (the seal's key file; or seal.token_config"},
        BadCase{"SealWithOnlyAPassphrase", "key = \"seal.key\"", "passphrase_env = \"X\"", "seal.key", "is missing"},
        BadCase{"SealCertMissing", "cert = \"seal.pem\"", "cert = \"nosuch.pem\"", "seal.cert", "does not exist", kNotFound},
        BadCase{"SealOfAnotherAgency", "cert = \"seal.pem\"\nkey = \"seal.key\"", "cert = \"other-seal.pem\"\nkey = \"other-seal.key\"", "seal.cert", "is issued to agency 000.00.00.H29, not to 000.00.00.H49", kFailed},
        BadCase{"SealKeyOfAnotherCertificate", "key = \"seal.key\"", "key = \"other-seal.key\"", "seal.key", "does not belong to the certificate in seal.cert", kFailed},
        BadCase{"PassphraseEnvNotSet", "key = \"seal.key\"", "key = \"seal.key\"\npassphrase_env = \"CONGVAN_TEST_NEVER_SET\"", "seal.passphrase_env", "CONGVAN_TEST_NEVER_SET is not set", kNotFound},
        BadCase{"SealAsTlsCertificate", "cert = \"tls.pem\"\nkey = \"tls.key\"", "cert = \"seal.pem\"\nkey = \"seal.key\"", "tls.cert", "is not valid for a TLS server under trust.anchors", kFailed},
        BadCase{"TlsKeyOfAnotherCertificate", "key = \"tls.key\"", "key = \"seal.key\"", "tls.key", "does not belong", kFailed},
        BadCase{"NoAnchors", "anchors = [\"root.pem\"]", "anchors = []", "trust.anchors", "is empty"},
        BadCase{"AnchorNotACertificate", "anchors = [\"root.pem\"]", "anchors = [\"root.pem\", \"crl.pem\"]", "trust.anchors[2]", "holds no certificate"},
        BadCase{"CrlNotACrl", "crls = [\"crl.pem\"]", "crls = [\"root.pem\"]", "trust.crls[1]", "holds no CRL"},
        BadCase{"CrlNotAString", "crls = [\"crl.pem\"]", "crls = [\"crl.pem\", 7]", "trust.crls[2]", "must be a file name"},
        BadCase{"DataDirCannotBeCreated", "data_dir = \"data\"", "data_dir = \"no/such/data\"", "data_dir", "its parent", kNotFound},
        BadCase{"DataDirIsAFile", "data_dir = \"data\"", "data_dir = \"root.pem\"", "data_dir", "is not a directory", kFailed},
        BadCase{"NoTopology", "topology = \"topology.toml\"\n", "", "topology", "is missing"},
        BadCase{"TopologyMissing", "topology = \"topology.toml\"", "topology = \"nosuch.toml\"", "topology", "does not exist", kNotFound},
        BadCase{"TopologyNotATopology", "topology = \"topology.toml\"", "topology = \"root.pem\"", "topology", "not valid TOML"},
        BadCase{"ParentNotTheTopologys", "agency = \"000.00.00.A00\"", "agency = \"000.00.00.G12\"", "peers.parent.agency", "the topology puts 000.00.00.H49 under 000.00.00.A00, not under 000.00.00.G12", kFailed},
        BadCase{"ParentMissing", "[peers.parent]\nagency = \"000.00.00.A00\"\naddress = \"axis.gov.vn:27400\"\n", "", "peers.parent", "is missing: the topology puts 000.00.00.H49 under 000.00.00.A00", kFailed},
        BadCase{"ChildOfAnotherNode", "agency = \"000.00.01.H49\"", "agency = \"000.00.00.G12\"", "peers.children[1].agency", "the topology puts 000.00.00.G12 under 000.00.00.A00, not under 000.00.00.H49", kFailed},
        BadCase{"PeerNotInTheTopology", "agency = \"000.00.00.H29\"", "agency = \"000.00.00.H01\"", "peers.direct[1].agency", "000.00.00.H01 is not listed in the topology", kFailed},
        BadCase{"UnknownRole", "roles = [\"clerk\"]", "roles = [\"clerk\", \"clrk\"]", "people[1].roles", "unknown role 'clrk' (expected clerk, leader, auditor or operator)"},
        BadCase{"RoleTwice", "roles = [\"clerk\"]", "roles = [\"clerk\", \"clerk\"]", "people[1].roles", "role 'clerk' is listed twice"},
        BadCase{"NoRoles", "roles = [\"clerk\"]", "roles = []", "people[1].roles", "must be a non-empty list"},
        BadCase{"BadLogin", "login = \"clerk-h49\"", "login = \"Clerk H49\"", "people[1].login", "must be 1 to 32 characters"},
        BadCase{"LoginTwice", "login = \"leader-h49\"", "login = \"clerk-h49\"", "people[2].login", "'clerk-h49' is listed twice"},
        BadCase{"SizeWithoutAUnitWeKnow", "\"512 MiB\"", "\"512 MB\"", "limits.max_message_bytes", "must be a size"},
        BadCase{"ChunkTooLarge", "chunk_bytes = 65536", "chunk_bytes = \"32 MiB\"", "limits.chunk_bytes", "must be between 1 KiB and 16 MiB, not 32 MiB"},
        BadCase{"HeaderLargerThanMessage", "\"512 MiB\"", "\"128 KiB\"", "limits.max_header_bytes", "(256 KiB) is larger than limits.max_message_bytes (128 KiB)"},
        BadCase{"NotADuration", "\"500ms\"", "\"soon\"", "retry.initial_backoff", "must be a positive duration"},
        BadCase{"NegativeDuration", "\"2h\"", "\"-2h\"", "retry.delivery_deadline", "must be a positive duration"},
        BadCase{"MaxBackoffShorterThanInitial", "max_backoff = \"1m\"", "max_backoff = \"100ms\"", "retry.max_backoff", "is shorter than retry.initial_backoff"},
        BadCase{"AuditUnknownKey", "tsa_alarm_after", "tsa_alarm", "audit.tsa_alarm", "unknown key (expected one of: tree_head_interval, tsa, tsa_alarm_after)"},
        BadCase{"TsaNotHttps", "\"https://tsa.axis.gov.vn:27700/\"", "\"http://tsa.axis.gov.vn:27700/\"", "audit.tsa", "is not an https:// URL"},
        BadCase{"TreeHeadIntervalNotADuration", "tree_head_interval = \"2s\"", "tree_head_interval = 2", "audit.tree_head_interval", "must be a positive duration"},
        BadCase{"TsaOnThePeoplePort", "127.0.0.1:27409", "127.0.0.1:27407", "tsa.listen", "port 27407 is also listen.people' port"},
        BadCase{"TsaWithoutKey", "key = \"tsa.key\"\n", "", "tsa.key", "is missing"},
        BadCase{"TsaCertNotForTimestamps", "cert = \"tsa.pem\"\nkey = \"tsa.key\"", "cert = \"tls.pem\"\nkey = \"tls.key\"", "tsa.cert", "timestamping", kFailed},
        BadCase{"CertificateWarningDaysZero", "certificate_warning_days = 14", "certificate_warning_days = 0", "operations.certificate_warning_days", "must be between 1 and 3650, not 0"},
        BadCase{"CertificateWarningDaysTooMany", "certificate_warning_days = 14", "certificate_warning_days = 36500", "operations.certificate_warning_days", "must be between 1 and 3650, not 36500"},
        BadCase{"CertificateWarningDaysNotAnInteger", "certificate_warning_days = 14", "certificate_warning_days = \"14d\"", "operations.certificate_warning_days", "must be an integer, not a string"},
        BadCase{"OperationsUnknownKey", "certificate_warning_days", "certificate_warning", "operations.certificate_warning", "unknown key (expected one of: certificate_warning_days)"},
        BadCase{"TsaKeyOfAnotherCertificate", "key = \"tsa.key\"", "key = \"seal.key\"", "tsa.key", "does not belong to the certificate in tsa.cert", kFailed}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(NodeConfigLoad, TheAgencyMustBeInTheTopology) {
  NodeFixture fx;
  fx.Write("root = \"000.00.00.H29\"\n[[agency]]\nid = \"000.00.00.H29\"\nname = \"UBND thành phố Hà Nội\"\n",
           "h29.toml");
  const std::string path = fx.Write(Replace(kMinimalNodeToml, "alone.toml", "h29.toml"));
  const std::vector<ConfigProblem> problems = CheckNodeConfig(path);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].ToString(),
            "topology: this node's agency 000.00.00.H49 is not listed in " + fx.File("h29.toml"));
}

TEST(NodeConfigLoad, TheRootHasNoParent) {
  NodeFixture fx;
  const std::string path = fx.Write(std::string(kMinimalNodeToml) +
                                    "[peers.parent]\nagency = \"000.00.00.A00\"\naddress = \"10.0.0.1:1\"\n");
  const std::vector<ConfigProblem> problems = CheckNodeConfig(path);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].ToString(), "peers.parent.agency: 000.00.00.A00 is not listed in the topology " +
                                        fx.File("alone.toml"));
  fx.Write(std::string(kAloneTopologyToml) + "[[agency]]\nid = \"000.00.00.A00\"\nname = \"Trục\"\nparent = \"000.00.00.H49\"\n",
           "alone.toml");
  const std::vector<ConfigProblem> again = CheckNodeConfig(path);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].ToString(),
            "peers.parent.agency: 000.00.00.H49 is the topology's root: it has no parent (remove [peers.parent])");
}

TEST(NodeConfigLoad, KeyFilesReadableByOthersAreRefused) {
  NodeFixture fx;
  const std::string path = fx.Write(kFullNodeToml);
  ASSERT_EQ(chmod(fx.File("tls.key").c_str(), 0640), 0);
  ASSERT_EQ(chmod(fx.File("seal.key").c_str(), 0604), 0);
  const std::vector<ConfigProblem> problems = CheckNodeConfig(path);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].key, "seal.key");
  EXPECT_EQ(problems[0].message, "file " + fx.File("seal.key") +
                                     " is accessible by group or others (mode 0604); a private file must be mode "
                                     "0600 or stricter: run chmod 600 " + fx.File("seal.key"));
  EXPECT_EQ(problems[1].key, "tls.key");
  EXPECT_THAT(problems[1].message, HasSubstr("(mode 0640)"));
  EXPECT_THAT(LoadNodeConfig(path), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_EQ(chmod(fx.File("tls.key").c_str(), 0400), 0);
  ASSERT_EQ(chmod(fx.File("seal.key").c_str(), 0600), 0);
  EXPECT_THAT(LoadNodeConfig(path), IsOk());
}

TEST(NodeConfigLoad, AnEncryptedSealKeyOpensWithItsPassphraseFile) {
  NodeFixture fx;
  testing::WriteTestFile(fx.File("seal.pass"), "mật khẩu\n");
  testing::RunResult r = testing::Run({"openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", fx.File("seal.key"),
                                       "-out", fx.File("seal-enc.key"), "-passout", "file:" + fx.File("seal.pass")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(chmod(fx.File("seal-enc.key").c_str(), 0600), 0);
  const std::string toml =
      Replace(kFullNodeToml, "key = \"seal.key\"", "key = \"seal-enc.key\"\npassphrase_file = \"seal.pass\"");
  ASSERT_OK_AND_ASSIGN(NodeConfig c, LoadNodeConfig(fx.Write(toml)));
  EXPECT_EQ(c.seal.key.key_file, fx.File("seal-enc.key"));
  EXPECT_EQ(c.seal.key.passphrase.file, fx.File("seal.pass"));
  ASSERT_OK_AND_ASSIGN(auto key, signer::OpenKey(c.seal.key));

  testing::WriteTestFile(fx.File("seal.pass"), "wrong\n");
  const std::vector<ConfigProblem> problems = CheckNodeConfig(fx.File("node.toml"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].key, "seal.key");
  EXPECT_THAT(problems[0].message, HasSubstr("wrong passphrase"));

  ASSERT_EQ(chmod(fx.File("seal.pass").c_str(), 0644), 0);
  const std::vector<ConfigProblem> exposed = CheckNodeConfig(fx.File("node.toml"));
  ASSERT_EQ(exposed.size(), 1u);
  EXPECT_EQ(exposed[0].key, "seal.passphrase_file");
  EXPECT_THAT(exposed[0].message, HasSubstr("mode 0644"));
}

TEST(NodeConfigLoad, ASealOnATokenIsReadFromItsTokenConfig) {
  NodeFixture fx;
  testing::WriteTestFile(fx.File("token.pin"), "1234\n");
  fx.Write(std::string("module = \"") + SOFTHSM2_MODULE +
               "\"\ntoken = \"seal-h49\"\nkey_label = \"seal\"\npin_file = \"token.pin\"\n"
               "[environment]\nSOFTHSM2_CONF = \"./softhsm2.conf\"\n",
           "token.toml");
  const std::string toml = Replace(kFullNodeToml, "key = \"seal.key\"", "token_config = \"token.toml\"");
  ASSERT_OK_AND_ASSIGN(NodeConfig c, LoadNodeConfig(fx.Write(toml)));
  EXPECT_EQ(c.seal.key.key_file, "");
  EXPECT_EQ(c.seal.token_config_file, fx.File("token.toml"));
  ASSERT_TRUE(c.seal.key.token.has_value());
  EXPECT_EQ(c.seal.key.token->module, SOFTHSM2_MODULE);
  EXPECT_EQ(c.seal.key.token->token, "seal-h49");
  EXPECT_EQ(c.seal.key.token->key_label, "seal");
  EXPECT_EQ(c.seal.key.token->pin.file, fx.File("token.pin"));

  // A module that is not there and a PIN file others can read.
  fx.Write("module = \"/no/such/module.so\"\ntoken = \"seal-h49\"\nkey_label = \"seal\"\npin_file = \"token.pin\"\n",
           "token.toml");
  ASSERT_EQ(chmod(fx.File("token.pin").c_str(), 0644), 0);
  const std::vector<ConfigProblem> problems = CheckNodeConfig(fx.File("node.toml"));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].key, "seal.token_config");
  EXPECT_THAT(problems[0].message, HasSubstr("the PKCS#11 module /no/such/module.so named in"));
  EXPECT_EQ(problems[1].key, "seal.token_config");
  EXPECT_THAT(problems[1].message, HasSubstr("mode 0644"));

  // A token config that is not one.
  fx.Write("module = \"x.so\"\n", "token.toml");
  const std::vector<ConfigProblem> broken = CheckNodeConfig(fx.File("node.toml"));
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken[0].key, "seal.token_config");
  EXPECT_THAT(broken[0].message, HasSubstr("token"));
}

TEST(ConfigRole, ParsesTheFourRoles) {
  for (Role role : {Role::kClerk, Role::kLeader, Role::kAuditor, Role::kOperator}) {
    ASSERT_OK_AND_ASSIGN(Role parsed, ParseRole(RoleName(role)));
    EXPECT_EQ(parsed, role);
  }
  EXPECT_EQ(RoleName(Role::kAuditor), "auditor");
  EXPECT_THAT(ParseRole("Clerk"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace congvan::config
