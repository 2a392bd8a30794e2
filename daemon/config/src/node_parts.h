// A node.toml as read so far: NodeConfig with an agency that may be missing,
// so that the file checks run, and report, even when the TOML has problems.
#ifndef CONGVAN_DAEMON_CONFIG_SRC_NODE_PARTS_H_
#define CONGVAN_DAEMON_CONFIG_SRC_NODE_PARTS_H_

#include <optional>
#include <string>
#include <vector>

#include "congvan/config/node_config.h"
#include "toml_reader.h"

namespace congvan::config::internal {

struct NodeParts {
  std::optional<signer::AgencyId> agency;
  std::string agency_name;
  ListenConfig listen;  // a missing address has port 0 and no host
  SealConfig seal;      // missing files are empty strings
  TlsConfig tls;
  TrustConfig trust;
  std::string data_dir;
  std::string topology_file;
  PeersConfig peers;  // without the entries that had problems
  bool parent_given = false;  // [peers.parent] is there, with or without problems
  // The key of each entry of peers.children and peers.direct in the file
  // ("peers.children[3]"), which entries with problems leave out.
  std::vector<std::string> child_keys;
  std::vector<std::string> direct_keys;
  std::vector<PersonConfig> people;
  Limits limits;
  RetryPolicy retry;
  AuditConfig audit;
  std::optional<TsaConfig> tsa;
  OperationsConfig operations;
};

// Reads node.toml's tables into `parts`, adding a problem for every key
// that is missing, unknown or wrong.
void ReadNodeToml(const TomlFile& file, NodeParts* parts, Problems* problems);

// The checks that go beyond the TOML: files, certificates, keys, addresses.
void CheckNodeParts(const NodeParts& parts, Problems* problems);

// [a-z0-9._-], 1 to 32 characters (the person URI in certificates).
bool IsLogin(std::string_view login);

}  // namespace congvan::config::internal

#endif  // CONGVAN_DAEMON_CONFIG_SRC_NODE_PARTS_H_
