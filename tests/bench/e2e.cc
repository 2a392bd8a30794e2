// End to end on two nodes: a clerk's Send at the province until the
// province holds the signed 01 receipt of the root, whose node checked,
// stored and answered it. Throughput with every sender busy, then latency
// at half that rate, each document's clock started at its planned send
// time (so a stalled node cannot hide its queue from the percentiles).
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "bench.h"
#include "pair.h"

namespace congvan::bench {
namespace {

using testing::Cluster;
using testing::ClusterOptions;
using testing::MetricValue;

double OwnCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The documents signed ahead and sent in turn: their contents differ, and
// the node's cost does not depend on which one it gets.
constexpr size_t kPrepared = 256;
constexpr size_t kMainBytes = 4096;

// When each document was sent and when its 01 receipt reached the sender.
class Completions {
 public:
  // `at`: when the document was to be sent; `issued`: when Send returned.
  void Sent(const std::string& id, Clock::time_point at, Clock::time_point issued = {}) {
    absl::MutexLock lock(&mu_);
    sent_[id] = at;
    if (issued != Clock::time_point{}) issued_[id] = issued;
  }
  void Receipt(const v1::AnswerEvent& event) {
    if (event.answer().code() != v1::STATUS_CODE_ARRIVED) return;
    const Clock::time_point now = Clock::now();
    absl::MutexLock lock(&mu_);
    received_.emplace(event.message_id(), now);
    last_ = now;
  }
  size_t Received() const {
    absl::MutexLock lock(&mu_);
    return received_.size();
  }
  Clock::time_point Last() const {
    absl::MutexLock lock(&mu_);
    return last_;
  }
  // Milliseconds from send to receipt, of every document sent here.
  std::vector<double> LatenciesMs() const {
    absl::MutexLock lock(&mu_);
    std::vector<double> ms;
    for (const auto& [id, at] : sent_) {
      if (auto it = received_.find(id); it != received_.end()) {
        ms.push_back(std::chrono::duration<double, std::milli>(it->second - at).count());
      }
    }
    return ms;
  }
  // The same, in two: until Send returned (the sender issued and sealed
  // it), and from then until the receipt (delivery, the receiver, the
  // receipt's recording), for the documents sent with an issue time.
  void SplitMs(std::vector<double>* issue, std::vector<double>* delivery) const {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, at] : sent_) {
      auto issued = issued_.find(id);
      auto received = received_.find(id);
      if (issued == issued_.end() || received == received_.end()) continue;
      issue->push_back(std::chrono::duration<double, std::milli>(issued->second - at).count());
      delivery->push_back(std::chrono::duration<double, std::milli>(received->second - issued->second).count());
    }
  }
  void Clear() {
    absl::MutexLock lock(&mu_);
    sent_.clear();
    issued_.clear();
    received_.clear();
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, Clock::time_point> sent_;
  std::map<std::string, Clock::time_point> issued_;
  std::map<std::string, Clock::time_point> received_;
  Clock::time_point last_;
};

// Waits until `count` receipts are in, or `seconds` pass; false then.
bool AwaitReceipts(const Completions& completions, size_t count, double seconds) {
  return Await([&] { return completions.Received() >= count; }, seconds);
}

double Counter(const Cluster& cluster, const std::string& agency, const std::string& series) {
  return MetricValue(cluster.Metrics(agency), series);
}

}  // namespace

std::unique_ptr<Pair> StartPair(const std::string& key_type) {
  auto pair = std::make_unique<Pair>();
  pair->key_type = key_type;
  const std::string topology = pair->dir.File("pair.toml");
  WritePairTopology(topology);
  pair->cluster = std::make_unique<Cluster>(ClusterOptions{.topology = topology, .key_type = key_type});
  Must(pair->cluster->StartAll({kReceiver, kSender}) ? absl::OkStatus() : absl::UnavailableError("see above"),
       "starting the pair");
  return pair;
}

void StopPair(std::unique_ptr<Pair> pair) { pair.reset(); }

