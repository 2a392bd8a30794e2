// The large-document, broadcast and scale sections.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "bench.h"
#include "pair.h"

namespace congvan::bench {
namespace {

using testing::Cluster;
using testing::ClusterOptions;

// Counts the 01 receipts a watch sees, one per document and recipient.
class ReceiptCount {
 public:
  void Add(const v1::AnswerEvent& event) {
    if (event.answer().code() != v1::STATUS_CODE_ARRIVED) return;
    absl::MutexLock lock(&mu_);
    receipts_.emplace(event.message_id(), event.agency());
  }
  size_t Count() const {
    absl::MutexLock lock(&mu_);
    return receipts_.size();
  }

 private:
  mutable absl::Mutex mu_;
  std::set<std::pair<std::string, std::string>> receipts_;
};

// A field of /proc/PID/smaps_rollup, in MiB (-1 if unreadable).
double RollupMiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  }
  return -1;
}

bool AwaitCount(const ReceiptCount& count, size_t n, double seconds) {
  return Await([&] { return count.Count() >= n; }, seconds);
}

struct Tree {
  testing::TempDir dir;
  std::vector<std::string> communes;
  std::unique_ptr<Cluster> cluster;
  double start_seconds = 0;
};

// Starts the tree; `audit_interval`, when set, replaces the dev topology's
// tree_head_interval of 1 s in every node.toml.
std::unique_ptr<Tree> StartTree(int provinces, int districts, int communes, const std::string& audit_interval = "") {
  auto tree = std::make_unique<Tree>();
  const std::string topology = tree->dir.File("tree.toml");
  tree->communes = WriteTreeTopology(topology, provinces, districts, communes);
  tree->cluster = std::make_unique<Cluster>(ClusterOptions{.topology = topology});
  if (!audit_interval.empty()) {
    for (const std::string& agency : tree->cluster->agencies()) {
      const std::string config = tree->cluster->NodeConfig(agency);
      testing::WriteTestFile(config, testing::Replace(testing::ReadTestFile(config), "tree_head_interval = \"1s\"",
                                                      "tree_head_interval = \"" + audit_interval + "\""));
    }
  }
  const Clock::time_point start = Clock::now();
  Must(tree->cluster->StartAll(tree->cluster->agencies()) ? absl::OkStatus() : absl::UnavailableError("see above"),
       "starting " + std::to_string(tree->cluster->agencies().size()) + " nodes");
  tree->start_seconds = Since(start);
  return tree;
}

// The tier of an agency of WriteTreeTopology's tree, from its ID: a
// commune's own field is not 00, nor a district's.
std::string Tier(const std::string& id) {
  if (id == "000.00.00.A00") return "root";
  if (id == "000.00.00.G12") return "ministry";
  if (id.compare(4, 2, "00") != 0) return "communes";
  if (id.compare(7, 2, "00") != 0) return "districts";
  return "provinces";
}

// The CPU seconds every node of the cluster has used so far, by tier, and
// in all ("total").
std::map<std::string, double> CpuByTier(const Cluster& cluster) {
  std::map<std::string, double> cpu;
  for (const std::string& agency : cluster.agencies()) {
    const double seconds = std::max(0.0, CpuSeconds(cluster.Pid(agency)));
    cpu[Tier(agency)] += seconds;
    cpu["total"] += seconds;
  }
  return cpu;
}

// Waits until the nodes together use less than a tenth of the machine's
// cores over a second, for up to `limit` seconds: just started, each seals
// its first heads, has the root's TSA stamp them and its parent witness
// them. Returns the seconds it waited.
double Settle(const Cluster& cluster, int cores, double limit) {
  return AwaitQuiet([&] { return CpuByTier(cluster)["total"]; }, 0.1 * cores, limit);
}

// The cores the nodes use together over `seconds`, doing nothing asked of
// them (their timers: audit, probes, retries).
double IdleCores(const Cluster& cluster, double seconds) {
  const double before = CpuByTier(cluster)["total"];
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  return (CpuByTier(cluster)["total"] - before) / seconds;
}

// With CONGVAN_BENCH_PERF=DIR, `perf record` into DIR/NAME.perf.data while
// it lives: of one node's process with call graphs (`pid`), or of the whole
// machine without (pid -1); otherwise nothing.
class PerfRecord {
 public:
  PerfRecord(pid_t pid, const std::string& name) {
    const char* dir = std::getenv("CONGVAN_BENCH_PERF");
    if (dir == nullptr || *dir == '\0') return;
    const std::string out = std::string(dir) + "/" + name + ".perf.data";
    const std::string target = std::to_string(pid);
    perf_ = fork();
    if (perf_ == 0) {
      if (pid < 0) {
        execlp("perf", "perf", "record", "-a", "-F", "199", "-q", "-o", out.c_str(), static_cast<char*>(nullptr));
      } else {
        execlp("perf", "perf", "record", "--call-graph", "dwarf,16384", "-F", "499", "-q", "-o", out.c_str(), "-p",
               target.c_str(), static_cast<char*>(nullptr));
      }
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // attached
  }
  ~PerfRecord() {
    if (perf_ <= 0) return;
    kill(perf_, SIGINT);
    int status = 0;
    waitpid(perf_, &status, 0);
  }
  PerfRecord(const PerfRecord&) = delete;
  PerfRecord& operator=(const PerfRecord&) = delete;

 private:
  pid_t perf_ = -1;
};

}  // namespace

