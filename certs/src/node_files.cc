#include "node_files.h"

#include <filesystem>
#include <map>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "congvan/pki/pki.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/status_macros.h"
#include "files.h"

namespace congvan::pki::internal {
namespace {

using signer::AgencyId;

constexpr char kLoopback[] = "127.0.0.1";

struct NodePorts {
  int peers;
  int people;
  int metrics;
  int tsa;  // served by the root only
};

// Text for a "# ..." comment: names come from the topology file, where a
// TOML string may hold a line break.
std::string Comment(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  return out;
}

std::string Address(int port) { return absl::StrCat(kLoopback, ":", port); }

// `file` as seen from `dir`, e.g. "../../ca/root.pem".
std::string Relative(const std::string& dir, const std::string& file) {
  return std::filesystem::path(file).lexically_relative(dir).string();
}

// A TOML string holding `file` relative to `dir`.
std::string PathValue(const std::string& dir, const std::string& file) { return TomlString(Relative(dir, file)); }

std::string TrustTables(const PkiLayout& layout, const std::string& dir) {
  return "[trust]\n"
         "anchors = [" + PathValue(dir, layout.RootCert()) + "]\n"
         "crls = [" + PathValue(dir, layout.Crl()) + "]\n";
}

std::string Roles(const Person& person) {
  std::string out;
  for (Role role : person.roles) absl::StrAppend(&out, out.empty() ? "" : ", ", TomlString(RoleName(role)));
  return "[" + out + "]";
}

std::string NodeToml(const PkiLayout& layout, const Topology& topology, const Agency& agency,
                     const std::map<AgencyId, NodePorts>& ports) {
  const std::string dir = layout.NodeDir(agency.id);
  const NodePorts& own = ports.at(agency.id);
  std::string out = absl::StrCat(
      "# congvand configuration of ", Comment(agency.name), " (", agency.id.str(), "), written by\n",
      "# `congvan pki init` for a development topology on ", kLoopback,
      ". Reference: daemon/README.md.\n"
      "# Relative paths are relative to this file's directory.\n\n",
      "agency = ", TomlString(agency.id.str()), "\n", "agency_name = ", TomlString(agency.name), "\n",
      "data_dir = ", PathValue(dir, layout.NodeDataDir(agency.id)), "\n",
      "topology = ", PathValue(dir, layout.Topology()), "\n\n",
      "[listen]\n", "peers = ", TomlString(Address(own.peers)), "    # other agencies' nodes\n",
      "people = ", TomlString(Address(own.people)), "   # this agency's people\n",
      "metrics = ", TomlString(Address(own.metrics)), "  # Prometheus, plain HTTP: loopback only\n\n",
      "[seal]\n", "cert = ", PathValue(dir, layout.SealCert(agency.id)), "\n",
      "key = ", PathValue(dir, layout.SealKey(agency.id)), "\n\n",
      "[tls]\n", "cert = ", PathValue(dir, layout.NodeTlsCert(agency.id)), "\n",
      "key = ", PathValue(dir, layout.NodeTlsKey(agency.id)), "\n\n", TrustTables(layout, dir), "\n",
      "[audit]\n", "tsa = ", TomlString("https://" + Address(ports.at(topology.root()).tsa) + "/"),
      "   # the root's time-stamping authority\n",
      "tree_head_interval = \"1s\"   # a development topology: evidence is ready a second after an event\n\n");
  if (agency.id == topology.root()) {
    absl::StrAppend(&out, "[tsa]   # this node is the topology's time-stamping authority (RFC 3161 over HTTPS)\n",
                    "listen = ", TomlString(Address(own.tsa)), "\n", "cert = ", PathValue(dir, layout.TsaCert(agency.id)),
                    "\n", "key = ", PathValue(dir, layout.TsaKey(agency.id)), "\n\n");
  }

  if (std::optional<AgencyId> parent = topology.hierarchy().ParentOf(agency.id)) {
    absl::StrAppend(&out, "[peers.parent]\n", "agency = ", TomlString(parent->str()), "\n",
                    "address = ", TomlString(Address(ports.at(*parent).peers)), "\n\n");
  }
  for (const Agency& child : topology.agencies()) {
    if (topology.hierarchy().ParentOf(child.id) != agency.id) continue;
    absl::StrAppend(&out, "[[peers.children]]   # ", Comment(child.name), "\n", "agency = ", TomlString(child.id.str()),
                    "\n", "address = ", TomlString(Address(ports.at(child.id).peers)), "\n\n");
  }
  for (const Person& person : topology.people()) {
    if (person.agency != agency.id) continue;
    absl::StrAppend(&out, "[[people]]   # ", Comment(person.name), "\n", "login = ", TomlString(person.login), "\n",
                    "roles = ", Roles(person), "\n\n");
  }
  absl::StrAppend(&out,
                  "# The defaults, for reference:\n"
                  "# [limits]\n"
                  "# max_message_bytes = \"2 GiB\"\n"
                  "# max_parts = 100\n"
                  "# chunk_bytes = \"1 MiB\"\n"
                  "# max_header_bytes = \"1 MiB\"\n"
                  "# [retry]\n"
                  "# initial_backoff = \"1s\"\n"
                  "# max_backoff = \"5m\"\n"
                  "# delivery_deadline = \"24h\"\n");
  return out;
}

std::string ProfileToml(const PkiLayout& layout, const Agency& agency, const Person& person, const NodePorts& ports) {
  const std::string dir = layout.PersonDir(person.login);
  return absl::StrCat(
      "# congvan profile of ", Comment(person.name), " (", person.login, ") at ", Comment(agency.name), ",\n",
      "# written by `congvan pki init`. Use it with `congvan --profile FILE` or\n"
      "# CONGVAN_PROFILE=FILE. Reference: daemon/README.md.\n\n",
      "login = ", TomlString(person.login), "\n", "agency = ", TomlString(agency.id.str()), "\n",
      "node = ", TomlString(Address(ports.people)), "   # the node's listen.people address\n\n",
      "[tls]\n", "cert = ", PathValue(dir, layout.PersonTlsCert(person.login)), "\n",
      "key = ", PathValue(dir, layout.PersonTlsKey(person.login)), "\n\n", TrustTables(layout, dir));
}

}  // namespace

absl::Status CheckBasePort(int base_port, size_t agencies) {
  const int64_t last = int64_t{base_port} + kPortsPerAgency * static_cast<int64_t>(agencies) - 1;
  if (base_port < 1024 || last > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "base port ", base_port, " does not fit: ", agencies, " agencies need ", kPortsPerAgency * agencies,
        " ports from the base port, all within 1024..65535 (the highest base port here is ",
        65536 - kPortsPerAgency * static_cast<int64_t>(agencies), ")"));
  }
  return absl::OkStatus();
}

