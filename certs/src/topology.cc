// Reading and validating topology files (format in certs/README.md).
#include "congvan/pki/topology.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/status_macros.h"

namespace congvan::pki {
namespace {

using signer::AgencyId;

constexpr std::array<std::string_view, 4> kRoleNames = {"clerk", "leader", "auditor", "operator"};
constexpr size_t kMaxNameChars = 64;   // ub-common-name, ub-organization-name (RFC 5280)
constexpr size_t kMaxLoginChars = 32;  // a token label holds at most 32 bytes

size_t Utf8Chars(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool IsLogin(std::string_view login) {
  return !login.empty() && std::all_of(login.begin(), login.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

// Reads the fields of one TOML table (the top level, an [[agency]] or a
// [[person]]), with errors that name the file and the entry.
class EntryReader {
 public:
  EntryReader(const toml::table& table, std::string where) : table_(table), where_(std::move(where)) {}

  absl::Status Error(const std::string& message) const {
    return absl::InvalidArgumentError(where_ + ": " + message);
  }
  // "<where>: '<key>' <message>".
  absl::Status KeyError(std::string_view key, std::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(where_, ": '", std::string(key), "' ", std::string(message)));
  }
  void Rename(std::string where) { where_ = std::move(where); }

  absl::Status CheckKeys(std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : table_) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
        std::string list;
        for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        return Error("unknown key '" + std::string(key.str()) + "' (expected one of: " + list + ")");
      }
    }
    return absl::OkStatus();
  }

  // A string field; nullopt when absent and optional.
  absl::StatusOr<std::optional<std::string>> String(std::string_view key, bool required) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) {
      if (required) return KeyError(key, "is missing");
      return std::optional<std::string>();
    }
    if (!node->is_string()) return KeyError(key, "must be a string");
    return std::optional<std::string>(node->as_string()->get());
  }

  absl::StatusOr<std::string> Name(std::string_view key, bool required) const {
    ASSIGN_OR_RETURN(std::optional<std::string> value, String(key, required));
    if (!value.has_value()) return std::string();
    if (required && value->empty()) return KeyError(key, "is empty");
    if (Utf8Chars(*value) > kMaxNameChars) {
      return KeyError(key, "is longer than 64 characters (the limit of a certificate name)");
    }
    return *value;
  }

  absl::StatusOr<AgencyId> Id(std::string_view key) const {
    ASSIGN_OR_RETURN(std::optional<std::string> text, String(key, true));
    auto id = AgencyId::Parse(*text);
    if (!id.ok()) return Error(absl::StrCat("'", std::string(key), "': ", std::string(id.status().message())));
    return *std::move(id);
  }

  absl::StatusOr<bool> Bool(std::string_view key) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return false;
    if (!node->is_boolean()) return KeyError(key, "must be true or false");
    return node->as_boolean()->get();
  }

  absl::StatusOr<std::vector<Role>> Roles(std::string_view key) const {
    const toml::node* node = table_.get(key);
    if (node == nullptr) return KeyError(key, "is missing");
    const toml::array* array = node->as_array();
    if (array == nullptr || array->empty()) {
      return KeyError(key, "must be a non-empty list such as [\"leader\"]");
    }
    std::vector<Role> roles;
    for (const toml::node& item : *array) {
      if (!item.is_string()) return KeyError(key, "must list strings");
      auto role = ParseRole(item.as_string()->get());
      if (!role.ok()) return Error(std::string(role.status().message()));
      if (std::find(roles.begin(), roles.end(), *role) != roles.end()) {
        return Error("role '" + item.as_string()->get() + "' is listed twice");
      }
      roles.push_back(*role);
    }
    return roles;
  }

 private:
  const toml::table& table_;
  std::string where_;
};

// The tables of an array of tables such as [[agency]]; empty when absent.
absl::StatusOr<std::vector<const toml::table*>> Entries(const toml::table& top, std::string_view key,
                                                        const std::string& source) {
  std::vector<const toml::table*> out;
  const toml::node* node = top.get(key);
  if (node == nullptr) return out;
  const toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": '", std::string(key), "' must be written as [[", std::string(key), "]] tables"));
  }
  for (const toml::node& item : *array) out.push_back(item.as_table());
  return out;
}

absl::StatusOr<Agency> ReadAgency(const toml::table& table, const std::string& where) {
  EntryReader reader(table, where);
  RETURN_IF_ERROR(reader.CheckKeys({"id", "name", "parent", "address"}));
  ASSIGN_OR_RETURN(AgencyId id, reader.Id("id"));
  reader.Rename(where + " (" + id.str() + ")");
  Agency agency{id, "", std::nullopt, ""};
  ASSIGN_OR_RETURN(agency.name, reader.Name("name", true));
  if (table.contains("parent")) {
    ASSIGN_OR_RETURN(agency.parent, reader.Id("parent"));
    if (*agency.parent == id) return reader.Error("an agency cannot be its own parent");
  }
  ASSIGN_OR_RETURN(std::optional<std::string> address, reader.String("address", false));
  agency.address = address.value_or("");
  return agency;
}

