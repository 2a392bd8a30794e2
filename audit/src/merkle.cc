// RFC 9162 2.1: MTH, PATH and PROOF as the RFC writes them, recursing over
// leaf ranges whose complete aligned parts come from the store, and the
// RFC's iterative verifiers, which need nothing but the proof.
#include "congvan/audit/merkle.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "absl/strings/str_cat.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/status_macros.h"

namespace congvan::audit {
namespace {

// Enough of a hash to tell which one it is in an error message.
std::string Short(std::string_view hash) { return signer::HexEncode(hash.substr(0, 8)) + "..."; }

// The split point of RFC 9162 2.1.1: the largest power of two below n (n >= 2).
uint64_t SplitOf(uint64_t n) { return std::bit_floor(n - 1); }

absl::StatusOr<std::string> ReadSubtree(uint32_t level, uint64_t index, SubtreeSource source) {
  ASSIGN_OR_RETURN(std::string hash, source(level, index));
  if (hash.size() != kHashSize) {
    return absl::DataLossError(absl::StrCat("the stored hash of subtree (level ", level, ", index ", index, ") has ",
                                            hash.size(), " bytes, not ", kHashSize));
  }
  return hash;
}

// MTH(D[begin:end]), end > begin. Only ranges that the RFC's recursion from
// the root reaches are asked for: their complete parts are aligned, so each
// call reads one stored subtree or splits once into a complete left half
// (one read) and a smaller right part. Depth and reads: O(log n).
absl::StatusOr<std::string> RangeHash(uint64_t begin, uint64_t end, SubtreeSource source) {
  const uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    const auto level = static_cast<uint32_t>(std::countr_zero(n));
    return ReadSubtree(level, begin >> level, source);
  }
  const uint64_t k = SplitOf(n);
  ASSIGN_OR_RETURN(std::string left, RangeHash(begin, begin + k, source));
  ASSIGN_OR_RETURN(std::string right, RangeHash(begin + k, end, source));
  return NodeHash(left, right);
}

absl::Status CheckHashSize(std::string_view hash, std::string_view what) {
  if (hash.size() == kHashSize) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(what), " has ", hash.size(), " bytes; a SHA-256 hash has ", kHashSize));
}

absl::Status CheckLeafIndex(uint64_t index, uint64_t size) {
  if (index < size) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("leaf index ", index, " is not in a tree of ", size, " leaves"));
}

absl::Status CheckProofHashes(const std::vector<std::string>& proof) {
  for (size_t i = 0; i < proof.size(); ++i) {
    RETURN_IF_ERROR(CheckHashSize(proof[i], absl::StrCat("proof hash ", i)));
  }
  return absl::OkStatus();
}

// How many proof hashes the verification walk of RFC 9162 2.1.3.2 step 4
// (and 2.1.4.2 step 6) consumes from (fn, sn) until sn is 0: the length of
// the proof that the verifier will accept.
size_t WalkLength(uint64_t fn, uint64_t sn) {
  size_t length = 0;
  for (; sn != 0; ++length, fn >>= 1, sn >>= 1) {
    if ((fn & 1) == 0 && fn == sn) {
      while ((fn & 1) == 0 && fn != 0) fn >>= 1, sn >>= 1;
    }
  }
  return length;
}

// The length of PROOF(old_size, D[new_size]) for 0 < old_size < new_size:
// the walk of 2.1.4.2 after its step 4, plus the first value, which is
// old_root (and not sent) when old_size is a power of two.
size_t ConsistencyProofLength(uint64_t old_size, uint64_t new_size) {
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while (fn & 1) fn >>= 1, sn >>= 1;
  return WalkLength(fn, sn) + (std::has_single_bit(old_size) ? 0 : 1);
}

}  // namespace

std::string LeafHash(std::string_view leaf) {
  signer::Sha256Stream sha;
  sha.Update(std::string_view("\x00", 1));
  sha.Update(leaf);
  return sha.Finish();
}

std::string NodeHash(std::string_view left, std::string_view right) {
  std::string input;
  input.reserve(1 + left.size() + right.size());
  input.push_back('\x01');
  input.append(left).append(right);
  return signer::Sha256(input);
}

