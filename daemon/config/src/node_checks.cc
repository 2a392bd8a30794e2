// CheckNodeParts: what node.toml says against the files it names:
// certificates, keys, secrets, the data directory, the topology.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "congvan/pki/topology.h"
#include "file_checks.h"
#include "node_parts.h"

namespace congvan::config::internal {
namespace {

using absl::StatusCode;
using signer::KeyPurpose;

void CheckSeal(const NodeParts& parts, const std::vector<signer::Certificate>& anchors, Problems* problems) {
  const SealConfig& seal = parts.seal;
  std::optional<std::vector<signer::Certificate>> certs;
  if (!seal.cert_file.empty()) {
    certs = LoadCertificateFile("seal.cert", seal.cert_file, problems);
    if (certs.has_value()) {
      if (parts.agency.has_value()) CheckIdentity("seal.cert", certs->front(), *parts.agency, std::nullopt, problems);
      CheckChain("seal.cert", *certs, anchors, {KeyPurpose::kDocumentSigning}, "trust.anchors", problems);
    }
  }
  if (!seal.key.key_file.empty()) {
    const bool readable = CheckReadableFile("seal.key", seal.key.key_file, problems) &&
                          CheckPrivateMode("seal.key", seal.key.key_file, problems);
    const std::string secret_key = seal.key.passphrase.file.empty() ? "seal.passphrase_env" : "seal.passphrase_file";
    const bool secret = CheckSecretSource(secret_key, seal.key.passphrase, problems);
    if (readable && secret && certs.has_value()) {
      CheckKeyFile("seal.key", seal.key.key_file, seal.key.passphrase, certs->front(), "seal.cert", problems);
    }
  }
  if (seal.key.token.has_value()) {
    // The token itself is opened by the node at start-up, not here: opening
    // it loads the module into this process and may count a PIN attempt.
    const signer::TokenConfig& token = *seal.key.token;
    if (!std::filesystem::exists(token.module)) {
      problems->Add(StatusCode::kNotFound, "seal.token_config",
                    "the PKCS#11 module " + token.module + " named in " + seal.token_config_file + " does not exist");
    }
    CheckSecretSource("seal.token_config", token.pin, problems);
  }
}

void CheckTls(const NodeParts& parts, const std::vector<signer::Certificate>& anchors, Problems* problems) {
  std::optional<std::vector<signer::Certificate>> certs;
  if (!parts.tls.cert_file.empty()) {
    certs = LoadCertificateFile("tls.cert", parts.tls.cert_file, problems);
    if (certs.has_value()) {
      if (parts.agency.has_value()) CheckIdentity("tls.cert", certs->front(), *parts.agency, std::nullopt, problems);
      // A node is a TLS server to its children and people, and a client
      // of its parent.
      CheckChain("tls.cert", *certs, anchors, {KeyPurpose::kTlsServer, KeyPurpose::kTlsClient}, "trust.anchors",
                 problems);
    }
  }
  if (!parts.tls.key_file.empty() && CheckReadableFile("tls.key", parts.tls.key_file, problems) &&
      CheckPrivateMode("tls.key", parts.tls.key_file, problems) && certs.has_value()) {
    CheckKeyFile("tls.key", parts.tls.key_file, {}, certs->front(), "tls.cert", problems);
  }
}

void CheckTsa(const NodeParts& parts, const std::vector<signer::Certificate>& anchors, Problems* problems) {
  if (!parts.tsa.has_value()) return;
  std::optional<std::vector<signer::Certificate>> certs = LoadCertificateFile("tsa.cert", parts.tsa->cert_file, problems);
  if (certs.has_value()) {
    if (parts.agency.has_value()) CheckIdentity("tsa.cert", certs->front(), *parts.agency, std::nullopt, problems);
    CheckChain("tsa.cert", *certs, anchors, {KeyPurpose::kTimestamping}, "trust.anchors", problems);
  }
  if (CheckReadableFile("tsa.key", parts.tsa->key_file, problems) &&
      CheckPrivateMode("tsa.key", parts.tsa->key_file, problems) && certs.has_value()) {
    CheckKeyFile("tsa.key", parts.tsa->key_file, {}, certs->front(), "tsa.cert", problems);
  }
}

void CheckDataDir(const std::string& data_dir, Problems* problems) {
  if (data_dir.empty()) return;
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(data_dir, ec);
  if (status.type() == fs::file_type::not_found) {
    const std::string parent = fs::path(data_dir).parent_path().string();
    if (!fs::is_directory(parent, ec)) {
      problems->Add(StatusCode::kNotFound, "data_dir",
                    data_dir + " does not exist and cannot be created: its parent " + parent +
                        " is not an existing directory");
    } else if (access(parent.c_str(), W_OK | X_OK) != 0) {
      problems->Add(StatusCode::kFailedPrecondition, "data_dir",
                    data_dir + " does not exist and cannot be created: " + parent + " is not writable (" +
                        std::strerror(errno) + ")");
    }
    return;
  }
  if (status.type() != fs::file_type::directory) {
    problems->Add(StatusCode::kFailedPrecondition, "data_dir", data_dir + " exists and is not a directory");
  } else if (access(data_dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    problems->Add(StatusCode::kFailedPrecondition, "data_dir",
                  data_dir + " is not writable by this user (" + std::strerror(errno) + ")");
  }
}

// The topology lists this agency and every peer, and puts this node where
// peers.parent and peers.children say: routing relies on both agreeing.
void CheckTopology(const NodeParts& parts, Problems* problems) {
  if (parts.topology_file.empty() || !CheckReadableFile("topology", parts.topology_file, problems)) return;
  auto topology = pki::Topology::Load(parts.topology_file);
  if (!topology.ok()) {
    problems->Invalid("topology", std::string(topology.status().message()));
    return;
  }
  if (!parts.agency.has_value()) return;
  const signer::AgencyId& own = *parts.agency;
  if (topology->FindAgency(own) == nullptr) {
    problems->Add(StatusCode::kFailedPrecondition, "topology",
                  "this node's agency " + own.str() + " is not listed in " + parts.topology_file);
    return;
  }
  const signer::Hierarchy& hierarchy = topology->hierarchy();
  auto listed = [&](const Peer& peer, const std::string& key) {
    if (topology->FindAgency(peer.agency) != nullptr) return true;
    problems->Add(StatusCode::kFailedPrecondition, key + ".agency",
                  peer.agency.str() + " is not listed in the topology " + parts.topology_file);
    return false;
  };
  const std::optional<signer::AgencyId> parent = hierarchy.ParentOf(own);
  if (parts.peers.parent.has_value()) {
    const Peer& configured = *parts.peers.parent;
    if (listed(configured, "peers.parent") && configured.agency != parent) {
      problems->Add(StatusCode::kFailedPrecondition, "peers.parent.agency",
                    parent.has_value()
                        ? "the topology puts " + own.str() + " under " + parent->str() + ", not under " +
                              configured.agency.str()
                        : own.str() + " is the topology's root: it has no parent (remove [peers.parent])");
    }
  } else if (parent.has_value() && !parts.parent_given) {
    problems->Add(StatusCode::kFailedPrecondition, "peers.parent",
                  "is missing: the topology puts " + own.str() + " under " + parent->str() +
                      " (add [peers.parent] with its agency and address)");
  }
  for (size_t i = 0; i < parts.peers.children.size(); ++i) {
    const Peer& child = parts.peers.children[i];
    const std::string& key = parts.child_keys[i];
    if (!listed(child, key)) continue;
    const std::optional<signer::AgencyId> child_parent = hierarchy.ParentOf(child.agency);
    if (child_parent != own) {
      problems->Add(StatusCode::kFailedPrecondition, key + ".agency",
                    "the topology puts " + child.agency.str() + " under " +
                        (child_parent.has_value() ? child_parent->str() : "nothing (it is the root)") +
                        ", not under " + own.str());
    }
  }
  for (size_t i = 0; i < parts.peers.direct.size(); ++i) listed(parts.peers.direct[i], parts.direct_keys[i]);
}

}  // namespace

void CheckNodeParts(const NodeParts& parts, Problems* problems) {
  const std::vector<signer::Certificate> anchors = LoadAnchors("trust.anchors", parts.trust.anchor_files, problems);
  CheckCrls("trust.crls", parts.trust.crl_files, problems);
  CheckSeal(parts, anchors, problems);
  CheckTls(parts, anchors, problems);
  CheckTsa(parts, anchors, problems);
  CheckDataDir(parts.data_dir, problems);
  CheckTopology(parts, problems);
}

}  // namespace congvan::config::internal
