#include "congvan/signer/agency_id.h"

#include <set>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace congvan::signer {
namespace {

bool AllZeros(const std::string& group) { return group.find_first_not_of('0') == std::string::npos; }

}  // namespace

absl::StatusOr<AgencyId> AgencyId::Parse(std::string_view text) {
  const std::string quoted = "agency ID '" + std::string(text) + "'";
  if (text.empty()) return absl::InvalidArgumentError("agency ID is empty");
  if (text.size() > kMaxLength) {
    return absl::InvalidArgumentError(quoted + " is longer than 35 characters");
  }
  std::vector<std::string> groups = absl::StrSplit(absl::string_view(text.data(), text.size()), '.');
  for (const std::string& group : groups) {
    if (group.empty()) {
      return absl::InvalidArgumentError(quoted + " has an empty group (two dots, or a dot at an end)");
    }
    for (char c : group) {
      if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) {
        return absl::InvalidArgumentError(quoted + " may contain only digits, upper-case letters A-Z and dots");
      }
    }
  }
  if (AllZeros(groups.back())) {
    return absl::InvalidArgumentError(quoted + " has no level-1 code (its rightmost group is all zeros)");
  }
  return AgencyId(std::string(text), std::move(groups));
}

int AgencyId::level() const {
  // Groups are leftmost-first; level 1 is the last group.
  const int n = static_cast<int>(groups_.size());
  for (int i = 0; i < n; ++i) {
    if (!AllZeros(groups_[i])) return n - i;
  }
  return 1;  // unreachable: Parse rejects an all-zero level-1 group
}

std::optional<AgencyId> AgencyId::DerivedParent() const {
  for (size_t i = 0; i + 1 < groups_.size(); ++i) {
    if (AllZeros(groups_[i])) continue;
    std::vector<std::string> parent = groups_;
    parent[i] = std::string(parent[i].size(), '0');
    std::string text = absl::StrJoin(parent, ".");
    return AgencyId(std::move(text), std::move(parent));
  }
  return std::nullopt;
}

absl::StatusOr<Hierarchy> Hierarchy::Create(AgencyId root, std::map<AgencyId, AgencyId> parent_overrides) {
  if (parent_overrides.count(root) != 0) {
    return absl::InvalidArgumentError("the root " + root.str() + " cannot have a parent");
  }
  Hierarchy hierarchy(std::move(root), std::move(parent_overrides));
  // Every chain of parents must end at the root.
  for (const auto& [id, parent] : hierarchy.overrides_) {
    std::set<AgencyId> seen{id};
    std::optional<AgencyId> at = parent;
    while (at.has_value() && !(*at == hierarchy.root_)) {
      if (!seen.insert(*at).second) {
        return absl::InvalidArgumentError("the parent overrides make a cycle through " + id.str());
      }
      at = hierarchy.ParentOf(*at);
    }
  }
  return hierarchy;
}

std::optional<AgencyId> Hierarchy::ParentOf(const AgencyId& id) const {
  if (id == root_) return std::nullopt;
  if (auto it = overrides_.find(id); it != overrides_.end()) return it->second;
  if (auto derived = id.DerivedParent(); derived.has_value()) return derived;
  return root_;
}

std::vector<AgencyId> Hierarchy::PathToRoot(const AgencyId& id) const {
  std::vector<AgencyId> path{id};
  while (auto parent = ParentOf(path.back())) path.push_back(*parent);
  return path;
}

bool Hierarchy::IsAncestor(const AgencyId& ancestor, const AgencyId& id) const {
  if (ancestor == id) return false;
  for (const AgencyId& a : PathToRoot(id)) {
    if (a == ancestor) return true;
  }
  return false;
}

}  // namespace congvan::signer
