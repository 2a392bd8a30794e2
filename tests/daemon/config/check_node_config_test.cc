// CheckNodeConfig: every problem of a node.toml at once, each under its key,
// so that an operator fixes them in one pass.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "congvan/config/node_config.h"
#include "node_fixture.h"
#include "testing/status_matchers.h"

namespace congvan::config {
namespace {

using ::congvan::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

auto Problem(const std::string& key, const std::string& message) {
  return AllOf(Field(&ConfigProblem::key, key), Field(&ConfigProblem::message, HasSubstr(message)));
}

TEST(CheckNodeConfig, ReportsEveryProblemAtOnce) {
  NodeFixture fx;
  std::string toml = kFullNodeToml;
  toml = Replace(toml, "agency_name", "agency_nmae");                             // a typo
  toml = Replace(toml, "people = \"127.0.0.1:27407\"", "people = \"localhost\"");  // no port
  toml = Replace(toml, "metrics = \"127.0.0.1:27408\"", "metrics = \"0.0.0.0:27408\"");  // not loopback
  toml = Replace(toml, "cert = \"seal.pem\"", "cert = \"/no/such/seal.pem\"");      // missing file
  toml = Replace(toml, "address = \"axis.gov.vn:27400\"", "address = \"axis.gov.vn\"");
  toml = Replace(toml, "roles = [\"clerk\"]", "roles = [\"clerk\", \"boss\"]");
  toml = Replace(toml, "max_parts = 20", "max_parts = -1");
  toml = Replace(toml, "delivery_deadline = \"2h\"", "delivery_deadline = \"2 days\"");
  const std::string path = fx.Write(toml);
  ASSERT_EQ(chmod(fx.File("tls.key").c_str(), 0644), 0);

  const std::vector<ConfigProblem> problems = CheckNodeConfig(path);
  EXPECT_THAT(problems,
              UnorderedElementsAre(Problem("agency_nmae", "unknown key"),
                                   Problem("listen.people", "'localhost' is not host:port"),
                                   Problem("listen.metrics", "'0.0.0.0:27408' is not a loopback address"),
                                   Problem("seal.cert", "file /no/such/seal.pem does not exist"),
                                   Problem("peers.parent.address", "'axis.gov.vn' is not host:port"),
                                   Problem("people[1].roles", "unknown role 'boss'"),
                                   Problem("limits.max_parts", "must be between 1 and 10000, not -1"),
                                   Problem("retry.delivery_deadline", "must be a positive duration"),
                                   Problem("tls.key", "(mode 0644)")));
  for (const ConfigProblem& p : problems) {
    EXPECT_EQ(p.ToString(), p.key + ": " + p.message);
  }
  // LoadNodeConfig stops at the first and says how many more there are.
  EXPECT_THAT(LoadNodeConfig(path), StatusIs(absl::StatusCode::kInvalidArgument,
                                             AllOf(HasSubstr(path + ": agency_nmae: unknown key"),
                                                   HasSubstr("(and 8 more problems)"))));
}

TEST(CheckNodeConfig, ReportsMetricsCollidingWithTheOtherListenAndPeerAddressesAlongTheRest) {
  NodeFixture fx;
  std::string toml = Replace(kFullNodeToml, "metrics = \"127.0.0.1:27408\"", "metrics = \"127.0.0.1:27407\"");
  toml = Replace(toml, "agency_name", "agency_nmae");
  EXPECT_THAT(CheckNodeConfig(fx.Write(toml)),
              UnorderedElementsAre(Problem("agency_nmae", "unknown key"),
                                   Problem("listen.metrics", "port 27407 is also listen.people' port")));
  // A peer at the metrics address is reported as well.
  toml = Replace(kFullNodeToml, "address = \"127.0.0.1:27404\"", "address = \"127.0.0.1:27408\"");
  toml = Replace(toml, "max_parts = 20", "max_parts = 0");
  EXPECT_THAT(CheckNodeConfig(fx.Write(toml)),
              UnorderedElementsAre(Problem("peers.direct[1].address", "is this node's own listen.metrics address"),
                                   Problem("limits.max_parts", "must be between 1 and 10000")));
}

TEST(CheckNodeConfig, ReportsCertificatesThatDoNotChainToTheAnchors) {
  NodeFixture fx;
  testing::TestPki other;
  testing::WriteTestFile(fx.File("other-root.pem"), other.root().Pem());
  const std::string path =
      fx.Write(Replace(kFullNodeToml, "anchors = [\"root.pem\"]", "anchors = [\"other-root.pem\"]"));
  EXPECT_THAT(CheckNodeConfig(path),
              UnorderedElementsAre(Problem("seal.cert", "is not valid for signing under trust.anchors"),
                                   Problem("tls.cert", "is not valid for a TLS server under trust.anchors"),
                                   Problem("tsa.cert", "is not valid for timestamping under trust.anchors")));
}

TEST(CheckNodeConfig, ReportsMissingRequiredTablesTogether) {
  NodeFixture fx;
  const std::string path = fx.Write("agency = \"000.00.00.H49\"\n");
  EXPECT_THAT(CheckNodeConfig(path),
              UnorderedElementsAre(Problem("listen", "is missing"), Problem("seal", "is missing"),
                                   Problem("tls", "is missing"), Problem("trust", "is missing"),
                                   Problem("data_dir", "is missing"), Problem("topology", "is missing")));
}

TEST(CheckNodeConfig, AnUnreadableFileIsOneProblem) {
  NodeFixture fx;
  const std::vector<ConfigProblem> problems = CheckNodeConfig(fx.File("missing.toml"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].code, absl::StatusCode::kNotFound);
  EXPECT_EQ(problems[0].key, "");
  EXPECT_EQ(problems[0].ToString(), "the file does not exist");
}

TEST(CheckNodeConfig, AcceptsAnExistingDataDirAndAMissingOneUnderAnExistingParent) {
  NodeFixture fx;
  const std::string path = fx.Write(kFullNodeToml);
  EXPECT_THAT(CheckNodeConfig(path), IsEmpty());
  ASSERT_EQ(mkdir(fx.File("data").c_str(), 0700), 0);
  EXPECT_THAT(CheckNodeConfig(path), IsEmpty());
}

}  // namespace
}  // namespace congvan::config
