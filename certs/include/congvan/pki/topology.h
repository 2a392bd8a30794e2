// The topology file: which agencies exist, how they hang together, and who
// works in each (format in certs/README.md, example in
// deploy/topologies/sample.toml).
#ifndef CONGVAN_PKI_TOPOLOGY_H_
#define CONGVAN_PKI_TOPOLOGY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "congvan/signer/agency_id.h"

namespace congvan::pki {

// What a person may do at their agency (shared/DESIGN.md, "Users").
enum class Role { kClerk, kLeader, kAuditor, kOperator };

// "clerk", "leader", "auditor", "operator".
std::string_view RoleName(Role role);
// INVALID_ARGUMENT for anything but the four names above.
[[nodiscard]] absl::StatusOr<Role> ParseRole(std::string_view name);

struct Agency {
  signer::AgencyId id;
  std::string name;                              // e.g. "UBND tỉnh Quảng Ninh"
  std::optional<signer::AgencyId> parent;        // the file's override, if any
  std::string address;                           // optional, free text
};

struct Person {
  std::string login;     // [a-z0-9._-]+, at most 32 characters
  signer::AgencyId agency;
  std::string name;      // e.g. "Nguyễn Văn A"
  std::string position;  // e.g. "Chủ tịch"; may be empty
  std::vector<Role> roles;
  bool token = false;    // the signing key lives on a PKCS#11 token

  bool HasRole(Role role) const;
};

// A validated topology. Immutable; thread-safe.
class Topology {
 public:
  // Reads and validates a topology file. NOT_FOUND if it cannot be read;
  // INVALID_ARGUMENT, naming the file and the entry, for bad TOML, unknown
  // keys, malformed IDs or logins, duplicates, unknown roles, a person whose
  // agency is not listed, a parent (derived or overridden) that is neither
  // listed nor the root, a root that is not listed as an agency, or names
  // too long for a certificate (64 characters).
  [[nodiscard]] static absl::StatusOr<Topology> Load(const std::string& path);
  // The same for TOML text; `source` names it in messages.
  [[nodiscard]] static absl::StatusOr<Topology> Parse(std::string_view toml, const std::string& source);

  const signer::AgencyId& root() const { return hierarchy_.root(); }
  const signer::Hierarchy& hierarchy() const { return hierarchy_; }
  // In file order.
  const std::vector<Agency>& agencies() const { return agencies_; }
  const std::vector<Person>& people() const { return people_; }

  // nullptr when absent.
  const Agency* FindAgency(const signer::AgencyId& id) const;
  const Person* FindPerson(std::string_view login) const;

 private:
  Topology(signer::Hierarchy hierarchy, std::vector<Agency> agencies, std::vector<Person> people)
      : hierarchy_(std::move(hierarchy)), agencies_(std::move(agencies)), people_(std::move(people)) {}
  signer::Hierarchy hierarchy_;
  std::vector<Agency> agencies_;
  std::vector<Person> people_;
};

}  // namespace congvan::pki

#endif  // CONGVAN_PKI_TOPOLOGY_H_