std::string EmptyRoot() { return signer::Sha256(""); }

absl::StatusOr<std::string> RootHash(uint64_t size, SubtreeSource source) {
  if (size == 0) return EmptyRoot();
  return RangeHash(0, size, source);
}

absl::StatusOr<std::vector<std::string>> InclusionProof(uint64_t index, uint64_t size, SubtreeSource source) {
  RETURN_IF_ERROR(CheckLeafIndex(index, size));
  // PATH top-down: each step keeps the half holding the leaf and records the
  // other half's hash; the proof lists them bottom-up.
  std::vector<std::string> proof;
  uint64_t begin = 0, end = size;
  while (end - begin > 1) {
    const uint64_t split = begin + SplitOf(end - begin);
    if (index < split) {
      ASSIGN_OR_RETURN(std::string right, RangeHash(split, end, source));
      proof.push_back(std::move(right));
      end = split;
    } else {
      ASSIGN_OR_RETURN(std::string left, RangeHash(begin, split, source));
      proof.push_back(std::move(left));
      begin = split;
    }
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

absl::StatusOr<std::vector<std::string>> ConsistencyProof(uint64_t old_size, uint64_t new_size,
                                                          SubtreeSource source) {
  if (old_size > new_size) {
    return absl::InvalidArgumentError(absl::StrCat("a consistency proof goes from a smaller tree to a larger one, not from ",
                                                   old_size, " leaves to ", new_size));
  }
  std::vector<std::string> proof;
  if (old_size == 0 || old_size == new_size) return proof;
  // SUBPROOF(m, D[begin:end], whole) top-down, m = old_size - begin; `whole`
  // stays true while the range starts at leaf 0, i.e. is the old tree's own
  // left edge, whose hash the verifier already has.
  uint64_t begin = 0, end = new_size;
  bool whole = true;
  while (old_size != end) {
    const uint64_t split = begin + SplitOf(end - begin);
    if (old_size <= split) {
      ASSIGN_OR_RETURN(std::string right, RangeHash(split, end, source));
      proof.push_back(std::move(right));
      end = split;
    } else {
      ASSIGN_OR_RETURN(std::string left, RangeHash(begin, split, source));
      proof.push_back(std::move(left));
      begin = split;
      whole = false;
    }
  }
  if (!whole) {
    ASSIGN_OR_RETURN(std::string last, RangeHash(begin, end, source));
    proof.push_back(std::move(last));
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size, std::string_view leaf_hash,
                             const std::vector<std::string>& proof, std::string_view root) {
  RETURN_IF_ERROR(CheckLeafIndex(index, size));
  RETURN_IF_ERROR(CheckHashSize(leaf_hash, "the leaf hash"));
  RETURN_IF_ERROR(CheckHashSize(root, "the root"));
  RETURN_IF_ERROR(CheckProofHashes(proof));
  if (const size_t want = WalkLength(index, size - 1); proof.size() != want) {
    return absl::InvalidArgumentError(absl::StrCat("the inclusion proof of leaf ", index, " in a tree of ", size,
                                                   " leaves has ", want, " hashes, not ", proof.size()));
  }
  // RFC 9162 2.1.3.2 step 4 as written; the length check above has settled
  // its step-4a and final "sn is 0" conditions.
  uint64_t fn = index, sn = size - 1;
  std::string r(leaf_hash);
  for (const std::string& p : proof) {
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) fn >>= 1, sn >>= 1;
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1, sn >>= 1;
  }
  if (r != root) {
    return absl::UnauthenticatedError(absl::StrCat("the inclusion proof of leaf ", index, " leads to root ", Short(r),
                                                   ", not to the tree head's ", Short(root)));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size, std::string_view old_root,
                               std::string_view new_root, const std::vector<std::string>& proof) {
  if (old_size > new_size) {
    return absl::InvalidArgumentError(absl::StrCat("a tree of ", new_size, " leaves cannot extend one of ", old_size));
  }
  RETURN_IF_ERROR(CheckHashSize(old_root, "the old root"));
  RETURN_IF_ERROR(CheckHashSize(new_root, "the new root"));
  RETURN_IF_ERROR(CheckProofHashes(proof));
  const size_t want = old_size == 0 || old_size == new_size ? 0 : ConsistencyProofLength(old_size, new_size);
  if (proof.size() != want) {
    return absl::InvalidArgumentError(absl::StrCat("the consistency proof from ", old_size, " to ", new_size,
                                                   " leaves has ", want, " hashes, not ", proof.size()));
  }
  if (old_size == 0) {
    // Every tree extends the empty one, whose root is fixed: a different
    // "empty" root is not a tree head of this log.
    if (old_root == EmptyRoot()) return absl::OkStatus();
    return absl::UnauthenticatedError(absl::StrCat("the root of the empty tree is ", Short(EmptyRoot()), ", not ",
                                                   Short(old_root)));
  }
  if (old_size == new_size) {
    if (old_root == new_root) return absl::OkStatus();
    return absl::UnauthenticatedError(absl::StrCat("two heads of the tree of ", old_size, " leaves have different roots, ",
                                                   Short(old_root), " and ", Short(new_root)));
  }
  // RFC 9162 2.1.4.2 steps 2 to 7; the length check above has settled the
  // step-6a and "sn is 0" conditions.
  std::vector<std::string_view> path(proof.begin(), proof.end());
  if (std::has_single_bit(old_size)) path.insert(path.begin(), old_root);
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while (fn & 1) fn >>= 1, sn >>= 1;
  std::string fr(path[0]), sr(path[0]);
  for (size_t i = 1; i < path.size(); ++i) {
    if ((fn & 1) || fn == sn) {
      fr = NodeHash(path[i], fr);
      sr = NodeHash(path[i], sr);
      while ((fn & 1) == 0 && fn != 0) fn >>= 1, sn >>= 1;
    } else {
      sr = NodeHash(sr, path[i]);
    }
    fn >>= 1, sn >>= 1;
  }
  auto mismatch = [&](const char* which, std::string_view got, std::string_view want) {
    return absl::UnauthenticatedError(absl::StrCat("the consistency proof from ", old_size, " to ", new_size,
                                                   " leaves leads to ", which, " root ", Short(got), ", not to the ",
                                                   which, " tree head's ", Short(want)));
  };
  if (fr != old_root) return mismatch("old", fr, old_root);
  if (sr != new_root) return mismatch("new", sr, new_root);
  return absl::OkStatus();
}

absl::StatusOr<MerkleFrontier> MerkleFrontier::Load(uint64_t size, SubtreeSource source) {
  MerkleFrontier frontier;
  uint64_t begin = 0;
  for (int level = 63; level >= 0; --level) {
    if (((size >> level) & 1) == 0) continue;
    Subtree subtree{static_cast<uint32_t>(level), begin >> level, ""};
    ASSIGN_OR_RETURN(subtree.hash, ReadSubtree(subtree.level, subtree.index, source));
    begin = subtree.end();
    frontier.subtrees_.push_back(std::move(subtree));
  }
  frontier.size_ = size;
  return frontier;
}

std::vector<Subtree> MerkleFrontier::Append(std::string_view leaf_hash) {
  std::vector<Subtree> completed;
  completed.push_back(Subtree{0, size_, std::string(leaf_hash)});
  // Equal levels on the right edge merge, like a binary counter's carries.
  while (!subtrees_.empty() && subtrees_.back().level == completed.back().level) {
    const Subtree& right = completed.back();
    Subtree merged{right.level + 1, right.index >> 1, NodeHash(subtrees_.back().hash, right.hash)};
    subtrees_.pop_back();
    completed.push_back(std::move(merged));
  }
  subtrees_.push_back(completed.back());
  ++size_;
  return completed;
}

std::string MerkleFrontier::Root() const {
  if (subtrees_.empty()) return EmptyRoot();
  std::string root = subtrees_.back().hash;
  for (auto it = subtrees_.rbegin() + 1; it != subtrees_.rend(); ++it) root = NodeHash(it->hash, root);
  return root;
}

}  // namespace congvan::audit
