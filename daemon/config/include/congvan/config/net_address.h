// A network address as written in node.toml and profile.toml: "host:port".
#ifndef CONGVAN_CONFIG_NET_ADDRESS_H_
#define CONGVAN_CONFIG_NET_ADDRESS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace congvan::config {

struct NetAddress {
  // A host name ("node.h49.gov.vn", "localhost"), an IPv4 address, or an
  // IPv6 address without its brackets ("::1"). "0.0.0.0" and "::" listen on
  // every interface.
  std::string host;
  // 1..65535; 0 (listen addresses only) lets the kernel pick a free port.
  int port = 0;

  // "host:port", or "[host]:port" for IPv6: what gRPC takes.
  std::string ToString() const;
  // "0.0.0.0", "::" or an empty host.
  bool IsWildcard() const;
  // An IPv4 address in 127.0.0.0/8 or the IPv6 address ::1: reachable only
  // from this machine. A host name is not, whatever it resolves to.
  bool IsLoopback() const;

  friend bool operator==(const NetAddress&, const NetAddress&) = default;
};

// Parses "host:port" or "[ipv6]:port". INVALID_ARGUMENT, quoting the text,
// for anything else, and for port 0 unless `allow_port_zero`.
[[nodiscard]] absl::StatusOr<NetAddress> ParseNetAddress(std::string_view text, bool allow_port_zero = false);

}  // namespace congvan::config

#endif  // CONGVAN_CONFIG_NET_ADDRESS_H_