json Large(const BenchOptions& options) {
  const uint64_t bytes = (options.quick ? uint64_t{256} : uint64_t{1024}) << 20;
  std::unique_ptr<Pair> pair = StartPair("p256");
  Cluster& cluster = *pair->cluster;
  const auto documents = Must(PrepareDocuments(cluster.Person("leader-h49"), 1, 4096), "signing");
  const Annex annex = MakeAnnex(bytes);
  auto clerk = Must(ClerkChannel::Open(cluster.Profile("clerk-h49")), "clerk");
  ReceiptCount receipts;
  Must(clerk->StartWatch([&](const v1::AnswerEvent& e) { receipts.Add(e); }), "watching");
  const Clock::time_point start = Clock::now();
  Must(clerk->Send({kReceiver}, documents.front(), &annex), "sending the large document");
  const double sent = Since(start);
  const bool arrived = AwaitCount(receipts, 1, 600);
  const double seconds = Since(start);
  clerk->StopWatch();
  json out;
  out["bytes"] = bytes;
  out["seconds"] = seconds;
  out["send_seconds"] = sent;
  out["mb_per_s"] = arrived ? static_cast<double>(bytes) / 1e6 / seconds : 0;
  out["peak_rss_mb"] = {{"sender", cluster.PeakRssMiB(kSender)}, {"receiver", cluster.PeakRssMiB(kReceiver)}};
  if (!arrived) out["error"] = "no receipt in 600 s";
  const std::string what = std::to_string(bytes >> 20) + " MiB part";
  Row("large", "end to end", out["mb_per_s"], "MB/s", what + ", Send until the 01 receipt");
  Row("large", "sender peak RSS", out["peak_rss_mb"]["sender"], "MiB");
  Row("large", "receiver peak RSS", out["peak_rss_mb"]["receiver"], "MiB");
  return out;
}

json Broadcast(const BenchOptions& options) {
  // The production default audit interval (node_config.h), not the dev
  // topology's 1 s: with 1 s every node on the way seals, stamps and has
  // its head witnessed each second of the broadcast.
  const std::string interval = "5s";
  std::unique_ptr<Tree> tree = options.quick ? StartTree(1, 5, 10, interval) : StartTree(2, 10, 25, interval);
  Cluster& cluster = *tree->cluster;
  const double settle_seconds = Settle(cluster, options.threads, options.quick ? 30 : 120);
  const double idle_cores = IdleCores(cluster, 5);
  const auto documents = Must(PrepareDocuments(cluster.Person("leader-g12"), 2, 4096), "signing");
  auto clerk = Must(ClerkChannel::Open(cluster.Profile("clerk-g12")), "clerk");
  ReceiptCount receipts;
  Must(clerk->StartWatch([&](const v1::AnswerEvent& e) { receipts.Add(e); }), "watching");
  const size_t n = tree->communes.size();
  std::map<std::string, double> cpu = CpuByTier(cluster);
  bool all = false;
  double seconds = 0;
  {
    // The root relays to the provinces and stamps every node's heads; the
    // first district and commune stand for their tiers.
    PerfRecord root(cluster.Pid("000.00.00.A00"), "broadcast-root");
    PerfRecord district(cluster.Pid("000.00.01.H51"), "broadcast-district");
    PerfRecord commune(cluster.Pid(tree->communes.front()), "broadcast-commune");
    PerfRecord machine(-1, "broadcast-all");
    const Clock::time_point start = Clock::now();
    Must(clerk->Send(tree->communes, documents[0]), "sending the broadcast");
    all = AwaitCount(receipts, n, 300);
    seconds = Since(start);
  }
  const size_t first_receipts = receipts.Count();
  for (auto& [tier, used] : CpuByTier(cluster)) cpu[tier] = used - cpu[tier];
  // The same again, once every hop's channels are open and each node's
  // first heads stamped: what a broadcast costs a tree that is running.
  Settle(cluster, options.threads, options.quick ? 15 : 60);
  const Clock::time_point again = Clock::now();
  Must(clerk->Send(tree->communes, documents[1]), "sending the second broadcast");
  const bool all_again = AwaitCount(receipts, 2 * n, 300);
  const double seconds_again = Since(again);
  clerk->StopWatch();
  json out;
  out["nodes"] = cluster.agencies().size();
  out["recipients"] = tree->communes.size();
  out["receipts"] = first_receipts;
  out["seconds"] = seconds;
  out["nodes_start_seconds"] = tree->start_seconds;
  out["settle_seconds"] = settle_seconds;
  out["tree_head_interval"] = interval;
  out["cpu_seconds"] = cpu;
  out["idle_cores"] = idle_cores;
  // Of what the machine's cores could give over the broadcast.
  out["cpu_share"] = cpu["total"] / (seconds * options.threads);
  out["seconds_second"] = seconds_again;
  if (!all || !all_again) out["error"] = "not every receipt arrived in 300 s";
  Row("broadcast", "every receipt back", seconds, "s",
      std::to_string(tree->communes.size()) + " communes, " + std::to_string(cluster.agencies().size()) + " nodes");
  Row("broadcast", "again, channels open", seconds_again, "s", "a second document to the same communes");
  Row("broadcast", "CPU of the nodes", cpu["total"], "s",
      Fixed(100 * cpu["total"] / (seconds * options.threads)) + " % of the cores; root " + Fixed(cpu["root"]) +
          ", provinces " + Fixed(cpu["provinces"]) + ", districts " + Fixed(cpu["districts"]) + ", communes " +
          Fixed(cpu["communes"]) + ", ministry " + Fixed(cpu["ministry"]) + "; idle before: " + Fixed(idle_cores) +
          " cores");
  return out;
}

