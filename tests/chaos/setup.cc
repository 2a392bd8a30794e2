// The run's set-up: the topology with its auditors, the proxies on the
// links of the tree, and the plan of documents.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "chaos.h"
#include "testing/temp_dir.h"

namespace congvan::chaos {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "chaos: %s\n", what.c_str());
  std::exit(2);
}

// The quoted value of a `key = "value"` line, or "" for another key.
std::string Value(const std::string& line, const std::string& key) {
  const size_t start = line.find_first_not_of(" \t");
  if (start == std::string::npos || line.compare(start, key.size(), key) != 0) return "";
  const size_t eq = line.find('=', start + key.size());
  if (eq == std::string::npos || line.find_first_not_of(" \t", start + key.size()) != eq) return "";
  const size_t open = line.find('"', eq);
  if (open == std::string::npos) return "";
  return line.substr(open + 1, line.find('"', open + 1) - open - 1);
}

// "[[peers.children]]   # comment" -> "[[peers.children]]".
std::string TableOf(const std::string& line) {
  const size_t start = line.find_first_not_of(" \t");
  if (start == std::string::npos || line[start] != '[') return "";
  const size_t end = line.find_first_not_of('[', start);
  const size_t close = line.find(']', end);
  return line.substr(start, close - start + (end - start));
}

}  // namespace

std::vector<Agency> WriteTopology(const std::string& path) {
  const std::string sample = testing::ReadTestFile(std::string(CONGVAN_SOURCE_DIR) + "/deploy/topologies/sample.toml");
  std::vector<Agency> agencies;
  std::istringstream in(sample);
  std::string line, table, login, agency, roles;
  auto end_person = [&] {
    for (Agency& a : agencies) {
      if (a.id != agency) continue;
      if (roles.find("\"clerk\"") != std::string::npos && a.clerk.empty()) a.clerk = login;
      if (roles.find("\"leader\"") != std::string::npos && a.leader.empty()) a.leader = login;
      if (roles.find("\"auditor\"") != std::string::npos && a.auditor.empty()) a.auditor = login;
    }
    login = agency = roles = "";
  };
  while (std::getline(in, line)) {
    if (const std::string t = TableOf(line); !t.empty()) {
      if (table == "[[person]]") end_person();
      table = t;
      continue;
    }
    if (table == "[[agency]]" && !Value(line, "id").empty()) agencies.push_back({.id = Value(line, "id")});
    if (table == "[[person]]") {
      if (!Value(line, "login").empty()) login = Value(line, "login");
      if (!Value(line, "agency").empty()) agency = Value(line, "agency");
      if (line.find("roles") != std::string::npos) roles = line;
    }
  }
  if (table == "[[person]]") end_person();

  std::string topology = sample + "\n# ---- added by tests/chaos: an auditor at every agency, for its log and exports\n";
  int n = 0;
  for (Agency& a : agencies) {
    if (a.clerk.empty() || a.leader.empty()) Die("the sample topology has no clerk or no leader at " + a.id);
    if (!a.auditor.empty()) continue;
    a.auditor = "auditor-chaos-" + std::to_string(++n);
    topology += "\n[[person]]\nlogin = \"" + a.auditor + "\"\nagency = \"" + a.id +
                "\"\nname = \"Kiểm tra viên " + std::to_string(n) + "\"\nroles = [\"auditor\"]\n";
  }
  testing::WriteTestFile(path, topology);
  return agencies;
}

