// Metrics::Render: the Prometheus text format 0.0.4 that a Prometheus
// server parses — help and type lines, escaping, sorted series, cumulative
// histogram buckets — and the aborts that catch a misused metric name.
#include "congvan/node/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace congvan::node {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The lines of `text` that start with `prefix`, in order.
std::vector<std::string> Lines(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string line = text.substr(start, end - start);
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

TEST(MetricsRender, EveryFamilyHasHelpAndTypeInTableOrder) {
  const std::string text = Metrics().Render();
  EXPECT_THAT(Lines(text, "# TYPE"),
              ::testing::ElementsAre("# TYPE congvan_deliveries_total counter",
                                     "# TYPE congvan_delivery_bytes_total counter",
                                     "# TYPE congvan_delivery_seconds histogram",
                                     "# TYPE congvan_answers_forwarded_total counter",
                                     "# TYPE congvan_received_total counter",
                                     "# TYPE congvan_received_bytes_total counter",
                                     "# TYPE congvan_documents_issued_total counter",
                                     "# TYPE congvan_sends_replayed_total counter",
                                     "# TYPE congvan_audit_log_events gauge",
                                     "# TYPE congvan_audit_tree_heads_total counter",
                                     "# TYPE congvan_audit_timestamps_total counter",
                                     "# TYPE congvan_audit_timestamp_pending_seconds gauge",
                                     "# TYPE congvan_audit_witness_total counter",
                                     "# TYPE congvan_audit_log_damaged gauge",
                                     "# TYPE congvan_outbox_entries gauge",
                                     "# TYPE congvan_signatures_total counter",
                                     "# TYPE congvan_store_bytes gauge",
                                     "# TYPE congvan_certificate_expiry_days gauge"));
  EXPECT_EQ(Lines(text, "# HELP").size(), 18u);
  EXPECT_THAT(text, HasSubstr("# HELP congvan_documents_issued_total Documents this node registered and sealed"));
  // Help comes right before type, and the text ends with a line feed.
  EXPECT_THAT(text, HasSubstr("# HELP congvan_received_total NodeService.Deliver calls served"));
  EXPECT_EQ(text.back(), '\n');
}

TEST(MetricsRender, AnUnlabelledFamilyShowsZeroAndALabelledOneOnlyWhatWasCounted) {
  const std::string text = Metrics().Render();
  EXPECT_THAT(Lines(text, "congvan_documents_issued_total"), ::testing::ElementsAre("congvan_documents_issued_total 0"));
  EXPECT_THAT(Lines(text, "congvan_deliveries_total"), ::testing::IsEmpty());
  EXPECT_THAT(Lines(text, "congvan_delivery_seconds_count"), ::testing::ElementsAre("congvan_delivery_seconds_count 0"));
}

TEST(MetricsRender, CountersAddUpAndPrintAsIntegersWhenWhole) {
  Metrics metrics;
  metrics.Add("congvan_documents_issued_total");
  metrics.Add("congvan_documents_issued_total");
  metrics.Add("congvan_delivery_bytes_total", {{"peer", "000.00.00.A00"}}, 10'485'760);
  metrics.Add("congvan_delivery_bytes_total", {{"peer", "000.00.00.A00"}}, 0.5);
  const std::string text = metrics.Render();
  EXPECT_THAT(Lines(text, "congvan_documents_issued_total"), ::testing::ElementsAre("congvan_documents_issued_total 2"));
  EXPECT_THAT(Lines(text, "congvan_delivery_bytes_total{"),
              ::testing::ElementsAre("congvan_delivery_bytes_total{peer=\"000.00.00.A00\"} 10485760.5"));
}

TEST(MetricsRender, SeriesAreSortedByTheirLabelsInDefinitionOrder) {
  Metrics metrics;
  metrics.Add("congvan_deliveries_total", {{"peer", "000.00.01.H49"}, {"result", "retry"}});
  metrics.Add("congvan_deliveries_total", {{"peer", "000.00.00.A00"}, {"result", "retry"}}, 3);
  metrics.Add("congvan_deliveries_total", {{"peer", "000.00.01.H49"}, {"result", "delivered"}});
  metrics.Add("congvan_deliveries_total", {{"peer", "000.00.00.A00"}, {"result", "delivered"}});
  EXPECT_THAT(Lines(metrics.Render(), "congvan_deliveries_total{"),
              ::testing::ElementsAre("congvan_deliveries_total{peer=\"000.00.00.A00\",result=\"delivered\"} 1",
                                     "congvan_deliveries_total{peer=\"000.00.00.A00\",result=\"retry\"} 3",
                                     "congvan_deliveries_total{peer=\"000.00.01.H49\",result=\"delivered\"} 1",
                                     "congvan_deliveries_total{peer=\"000.00.01.H49\",result=\"retry\"} 1"));
}

TEST(MetricsRender, EscapesBackslashQuoteAndLineFeedInLabelValues) {
  Metrics metrics;
  metrics.Add("congvan_received_total", {{"peer", "a\\b\"c\nd"}, {"result", "rejected"}});
  metrics.Add("congvan_received_bytes_total", {{"peer", "Hồng Gai"}}, 1);  // UTF-8 passes through
  const std::string text = metrics.Render();
  EXPECT_THAT(Lines(text, "congvan_received_total{"),
              ::testing::ElementsAre(R"(congvan_received_total{peer="a\\b\"c\nd",result="rejected"} 1)"));
  EXPECT_THAT(text, HasSubstr("congvan_received_bytes_total{peer=\"Hồng Gai\"} 1\n"));
  // The raw line feed never reaches the output: every line is a comment or a sample.
  for (const std::string& line : Lines(text, "")) {
    EXPECT_TRUE(line.rfind("# ", 0) == 0 || line.rfind("congvan_", 0) == 0) << line;
  }
}

TEST(MetricsRender, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Metrics metrics;
  for (double seconds : {0.001, 0.005, 0.007, 0.3, 2.0, 61.0}) metrics.Observe("congvan_delivery_seconds", {}, seconds);
  const std::string text = metrics.Render();
  EXPECT_THAT(Lines(text, "congvan_delivery_seconds"),
              ::testing::ElementsAre("congvan_delivery_seconds_bucket{le=\"0.005\"} 2",  // le is inclusive
                                     "congvan_delivery_seconds_bucket{le=\"0.01\"} 3",
                                     "congvan_delivery_seconds_bucket{le=\"0.025\"} 3",
                                     "congvan_delivery_seconds_bucket{le=\"0.05\"} 3",
                                     "congvan_delivery_seconds_bucket{le=\"0.1\"} 3",
                                     "congvan_delivery_seconds_bucket{le=\"0.25\"} 3",
                                     "congvan_delivery_seconds_bucket{le=\"0.5\"} 4",
                                     "congvan_delivery_seconds_bucket{le=\"1\"} 4",
                                     "congvan_delivery_seconds_bucket{le=\"2.5\"} 5",
                                     "congvan_delivery_seconds_bucket{le=\"5\"} 5",
                                     "congvan_delivery_seconds_bucket{le=\"10\"} 5",
                                     "congvan_delivery_seconds_bucket{le=\"30\"} 5",
                                     "congvan_delivery_seconds_bucket{le=\"60\"} 5",
                                     "congvan_delivery_seconds_bucket{le=\"+Inf\"} 6",
                                     "congvan_delivery_seconds_sum 63.313",
                                     "congvan_delivery_seconds_count 6"));
}

TEST(MetricsRender, CountsFromManyThreadsAreAllKept) {
  Metrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < 1000; ++i) {
        metrics.Add("congvan_deliveries_total", {{"peer", "p" + std::to_string(t % 2)}, {"result", "delivered"}});
        metrics.Observe("congvan_delivery_seconds", {}, 0.02);
        if (i % 100 == 0) {
          EXPECT_THAT(metrics.Render(), Not(HasSubstr("nan")));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("congvan_deliveries_total{peer=\"p0\",result=\"delivered\"} 2000\n"));
  EXPECT_THAT(text, HasSubstr("congvan_deliveries_total{peer=\"p1\",result=\"delivered\"} 2000\n"));
  EXPECT_THAT(text, HasSubstr("congvan_delivery_seconds_count 4000\n"));
}

using MetricsDeathTest = ::testing::Test;

TEST_F(MetricsDeathTest, AMisusedNameAbortsNamingIt) {
  Metrics metrics;
  EXPECT_DEATH(metrics.Add("congvan_no_such_total"), "congvan_no_such_total: not a defined metric");
  EXPECT_DEATH(metrics.Observe("congvan_documents_issued_total", {}, 1),
               "congvan_documents_issued_total: is a counter, used as a histogram");
  EXPECT_DEATH(metrics.Add("congvan_deliveries_total", {{"result", "delivered"}, {"peer", "x"}}),
               R"(congvan_deliveries_total: takes the labels \(peer, result\), in that order)");
  EXPECT_DEATH(metrics.Add("congvan_delivery_bytes_total", {}), "takes the labels");
  EXPECT_DEATH(metrics.Add("congvan_documents_issued_total", {}, -1), "a counter cannot go down");
}

}  // namespace
}  // namespace congvan::node
