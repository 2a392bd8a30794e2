// MetricsServer: GET /metrics over real HTTP on 127.0.0.1 (curl as the
// independent client), 404 for anything else, and a clear failure when the
// port is taken.
#include "congvan/node/metrics_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testing/status_matchers.h"
#include "testing/subprocess.h"

namespace congvan::node {
namespace {

using ::congvan::testing::RunResult;
using ::congvan::testing::StatusIs;
using ::testing::HasSubstr;

// curl's status code, content type and body, one per line before the body.
RunResult Curl(int port, const std::string& path, const std::string& method = "GET") {
  return ::congvan::testing::Run({"curl", "-s", "-X", method, "-w", "%{http_code} %{content_type}\n", "-o", "-",
              "http://127.0.0.1:" + std::to_string(port) + path});
}

TEST(MetricsServer, ServesTheRenderedMetricsAtSlashMetrics) {
  Metrics metrics;
  metrics.Add("congvan_documents_issued_total", {}, 7);
  ASSERT_OK_AND_ASSIGN(auto server, MetricsServer::Start({"127.0.0.1", 0}, metrics));
  ASSERT_GT(server->port(), 0);
  RunResult r = Curl(server->port(), "/metrics");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("congvan_documents_issued_total 7\n"));
  EXPECT_THAT(r.out, HasSubstr("200 text/plain; version=0.0.4"));
  // Scrapes see the counts of the moment.
  metrics.Add("congvan_documents_issued_total");
  EXPECT_THAT(Curl(server->port(), "/metrics").out, HasSubstr("congvan_documents_issued_total 8\n"));
}

TEST(MetricsServer, AnythingElseIsNotFound) {
  Metrics metrics;
  ASSERT_OK_AND_ASSIGN(auto server, MetricsServer::Start({"127.0.0.1", 0}, metrics));
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/"}, {"GET", "/metrics/x"}, {"GET", "/metricsx"}, {"POST", "/metrics"}, {"PUT", "/metrics"},
           {"DELETE", "/metrics"}}) {
    RunResult r = Curl(server->port(), path, method);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("404")) << method << " " << path;
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("congvan_"))) << method << " " << path;
  }
}

TEST(MetricsServer, ATakenPortIsAnErrorNamingTheAddress) {
  // A plain listening socket, without SO_REUSEPORT.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);

  Metrics metrics;
  EXPECT_THAT(MetricsServer::Start({"127.0.0.1", port}, metrics),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("cannot serve metrics on 127.0.0.1:" + std::to_string(port) + " (listen.metrics)")));
  close(fd);
}

TEST(MetricsServer, AnotherMetricsServerCannotShareItsPort) {
  Metrics metrics;
  ASSERT_OK_AND_ASSIGN(auto first, MetricsServer::Start({"127.0.0.1", 0}, metrics));
  EXPECT_THAT(MetricsServer::Start({"127.0.0.1", first->port()}, metrics),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(MetricsServer, StopsPromptlyAndTwice) {
  Metrics metrics;
  ASSERT_OK_AND_ASSIGN(auto server, MetricsServer::Start({"127.0.0.1", 0}, metrics));
  const int port = server->port();
  server->Stop();
  server->Stop();
  EXPECT_NE(Curl(port, "/metrics").exit_code, 0);  // connection refused
}

TEST(MetricsServer, ListensOnIpv6Loopback) {
  Metrics metrics;
  ASSERT_OK_AND_ASSIGN(auto server, MetricsServer::Start({"::1", 0}, metrics));
  RunResult r = ::congvan::testing::Run({"curl", "-s", "-g", "http://[::1]:" + std::to_string(server->port()) + "/metrics"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("congvan_documents_issued_total 0"));
}

}  // namespace
}  // namespace congvan::node
