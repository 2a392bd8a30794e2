// congvand's configuration: node.toml (reference in daemon/README.md).
//
// LoadNodeConfig reads and checks a node.toml and returns it with every
// default applied and every relative path resolved against the file's
// directory; CheckNodeConfig runs the same checks and returns all the
// problems it finds at once (for `congvand --check-config`).
//
// The structs are plain values. The functions only read files (and the
// environment variable of a passphrase): they may run on any thread.
#ifndef CONGVAN_CONFIG_NODE_CONFIG_H_
#define CONGVAN_CONFIG_NODE_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/config/net_address.h"
#include "congvan/config/problem.h"
#include "congvan/pki/topology.h"
#include "congvan/signer/agency_id.h"
#include "congvan/signer/key_backend.h"

namespace congvan::config {

// A person's roles at a node: the topology's roles (congvan/pki/topology.h),
// one vocabulary for the directory and the node.
using Role = pki::Role;
using pki::ParseRole;
using pki::RoleName;

// [listen]: where the node accepts connections. peers and people use
// mutual TLS; metrics is plain HTTP, so it must be a loopback address.
struct ListenConfig {
  NetAddress peers;   // other agencies' nodes (NodeService)
  NetAddress people;  // this agency's people and their software (ClerkService)
  // Prometheus' GET /metrics, on 127.0.0.0/8 or ::1. Default: none (no
  // metrics server).
  std::optional<NetAddress> metrics;
};

// [seal]: the agency's seal (con dấu): its certificate and its key, in a
// key file or on a PKCS#11 token.
struct SealConfig {
  // The seal certificate, followed by its chain (PEM).
  std::string cert_file;
  // Exactly one of key.key_file (with key.passphrase for an encrypted key)
  // and key.token is set; signer::OpenKey(key) opens it.
  signer::KeyConfig key;
  // The token.toml key.token was read from; empty for a key file.
  std::string token_config_file;
};

// [tls]: a TLS certificate (followed by its chain) and its unencrypted key.
struct TlsConfig {
  std::string cert_file;
  std::string key_file;
};

// [trust]: what certificates are checked against.
struct TrustConfig {
  // Trust anchors (PEM): the Government CA's root, or a dev PKI's ca/root.pem.
  std::vector<std::string> anchor_files;
  // CRL files (PEM or DER, several CRLs per file allowed). The node reloads
  // them when the files change.
  std::vector<std::string> crl_files;
};

// A node this node talks to directly.
struct Peer {
  signer::AgencyId agency;
  NetAddress address;  // its listen.peers address
};

// [peers]: this node's neighbours. Routing (shared/DESIGN.md, "Routing")
// goes down to children, up to the parent, or to a direct peer that
// short-cuts the tree.
struct PeersConfig {
  std::optional<Peer> parent;  // absent only at the root
  std::vector<Peer> children;
  std::vector<Peer> direct;

