// Agency identifiers (mã định danh, QCVN 102 / Decision 20/2020) and the
// hierarchy they encode (shared/DESIGN.md, "Identities").
//
// An ID is dot-separated groups of [0-9A-Z], at most 35 characters, level 1
// rightmost: "000.12.05.H49" is unit 12 (level 3) under unit 05 (level 2)
// under H49 (level 1). A group of all zeros means "not at this level".
#ifndef CONGVAN_SIGNER_AGENCY_ID_H_
#define CONGVAN_SIGNER_AGENCY_ID_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace congvan::signer {

class AgencyId {
 public:
  static constexpr size_t kMaxLength = 35;

  // INVALID_ARGUMENT, naming what is wrong, for anything but a well-formed
  // ID: empty groups, characters outside [0-9A-Z] (lower case included),
  // over 35 characters, or an all-zero level-1 group.
  [[nodiscard]] static absl::StatusOr<AgencyId> Parse(std::string_view text);

  const std::string& str() const { return text_; }
  // The groups, leftmost first (level 1 is the last one).
  const std::vector<std::string>& groups() const { return groups_; }
  // 1 for "000.00.00.H49", 3 for "000.12.05.H49": the number of the deepest
  // non-zero level.
  int level() const;
  // The ID with its leftmost non-zero group zeroed; nullopt for a level-1 ID
  // (whose parent is the topology's root).
  std::optional<AgencyId> DerivedParent() const;

  friend bool operator==(const AgencyId& a, const AgencyId& b) { return a.text_ == b.text_; }
  friend auto operator<=>(const AgencyId& a, const AgencyId& b) { return a.text_ <=> b.text_; }

 private:
  AgencyId(std::string text, std::vector<std::string> groups)
      : text_(std::move(text)), groups_(std::move(groups)) {}
  std::string text_;
  std::vector<std::string> groups_;
};

// The hierarchy of agencies: a root (the interconnection axis) and a parent
// for every other agency, derived from its ID unless overridden (the 2025
// reform put communes directly under provinces: the hierarchy is data).
// Immutable; thread-safe.
class Hierarchy {
 public:
  // INVALID_ARGUMENT when an override names the root, or overrides make a
  // cycle.
  [[nodiscard]] static absl::StatusOr<Hierarchy> Create(
      AgencyId root, std::map<AgencyId, AgencyId> parent_overrides = {});

  const AgencyId& root() const { return root_; }
  // The parent of `id`: its override, else its derived parent, else (for a
  // level-1 ID) the root. nullopt for the root itself.
  std::optional<AgencyId> ParentOf(const AgencyId& id) const;
  // `id`, its parent, ..., the root.
  std::vector<AgencyId> PathToRoot(const AgencyId& id) const;
  // True when `ancestor` is on PathToRoot(id) and is not `id`.
  bool IsAncestor(const AgencyId& ancestor, const AgencyId& id) const;

 private:
  Hierarchy(AgencyId root, std::map<AgencyId, AgencyId> overrides)
      : root_(std::move(root)), overrides_(std::move(overrides)) {}
  AgencyId root_;
  std::map<AgencyId, AgencyId> overrides_;
};

}  // namespace congvan::signer

#endif  // CONGVAN_SIGNER_AGENCY_ID_H_
