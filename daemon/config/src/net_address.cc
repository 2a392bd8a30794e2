#include "congvan/config/net_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"

namespace congvan::config {
namespace {

bool IsHostName(std::string_view host) {
  return !host.empty() && host.size() <= 253 && host.front() != '-' && host.front() != '.' &&
         std::all_of(host.begin(), host.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
         });
}

bool IsIpv6(std::string_view host) {
  return host.find(':') != std::string_view::npos && std::all_of(host.begin(), host.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
         });
}

}  // namespace

std::string NetAddress::ToString() const {
  const std::string port_text = std::to_string(port);
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port_text;
  return host + ":" + port_text;
}

bool NetAddress::IsWildcard() const { return host.empty() || host == "0.0.0.0" || host == "::"; }

bool NetAddress::IsLoopback() const {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

absl::StatusOr<NetAddress> ParseNetAddress(std::string_view text, bool allow_port_zero) {
  const std::string quoted = absl::StrCat("'", std::string(text), "'");
  const auto bad = [&] {
    return absl::InvalidArgumentError(quoted + " is not host:port (e.g. \"127.0.0.1:27400\", \"node.h49.gov.vn:27400\", "
                                               "\"[::1]:27400\")");
  };
  NetAddress address;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return bad();
    address.host = std::string(text.substr(1, close - 1));
    if (!IsIpv6(address.host)) return bad();
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad();
    address.host = std::string(text.substr(0, colon));
    if (!IsHostName(address.host)) return bad();
    port = text.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return bad();
  }
  address.port = std::stoi(std::string(port));
  if (address.port > 65535) return absl::InvalidArgumentError(quoted + ": port " + std::string(port) + " is over 65535");
  if (address.port == 0 && !allow_port_zero) {
    return absl::InvalidArgumentError(quoted + ": port 0 is only for listen addresses; give the port the node listens on");
  }
  return address;
}

}  // namespace congvan::config
