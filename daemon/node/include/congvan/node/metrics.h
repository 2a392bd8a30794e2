// The node's metrics for Prometheus (the operator's monitoring): counters,
// gauges and histograms, rendered in the text exposition format 0.0.4 that
// the metrics server (metrics_server.h) serves at GET /metrics.
//
// Every metric family is defined once, in the table in metrics.cc: its name,
// type, help text, label names and (histograms) bucket bounds. The names are
// a contract with dashboards, alerts and tests. Calling Add, Set or Observe
// with a name that is not defined, with the wrong type, or with other label
// names than the definition's is a programming error: the process aborts
// with a message naming the metric.
#ifndef CONGVAN_NODE_METRICS_H_
#define CONGVAN_NODE_METRICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace congvan::node {

// A series' labels as (name, value) pairs, in the label-name order of the
// family's definition. Values are any UTF-8 text (escaped when rendered).
using Labels = std::vector<std::pair<std::string, std::string>>;

// Thread-safe: every method may be called from any thread.
class Metrics {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  // Adds `by` (at least 0: counters only go up) to a counter.
  void Add(std::string_view name, const Labels& labels = {}, double by = 1);
  // Sets a gauge.
  void Set(std::string_view name, const Labels& labels, double value);
  // Counts `value` into a histogram's buckets, sum and count.
  void Observe(std::string_view name, const Labels& labels, double value);

  // Every family, in the table's order, as Prometheus text format 0.0.4:
  // "# HELP" and "# TYPE" lines, then the family's series sorted by their
  // labels. A family without labels always has its one series (0 until
  // something is counted); a labelled family has the series that were
  // touched. Histograms give cumulative _bucket{le="..."} lines ending with
  // le="+Inf", then _sum and _count.
  std::string Render() const;

 private:
  struct Series {
    double value = 0;               // counter, gauge
    std::vector<uint64_t> buckets;  // histogram: observations per bucket (not cumulative); last is +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  // Label values in definition order -> series.
  using FamilySeries = std::map<std::vector<std::string>, Series>;

  // The series of the family at `family` in the table with `labels`
  // (checked against the definition), created on first use.
  Series& Find(size_t family, const Labels& labels) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<size_t, FamilySeries> families_ ABSL_GUARDED_BY(mu_);  // by index in the table
};

// Counts the CMS signatures the node makes and verifies into
// congvan_signatures_total{operation="made"|"verified"}; handed to the
// functions that sign and verify (documents.h) so that they need no more of
// the node. Thread-safe; the Metrics must outlive it.
class SignatureCounter {
 public:
  explicit SignatureCounter(Metrics& metrics) : metrics_(metrics) {}
  void Made() { metrics_.Add("congvan_signatures_total", {{"operation", "made"}}); }
  void Verified() { metrics_.Add("congvan_signatures_total", {{"operation", "verified"}}); }

 private:
  Metrics& metrics_;
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_METRICS_H_
