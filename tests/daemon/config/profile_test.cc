// LoadProfile / CheckProfile: a person's profile.toml, and where the CLI
// finds it.
#include "congvan/config/profile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "node_fixture.h"
#include "testing/status_matchers.h"

namespace congvan::config {
namespace {

using ::congvan::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr char kProfileToml[] = R"(login = "clerk-h49"
agency = "000.00.00.H49"
node = "127.0.0.1:27407"

[tls]
cert = "person-tls.pem"
key = "person-tls.key"

[trust]
anchors = ["root.pem"]
crls = ["crl.pem"]
)";

auto Problem(const std::string& key, const std::string& message) {
  return AllOf(Field(&ConfigProblem::key, key), Field(&ConfigProblem::message, HasSubstr(message)));
}

TEST(ProfileLoad, ReadsEveryKey) {
  NodeFixture fx;
  const std::string path = fx.Write(kProfileToml, "profile.toml");
  EXPECT_THAT(CheckProfile(path), IsEmpty());
  ASSERT_OK_AND_ASSIGN(Profile p, LoadProfile(path));
  EXPECT_EQ(p.login, "clerk-h49");
  EXPECT_EQ(p.agency.str(), kAgency);
  EXPECT_EQ(p.node, (NetAddress{"127.0.0.1", 27407}));
  EXPECT_EQ(p.tls.cert_file, fx.File("person-tls.pem"));
  EXPECT_EQ(p.tls.key_file, fx.File("person-tls.key"));
  EXPECT_THAT(p.trust.anchor_files, ElementsAre(fx.File("root.pem")));
  EXPECT_THAT(p.trust.crl_files, ElementsAre(fx.File("crl.pem")));
  EXPECT_EQ(p.source_file, path);
}

TEST(ProfileLoad, CrlsAreOptional) {
  NodeFixture fx;
  ASSERT_OK_AND_ASSIGN(Profile p, LoadProfile(fx.Write(Replace(kProfileToml, "crls = [\"crl.pem\"]\n", ""))));
  EXPECT_THAT(p.trust.crl_files, IsEmpty());
}

TEST(ProfileLoad, ACertificateOfAnotherPersonOrAgencyIsRefused) {
  NodeFixture fx;
  std::string toml = Replace(kProfileToml, "login = \"clerk-h49\"", "login = \"leader-h49\"");
  toml = Replace(toml, "agency = \"000.00.00.H49\"", "agency = \"000.00.00.H29\"");
  const std::string path = fx.Write(toml, "profile.toml");
  EXPECT_THAT(CheckProfile(path),
              UnorderedElementsAre(Problem("tls.cert", "is issued to agency 000.00.00.H49, not to 000.00.00.H29"),
                                   Problem("tls.cert", "is issued to person 'clerk-h49', not to 'leader-h49'")));
  EXPECT_THAT(LoadProfile(path), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(path + ": tls.cert: ")));
}

TEST(ProfileLoad, ANodeCertificateIsNotAPersonsTlsCertificate) {
  NodeFixture fx;
  std::string toml = Replace(kProfileToml, "cert = \"person-tls.pem\"\nkey = \"person-tls.key\"",
                             "cert = \"tls.pem\"\nkey = \"tls.key\"");
  EXPECT_THAT(CheckProfile(fx.Write(toml, "profile.toml")),
              ElementsAre(Problem("tls.cert", "is issued to no person, not to 'clerk-h49'")));
}

TEST(ProfileLoad, ReportsEveryProblemAtOnce) {
  NodeFixture fx;
  std::string toml = Replace(kProfileToml, "node = \"127.0.0.1:27407\"", "node = \"127.0.0.1\"");
  toml = Replace(toml, "login = \"clerk-h49\"", "login = \"clerk-h49\"\nrole = \"clerk\"");
  toml = Replace(toml, "anchors = [\"root.pem\"]", "anchors = [\"nope.pem\"]");
  const std::string path = fx.Write(toml, "profile.toml");
  ASSERT_EQ(chmod(fx.File("person-tls.key").c_str(), 0644), 0);
  EXPECT_THAT(CheckProfile(path),
              UnorderedElementsAre(Problem("role", "unknown key (expected one of: login, agency, node, tls, trust)"),
                                   Problem("node", "'127.0.0.1' is not host:port"),
                                   Problem("trust.anchors[1]", "file " + fx.File("nope.pem") + " does not exist"),
                                   Problem("tls.key", "(mode 0644)")));
}

TEST(ProfileLoad, MissingKeysAreNamed) {
  NodeFixture fx;
  EXPECT_THAT(CheckProfile(fx.Write("login = \"clerk-h49\"\n", "profile.toml")),
              UnorderedElementsAre(Problem("agency", "is missing"), Problem("node", "is missing"),
                                   Problem("tls", "is missing"), Problem("trust", "is missing")));
}

TEST(ProfileChoosePath, TheFlagWinsThenTheEnvironment) {
  ASSERT_OK_AND_ASSIGN(std::string flag, ChooseProfilePath("/a/profile.toml", "/b/profile.toml"));
  EXPECT_EQ(flag, "/a/profile.toml");
  ASSERT_OK_AND_ASSIGN(std::string env, ChooseProfilePath("", "/b/profile.toml"));
  EXPECT_EQ(env, "/b/profile.toml");
  EXPECT_THAT(ChooseProfilePath("", nullptr),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("--profile FILE or set CONGVAN_PROFILE")));
  EXPECT_THAT(ChooseProfilePath("", ""), StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace congvan::config
