// A node does not start on a port that another node serves: gRPC's default
// SO_REUSEPORT would let both bind it and the kernel share the connections
// between two agencies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "congvan/config/node_config.h"
#include "testing/cluster.h"
#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::RunResult;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

constexpr char kHaLong[] = "000.00.01.H49";
constexpr char kQuanLan[] = "000.01.02.H49";  // under Vân Đồn: Hạ Long is not its peer

TEST(NodePorts, ANodeDoesNotStartOnAPortAnotherNodeServes) {
  Cluster cluster;
  cluster.Start(kHaLong);
  ASSERT_OK_AND_ASSIGN(config::NodeConfig halong, config::LoadNodeConfig(cluster.NodeConfig(kHaLong)));
  for (const std::string key : {"peers", "people"}) {
    SCOPED_TRACE(key);
    const config::NetAddress& taken = key == "peers" ? halong.listen.peers : halong.listen.people;
    // Quan Lạn's node.toml with one of its listen addresses on Hạ Long's.
    std::ifstream in(cluster.NodeConfig(kQuanLan));
    std::stringstream toml;
    toml << in.rdbuf();
    const std::string moved = cluster.NodeConfig(kQuanLan) + "." + key + ".toml";
    WriteTestFile(moved, std::regex_replace(toml.str(), std::regex("\n" + key + " = \"[^\"]*\""),
                                            "\n" + key + " = \"" + taken.ToString() + "\""));
    RunResult r = ::congvan::testing::Run({"timeout", "20", ::congvan::testing::Bin("congvand"), "--config", moved});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr("cannot listen on " + taken.ToString()));
  }
  EXPECT_TRUE(cluster.Running(kHaLong));
}

}  // namespace
}  // namespace congvan::node