absl::StatusOr<Person> ReadPerson(const toml::table& table, const std::string& where) {
  EntryReader reader(table, where);
  RETURN_IF_ERROR(reader.CheckKeys({"login", "agency", "name", "position", "roles", "token"}));
  ASSIGN_OR_RETURN(std::optional<std::string> login, reader.String("login", true));
  reader.Rename(where + " ('" + *login + "')");
  if (!IsLogin(*login) || login->size() > kMaxLoginChars) {
    return reader.Error("login '" + *login + "' must be 1 to 32 characters from a-z, 0-9, '.', '_' and '-'");
  }
  ASSIGN_OR_RETURN(AgencyId agency, reader.Id("agency"));
  Person person{*login, agency, "", "", {}, false};
  ASSIGN_OR_RETURN(person.name, reader.Name("name", true));
  ASSIGN_OR_RETURN(person.position, reader.Name("position", false));
  ASSIGN_OR_RETURN(person.roles, reader.Roles("roles"));
  ASSIGN_OR_RETURN(person.token, reader.Bool("token"));
  return person;
}

// Every agency's parent must be listed (the root is listed too).
absl::StatusOr<signer::Hierarchy> BuildHierarchy(const AgencyId& root, const std::vector<Agency>& agencies,
                                                 const std::string& source) {
  std::map<AgencyId, AgencyId> overrides;
  std::set<AgencyId> listed;
  for (const Agency& a : agencies) {
    listed.insert(a.id);
    if (a.parent.has_value()) overrides.emplace(a.id, *a.parent);
  }
  if (listed.count(root) == 0) {
    return absl::InvalidArgumentError(source + ": the root " + root.str() +
                                      " must also be listed as an [[agency]] (it has a name and a node too)");
  }
  if (overrides.count(root) != 0) {
    return absl::InvalidArgumentError(source + ": [[agency]] " + root.str() +
                                      " is the root and cannot have a parent");
  }
  auto hierarchy = signer::Hierarchy::Create(root, overrides);
  if (!hierarchy.ok()) {
    return absl::InvalidArgumentError(source + ": " + std::string(hierarchy.status().message()));
  }
  for (const Agency& a : agencies) {
    std::optional<AgencyId> parent = hierarchy->ParentOf(a.id);
    if (!parent.has_value() || listed.count(*parent) != 0) continue;
    return absl::InvalidArgumentError(
        source + ": [[agency]] " + a.id.str() + ": its parent " + parent->str() +
        (a.parent.has_value() ? " (set by 'parent')" : " (derived from the ID)") +
        " is not in the topology; list it as an [[agency]] or set 'parent' to an agency that is");
  }
  return *std::move(hierarchy);
}

}  // namespace

std::string_view RoleName(Role role) { return kRoleNames[static_cast<size_t>(role)]; }

absl::StatusOr<Role> ParseRole(std::string_view name) {
  for (size_t i = 0; i < kRoleNames.size(); ++i) {
    if (kRoleNames[i] == name) return static_cast<Role>(i);
  }
  return absl::InvalidArgumentError("unknown role '" + std::string(name) +
                                    "' (expected clerk, leader, auditor or operator)");
}

bool Person::HasRole(Role role) const { return std::find(roles.begin(), roles.end(), role) != roles.end(); }

absl::StatusOr<Topology> Topology::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, signer::ReadFile(path));
  return Parse(text, path);
}

absl::StatusOr<Topology> Topology::Parse(std::string_view text, const std::string& source) {
  toml::table top;
  try {
    top = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(source + ":" + std::to_string(e.source().begin.line) + ":" +
                                      std::to_string(e.source().begin.column) +
                                      ": not valid TOML: " + std::string(e.description()));
  }
  EntryReader reader(top, source);
  RETURN_IF_ERROR(reader.CheckKeys({"root", "agency", "person"}));
  ASSIGN_OR_RETURN(AgencyId root, reader.Id("root"));

  ASSIGN_OR_RETURN(std::vector<const toml::table*> agency_tables, Entries(top, "agency", source));
  std::vector<Agency> agencies;
  std::map<AgencyId, size_t> agency_entry;
  for (size_t i = 0; i < agency_tables.size(); ++i) {
    const std::string where = source + ": [[agency]] #" + std::to_string(i + 1);
    ASSIGN_OR_RETURN(Agency agency, ReadAgency(*agency_tables[i], where));
    auto [it, inserted] = agency_entry.emplace(agency.id, i + 1);
    if (!inserted) {
      return absl::InvalidArgumentError(where + ": agency " + agency.id.str() + " is already listed as #" +
                                        std::to_string(it->second));
    }
    agencies.push_back(std::move(agency));
  }
  ASSIGN_OR_RETURN(signer::Hierarchy hierarchy, BuildHierarchy(root, agencies, source));

  ASSIGN_OR_RETURN(std::vector<const toml::table*> person_tables, Entries(top, "person", source));
  std::vector<Person> people;
  std::map<std::string, size_t> person_entry;
  for (size_t i = 0; i < person_tables.size(); ++i) {
    const std::string where = source + ": [[person]] #" + std::to_string(i + 1);
    ASSIGN_OR_RETURN(Person person, ReadPerson(*person_tables[i], where));
    const std::string named = where + " ('" + person.login + "')";
    auto [it, inserted] = person_entry.emplace(person.login, i + 1);
    if (!inserted) {
      return absl::InvalidArgumentError(named + ": login '" + person.login + "' is already used by #" +
                                        std::to_string(it->second));
    }
    if (agency_entry.count(person.agency) == 0) {
      return absl::InvalidArgumentError(named + ": agency " + person.agency.str() +
                                        " is not listed as an [[agency]]");
    }
    people.push_back(std::move(person));
  }
  return Topology(std::move(hierarchy), std::move(agencies), std::move(people));
}

const Agency* Topology::FindAgency(const AgencyId& id) const {
  for (const Agency& a : agencies_) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

const Person* Topology::FindPerson(std::string_view login) const {
  for (const Person& p : people_) {
    if (p.login == login) return &p;
  }
  return nullptr;
}

}  // namespace congvan::pki
