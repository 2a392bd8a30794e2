#include "testing/cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace congvan::testing {
namespace {

// Ports per agency that `pki init` gives out: peers, people, metrics
// (certs/README.md, "Node configurations and profiles").
constexpr int kPortsPerAgency = 4;  // congvan/pki/pki.h
// Clusters live in [kLowestPort, kEphemeralPorts): below Linux's default
// ephemeral range, so that no outgoing connection takes a node's port
// between the check and the node's start.
constexpr int kLowestPort = 20000;
constexpr int kEphemeralPorts = 32768;
// Shared by every test process of the machine, whatever their TMPDIR.
constexpr char kPortLockDir[] = "/tmp/congvan-test-ports";

bool PortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// Takes the lock of `port` (non-blocking); -1 when another cluster holds it.
// The kernel drops the lock when its holder dies, so a crashed test leaves
// nothing to clean up.
int LockPort(int port) {
  const std::string path = std::string(kPortLockDir) + "/" + std::to_string(port);
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return -1;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// A base port whose `count` ports are free and locked for this cluster
// (their lock files' descriptors go to `locks`).
int ReserveBasePort(int count, std::vector<int>* locks) {
  mkdir(kPortLockDir, 0777);
  chmod(kPortLockDir, 01777);  // other users' tests share it (fails harmlessly if not ours)
  const int slots = std::max(1, (kEphemeralPorts - kLowestPort) / count);
  std::mt19937 random(static_cast<unsigned>(getpid()) ^ static_cast<unsigned>(time(nullptr)));
  for (int attempt = 0; attempt < 500; ++attempt) {
    const int base = kLowestPort + static_cast<int>(random() % static_cast<unsigned>(slots)) * count;
    bool all = base + count <= 65536;
    for (int p = base; p < base + count && all; ++p) {
      const int fd = LockPort(p);
      if (fd >= 0) locks->push_back(fd);
      all = fd >= 0 && PortFree(p);
    }
    if (all) return base;
    for (int fd : *locks) close(fd);
    locks->clear();
  }
  std::cerr << "cluster: no free range of " << count << " ports\n";
  std::abort();
}

// The agency IDs of a topology file, in order: the `id` of each [[agency]]
// table. (The tests cannot link congvan::pki; the files they use are plain.)
std::vector<std::string> AgencyIds(const std::string& topology) {
  std::ifstream in(topology);
  if (!in) {
    std::cerr << "cluster: cannot read the topology " << topology << "\n";
    std::abort();
  }
  std::vector<std::string> ids;
  std::string line, table;
  while (std::getline(in, line)) {
    line.erase(0, line.find_first_not_of(" \t"));
    if (line.rfind("[", 0) == 0) {
      table = line.substr(0, line.find(']') + 2);
    } else if (table == "[[agency]]" && line.rfind("id", 0) == 0 && line.find('=') != std::string::npos) {
      const size_t open = line.find('"');
      ids.push_back(line.substr(open + 1, line.find('"', open + 1) - open - 1));
    }
  }
  return ids;
}

double StatusFieldMiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;
  }
  return -1;
}

}  // namespace

bool WaitFor(const std::function<bool()>& done, int seconds) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

Cluster::Cluster(ClusterOptions options) : pki_dir_(tmp_.File("pki")) {
  if (options.topology.empty()) options.topology = std::string(CONGVAN_SOURCE_DIR) + "/deploy/topologies/sample.toml";
  agencies_ = AgencyIds(options.topology);
  const int base = ReserveBasePort(kPortsPerAgency * static_cast<int>(agencies_.size()), &port_locks_);
  RunResult init = Run({Bin("congvan"), "pki", "init", "--topology", options.topology, "--out", pki_dir_,
                        "--key-type", options.key_type, "--base-port", std::to_string(base)});
  if (init.exit_code != 0) {
    std::cerr << "cluster: pki init failed: " << init.err << "\n";
    std::abort();
  }
}

Cluster::~Cluster() {
  for (auto& [agency, pid] : nodes_) kill(pid, SIGKILL);
  for (auto& [agency, pid] : nodes_) waitpid(pid, nullptr, 0);
  for (int fd : port_locks_) close(fd);
}