json EndToEnd(const BenchOptions& options, Pair& pair, const json& ceilings, int concurrency) {
  const std::string section = "e2e " + pair.key_type;
  Cluster& cluster = *pair.cluster;
  const auto documents = Must(PrepareDocuments(cluster.Person("leader-h49"), kPrepared, kMainBytes), "signing");
  std::vector<std::unique_ptr<ClerkChannel>> channels;
  for (int i = 0; i < 4; ++i) channels.push_back(Must(ClerkChannel::Open(cluster.Profile("clerk-h49")), "clerk"));
  Completions completions;
  Must(channels.front()->StartWatch([&](const v1::AnswerEvent& e) { completions.Receipt(e); }), "watching");
  const std::vector<std::string> to{kReceiver};
  std::atomic<bool> failed{false};
  auto send = [&](size_t i) {
    auto id = channels[i % channels.size()]->Send(to, documents[i % documents.size()]);
    if (!id.ok()) {
      if (!failed.exchange(true)) std::fprintf(stderr, "bench: send: %s\n", id.status().ToString().c_str());
      return std::string();
    }
    return *id;
  };

  // Warm-up: connections, caches, the first tree heads.
  for (size_t i = 0; i < 50; ++i) send(i);
  AwaitReceipts(completions, 50, 30);
  completions.Clear();

  // Throughput: `concurrency` clerks sending back to back.
  const size_t n = options.quick ? 2000 : 12000;
  const double signatures_before[2] = {Counter(cluster, kSender, "congvan_signatures_total{operation=\"made\"}") +
                                           Counter(cluster, kReceiver, "congvan_signatures_total{operation=\"made\"}"),
                                       Counter(cluster, kSender, "congvan_signatures_total{operation=\"verified\"}") +
                                           Counter(cluster, kReceiver,
                                                   "congvan_signatures_total{operation=\"verified\"}")};
  const double cpu_before[3] = {CpuSeconds(cluster.Pid(kSender)), CpuSeconds(cluster.Pid(kReceiver)),
                                OwnCpuSeconds()};
  std::atomic<size_t> next{0};
  const Clock::time_point start = Clock::now();
  {
    std::vector<std::thread> clerks;
    for (int c = 0; c < concurrency; ++c) {
      clerks.emplace_back([&] {
        for (size_t i = next++; i < n && !failed; i = next++) {
          const Clock::time_point at = Clock::now();
          const std::string id = send(i);
          if (!id.empty()) completions.Sent(id, at);
        }
      });
    }
    for (std::thread& t : clerks) t.join();
  }
  const double send_seconds = Since(start);
  const bool all = AwaitReceipts(completions, n, 120);
  const double seconds = std::chrono::duration<double>(completions.Last() - start).count();
  const double docs_per_s = all ? static_cast<double>(n) / seconds : 0;
  // What each process spent per document, measured: what the cost model
  // below leaves out shows as the gap between the two.
  const double cpu_ms[3] = {(CpuSeconds(cluster.Pid(kSender)) - cpu_before[0]) * 1e3 / static_cast<double>(n),
                            (CpuSeconds(cluster.Pid(kReceiver)) - cpu_before[1]) * 1e3 / static_cast<double>(n),
                            (OwnCpuSeconds() - cpu_before[2]) * 1e3 / static_cast<double>(n)};
  std::vector<double> loaded = completions.LatenciesMs();
  const double signatures_made = (Counter(cluster, kSender, "congvan_signatures_total{operation=\"made\"}") +
                                  Counter(cluster, kReceiver, "congvan_signatures_total{operation=\"made\"}") -
                                  signatures_before[0]) /
                                 static_cast<double>(n);
  const double signatures_verified =
      (Counter(cluster, kSender, "congvan_signatures_total{operation=\"verified\"}") +
       Counter(cluster, kReceiver, "congvan_signatures_total{operation=\"verified\"}") - signatures_before[1]) /
      static_cast<double>(n);

  // Latency at half that rate, open loop, once the nodes have finished
  // what the full-load phase left them (flushes, compactions, the audit
  // loop's last batches): under a tenth of a core for a second, or 20 s.
  completions.Clear();
  const double settle_seconds = AwaitQuiet(
      [&] { return CpuSeconds(cluster.Pid(kSender)) + CpuSeconds(cluster.Pid(kReceiver)); }, 0.1, 20);
  const double rate = std::max(1.0, docs_per_s / 2);
  const double window = options.quick ? 3.0 : 10.0;
  const size_t paced = static_cast<size_t>(rate * window);
  next = 0;
  const Clock::time_point paced_start = Clock::now() + std::chrono::milliseconds(100);
  {
    std::vector<std::thread> clerks;
    for (int c = 0; c < concurrency; ++c) {
      clerks.emplace_back([&] {
        for (size_t i = next++; i < paced && !failed; i = next++) {
          const auto at = paced_start + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(static_cast<double>(i) / rate));
          std::this_thread::sleep_until(at);
          const std::string id = send(i);
          if (!id.empty()) completions.Sent(id, at, Clock::now());
        }
      });
    }
    for (std::thread& t : clerks) t.join();
  }
  AwaitReceipts(completions, paced, 60);
  std::vector<double> latencies = completions.LatenciesMs();
  std::vector<double> issue_ms, delivery_ms;
  completions.SplitMs(&issue_ms, &delivery_ms);
  channels.front()->StopWatch();

  // The cost model: what one document costs, from the nodes' own counters
  // (signatures) and the design (synced writes: the sender's issue, the
  // receiver's store, the sender's receipt; gRPC calls: Send and Deliver).
  const double synced_writes = 3;
  const double calls = 2;
  const double cpu_seconds = signatures_made / ceilings.value("seal_signatures_per_s", 1.0) +
                             signatures_verified / ceilings.value("seal_verifications_per_s", 1.0) +
                             calls / ceilings.value("grpc_mtls_empty_calls_per_s", 1.0);
  const double cpu_bound = 1 / cpu_seconds;
  const double disk_bound = ceilings.value("rocksdb_synced_writes_per_s", 1.0) / synced_writes;
  const double ceiling = std::min(cpu_bound, disk_bound);

  json out;
  out["docs"] = n;
  out["concurrency"] = concurrency;
  out["docs_per_s"] = docs_per_s;
  out["send_seconds"] = send_seconds;
  out["p50_ms"] = Quantile(latencies, 0.50);
  out["p99_ms"] = Quantile(latencies, 0.99);
  out["latency_split_ms"] = {{"issue_p50", Quantile(issue_ms, 0.50)},
                             {"issue_p99", Quantile(issue_ms, 0.99)},
                             {"delivery_p50", Quantile(delivery_ms, 0.50)},
                             {"delivery_p99", Quantile(delivery_ms, 0.99)}};
  out["half_rate_settle_seconds"] = settle_seconds;
  out["p99_ms_at_full_load"] = Quantile(loaded, 0.99);
  out["half_rate_docs_per_s"] = rate;
  out["half_rate_received"] = latencies.size();
  out["cost_model"] = {{"signatures_made", signatures_made},
                       {"signatures_verified", signatures_verified},
                       {"synced_writes", synced_writes},
                       {"grpc_calls", calls},
                       {"cpu_bound_docs_per_s", cpu_bound},
                       {"disk_bound_docs_per_s", disk_bound},
                       {"ceiling_docs_per_s", ceiling}};
  out["ratio_to_ceiling"] = docs_per_s / ceiling;
  const double node_cpu_ms = cpu_ms[0] + cpu_ms[1];
  const double cores = static_cast<double>(std::max(1u, std::thread::hardware_concurrency()));
  out["cpu_ms_per_doc"] = {{"sender", cpu_ms[0]},
                           {"receiver", cpu_ms[1]},
                           {"clerks", cpu_ms[2]},
                           {"model", cpu_seconds * 1e3 * cores},
                           {"nodes_bound_docs_per_s", cores * 1e3 / node_cpu_ms}};
  if (!all) out["error"] = "not every receipt arrived in 120 s";
  if (failed) out["error"] = "a send failed (stderr)";

  Row(section, "throughput", docs_per_s, "docs/s",
      std::to_string(n) + " docs, " + std::to_string(concurrency) + " clerks, 4 KiB, until the 01 receipt");
  Row(section, "p50 at half load", out["p50_ms"], "ms", std::to_string(static_cast<int>(rate)) + " docs/s paced");
  Row(section, "p99 at half load", out["p99_ms"], "ms",
      "of which until Send returned: p50 " + Fixed(out["latency_split_ms"]["issue_p50"]) + ", p99 " +
          Fixed(out["latency_split_ms"]["issue_p99"]) + "; then until the receipt: p50 " +
          Fixed(out["latency_split_ms"]["delivery_p50"]) + ", p99 " +
          Fixed(out["latency_split_ms"]["delivery_p99"]));
  Row(section, "cost per doc", signatures_made, "signed", std::to_string(signatures_verified) + " verified, 3 synced writes, 2 calls");
  Row(section, "ceiling (model)", ceiling, "docs/s",
      "cpu " + std::to_string(static_cast<int>(cpu_bound)) + ", disk " + std::to_string(static_cast<int>(disk_bound)));
  Row(section, "ratio to ceiling", out["ratio_to_ceiling"], "");
  Row(section, "CPU per doc, nodes", node_cpu_ms, "ms",
      "measured: sender " + Fixed(cpu_ms[0]) + ", receiver " + Fixed(cpu_ms[1]) + ", clerks " + Fixed(cpu_ms[2]) +
          "; the model counts " + Fixed(cpu_seconds * 1e3 * cores));
  return out;
}

}  // namespace congvan::bench