absl::Status WriteNodeFiles(const PkiLayout& layout, const Topology& topology, int base_port) {
  RETURN_IF_ERROR(CheckBasePort(base_port, topology.agencies().size()));
  // Peers and people ports in pairs, as before metrics existed, so that
  // those of an existing layout do not move; then one metrics port each,
  // then one time-stamping port each (which only the root uses).
  std::map<AgencyId, NodePorts> ports;
  const int agencies = static_cast<int>(topology.agencies().size());
  for (int i = 0; i < agencies; ++i) {
    ports.emplace(topology.agencies()[static_cast<size_t>(i)].id,
                  NodePorts{base_port + 2 * i, base_port + 2 * i + 1, base_port + 2 * agencies + i,
                            base_port + 3 * agencies + i});
  }
  for (const Agency& agency : topology.agencies()) {
    RETURN_IF_ERROR(MakeDir(layout.NodeDir(agency.id)));
    RETURN_IF_ERROR(
        signer::WriteFile(layout.NodeConfig(agency.id), NodeToml(layout, topology, agency, ports), 0644));
  }
  for (const Person& person : topology.people()) {
    RETURN_IF_ERROR(signer::WriteFile(
        layout.Profile(person.login),
        ProfileToml(layout, *topology.FindAgency(person.agency), person, ports.at(person.agency)), 0644));
  }
  return absl::OkStatus();
}

}  // namespace congvan::pki::internal