std::string Cluster::Log(const std::string& agency) const {
  std::ifstream in(tmp_.File("node-" + agency + ".log"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t Cluster::Servings(const std::string& agency) const {
  const std::string text = Log(agency);
  size_t n = 0;
  for (size_t at = text.find("serving"); at != std::string::npos; at = text.find("serving", at + 1)) ++n;
  return n;
}

pid_t Cluster::Spawn(const std::string& agency) {
  const std::string log = tmp_.File("node-" + agency + ".log");
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    // A test binary that dies (an abort, a crash) takes its nodes with it.
    // (The signal follows the forking thread: tests fork from their main one.)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(Bin("congvand").c_str(), "congvand", "--config", NodeConfig(agency).c_str(), nullptr);
    _exit(127);
  }
  nodes_[agency] = pid;
  return pid;
}

void Cluster::Start(const std::string& agency) {
  // Serving once it says so; each start appends one more line to the log.
  // A node starts in well under a second; 60 s (as StartAll allows) is for
  // a sanitized one on a machine that starts a hundred others meanwhile
  // (run.sh tsan: 15 s was once not enough, beside BroadcastLinks).
  const size_t before = Servings(agency);
  const pid_t pid = Spawn(agency);
  for (int i = 0; i < 1200; ++i) {
    if (Servings(agency) > before) return;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      nodes_.erase(agency);
      std::cerr << "cluster: congvand " << agency << " exited at start:\n" << Log(agency) << "\n";
      std::abort();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::cerr << "cluster: congvand " << agency << " did not start in 60 s:\n" << Log(agency) << "\n";
  std::abort();
}

::testing::AssertionResult Cluster::StartAll(const std::vector<std::string>& agencies) {
  std::map<std::string, size_t> before;
  for (const std::string& agency : agencies) before[agency] = Servings(agency);
  for (const std::string& agency : agencies) Spawn(agency);
  std::set<std::string> waiting(agencies.begin(), agencies.end());
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60 + static_cast<int>(agencies.size()));
  while (!waiting.empty()) {
    for (auto it = waiting.begin(); it != waiting.end();) {
      const std::string& agency = *it;
      if (Servings(agency) > before[agency]) {
        it = waiting.erase(it);
        continue;
      }
      int status = 0;
      if (waitpid(nodes_.at(agency), &status, WNOHANG) == nodes_.at(agency)) {
        nodes_.erase(agency);
        return ::testing::AssertionFailure() << "congvand " << agency << " exited at start:\n" << Log(agency);
      }
      ++it;
    }
    if (waiting.empty()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return ::testing::AssertionFailure() << waiting.size() << " of " << agencies.size()
                                           << " nodes did not start in time, e.g. " << *waiting.begin() << ":\n"
                                           << Log(*waiting.begin());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return ::testing::AssertionSuccess();
}

void Cluster::Kill(const std::string& agency) {
  auto it = nodes_.find(agency);
  if (it == nodes_.end()) return;
  kill(it->second, SIGKILL);
  waitpid(it->second, nullptr, 0);
  nodes_.erase(it);
}

void Cluster::Stop(const std::string& agency) {
  auto it = nodes_.find(agency);
  if (it == nodes_.end()) return;
  kill(it->second, SIGTERM);
  waitpid(it->second, nullptr, 0);
  nodes_.erase(it);
}

bool Cluster::Running(const std::string& agency) const { return nodes_.count(agency) != 0; }
pid_t Cluster::Pid(const std::string& agency) const { return nodes_.at(agency); }
double Cluster::RssMiB(const std::string& agency) const { return StatusFieldMiB(Pid(agency), "VmRSS"); }
double Cluster::PeakRssMiB(const std::string& agency) const { return StatusFieldMiB(Pid(agency), "VmHWM"); }

RunResult Cluster::Congvan(const std::string& login, std::vector<std::string> args) const {
  args.insert(args.begin(), Bin("congvan"));
  std::map<std::string, std::string> env;
  if (!login.empty()) env["CONGVAN_PROFILE"] = Profile(login);
  return Run(args, env);
}

std::string Cluster::Metrics(const std::string& agency) const {
  // `metrics = "127.0.0.1:PORT"  # ...` in [listen], as pki init writes it.
  std::ifstream in(NodeConfig(agency));
  std::string line, address;
  while (std::getline(in, line)) {
    if (line.rfind("metrics", 0) != 0 || line.find('=') == std::string::npos) continue;
    const size_t open = line.find('"');
    address = line.substr(open + 1, line.find('"', open + 1) - open - 1);
  }
  if (address.empty()) {
    ADD_FAILURE() << NodeConfig(agency) << " has no listen.metrics";
    return "";
  }
  RunResult r = Run({"curl", "-sS", "--fail", "--max-time", "20", "-g", "http://" + address + "/metrics"});
  if (r.exit_code != 0) {
    ADD_FAILURE() << "GET http://" << address << "/metrics of " << agency << " failed: " << r.err;
    return "";
  }
  return r.out;
}

double MetricValue(const std::string& text, const std::string& series) {
  const std::map<std::string, double> all = MetricSeries(text, series.substr(0, series.find('{')));
  const auto it = all.find(series);
  return it == all.end() ? 0 : it->second;
}

std::map<std::string, double> MetricSeries(const std::string& text, const std::string& family) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(family, 0) != 0 || line.size() <= family.size()) continue;
    const char next = line[family.size()];
    if (next != '{' && next != ' ') continue;  // another family with this prefix
    // The value follows the last space (a label value may hold spaces; the value cannot).
    const size_t space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

}  // namespace congvan::testing
