// congvand — the congvan node an agency runs. main() only wires: flags,
// config, Node::Start, and a clean shutdown on SIGINT/SIGTERM.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "congvan/config/node_config.h"
#include "congvan/node/node.h"

int main(int argc, char** argv) {
  CLI::App app{"congvand: the congvan node of one agency", "congvand"};
  std::string config_file;
  bool check_only = false;
  app.add_option("--config", config_file, "the node's node.toml")->required();
  app.add_flag("--check-config", check_only, "report every problem of the config and exit");
  CLI11_PARSE(app, argc, argv);

  if (check_only) {
    auto problems = congvan::config::CheckNodeConfig(config_file);
    for (const auto& problem : problems) std::cerr << config_file << ": " << problem.ToString() << "\n";
    if (problems.empty()) std::cout << config_file << ": OK\n";
    return problems.empty() ? 0 : 1;
  }

  auto config = congvan::config::LoadNodeConfig(config_file);
  if (!config.ok()) {
    std::cerr << "congvand: " << config.status().message() << "\n";
    return 2;
  }
  // Signals are taken by a thread of ours, not by whichever thread they hit.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string agency = config->agency.str();
  auto node = congvan::node::Node::Start(*std::move(config));
  if (!node.ok()) {
    std::cerr << "congvand " << agency << ": " << node.status().message() << "\n";
    return 1;
  }
  std::cout << "congvand " << agency << ": serving peers on port " << (*node)->peers_port() << ", people on port "
            << (*node)->people_port();
  if ((*node)->metrics_port() != 0) std::cout << ", metrics on port " << (*node)->metrics_port();
  if ((*node)->tsa_port() != 0) std::cout << ", timestamps on port " << (*node)->tsa_port();
  std::cout << std::endl;
  std::thread waiter([&signals, &node] {
    int signal = 0;
    sigwait(&signals, &signal);
    (*node)->Shutdown();
  });
  (*node)->Wait();
  waiter.join();
  std::cout << "congvand " << agency << ": stopped" << std::endl;
  return 0;
}
