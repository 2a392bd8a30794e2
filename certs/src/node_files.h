// The congvand configurations and people's profiles that `congvan pki init`
// writes next to the certificates, so that a whole topology runs on
// 127.0.0.1 (format: daemon/README.md; congvan::node_config reads them, but
// congvan::pki writes the TOML itself and does not link it).
#ifndef CONGVAN_CERTS_SRC_NODE_FILES_H_
#define CONGVAN_CERTS_SRC_NODE_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "congvan/pki/layout.h"
#include "congvan/pki/topology.h"

namespace congvan::pki::internal {

// OK when base_port .. base_port + kPortsPerAgency * agencies - 1 are all ports of an
// unprivileged user (1024..65535); INVALID_ARGUMENT saying why otherwise.
[[nodiscard]] absl::Status CheckBasePort(int base_port, size_t agencies);

// Writes nodes/<ID>/node.toml for every agency (listen addresses, seal and
// TLS files, trust anchor and CRLs, data_dir nodes/<ID>/data, the copy of
// the topology, parent and children with their addresses, the agency's
// people and roles) and people/<login>/profile.toml for every person. The
// i-th of N agencies listens on 127.0.0.1:base_port+2i (peers),
// 127.0.0.1:base_port+2i+1 (people) and 127.0.0.1:base_port+2N+i (metrics).
// Paths inside the files are relative to the files, so the PKI directory may
// be moved (tokens excepted: softhsm2.conf holds absolute paths).
[[nodiscard]] absl::Status WriteNodeFiles(const PkiLayout& layout, const Topology& topology, int base_port);

}  // namespace congvan::pki::internal

#endif  // CONGVAN_CERTS_SRC_NODE_FILES_H_
