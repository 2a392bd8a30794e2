// Merkle tree hashing and proofs of RFC 9162 (Certificate Transparency 2.0,
// the same tree as RFC 6962): the hash of a leaf is SHA-256(0x00 || leaf),
// of an interior node SHA-256(0x01 || left || right), and the tree over n
// leaves splits at the largest power of two smaller than n.
//
// The log that stores the tree (congvan::store) keeps the hash of every
// complete, aligned subtree: [i * 2^k, (i + 1) * 2^k). Everything here that
// builds a root or a proof reads those through a SubtreeSource, so it never
// needs more than O(log n) memory. The verifiers need nothing but the
// proof: an auditor runs them offline.
//
// Thread-safety: the free functions are; MerkleFrontier is not.
#ifndef CONGVAN_AUDIT_MERKLE_H_
#define CONGVAN_AUDIT_MERKLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace congvan::audit {

inline constexpr size_t kHashSize = 32;

// SHA-256(0x00 || leaf).
std::string LeafHash(std::string_view leaf);
// SHA-256(0x01 || left || right).
std::string NodeHash(std::string_view left, std::string_view right);
// The root of the empty tree: SHA-256 of nothing.
std::string EmptyRoot();

// One complete aligned subtree: leaves [index << level, (index + 1) << level).
struct Subtree {
  uint32_t level = 0;  // 0: a single leaf
  uint64_t index = 0;
  std::string hash;    // kHashSize bytes

  uint64_t begin() const { return index << level; }
  uint64_t end() const { return (index + 1) << level; }
};

// The hash of the complete aligned subtree (level, index), which the caller
// guarantees lies inside a tree it holds. An error (a storage failure, a
// missing hash: DATA_LOSS) stops the computation and is returned; so does a
// returned hash that is not kHashSize bytes, as DATA_LOSS.
using SubtreeSource = absl::FunctionRef<absl::StatusOr<std::string>(uint32_t level, uint64_t index)>;

// The root (MTH) of the first `size` leaves. EmptyRoot() for size 0.
[[nodiscard]] absl::StatusOr<std::string> RootHash(uint64_t size, SubtreeSource source);

// The inclusion proof (RFC 9162 2.1.3.1, PATH) of leaf `index` in the tree
// of `size` leaves, bottom-up. INVALID_ARGUMENT unless index < size.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> InclusionProof(uint64_t index, uint64_t size,
                                                                      SubtreeSource source);

// The consistency proof (RFC 9162 2.1.4.1, PROOF) between the trees of
// `old_size` and `new_size` leaves. Empty when old_size is 0 or equal to
// new_size. INVALID_ARGUMENT unless old_size <= new_size.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> ConsistencyProof(uint64_t old_size, uint64_t new_size,
                                                                        SubtreeSource source);

// RFC 9162 2.1.3.2: that `leaf_hash` is leaf `index` of the tree of `size`
// leaves whose root is `root`. UNAUTHENTICATED (with what failed) when the
// proof does not lead to `root`; INVALID_ARGUMENT when it has the wrong
// length, index >= size, or a hash is not kHashSize bytes.
[[nodiscard]] absl::Status VerifyInclusion(uint64_t index, uint64_t size, std::string_view leaf_hash,
                                           const std::vector<std::string>& proof, std::string_view root);

// RFC 9162 2.1.4.2: that the tree of `new_size` leaves with root `new_root`
// extends the tree of `old_size` leaves with root `old_root`, with nothing
// of it changed. Equal sizes need equal roots and an empty proof; old_size 0
// needs an empty proof and old_root == EmptyRoot() (new_root is then
// unconstrained). UNAUTHENTICATED when the proof or a root does not hold;
// INVALID_ARGUMENT when old_size > new_size, the proof's length is wrong, or
// a hash is not kHashSize bytes.
[[nodiscard]] absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size, std::string_view old_root,
                                             std::string_view new_root, const std::vector<std::string>& proof);

// The right edge of a growing tree: the roots of its maximal complete
// subtrees, largest first (at most one per level). Appending a leaf returns
// every subtree it completes, which the log stores; the root of the whole
// tree is computed from the frontier alone.
class MerkleFrontier {
 public:
  MerkleFrontier() = default;
  // The frontier of a stored tree of `size` leaves, read through `source`.
  [[nodiscard]] static absl::StatusOr<MerkleFrontier> Load(uint64_t size, SubtreeSource source);

  uint64_t size() const { return size_; }
  // Adds the leaf whose hash is `leaf_hash` (leaf index size()), which the
  // caller computed with LeafHash: it is not checked. Returns the subtrees it
  // completes, the leaf itself (level 0) first, then each larger one.
  std::vector<Subtree> Append(std::string_view leaf_hash);
  // The root of the tree so far (EmptyRoot() when empty).
  std::string Root() const;
  // The frontier's subtrees, largest (leftmost) first.
  const std::vector<Subtree>& subtrees() const { return subtrees_; }

 private:
  uint64_t size_ = 0;
  std::vector<Subtree> subtrees_;
};

}  // namespace congvan::audit

#endif  // CONGVAN_AUDIT_MERKLE_H_
