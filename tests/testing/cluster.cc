#include "testing/cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

namespace congvan::testing {
namespace {

constexpr int kAgencies = 12;  // deploy/topologies/sample.toml

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

int FreeBasePort() {
  std::mt19937 random(static_cast<unsigned>(getpid()) ^ static_cast<unsigned>(time(nullptr)));
  for (int attempt = 0; attempt < 200; ++attempt) {
    // Blocks of 2 x kAgencies ports between 20000 and 60000.
    int base = 20000 + static_cast<int>(random() % (40000 / (2 * kAgencies))) * 2 * kAgencies;
    bool all = true;
    for (int p = base; p < base + 2 * kAgencies && all; ++p) all = PortFree(p);
    if (all) return base;
  }
  std::cerr << "cluster: no free port range\n";
  std::abort();
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

Cluster::Cluster() : pki_dir_(tmp_.File("pki")) {
  RunResult init = Run({Bin("congvan"), "pki", "init", "--topology",
                        std::string(CONGVAN_SOURCE_DIR) + "/deploy/topologies/sample.toml", "--out", pki_dir_,
                        "--key-type", "p256", "--base-port", std::to_string(FreeBasePort())});
  if (init.exit_code != 0) {
    std::cerr << "cluster: pki init failed: " << init.err << "\n";
    std::abort();
  }
}

Cluster::~Cluster() {
  for (auto& [agency, pid] : nodes_) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
}

std::string Cluster::Log(const std::string& agency) const {
  std::ifstream in(tmp_.File("node-" + agency + ".log"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Cluster::Start(const std::string& agency) {
  const std::string log = tmp_.File("node-" + agency + ".log");
  // Serving once it says so; each start appends one more line to the log.
  auto servings = [&] {
    const std::string text = Log(agency);
    size_t n = 0;
    for (size_t at = text.find("serving"); at != std::string::npos; at = text.find("serving", at + 1)) ++n;
    return n;
  };
  const size_t before = servings();
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(Bin("congvand").c_str(), "congvand", "--config", NodeConfig(agency).c_str(), nullptr);
    _exit(127);
  }
  nodes_[agency] = pid;
  for (int i = 0; i < 300; ++i) {
    if (servings() > before) return;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      nodes_.erase(agency);
      std::cerr << "cluster: congvand " << agency << " exited at start:\n" << Log(agency) << "\n";
      std::abort();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::cerr << "cluster: congvand " << agency << " did not start in 15 s:\n" << Log(agency) << "\n";
  std::abort();
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

}  // namespace congvan::testing
