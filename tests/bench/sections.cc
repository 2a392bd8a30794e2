// The large-document, broadcast and scale sections.
#include <atomic>
#include <fstream>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "bench.h"
#include "pair.h"

namespace congvan::bench {
namespace {

using testing::Cluster;
using testing::ClusterOptions;

// Counts the 01 receipts a watch sees, by recipient.
class ReceiptCount {
 public:
  void Add(const v1::AnswerEvent& event) {
    if (event.answer().code() != v1::STATUS_CODE_ARRIVED) return;
    absl::MutexLock lock(&mu_);
    agencies_.insert(event.agency());
  }
  size_t Count() const {
    absl::MutexLock lock(&mu_);
    return agencies_.size();
  }

 private:
  mutable absl::Mutex mu_;
  std::set<std::string> agencies_;
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

std::unique_ptr<Tree> StartTree(int provinces, int districts, int communes) {
  auto tree = std::make_unique<Tree>();
  const std::string topology = tree->dir.File("tree.toml");
  tree->communes = WriteTreeTopology(topology, provinces, districts, communes);
  tree->cluster = std::make_unique<Cluster>(ClusterOptions{.topology = topology});
  const Clock::time_point start = Clock::now();
  Must(tree->cluster->StartAll(tree->cluster->agencies()) ? absl::OkStatus() : absl::UnavailableError("see above"),
       "starting " + std::to_string(tree->cluster->agencies().size()) + " nodes");
  tree->start_seconds = Since(start);
  return tree;
}

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
  std::unique_ptr<Tree> tree = options.quick ? StartTree(1, 5, 10) : StartTree(2, 10, 25);
  Cluster& cluster = *tree->cluster;
  const auto documents = Must(PrepareDocuments(cluster.Person("leader-g12"), 1, 4096), "signing");
  auto clerk = Must(ClerkChannel::Open(cluster.Profile("clerk-g12")), "clerk");
  ReceiptCount receipts;
  Must(clerk->StartWatch([&](const v1::AnswerEvent& e) { receipts.Add(e); }), "watching");
  const Clock::time_point start = Clock::now();
  Must(clerk->Send(tree->communes, documents.front()), "sending the broadcast");
  const bool all = AwaitCount(receipts, tree->communes.size(), 300);
  const double seconds = Since(start);
  clerk->StopWatch();
  json out;
  out["nodes"] = cluster.agencies().size();
  out["recipients"] = tree->communes.size();
  out["receipts"] = receipts.Count();
  out["seconds"] = seconds;
  out["nodes_start_seconds"] = tree->start_seconds;
  if (!all) out["error"] = "not every receipt arrived in 300 s";
  Row("broadcast", "every receipt back", seconds, "s",
      std::to_string(tree->communes.size()) + " communes, " + std::to_string(cluster.agencies().size()) + " nodes");
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
