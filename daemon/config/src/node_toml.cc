// Reading node.toml's tables (reference in daemon/README.md).
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "congvan/signer/key_backend.h"
#include "node_parts.h"

namespace congvan::config::internal {
namespace {

using absl::StatusCode;

constexpr int64_t kKiB = int64_t{1} << 10;
constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kGiB = int64_t{1} << 30;

TableReader Sub(const TableReader& parent, const toml::table& table, std::string_view key) {
  return TableReader(table, parent.Key(key), parent.base_dir(), parent.problems());
}

// Two listen addresses collide when they share a port on the same host or
// on every host.
bool Collide(const NetAddress& a, const NetAddress& b) {
  return a.port != 0 && a.port == b.port && (a.host == b.host || a.IsWildcard() || b.IsWildcard());
}

void ReadListen(const TableReader& top, ListenConfig* listen) {
  const toml::table* table =
      top.Table("listen", true, "a [listen] table with peers = \"host:port\" and people = \"host:port\"");
  if (table == nullptr) return;
  TableReader r = Sub(top, *table, "listen");
  r.CheckKeys({"peers", "people", "metrics"});
  if (auto a = r.Address("peers", true, true, "where other agencies' nodes connect, e.g. \"0.0.0.0:27400\"")) {
    listen->peers = *a;
  }
  if (auto a = r.Address("people", true, true, "where this agency's people connect, e.g. \"0.0.0.0:27401\"")) {
    listen->people = *a;
  }
  if (Collide(listen->peers, listen->people)) {
    r.Invalid("people", absl::StrCat("port ", listen->people.port, " is also listen.peers' port (",
                                     listen->peers.ToString(), "); give each its own port"));
  }
  std::optional<NetAddress> metrics = r.Address("metrics", false, true);
  if (!metrics.has_value()) return;
  if (!metrics->IsLoopback()) {
    // The metrics server has neither TLS nor client certificates.
    r.Invalid("metrics", "'" + metrics->ToString() +
                             "' is not a loopback address: the metrics are served over plain HTTP without "
                             "authentication, so only 127.0.0.0/8 or [::1] (e.g. \"127.0.0.1:27500\"); let a local "
                             "Prometheus or a TLS proxy scrape it");
    return;
  }
  for (const auto& [other, key] : {std::pair{&listen->peers, "peers"}, std::pair{&listen->people, "people"}}) {
    if (Collide(*other, *metrics)) {
      r.Invalid("metrics", absl::StrCat("port ", metrics->port, " is also listen.", key, "' port (", other->ToString(),
                                        "); give each its own port"));
      return;
    }
  }
  listen->metrics = *metrics;
}

void ReadTokenConfig(const TableReader& r, const std::string& path, SealConfig* seal) {
  seal->token_config_file = path;
  const std::string key = r.Key("token_config");
  if (!std::filesystem::exists(path)) {
    r.problems()->Add(StatusCode::kNotFound, key, "file " + path + " does not exist");
    return;
  }
  auto token = signer::LoadTokenConfig(path);
  if (!token.ok()) {
    r.problems()->Add(token.status().code() == StatusCode::kNotFound ? StatusCode::kNotFound
                                                                     : StatusCode::kInvalidArgument,
                      key, std::string(token.status().message()));
    return;
  }
  seal->key.token = *std::move(token);
}

void ReadSeal(const TableReader& top, SealConfig* seal) {
  const toml::table* table = top.Table(
      "seal", true, "a [seal] table with cert = \"seal.pem\" and key = \"seal.key\" or token_config = \"token.toml\"");
  if (table == nullptr) return;
  TableReader r = Sub(top, *table, "seal");
  r.CheckKeys({"cert", "key", "passphrase_file", "passphrase_env", "token_config"});
  if (auto p = r.Path("cert", true, "the seal certificate, followed by its chain (PEM)")) seal->cert_file = *p;

  const bool has_key = r.Has("key");
  const bool has_token = r.Has("token_config");
  if (has_key && has_token) {
    r.Invalid("token_config", "give either seal.key (a key file) or seal.token_config (a key on a PKCS#11 token), "
                              "not both");
  } else if (!has_key && !has_token) {
    r.Invalid("key", "is missing (the seal's key file; or seal.token_config for a key on a PKCS#11 token)");
  } else if (has_key) {
    if (auto p = r.Path("key", true)) seal->key.key_file = *p;
    const bool has_file = r.Has("passphrase_file");
    if (has_file && r.Has("passphrase_env")) {
      r.Invalid("passphrase_env", "give either seal.passphrase_file or seal.passphrase_env, not both");
    } else if (has_file) {
      if (auto p = r.Path("passphrase_file", true)) seal->key.passphrase.file = *p;
    } else if (auto env = r.String("passphrase_env", false)) {
      seal->key.passphrase.env = *env;
    }
  } else {
    for (std::string_view key : {"passphrase_file", "passphrase_env"}) {
      if (r.Has(key)) {
        r.Invalid(key, "is for seal.key only: a token's PIN is set in its token.toml");
      }
    }
    if (auto p = r.Path("token_config", true)) ReadTokenConfig(r, *p, seal);
  }
}

void ReadTls(const TableReader& top, TlsConfig* tls) {
  const toml::table* table =
      top.Table("tls", true, "a [tls] table with cert = \"tls.pem\" and key = \"tls.key\"");
  if (table == nullptr) return;
  TableReader r = Sub(top, *table, "tls");
  r.CheckKeys({"cert", "key"});
  if (auto p = r.Path("cert", true, "the node's TLS certificate, followed by its chain (PEM)")) tls->cert_file = *p;
  if (auto p = r.Path("key", true, "the TLS certificate's key, unencrypted PEM, mode 0600")) tls->key_file = *p;
}

void ReadTrust(const TableReader& top, TrustConfig* trust) {
  const toml::table* table = top.Table("trust", true, "a [trust] table with anchors = [\"root.pem\"]");
  if (table == nullptr) return;
  TableReader r = Sub(top, *table, "trust");
  r.CheckKeys({"anchors", "crls"});
  if (auto p = r.PathList("anchors", true, "the trust anchors, e.g. [\"/etc/congvan/root.pem\"]")) {
    trust->anchor_files = *p;
  }
  if (auto p = r.PathList("crls", false)) trust->crl_files = *p;
}

// Reads the peers one by one and checks each against the node itself and
// the peers before it: an agency and an address appear at most once.
class PeerReader {
 public:
  PeerReader(const TableReader& peers, const NodeParts& parts) : peers_(peers), parts_(parts) {}

