// congvan_bench: the benchmarks of tests/bench/README.md. Each section
// starts real congvand processes on 127.0.0.1 (the tests' Cluster), drives
// them through the clerks' gRPC API, and returns its figures as JSON;
// main.cc prints the table and the one JSON line.
#ifndef CONGVAN_TESTS_BENCH_BENCH_H_
#define CONGVAN_TESTS_BENCH_BENCH_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clerk/clerk.h"
#include "congvan/v1/node.grpc.pb.h"

namespace congvan::bench {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct BenchOptions {
  bool quick = false;
  int threads = 0;  // the machine's cores (nproc)
};

// A line of the readable table: "section  figure  value  note".
void Row(const std::string& section, const std::string& figure, double value, const std::string& unit,
         const std::string& note = "");

// Seconds since `start`.
double Since(Clock::time_point start);
// Polls `done` every 2 ms (fine enough for timings) for up to `seconds`;
// returns its last answer.
bool Await(const std::function<bool()>& done, double seconds);
// CPU time (user + system) a process has used so far, in seconds; -1 if
// unreadable. Unlike wall time, it holds on a machine shared with others.
double CpuSeconds(pid_t pid);
// `value` with two decimals.
std::string Fixed(double value);
// Waits until `cpu` (CPU seconds used so far, by whatever it sums) grows by
// less than `cores` over a second, for up to `limit` seconds; returns the
// seconds it waited.
double AwaitQuiet(const std::function<double()>& cpu, double cores, double limit);
// The q-quantile (0..1) of `values` (sorted in place).
double Quantile(std::vector<double>& values, double q);

// ---------------------------------------------------------------- clerks
// tests/clerk/clerk.h: documents signed ahead, annexes, the clerk's channel.
using testing::Annex;
using testing::ClerkChannel;
using testing::MakeAnnex;
using testing::PreparedDocument;
using testing::PrepareDocuments;

// ---------------------------------------------------------------- sections

// Each returns the section's JSON object (the keys) and prints its rows.
// The agencies of the pair topology: the clerk at kSender sends to kReceiver.
inline constexpr char kReceiver[] = "000.00.00.A00";
inline constexpr char kSender[] = "000.00.00.H49";

// A started pair of nodes (WritePairTopology) of one key type.
struct Pair;
std::unique_ptr<Pair> StartPair(const std::string& key_type);
void StopPair(std::unique_ptr<Pair> pair);

// Seal signatures and verifications per second with the pair's seal key
// (its key type), on every core; with `machine`, also RocksDB's synced
// writes at `concurrency` writers, gRPC mutual-TLS empty calls between this
// process and a node, and SHA-256 on one core.
json Ceilings(const BenchOptions& options, Pair& pair, bool machine, int concurrency);
json EndToEnd(const BenchOptions& options, Pair& pair, const json& ceilings, int concurrency);
json Large(const BenchOptions& options);
json Broadcast(const BenchOptions& options);
json Scale(const BenchOptions& options);

// Topology files for the sections, written to `path`.
// Two agencies: the root 000.00.00.A00 and the province 000.00.00.H49, each
// with a leader (key file) and a clerk.
void WritePairTopology(const std::string& path);
// The root, a ministry (000.00.00.G12, the sender) and `provinces` provinces
// of `districts` districts of `communes` communes each; a clerk at the
// ministry and at every commune. Returns the communes' IDs.
std::vector<std::string> WriteTreeTopology(const std::string& path, int provinces, int districts, int communes);

}  // namespace congvan::bench

#endif  // CONGVAN_TESTS_BENCH_BENCH_H_