  // The configured peer (parent, child or direct) with this agency ID;
  // nullptr when there is none. An agency appears at most once.
  const Peer* Find(const signer::AgencyId& agency) const;
};

// [[people]]: a person allowed to use this node. Their TLS certificate must
// name this node's agency and their login.
struct PersonConfig {
  std::string login;        // [a-z0-9._-], 1 to 32 characters
  std::vector<Role> roles;  // at least one, no repeats
  bool HasRole(Role role) const;
};

// [limits]: sizes the node accepts (checked before anything is stored).
struct Limits {
  // The whole message: header plus every part. Default: 2 GiB.
  int64_t max_message_bytes = int64_t{2} << 30;
  // Parts per document. Default: 100.
  int max_parts = 100;
  // Part data per stream chunk (one gRPC message). Default: 1 MiB.
  int64_t chunk_bytes = int64_t{1} << 20;
  // A signed header (DocumentHeader plus its signatures). Default: 1 MiB.
  int64_t max_header_bytes = int64_t{1} << 20;
};

// [retry]: how deliveries to next hops are retried (exponential back-off
// with jitter, doubling from initial_backoff up to max_backoff).
struct RetryPolicy {
  // Default: 1 s.
  absl::Duration initial_backoff = absl::Seconds(1);
  // Default: 5 min.
  absl::Duration max_backoff = absl::Minutes(5);
  // After this, a delivery that has not completed becomes a visible failure.
  // Default: 24 h.
  absl::Duration delivery_deadline = absl::Hours(24);
  // How often a peer with failed deliveries is asked (gRPC health) whether
  // it is back; when it is, they are queued again with a new deadline.
  // Default: 30 s.
  absl::Duration probe_interval = absl::Seconds(30);
};

// [audit]: the node's tamper-evident log (shared/DESIGN.md "Audit log and
// evidence").
struct AuditConfig {
  // How often the node seals a new tree head when the log has new events,
  // gets it timestamped and sends it to its parent. Default: 5 s.
  absl::Duration tree_head_interval = absl::Seconds(5);
  // The time-stamping authority: RFC 3161 over HTTPS, "https://host:port/",
  // reached with this node's TLS certificate. Default: none (tree heads are
  // not timestamped, and evidence proves no time).
  std::string tsa_url;
  // A tree head still without a timestamp after this long raises an alarm
  // (an error in the log, a metric, and gRPC health NOT_SERVING for the
  // audit service). Documents are never held up. Default: 1 h.
  absl::Duration tsa_alarm_after = absl::Hours(1);
};

// [tsa]: this node is the topology's time-stamping authority (RFC 3161
// over HTTPS, clients authenticated with their TLS certificates).
struct TsaConfig {
  NetAddress listen;
  std::string cert_file;  // the TSA certificate (extendedKeyUsage timeStamping), followed by its chain
  std::string key_file;   // its key (mode 0600)
};

// [operations]: what the node tells its operators, besides its metrics.
struct OperationsConfig {
  // A certificate of the node (seal, TLS, TSA) or a trust anchor that
  // expires within this many days is a warning in the log, at start-up and
  // then once a day (an error once expired), and turns gRPC health
  // NOT_SERVING for "congvan.v1.Certificates". Default: 30.
  int certificate_warning_days = 30;
};

struct NodeConfig {
  // Required: this node's agency (mã định danh).
  signer::AgencyId agency;
  // For people and logs. Default: empty.
  std::string agency_name;
  ListenConfig listen;  // required
  SealConfig seal;      // required
  TlsConfig tls;        // required: this node's TLS identity (server and client)
  TrustConfig trust;    // anchors required; CRLs default to none
  // Required: where the node keeps its database. Created by the node if
  // missing (its parent must exist).
  std::string data_dir;
  // Required: the topology file (certs/README.md, "Topology file"): the
  // directory of agencies and their hierarchy, which routing and the
  // recipients' check use. It must list this agency and every peer, and
  // agree with peers.parent and peers.children.
  std::string topology_file;
  PeersConfig peers;                 // default: no peers
  std::vector<PersonConfig> people;  // default: nobody
  Limits limits;
  RetryPolicy retry;
  AuditConfig audit;
  std::optional<TsaConfig> tsa;  // default: not a time-stamping authority
  OperationsConfig operations;
  // The node.toml it was loaded from (absolute); empty if made in code.
  std::string source_file;

  // nullptr when `login` is not listed in people.
  const PersonConfig* FindPerson(std::string_view login) const;
};

// Reads node.toml, applies the defaults, resolves relative paths against
// the file's directory, and runs every check of CheckNodeConfig. Fails with
// the first problem found, as "<path>: <key>: <message>", and the problem's
// code (ConfigProblem). Reads files but starts nothing; the seal key on a
// token is not opened.
[[nodiscard]] absl::StatusOr<NodeConfig> LoadNodeConfig(const std::string& path);

// Every problem in node.toml at once; empty when LoadNodeConfig would
// succeed. Checks the TOML (syntax, types, unknown keys, values), then that
// the files it names exist and are usable: key and secret files mode 0600 or
// stricter, keys that belong to their certificates, the seal and TLS
// certificates issued to this agency and chaining to the trust anchors for
// their purpose, CRLs that parse, a data_dir that can be created, a topology
// that lists this agency and its peers with the same parent and children;
// and that no two addresses (listen and peers) collide, and listen.metrics
// is a loopback address.
[[nodiscard]] std::vector<ConfigProblem> CheckNodeConfig(const std::string& path);

}  // namespace congvan::config

#endif  // CONGVAN_CONFIG_NODE_CONFIG_H_