json Scale(const BenchOptions& options) {
  // 200 nodes: the root, a ministry, 3 provinces of 5 districts of 12 communes.
  std::unique_ptr<Tree> tree = options.quick ? StartTree(1, 4, 8) : StartTree(3, 5, 12);
  Cluster& cluster = *tree->cluster;
  // Idle: every node has made its first tree heads and settled.
  std::this_thread::sleep_for(std::chrono::seconds(options.quick ? 3 : 5));
  // RSS counts the shared libraries' pages in every process; PSS shares
  // them out, and private memory is what each node alone holds.
  std::vector<double> rss;
  double pss = 0, private_mib = 0;
  for (const std::string& agency : cluster.agencies()) {
    rss.push_back(cluster.RssMiB(agency));
    pss += RollupMiB(cluster.Pid(agency), "Pss");
    private_mib += RollupMiB(cluster.Pid(agency), "Private_Dirty") + RollupMiB(cluster.Pid(agency), "Private_Clean");
  }
  const double count = static_cast<double>(rss.size());
  double total = 0;
  for (double r : rss) total += r;
  const double max_rss = *std::max_element(rss.begin(), rss.end());
  const double mean_rss = total / static_cast<double>(rss.size());

  // commune -> district -> province -> root -> ministry, and the receipt back.
  const auto documents = Must(PrepareDocuments(cluster.Person("leader-c001"), 1, 4096), "signing");
  auto clerk = Must(ClerkChannel::Open(cluster.Profile("clerk-c001")), "clerk");
  ReceiptCount receipts;
  Must(clerk->StartWatch([&](const v1::AnswerEvent& e) { receipts.Add(e); }), "watching");
  const Clock::time_point start = Clock::now();
  Must(clerk->Send({"000.00.00.G12"}, documents.front()), "sending across 4 hops");
  const bool back = AwaitCount(receipts, 1, 120);
  const double seconds = Since(start);
  clerk->StopWatch();
  json out;
  out["nodes"] = cluster.agencies().size();
  out["idle_rss_mb"] = mean_rss;
  out["idle_rss_mb_max"] = max_rss;
  out["idle_rss_mb_total"] = total;
  out["idle_pss_mb"] = pss / count;
  out["idle_private_mb"] = private_mib / count;
  out["hops"] = 4;
  out["seconds"] = seconds;
  out["nodes_start_seconds"] = tree->start_seconds;
  if (!back) out["error"] = "no receipt in 120 s";
  Row("scale", "nodes started", static_cast<double>(cluster.agencies().size()), "",
      "in " + std::to_string(static_cast<int>(tree->start_seconds)) + " s, one process each");
  Row("scale", "idle RSS per node", mean_rss, "MiB", "max " + std::to_string(static_cast<int>(max_rss)) + " MiB");
  Row("scale", "idle PSS per node", pss / count, "MiB", "shared library pages shared out");
  Row("scale", "idle private per node", private_mib / count, "MiB", "what each node alone holds");
  Row("scale", "4 hops and back", seconds, "s", "commune to ministry, until the 01 receipt");
  return out;
}

}  // namespace congvan::bench
