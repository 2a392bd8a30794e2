// A person's profile.toml: how the `congvan` CLI reaches the person's own
// node (reference in daemon/README.md). The CLI reads it from --profile FILE
// or from the environment variable CONGVAN_PROFILE.
#ifndef CONGVAN_CONFIG_PROFILE_H_
#define CONGVAN_CONFIG_PROFILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "congvan/config/net_address.h"
#include "congvan/config/node_config.h"
#include "congvan/config/problem.h"
#include "congvan/signer/agency_id.h"

namespace congvan::config {

// The environment variable naming the profile when --profile is not given.
inline constexpr char kProfileEnvVar[] = "CONGVAN_PROFILE";

struct Profile {
  std::string login;        // the person, as in their TLS certificate
  signer::AgencyId agency;  // their agency, whose node they use
  NetAddress node;          // the node's listen.people address
  TlsConfig tls;            // the person's TLS client certificate and key
  // Anchors the node's TLS certificate is checked against; CRLs optional.
  TrustConfig trust;
  // The profile.toml it was loaded from (absolute); empty if made in code.
  std::string source_file;
};

// Reads a profile.toml, resolving relative paths against its directory, and
// runs every check of CheckProfile; fails with the first problem, as
// LoadNodeConfig does.
[[nodiscard]] absl::StatusOr<Profile> LoadProfile(const std::string& path);

// Every problem in a profile.toml at once: the TOML, then the files (the TLS
// key mode 0600 or stricter and belonging to the certificate, which must
// name this login and agency and chain to the anchors as a TLS client).
[[nodiscard]] std::vector<ConfigProblem> CheckProfile(const std::string& path);

// Which profile to use: `flag` (--profile) when not empty, else
// `env_value` (pass std::getenv(kProfileEnvVar)) when set and not empty.
// FAILED_PRECONDITION, saying how to give one, when neither is.
[[nodiscard]] absl::StatusOr<std::string> ChooseProfilePath(const std::string& flag, const char* env_value);

}  // namespace congvan::config

#endif  // CONGVAN_CONFIG_PROFILE_H_