std::map<std::string, std::unique_ptr<LinkProxy>> InterposeProxies(const testing::Cluster& cluster,
                                                                   std::vector<Agency>& agencies) {
  std::map<std::string, Agency*> by_id;
  for (Agency& a : agencies) by_id[a.id] = &a;
  // First the ports and parents, as pki init wrote them.
  for (Agency& a : agencies) {
    std::istringstream in(testing::ReadTestFile(cluster.NodeConfig(a.id)));
    std::string line, table;
    while (std::getline(in, line)) {
      if (const std::string t = TableOf(line); !t.empty()) table = t;
      const std::string peers = Value(line, "peers");
      if (table == "[listen]" && !peers.empty()) a.peers_port = std::stoi(peers.substr(peers.rfind(':') + 1));
      if (table == "[peers.parent]" && !Value(line, "agency").empty()) a.parent = Value(line, "agency");
    }
    if (a.peers_port == 0) Die(cluster.NodeConfig(a.id) + " has no listen.peers");
  }
  std::map<std::string, std::unique_ptr<LinkProxy>> proxies;
  for (const Agency& a : agencies) {
    if (a.parent.empty()) continue;
    if (by_id.count(a.parent) == 0) Die(a.id + "'s parent " + a.parent + " is not in the topology");
    for (const auto& [name, port] : {std::pair{a.id + ">" + a.parent, by_id[a.parent]->peers_port},
                                     std::pair{a.parent + ">" + a.id, a.peers_port}}) {
      auto proxy = LinkProxy::Start(port);
      if (!proxy.ok()) Die(proxy.status().ToString());
      proxies[name] = *std::move(proxy);
    }
  }
  // Then each end of each link dials its proxy.
  for (const Agency& a : agencies) {
    std::istringstream in(testing::ReadTestFile(cluster.NodeConfig(a.id)));
    std::string line, table, peer, out;
    int rewritten = 0;
    while (std::getline(in, line)) {
      if (const std::string t = TableOf(line); !t.empty()) {
        table = t;
        peer = "";
      }
      if (table == "[peers.parent]" || table == "[[peers.children]]") {
        if (!Value(line, "agency").empty()) peer = Value(line, "agency");
        if (!Value(line, "address").empty()) {
          const auto it = proxies.find(a.id + ">" + peer);
          if (peer.empty() || it == proxies.end()) Die(cluster.NodeConfig(a.id) + ": an address before its agency");
          line = "address = \"127.0.0.1:" + std::to_string(it->second->port()) + "\"   # tests/chaos: the link's proxy";
          ++rewritten;
        }
      }
      out += line + "\n";
    }
    const size_t links = std::count_if(agencies.begin(), agencies.end(),
                                       [&](const Agency& b) { return b.parent == a.id; }) +
                         (a.parent.empty() ? 0 : 1);
    if (static_cast<size_t>(rewritten) != links) {
      Die(cluster.NodeConfig(a.id) + ": " + std::to_string(rewritten) + " peer addresses for " +
          std::to_string(links) + " links");
    }
    testing::WriteTestFile(cluster.NodeConfig(a.id), out);
  }
  return proxies;
}

std::vector<Document> PlanDocuments(const Options& options, const testing::Cluster& cluster,
                                    const std::vector<Agency>& agencies) {
  std::mt19937_64 random(options.seed);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(random); };
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(random) < p; };
  std::map<std::string, std::unique_ptr<testing::LeaderKey>> keys;
  for (const Agency& a : agencies) {
    auto key = testing::LeaderKey::Open(cluster.Person(a.leader));
    if (!key.ok()) Die("the key of " + a.leader + ": " + key.status().ToString());
    keys[a.id] = *std::move(key);
  }
  const int n = static_cast<int>(agencies.size());
  std::vector<Document> documents(static_cast<size_t>(options.documents));
  for (int i = 0; i < options.documents; ++i) {
    Document& d = documents[static_cast<size_t>(i)];
    d.index = i;
    const Agency& sender = agencies[static_cast<size_t>(uniform(0, n - 1))];
    d.sender = sender.id;
    std::vector<std::string> others;
    for (const Agency& a : agencies) {
      if (a.id != sender.id) others.push_back(a.id);
    }
    std::shuffle(others.begin(), others.end(), random);
    // Mostly one recipient; some several across the hierarchy; some broadcasts.
    const double kind = std::uniform_real_distribution<double>(0, 1)(random);
    const int count = kind < 0.6 ? 1 : kind < 0.88 ? uniform(2, 4) : uniform(7, n - 1);
    d.recipients.assign(others.begin(), others.begin() + count);
    std::sort(d.recipients.begin(), d.recipients.end());
    if (chance(options.annex_share)) d.annex_bytes = static_cast<uint64_t>(uniform(1, 4)) << 20;
    std::string main = "Công văn kiểm thử #" + std::to_string(i) + " của " + sender.id + " gửi " +
                       std::to_string(count) + " cơ quan.\n";
    std::mt19937 filler(static_cast<unsigned>(i) ^ static_cast<unsigned>(options.seed));
    while (main.size() < 4096) main += static_cast<char>('a' + filler() % 26);
    auto prepared = keys[sender.id]->Prepare(std::move(main), "Kiểm thử hỗn loạn #" + std::to_string(i));
    if (!prepared.ok()) Die("signing document " + std::to_string(i) + ": " + prepared.status().ToString());
    d.prepared = *std::move(prepared);
  }
  return documents;
}

}  // namespace congvan::chaos