  std::optional<Peer> Read(const toml::table& table, const std::string& key) {
    TableReader r(table, key, peers_.base_dir(), peers_.problems());
    r.CheckKeys({"agency", "address"});
    std::optional<signer::AgencyId> agency = r.Agency("agency", true);
    std::optional<NetAddress> address = r.Address("address", true, false, "the peer's listen.peers address");
    bool ok = agency.has_value() && address.has_value();
    if (agency.has_value()) {
      if (parts_.agency.has_value() && *agency == *parts_.agency) {
        r.Invalid("agency", agency->str() + " is this node's own agency");
        ok = false;
      } else if (auto [it, inserted] = agencies_.emplace(*agency, key); !inserted) {
        r.Invalid("agency", agency->str() + " is already configured as " + it->second + "; list each peer once");
        ok = false;
      }
    }
    if (address.has_value()) {
      if (const char* own = OwnListenKey(*address)) {
        r.Invalid("address", address->ToString() + " is this node's own " + own + " address");
        ok = false;
      } else if (auto [it, inserted] = addresses_.emplace(address->ToString(), key); !inserted) {
        r.Invalid("address", address->ToString() + " is also the address of " + it->second);
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return Peer{*std::move(agency), *std::move(address)};
  }

  void ReadList(std::string_view key, std::vector<Peer>* out, std::vector<std::string>* keys) {
    std::vector<const toml::table*> tables = peers_.TableArray(key);
    for (size_t i = 0; i < tables.size(); ++i) {
      const std::string entry_key = absl::StrCat(peers_.Key(key), "[", i + 1, "]");
      if (auto peer = Read(*tables[i], entry_key)) {
        out->push_back(*peer);
        keys->push_back(entry_key);
      }
    }
  }

 private:
  // The listen key whose address is `address`, or nullptr.
  const char* OwnListenKey(const NetAddress& address) const {
    if (address == parts_.listen.peers) return "listen.peers";
    if (address == parts_.listen.people) return "listen.people";
    if (address == parts_.listen.metrics) return "listen.metrics";
    return nullptr;
  }

  const TableReader& peers_;
  const NodeParts& parts_;
  std::map<signer::AgencyId, std::string> agencies_;  // -> the key of its entry
  std::map<std::string, std::string> addresses_;
};

void ReadPeers(const TableReader& top, NodeParts* parts) {
  const toml::table* table = top.Table("peers", false);
  if (table == nullptr) return;
  TableReader r = Sub(top, *table, "peers");
  r.CheckKeys({"parent", "children", "direct"});
  PeerReader reader(r, *parts);
  parts->parent_given = r.Has("parent");
  if (const toml::table* parent = r.Table("parent", false)) {
    parts->peers.parent = reader.Read(*parent, r.Key("parent"));
  }
  reader.ReadList("children", &parts->peers.children, &parts->child_keys);
  reader.ReadList("direct", &parts->peers.direct, &parts->direct_keys);
}

void ReadPeople(const TableReader& top, std::vector<PersonConfig>* people) {
  std::vector<const toml::table*> tables = top.TableArray("people");
  std::set<std::string> seen;
  for (size_t i = 0; i < tables.size(); ++i) {
    const std::string key = absl::StrCat(top.Key("people"), "[", i + 1, "]");
    TableReader r(*tables[i], key, top.base_dir(), top.problems());
    r.CheckKeys({"login", "roles"});
    PersonConfig person;
    bool ok = true;
    if (auto login = r.String("login", true, "the person's login, as in their TLS certificate")) {
      if (!IsLogin(*login)) {
        r.Invalid("login", "'" + *login + "' must be 1 to 32 characters from a-z, 0-9, '.', '_' and '-'");
        ok = false;
      } else if (!seen.insert(*login).second) {
        r.Invalid("login", "'" + *login + "' is listed twice; give each person one entry with all their roles");
        ok = false;
      }
      person.login = *login;
    } else {
      ok = false;
    }
    const toml::node* roles = tables[i]->get("roles");
    const toml::array* array = roles == nullptr ? nullptr : roles->as_array();
    if (array == nullptr || array->empty()) {
      r.Invalid("roles", std::string(roles == nullptr ? "is missing" : "must be a non-empty list") +
                             " (one or more of \"clerk\", \"leader\", \"auditor\", \"operator\", e.g. [\"clerk\"])");
      ok = false;
    } else {
      for (const toml::node& item : *array) {
        auto role = item.is_string() ? ParseRole(item.as_string()->get())
                                     : absl::StatusOr<Role>(absl::InvalidArgumentError("roles are strings"));
        if (!role.ok()) {
          r.Invalid("roles", std::string(role.status().message()));
          ok = false;
        } else if (person.HasRole(*role)) {
          r.Invalid("roles", "role '" + std::string(RoleName(*role)) + "' is listed twice");
          ok = false;
        } else {
          person.roles.push_back(*role);
        }
      }
    }
    if (ok) people->push_back(std::move(person));
  }
}

void ReadLimits(const TableReader& top, Limits* limits) {
  const toml::table* table = top.Table("limits", false);
  if (table == nullptr) return;
  TableReader r = Sub(top, *table, "limits");
  r.CheckKeys({"max_message_bytes", "max_parts", "chunk_bytes", "max_header_bytes"});
  const auto message = r.Bytes("max_message_bytes", kKiB, 64 * kGiB);
  const auto parts = r.Integer("max_parts", 1, 10000);
  const auto chunk = r.Bytes("chunk_bytes", kKiB, 16 * kMiB);
  const auto header = r.Bytes("max_header_bytes", kKiB, 64 * kMiB);
  if (message) limits->max_message_bytes = *message;
  if (parts) limits->max_parts = static_cast<int>(*parts);
  if (chunk) limits->chunk_bytes = *chunk;
  if (header) limits->max_header_bytes = *header;
  if (chunk && limits->chunk_bytes > limits->max_message_bytes) {
    r.Invalid("chunk_bytes", absl::StrCat("(", FormatBytes(limits->chunk_bytes), ") is larger than ",
                                          "limits.max_message_bytes (", FormatBytes(limits->max_message_bytes), ")"));
  }
  if (header && limits->max_header_bytes > limits->max_message_bytes) {
    r.Invalid("max_header_bytes", absl::StrCat("(", FormatBytes(limits->max_header_bytes), ") is larger than ",
                                               "limits.max_message_bytes (", FormatBytes(limits->max_message_bytes),
                                               ")"));
  }
}

void ReadRetry(const TableReader& top, RetryPolicy* retry) {
  const toml::table* table = top.Table("retry", false);
  if (table == nullptr) return;
  TableReader r = Sub(top, *table, "retry");
  r.CheckKeys({"initial_backoff", "max_backoff", "delivery_deadline", "probe_interval"});
  const auto initial = r.Duration("initial_backoff");
  const auto max = r.Duration("max_backoff");
  const auto deadline = r.Duration("delivery_deadline");
  if (initial) retry->initial_backoff = *initial;
  if (max) retry->max_backoff = *max;
  if (deadline) retry->delivery_deadline = *deadline;
  if (const auto probe = r.Duration("probe_interval")) retry->probe_interval = *probe;
  if ((initial || max) && retry->max_backoff < retry->initial_backoff) {
    r.Invalid(max ? "max_backoff" : "initial_backoff",
              "retry.max_backoff (" + absl::FormatDuration(retry->max_backoff) +
                  ") is shorter than retry.initial_backoff (" + absl::FormatDuration(retry->initial_backoff) + ")");
  }
}

void ReadAudit(const TableReader& top, AuditConfig* audit) {
  const toml::table* table = top.Table("audit", false);
  if (table == nullptr) return;
  TableReader r = Sub(top, *table, "audit");
  r.CheckKeys({"tree_head_interval", "tsa", "tsa_alarm_after"});
  if (const auto interval = r.Duration("tree_head_interval")) audit->tree_head_interval = *interval;
  if (const auto alarm = r.Duration("tsa_alarm_after")) audit->tsa_alarm_after = *alarm;
  if (auto url = r.String("tsa", false)) {
    if (url->rfind("https://", 0) != 0 || url->size() <= 8) {
      r.Invalid("tsa", "'" + *url + "' is not an https:// URL (the time-stamping authority, e.g. "
                                   "\"https://tsa.example.gov.vn:27700/\")");
    } else {
      audit->tsa_url = *url;
    }
  }
}

void ReadTsa(const TableReader& top, NodeParts* parts) {
  const toml::table* table = top.Table("tsa", false);
  if (table == nullptr) return;
  TableReader r = Sub(top, *table, "tsa");
  r.CheckKeys({"listen", "cert", "key"});
  TsaConfig tsa;
  auto listen = r.Address("listen", true, true, "where nodes ask for timestamps, e.g. \"0.0.0.0:27700\"");
  auto cert = r.Path("cert", true, "the TSA certificate, followed by its chain (PEM)");
  auto key = r.Path("key", true, "the TSA's key file");
  if (!listen || !cert || !key) return;
  for (const auto& [other, name] : {std::pair{&parts->listen.peers, "peers"}, std::pair{&parts->listen.people, "people"}}) {
    if (Collide(*other, *listen)) {
      r.Invalid("listen", absl::StrCat("port ", listen->port, " is also listen.", name, "' port (", other->ToString(),
                                       "); give each its own port"));
      return;
    }
  }
  if (parts->listen.metrics.has_value() && Collide(*parts->listen.metrics, *listen)) {
    r.Invalid("listen", absl::StrCat("port ", listen->port, " is also listen.metrics' port"));
    return;
  }
  parts->tsa = TsaConfig{*listen, *cert, *key};
}

void ReadOperations(const TableReader& top, OperationsConfig* operations) {
  const toml::table* table = top.Table("operations", false);
  if (table == nullptr) return;
  TableReader r = Sub(top, *table, "operations");
  r.CheckKeys({"certificate_warning_days"});
  if (const auto days = r.Integer("certificate_warning_days", 1, 3650)) {
    operations->certificate_warning_days = static_cast<int>(*days);
  }
}

}  // namespace

bool IsLogin(std::string_view login) {
  return !login.empty() && login.size() <= 32 && std::all_of(login.begin(), login.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
         });
}

void ReadNodeToml(const TomlFile& file, NodeParts* parts, Problems* problems) {
  const TableReader top(file.table, "", file.dir, problems);
  top.CheckKeys({"agency", "agency_name", "data_dir", "topology", "listen", "seal", "tls", "trust", "peers", "people",
                 "limits", "retry", "audit", "tsa", "operations"});
  parts->agency = top.Agency("agency", true);
  parts->agency_name = top.String("agency_name", false).value_or("");
  ReadListen(top, &parts->listen);
  ReadSeal(top, &parts->seal);
  ReadTls(top, &parts->tls);
  ReadTrust(top, &parts->trust);
  parts->data_dir = top.Path("data_dir", true, "where the node keeps its database, e.g. \"/var/lib/congvan\"")
                        .value_or("");
  parts->topology_file =
      top.Path("topology", true, "the topology file: the directory of agencies and their hierarchy").value_or("");
  ReadPeers(top, parts);
  ReadPeople(top, &parts->people);
  ReadLimits(top, &parts->limits);
  ReadRetry(top, &parts->retry);
  ReadAudit(top, &parts->audit);
  ReadTsa(top, parts);
  ReadOperations(top, &parts->operations);
}

}  // namespace congvan::config::internal
