// LoadNodeConfig and CheckNodeConfig: read node.toml, then check what it
// names (node_toml.cc, node_checks.cc).
#include "congvan/config/node_config.h"

#include <algorithm>

#include "node_parts.h"

namespace congvan::config {
namespace {


struct Analysis {
  std::string file;
  std::optional<NodeConfig> config;  // set when there is no problem
  std::vector<ConfigProblem> problems;
};

Analysis Analyze(const std::string& path) {
  Analysis result{path, std::nullopt, {}};
  internal::Problems problems;
  std::optional<internal::TomlFile> file = internal::ParseTomlFile(path, &problems);
  if (!file.has_value()) {
    result.problems = problems.Take();
    return result;
  }
  result.file = file->path;
  internal::NodeParts parts;
  internal::ReadNodeToml(*file, &parts, &problems);
  internal::CheckNodeParts(parts, &problems);
  if (problems.empty()) {
    result.config = NodeConfig{
        .agency = *std::move(parts.agency),
        .agency_name = std::move(parts.agency_name),
        .listen = std::move(parts.listen),
        .seal = std::move(parts.seal),
        .tls = std::move(parts.tls),
        .trust = std::move(parts.trust),
        .data_dir = std::move(parts.data_dir),
        .topology_file = std::move(parts.topology_file),
        .peers = std::move(parts.peers),
        .people = std::move(parts.people),
        .limits = parts.limits,
        .retry = parts.retry,
        .audit = parts.audit,
        .tsa = parts.tsa,
        .operations = parts.operations,
        .source_file = file->path,
    };
  }
  result.problems = problems.Take();
  return result;
}

}  // namespace

bool PersonConfig::HasRole(Role role) const { return std::find(roles.begin(), roles.end(), role) != roles.end(); }

const Peer* PeersConfig::Find(const signer::AgencyId& agency) const {
  if (parent.has_value() && parent->agency == agency) return &*parent;
  for (const std::vector<Peer>* list : {&children, &direct}) {
    for (const Peer& peer : *list) {
      if (peer.agency == agency) return &peer;
    }
  }
  return nullptr;
}

const PersonConfig* NodeConfig::FindPerson(std::string_view login) const {
  for (const PersonConfig& person : people) {
    if (person.login == login) return &person;
  }
  return nullptr;
}

absl::StatusOr<NodeConfig> LoadNodeConfig(const std::string& path) {
  Analysis analysis = Analyze(path);
  if (!analysis.problems.empty()) return ProblemsToStatus(analysis.file, analysis.problems);
  return *std::move(analysis.config);
}

std::vector<ConfigProblem> CheckNodeConfig(const std::string& path) { return Analyze(path).problems; }

}  // namespace congvan::config
