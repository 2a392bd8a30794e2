// What the sections share beyond bench.h: the started pair of nodes, and
// the bench's way of stopping at a broken set-up.
#ifndef CONGVAN_TESTS_BENCH_PAIR_H_
#define CONGVAN_TESTS_BENCH_PAIR_H_

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench.h"
#include "testing/cluster.h"
#include "testing/temp_dir.h"

namespace congvan::bench {

struct Pair {
  std::string key_type;
  testing::TempDir dir;  // the topology file
  std::unique_ptr<testing::Cluster> cluster;
};

// The value, or the error on stderr and exit: a benchmark whose set-up
// fails has nothing to report.
template <typename T>
T Must(absl::StatusOr<T> value, const std::string& what) {
  if (!value.ok()) {
    std::fprintf(stderr, "bench: %s: %s\n", what.c_str(), value.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(value);
}
inline void Must(const absl::Status& status, const std::string& what) {
  if (!status.ok()) {
    std::fprintf(stderr, "bench: %s: %s\n", what.c_str(), status.ToString().c_str());
    std::exit(1);
  }
}

}  // namespace congvan::bench

#endif  // CONGVAN_TESTS_BENCH_PAIR_H_
