// congvand — the congvan node an agency runs. main() only wires: flags,
// config, the log (logging.h), Node::Start, and a clean shutdown on
// SIGINT/SIGTERM.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "congvan/config/node_config.h"
#include "congvan/node/logging.h"
#include "congvan/node/node.h"

int main(int argc, char** argv) {
  CLI::App app{"congvand: the congvan node of one agency", "congvand"};
  std::string config_file;
  bool check_only = false;
  std::string log_format = "text";
  app.add_option("--config", config_file, "the node's node.toml")->required();
  app.add_flag("--check-config", check_only, "report every problem of the config and exit");
  app.add_option("--log-format", log_format, "the log on standard output: text (one line per event) or json (one "
                                             "object per line)")
      ->check(CLI::IsMember({"text", "json"}));
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
  congvan::node::ConfigureLogging({.agency = agency, .format = *congvan::node::ParseLogFormat(log_format)});
  auto node = congvan::node::Node::Start(*std::move(config));
  if (!node.ok()) {
    std::cerr << "congvand " << agency << ": " << node.status().message() << "\n";
    return 1;
  }
  std::string serving = "congvand serving peers on port " + std::to_string((*node)->peers_port()) +
                        ", people on port " + std::to_string((*node)->people_port());
  if ((*node)->metrics_port() != 0) serving += ", metrics on port " + std::to_string((*node)->metrics_port());
  if ((*node)->tsa_port() != 0) serving += ", timestamps on port " + std::to_string((*node)->tsa_port());
  spdlog::info("{}", serving);
  std::thread waiter([&signals, &node] {
    int signal = 0;
    sigwait(&signals, &signal);
    (*node)->Shutdown();
  });
  (*node)->Wait();
  waiter.join();
  spdlog::info("congvand stopped");
  return 0;
}
