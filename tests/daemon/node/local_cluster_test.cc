// deploy/local-cluster.sh on a pki init directory: every node of the sample
// topology starts on 127.0.0.1, serves, reports its state, and stops.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/cluster.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::RunResult;
using ::testing::HasSubstr;

RunResult Script(const std::string& command, const std::string& dir) {
  return ::congvan::testing::Run({"bash", std::string(CONGVAN_SOURCE_DIR) + "/deploy/local-cluster.sh", command, dir},
                                 {{"CONGVAND", ::congvan::testing::Bin("congvand")}});
}

TEST(LocalCluster, StartsReportsAndStopsEveryNode) {
  Cluster cluster;  // only for its pki init directory: the script runs the nodes
  RunResult start = Script("start", cluster.dir());
  ASSERT_EQ(start.exit_code, 0) << start.out << start.err;
  EXPECT_THAT(start.out, HasSubstr("started 000.00.00.A00"));

  RunResult status = Script("status", cluster.dir());
  EXPECT_EQ(status.exit_code, 0) << status.out;
  size_t running = 0;
  for (size_t at = status.out.find(" running "); at != std::string::npos; at = status.out.find(" running ", at + 1)) {
    ++running;
  }
  EXPECT_EQ(running, 12u) << status.out;

  // The nodes serve: a clerk reads an (empty) inbox, and starting again is harmless.
  RunResult inbox = cluster.Congvan("clerk-h49", {"inbox", "--json"});
  EXPECT_EQ(inbox.exit_code, 0) << inbox.err;
  RunResult again = Script("start", cluster.dir());
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.out, HasSubstr("already running"));

  RunResult stop = Script("stop", cluster.dir());
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  RunResult after = Script("status", cluster.dir());
  EXPECT_EQ(after.exit_code, 1);
  EXPECT_THAT(after.out, ::testing::Not(HasSubstr(" running ")));
}

TEST(LocalCluster, RefusesADirectoryWithoutNodes) {
  RunResult r = Script("start", "/nonexistent-congvan-dir");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("pki init"));
}

}  // namespace
}  // namespace congvan::node
