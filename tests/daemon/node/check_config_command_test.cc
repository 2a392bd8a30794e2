// `congvand --check-config FILE`: every problem of a node.toml at once, from
// the real binary, before anything starts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/cluster.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Bin;
using ::congvan::testing::Cluster;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::Replace;
using ::congvan::testing::RunResult;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

TEST(CheckConfigCommand, AGoodConfigIsOkAndSeveralSeededProblemsAreReportedTogether) {
  Cluster cluster;
  const std::string config = cluster.NodeConfig("000.01.01.H49");
  RunResult good = ::congvan::testing::Run({Bin("congvand"), "--config", config, "--check-config"});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_THAT(good.out, HasSubstr(": OK"));

  std::string toml = ReadTestFile(config);
  toml = Replace(toml, "agency_name", "agency_nmae");                       // an unknown key
  toml = Replace(toml, "tree_head_interval = \"1s\"", "tree_head_interval = \"soon\"");  // a bad duration
  toml = Replace(toml, "seal.key", "no-such-seal.key");                     // a missing file
  const std::string broken = cluster.File("broken.toml");
  WriteTestFile(broken, toml);
  RunResult bad = ::congvan::testing::Run({Bin("congvand"), "--config", broken, "--check-config"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("agency_nmae: unknown key"));
  EXPECT_THAT(bad.err, HasSubstr("audit.tree_head_interval"));
  EXPECT_THAT(bad.err, HasSubstr("seal.key"));
  EXPECT_THAT(bad.err, HasSubstr("no-such-seal.key"));
}

}  // namespace
}  // namespace congvan::node
