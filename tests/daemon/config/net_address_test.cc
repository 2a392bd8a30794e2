// ParseNetAddress: the "host:port" of listen addresses, peers and profiles.
#include "congvan/config/net_address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace congvan::config {
namespace {

using ::congvan::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ConfigNetAddress, ParsesHostNamesIpv4AndBracketedIpv6) {
  ASSERT_OK_AND_ASSIGN(NetAddress name, ParseNetAddress("node.h49.gov.vn:27400"));
  EXPECT_EQ(name, (NetAddress{"node.h49.gov.vn", 27400}));
  ASSERT_OK_AND_ASSIGN(NetAddress v4, ParseNetAddress("127.0.0.1:1"));
  EXPECT_EQ(v4.ToString(), "127.0.0.1:1");
  ASSERT_OK_AND_ASSIGN(NetAddress v6, ParseNetAddress("[::1]:65535"));
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.ToString(), "[::1]:65535");
  ASSERT_OK_AND_ASSIGN(NetAddress any, ParseNetAddress("0.0.0.0:0", /*allow_port_zero=*/true));
  EXPECT_TRUE(any.IsWildcard());
  ASSERT_OK_AND_ASSIGN(NetAddress any6, ParseNetAddress("[::]:27400"));
  EXPECT_TRUE(any6.IsWildcard());
  EXPECT_FALSE(v4.IsWildcard());
}

TEST(ConfigNetAddress, LoopbackIs127Slash8AndIpv6OneOnly) {
  for (const char* host : {"127.0.0.1", "127.255.3.4", "::1", "0:0:0:0:0:0:0:1"}) {
    EXPECT_TRUE((NetAddress{host, 1}).IsLoopback()) << host;
  }
  for (const char* host : {"localhost", "0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "::2", "::ffff:127.0.0.1", "", "127.1"}) {
    EXPECT_FALSE((NetAddress{host, 1}).IsLoopback()) << host;
  }
}

TEST(ConfigNetAddress, RefusesWhatIsNotHostColonPort) {
  for (const char* bad : {"localhost", ":27400", "host:", "host:port", "host:-1", "::1:27400", "[::1]27400",
                          "[zz::1]:1", "a b:1", "host:123456", "-host:1"}) {
    EXPECT_THAT(ParseNetAddress(bad), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'" + std::string(bad) + "'")))
        << bad;
  }
  EXPECT_THAT(ParseNetAddress("host:65536"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("over 65535")));
  EXPECT_THAT(ParseNetAddress("host:0"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port 0")));
}

}  // namespace
}  // namespace congvan::config
