// Merkle tree hashing and proofs: the Certificate Transparency reference
// vectors; every root, inclusion proof and consistency proof of every tree
// up to 70 leaves against a naive transcription of RFC 9162 2.1 written
// here; every kind of tampering; and storage errors.
#include "congvan/audit/merkle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "congvan/signer/cms.h"
#include "testing/status_matchers.h"

namespace congvan::audit {
namespace {

using ::congvan::signer::HexEncode;
using ::congvan::signer::Sha256;
using ::congvan::testing::IsOk;
using ::congvan::testing::StatusIs;
using ::testing::HasSubstr;
using Hashes = std::vector<std::string>;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr auto kUnauthenticated = absl::StatusCode::kUnauthenticated;
constexpr auto kDataLoss = absl::StatusCode::kDataLoss;
constexpr uint64_t kMaxSize = 70;

std::string FlipBit(std::string hash, size_t bit) {
  hash[(bit / 8) % hash.size()] ^= static_cast<char>(1 << (bit % 8));
  return hash;
}

// ---- RFC 9162 2.1, transcribed as written, over a vector of leaf hashes.
// Hashes with signer::Sha256 directly, not with the code under test.

std::string RefNode(const std::string& l, const std::string& r) { return Sha256(std::string(1, '\x01') + l + r); }

uint64_t RefSplit(uint64_t n) {  // the largest power of two smaller than n
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Hashes Slice(const Hashes& d, uint64_t begin, uint64_t end) { return Hashes(d.begin() + begin, d.begin() + end); }

std::string RefMth(const Hashes& d) {
  if (d.empty()) return Sha256("");
  if (d.size() == 1) return d[0];
  const uint64_t k = RefSplit(d.size());
  return RefNode(RefMth(Slice(d, 0, k)), RefMth(Slice(d, k, d.size())));
}

Hashes RefPath(uint64_t m, const Hashes& d) {
  if (d.size() == 1) return {};
  const uint64_t k = RefSplit(d.size());
  Hashes path = m < k ? RefPath(m, Slice(d, 0, k)) : RefPath(m - k, Slice(d, k, d.size()));
  path.push_back(m < k ? RefMth(Slice(d, k, d.size())) : RefMth(Slice(d, 0, k)));
  return path;
}

Hashes RefSubproof(uint64_t m, const Hashes& d, bool b) {
  if (m == d.size()) return b ? Hashes{} : Hashes{RefMth(d)};
  const uint64_t k = RefSplit(d.size());
  Hashes proof = m <= k ? RefSubproof(m, Slice(d, 0, k), b) : RefSubproof(m - k, Slice(d, k, d.size()), false);
  proof.push_back(m <= k ? RefMth(Slice(d, k, d.size())) : RefMth(Slice(d, 0, k)));
  return proof;
}

Hashes RefProof(uint64_t m, const Hashes& d) { return m == 0 ? Hashes{} : RefSubproof(m, d, true); }

// lengths[a][b]: RefPath(a, first b leaves).size(), or RefProof(a, ...) when
// `consistency`; SIZE_MAX where there is no such proof (a >= b for an
// inclusion proof, a > b for a consistency proof).
std::vector<std::vector<size_t>> RefLengths(const Hashes& leaves, bool consistency) {
  std::vector<std::vector<size_t>> lengths(leaves.size() + 1, std::vector<size_t>(leaves.size() + 1, SIZE_MAX));
  for (uint64_t b = 0; b <= leaves.size(); ++b) {
    for (uint64_t a = 0; consistency ? a <= b : a < b; ++a) {
      lengths[a][b] = (consistency ? RefProof(a, Slice(leaves, 0, b)) : RefPath(a, Slice(leaves, 0, b))).size();
    }
  }
  return lengths;
}

// ---- The log's store in miniature.

// Every subtree hash that MerkleFrontier::Append reported, by (level, index).
class SubtreeStore {
 public:
  void Add(const std::vector<Subtree>& subtrees) {
    for (const Subtree& s : subtrees) {
      EXPECT_TRUE(hashes_.emplace(std::pair(s.level, s.index), s.hash).second)
          << "subtree (" << s.level << ", " << s.index << ") reported twice";
    }
  }
  // A SubtreeSource for the tree of the first `size` leaves. Asking it for a
  // subtree that does not lie inside that tree fails the test.
  auto Source(uint64_t size) {
    return [this, size](uint32_t level, uint64_t index) -> absl::StatusOr<std::string> {
      ++reads_;
      if (((index + 1) << level) > size) {
        ADD_FAILURE() << "asked for subtree (" << level << ", " << index << ") of a tree of " << size << " leaves";
        return absl::FailedPreconditionError("outside the tree");
      }
      auto it = hashes_.find(std::pair(level, index));
      if (it == hashes_.end()) return absl::DataLossError("no such subtree stored");
      return it->second;
    };
  }
  int reads() const { return reads_; }
  void ResetReads() { reads_ = 0; }
  void Put(uint32_t level, uint64_t index, std::string hash) { hashes_[std::pair(level, index)] = std::move(hash); }

 private:
  std::map<std::pair<uint32_t, uint64_t>, std::string> hashes_;
  int reads_ = 0;
};

// A tree grown leaf by leaf, with what the frontier said along the way.
struct GrownTree {
  Hashes leaves;                              // leaf hashes
  SubtreeStore store;                         // every subtree Append returned
  Hashes roots;                               // roots[n]: Root() after n leaves
  std::vector<std::vector<Subtree>> frontiers;  // frontiers[n]: subtrees() after n leaves
  std::vector<std::vector<Subtree>> appended;   // appended[i]: what Append of leaf i returned
};

GrownTree Grow(uint64_t size) {
  GrownTree tree;
  MerkleFrontier frontier;
  tree.roots.push_back(frontier.Root());
  tree.frontiers.push_back(frontier.subtrees());
  for (uint64_t i = 0; i < size; ++i) {
    tree.leaves.push_back(LeafHash("event " + std::to_string(i)));
    tree.appended.push_back(frontier.Append(tree.leaves.back()));
    tree.store.Add(tree.appended.back());
    tree.roots.push_back(frontier.Root());
    tree.frontiers.push_back(frontier.subtrees());
  }
  return tree;
}

std::vector<std::string> Describe(const std::vector<Subtree>& subtrees) {
  std::vector<std::string> out;
  for (const Subtree& s : subtrees) out.push_back(absl::StrCat(s.level, "/", s.index, "/", HexEncode(s.hash)));
  return out;
}

// ---- Hashing.

TEST(MerkleHashing, MatchesTheCertificateTransparencyReferenceVectors) {
  const Hashes leaves = {"", std::string(1, '\0'), "\x10", "\x20\x21", "\x30\x31", "\x40\x41\x42\x43",
                         "\x50\x51\x52\x53\x54\x55\x56\x57",
                         "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  // Computed independently with python3 hashlib (MTH of RFC 9162 2.1.1 in
  // ten lines: leaf = sha256(b"\0" + d), node = sha256(b"\1" + l + r)); the
  // empty root, leaf 0, leaf 7 and root 2 also with `openssl dgst -sha256`.
  // Root 8 is the value published with the RFC 6962 / CT test vectors.
  const char* kLeafHashes[] = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
      "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
  };
  const char* kRoots[] = {
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  // 0 leaves
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
  };
  EXPECT_EQ(HexEncode(EmptyRoot()), kRoots[0]);
  SubtreeStore store;
  MerkleFrontier frontier;
  for (size_t i = 0; i < leaves.size(); ++i) {
    EXPECT_EQ(HexEncode(LeafHash(leaves[i])), kLeafHashes[i]) << "leaf " << i;
    store.Add(frontier.Append(LeafHash(leaves[i])));
  }
  for (uint64_t n = 0; n <= leaves.size(); ++n) {
    ASSERT_OK_AND_ASSIGN(std::string root, RootHash(n, store.Source(n)));
    EXPECT_EQ(HexEncode(root), kRoots[n]) << n << " leaves";
  }
  EXPECT_EQ(HexEncode(frontier.Root()), kRoots[8]);
  EXPECT_EQ(HexEncode(NodeHash(LeafHash(leaves[0]), LeafHash(leaves[1]))), kRoots[2]);
}

// ---- Roots and the frontier.

TEST(MerkleTree, RootsOfEverySizeUpTo70MatchTheReferenceAndTheFrontier) {
  GrownTree tree = Grow(kMaxSize);
  for (uint64_t n = 0; n <= kMaxSize; ++n) {
    const std::string want = RefMth(Slice(tree.leaves, 0, n));
    ASSERT_OK_AND_ASSIGN(std::string root, RootHash(n, tree.store.Source(n)));
    EXPECT_EQ(HexEncode(root), HexEncode(want)) << n << " leaves";
    EXPECT_EQ(HexEncode(tree.roots[n]), HexEncode(want)) << "frontier root of " << n << " leaves";
  }
}

TEST(MerkleTree, RootHashReadsOneStoredSubtreePerSetBitOfTheSize) {
  GrownTree tree = Grow(kMaxSize);
  for (uint64_t n = 0; n <= kMaxSize; ++n) {
    tree.store.ResetReads();
    ASSERT_THAT(RootHash(n, tree.store.Source(n)), IsOk());
    EXPECT_EQ(tree.store.reads(), std::popcount(n)) << n << " leaves";
  }
}

TEST(MerkleFrontier, AppendReturnsTheLeafThenEverySubtreeItCompletes) {
  GrownTree tree = Grow(kMaxSize);
  for (uint64_t i = 0; i < kMaxSize; ++i) {
    const std::vector<Subtree>& got = tree.appended[i];
    // Leaf i completes one subtree per trailing one bit of i, plus itself.
    ASSERT_EQ(got.size(), static_cast<size_t>(std::countr_one(i)) + 1) << "leaf " << i;
    for (size_t j = 0; j < got.size(); ++j) {
      EXPECT_EQ(got[j].level, j) << "leaf " << i;
      EXPECT_EQ(got[j].end(), i + 1) << "leaf " << i;
      EXPECT_EQ(HexEncode(got[j].hash), HexEncode(RefMth(Slice(tree.leaves, got[j].begin(), got[j].end()))));
    }
  }
  EXPECT_EQ(Describe(tree.frontiers[0]), std::vector<std::string>{});
  EXPECT_EQ(HexEncode(tree.roots[0]), HexEncode(EmptyRoot()));
}

TEST(MerkleFrontier, LoadRebuildsTheFrontierOfEverySizeAndGrowsOnFromIt) {
  GrownTree tree = Grow(kMaxSize);
  for (uint64_t n = 0; n <= kMaxSize; ++n) {
    ASSERT_OK_AND_ASSIGN(MerkleFrontier loaded, MerkleFrontier::Load(n, tree.store.Source(n)));
    EXPECT_EQ(loaded.size(), n);
    EXPECT_EQ(Describe(loaded.subtrees()), Describe(tree.frontiers[n])) << n << " leaves";
    EXPECT_EQ(HexEncode(loaded.Root()), HexEncode(tree.roots[n])) << n << " leaves";
    if (n == kMaxSize) continue;
    EXPECT_EQ(Describe(loaded.Append(tree.leaves[n])), Describe(tree.appended[n])) << "appending leaf " << n;
    EXPECT_EQ(HexEncode(loaded.Root()), HexEncode(tree.roots[n + 1])) << "after appending leaf " << n;
  }
}

// ---- Inclusion proofs.

TEST(MerkleProofs, EveryInclusionProofUpTo70LeavesMatchesTheReferenceAndVerifies) {
  GrownTree tree = Grow(kMaxSize);
  for (uint64_t size = 1; size <= kMaxSize; ++size) {
    const Hashes d = Slice(tree.leaves, 0, size);
    for (uint64_t index = 0; index < size; ++index) {
      tree.store.ResetReads();
      ASSERT_OK_AND_ASSIGN(Hashes proof, InclusionProof(index, size, tree.store.Source(size)));
      EXPECT_EQ(proof, RefPath(index, d)) << "leaf " << index << " of " << size;
      EXPECT_LE(tree.store.reads(), static_cast<int>(proof.size()) + std::popcount(size));
      EXPECT_THAT(VerifyInclusion(index, size, tree.leaves[index], proof, tree.roots[size]), IsOk())
          << "leaf " << index << " of " << size;
    }
  }
}

TEST(MerkleProofs, AFlippedBitInAnyInclusionProofHashIsRejected) {
  GrownTree tree = Grow(kMaxSize);
  for (uint64_t size = 1; size <= kMaxSize; ++size) {
    for (uint64_t index = 0; index < size; ++index) {
      ASSERT_OK_AND_ASSIGN(const Hashes proof, InclusionProof(index, size, tree.store.Source(size)));
      for (size_t j = 0; j < proof.size(); ++j) {
        Hashes tampered = proof;
        tampered[j] = FlipBit(tampered[j], index * 31 + j * 7);
        EXPECT_THAT(VerifyInclusion(index, size, tree.leaves[index], tampered, tree.roots[size]),
                    StatusIs(kUnauthenticated, HasSubstr("the inclusion proof of leaf " + std::to_string(index))))
            << "hash " << j << " of leaf " << index << " of " << size;
      }
    }
  }
}

TEST(MerkleProofs, AFlippedBitInTheLeafHashOrTheRootIsRejected) {
  GrownTree tree = Grow(kMaxSize);
  for (uint64_t size = 1; size <= kMaxSize; ++size) {
    for (uint64_t index = 0; index < size; ++index) {
      ASSERT_OK_AND_ASSIGN(const Hashes proof, InclusionProof(index, size, tree.store.Source(size)));
      const std::string& leaf = tree.leaves[index];
      const std::string& root = tree.roots[size];
      EXPECT_THAT(VerifyInclusion(index, size, FlipBit(leaf, index + size), proof, root), StatusIs(kUnauthenticated));
      EXPECT_THAT(VerifyInclusion(index, size, leaf, proof, FlipBit(root, 3 * index)),
                  StatusIs(kUnauthenticated, HasSubstr("not to the tree head's " + HexEncode(FlipBit(root, 3 * index)).substr(0, 16))));
    }
  }
}

TEST(MerkleProofs, AnInclusionProofIsRejectedForAnyOtherIndexOrTreeHead) {
  GrownTree tree = Grow(kMaxSize);
  const auto lengths = RefLengths(tree.leaves, /*consistency=*/false);
  for (uint64_t size = 1; size <= kMaxSize; ++size) {
    for (uint64_t index = 0; index < size; ++index) {
      ASSERT_OK_AND_ASSIGN(const Hashes proof, InclusionProof(index, size, tree.store.Source(size)));
      const std::string& leaf = tree.leaves[index];
      // The same leaf and proof claimed at another index. A proof of the
      // wrong length is malformed; one of the right length leads elsewhere.
      for (uint64_t other = 0; other <= size; ++other) {
        if (other == index) continue;
        const bool same_length = lengths[other][size] == proof.size();
        EXPECT_THAT(VerifyInclusion(other, size, leaf, proof, tree.roots[size]),
                    StatusIs(same_length ? kUnauthenticated : kInvalid))
            << "leaf " << index << " of " << size << " claimed as leaf " << other;
      }
      // The same proof against the head (size, root) of another tree.
      for (uint64_t other = 1; other <= kMaxSize; ++other) {
        if (other == size) continue;
        const bool same_length = lengths[index][other] == proof.size();
        EXPECT_THAT(VerifyInclusion(index, other, leaf, proof, tree.roots[other]),
                    StatusIs(same_length ? kUnauthenticated : kInvalid))
            << "leaf " << index << " of " << size << " against the head of " << other;
      }
    }
  }
}

TEST(MerkleProofs, ATruncatedOrExtendedInclusionProofIsMalformed) {
  GrownTree tree = Grow(kMaxSize);
  for (uint64_t size = 1; size <= kMaxSize; ++size) {
    for (uint64_t index = 0; index < size; ++index) {
      ASSERT_OK_AND_ASSIGN(const Hashes proof, InclusionProof(index, size, tree.store.Source(size)));
      std::vector<Hashes> wrong = {proof, proof};
      wrong[0].push_back(tree.leaves[0]);
      wrong[1].insert(wrong[1].begin(), tree.leaves[0]);
      if (!proof.empty()) wrong.push_back(Hashes(proof.begin(), proof.end() - 1));
      if (!proof.empty()) wrong.push_back(Hashes(proof.begin() + 1, proof.end()));
      for (const Hashes& p : wrong) {
        EXPECT_THAT(VerifyInclusion(index, size, tree.leaves[index], p, tree.roots[size]),
                    StatusIs(kInvalid, HasSubstr("has " + std::to_string(proof.size()) + " hashes, not " +
                                                 std::to_string(p.size()))))
            << "leaf " << index << " of " << size;
      }
    }
  }
}

TEST(MerkleProofs, ALeafOutsideTheTreeIsAnInvalidArgument) {
  GrownTree tree = Grow(8);
  EXPECT_THAT(InclusionProof(7, 5, tree.store.Source(5)),
              StatusIs(kInvalid, HasSubstr("leaf index 7 is not in a tree of 5 leaves")));
  EXPECT_THAT(InclusionProof(5, 5, tree.store.Source(5)), StatusIs(kInvalid));
  EXPECT_THAT(InclusionProof(0, 0, tree.store.Source(0)), StatusIs(kInvalid));
  EXPECT_THAT(VerifyInclusion(5, 5, tree.leaves[5], {}, tree.roots[5]),
              StatusIs(kInvalid, HasSubstr("leaf index 5 is not in a tree of 5 leaves")));
  EXPECT_THAT(VerifyInclusion(0, 0, tree.leaves[0], {}, EmptyRoot()), StatusIs(kInvalid));
  EXPECT_EQ(tree.store.reads(), 0);
}

TEST(MerkleProofs, HashesOfTheWrongSizeAreInvalidArguments) {
  GrownTree tree = Grow(8);
  ASSERT_OK_AND_ASSIGN(const Hashes inclusion, InclusionProof(2, 7, tree.store.Source(7)));
  ASSERT_OK_AND_ASSIGN(const Hashes consistency, ConsistencyProof(3, 7, tree.store.Source(7)));
  const std::string& leaf = tree.leaves[2];
  for (const std::string& bad : {std::string(), leaf.substr(1), leaf + "x"}) {
    EXPECT_THAT(VerifyInclusion(2, 7, bad, inclusion, tree.roots[7]), StatusIs(kInvalid, HasSubstr("the leaf hash")));
    EXPECT_THAT(VerifyInclusion(2, 7, leaf, inclusion, bad), StatusIs(kInvalid, HasSubstr("the root")));
    Hashes p = inclusion;
    p[1] = bad;
    EXPECT_THAT(VerifyInclusion(2, 7, leaf, p, tree.roots[7]), StatusIs(kInvalid, HasSubstr("proof hash 1")));
    EXPECT_THAT(VerifyConsistency(3, 7, bad, tree.roots[7], consistency), StatusIs(kInvalid, HasSubstr("the old root")));
    EXPECT_THAT(VerifyConsistency(3, 7, tree.roots[3], bad, consistency), StatusIs(kInvalid, HasSubstr("the new root")));
    p = consistency;
    p[0] = bad;
    EXPECT_THAT(VerifyConsistency(3, 7, tree.roots[3], tree.roots[7], p), StatusIs(kInvalid, HasSubstr("proof hash 0")));
  }
}

// ---- Consistency proofs.

TEST(MerkleProofs, EveryConsistencyProofUpTo70LeavesMatchesTheReferenceAndVerifies) {
  GrownTree tree = Grow(kMaxSize);
  for (uint64_t new_size = 0; new_size <= kMaxSize; ++new_size) {
    const Hashes d = Slice(tree.leaves, 0, new_size);
    for (uint64_t old_size = 0; old_size <= new_size; ++old_size) {
      tree.store.ResetReads();
      ASSERT_OK_AND_ASSIGN(Hashes proof, ConsistencyProof(old_size, new_size, tree.store.Source(new_size)));
      EXPECT_EQ(proof, RefProof(old_size, d)) << old_size << " to " << new_size;
      EXPECT_LE(tree.store.reads(), static_cast<int>(proof.size()) + std::popcount(new_size));
      EXPECT_THAT(VerifyConsistency(old_size, new_size, tree.roots[old_size], tree.roots[new_size], proof), IsOk())
          << old_size << " to " << new_size;
    }
  }
}

TEST(MerkleProofs, AFlippedBitInAnyConsistencyProofHashOrEitherRootIsRejected) {
  GrownTree tree = Grow(kMaxSize);
  for (uint64_t new_size = 1; new_size <= kMaxSize; ++new_size) {
    for (uint64_t old_size = 1; old_size <= new_size; ++old_size) {
      ASSERT_OK_AND_ASSIGN(const Hashes proof, ConsistencyProof(old_size, new_size, tree.store.Source(new_size)));
      const std::string& old_root = tree.roots[old_size];
      const std::string& new_root = tree.roots[new_size];
      for (size_t j = 0; j < proof.size(); ++j) {
        Hashes tampered = proof;
        tampered[j] = FlipBit(tampered[j], old_size * 29 + j * 5);
        EXPECT_THAT(VerifyConsistency(old_size, new_size, old_root, new_root, tampered), StatusIs(kUnauthenticated))
            << "hash " << j << " of " << old_size << " to " << new_size;
      }
      EXPECT_THAT(VerifyConsistency(old_size, new_size, FlipBit(old_root, new_size), new_root, proof),
                  StatusIs(kUnauthenticated))
          << old_size << " to " << new_size;
      EXPECT_THAT(VerifyConsistency(old_size, new_size, old_root, FlipBit(new_root, old_size), proof),
                  StatusIs(kUnauthenticated))
          << old_size << " to " << new_size;
    }
  }
}

TEST(MerkleProofs, AConsistencyProofIsRejectedBetweenAnyOtherTreeHeads) {
  GrownTree tree = Grow(kMaxSize);
  const auto lengths = RefLengths(tree.leaves, /*consistency=*/true);
  for (uint64_t new_size = 2; new_size <= kMaxSize; ++new_size) {
    for (uint64_t old_size = 1; old_size < new_size; ++old_size) {
      ASSERT_OK_AND_ASSIGN(const Hashes proof, ConsistencyProof(old_size, new_size, tree.store.Source(new_size)));
      // A proof of the wrong length is malformed; one of the right length
      // leads to other roots.
      auto expected = [&](uint64_t o, uint64_t n) { return lengths[o][n] == proof.size() ? kUnauthenticated : kInvalid; };
      for (uint64_t other = 0; other <= kMaxSize; ++other) {
        if (other != old_size) {
          EXPECT_THAT(VerifyConsistency(other, new_size, tree.roots[other], tree.roots[new_size], proof),
                      StatusIs(expected(other, new_size)))
              << old_size << " to " << new_size << " claimed from " << other;
        }
        if (other != new_size) {
          EXPECT_THAT(VerifyConsistency(old_size, other, tree.roots[old_size], tree.roots[other], proof),
                      StatusIs(expected(old_size, other)))
              << old_size << " to " << new_size << " claimed to " << other;
        }
      }
    }
  }
}

TEST(MerkleProofs, ATruncatedOrExtendedConsistencyProofIsMalformed) {
  GrownTree tree = Grow(kMaxSize);
  for (uint64_t new_size = 0; new_size <= kMaxSize; ++new_size) {
    for (uint64_t old_size = 0; old_size <= new_size; ++old_size) {
      ASSERT_OK_AND_ASSIGN(const Hashes proof, ConsistencyProof(old_size, new_size, tree.store.Source(new_size)));
      std::vector<Hashes> wrong = {proof, proof};
      wrong[0].push_back(tree.leaves[0]);
      wrong[1].insert(wrong[1].begin(), tree.leaves[0]);
      if (!proof.empty()) wrong.push_back(Hashes(proof.begin(), proof.end() - 1));
      if (!proof.empty()) wrong.push_back(Hashes(proof.begin() + 1, proof.end()));
      for (const Hashes& p : wrong) {
        EXPECT_THAT(VerifyConsistency(old_size, new_size, tree.roots[old_size], tree.roots[new_size], p),
                    StatusIs(kInvalid, HasSubstr("has " + std::to_string(proof.size()) + " hashes, not " +
                                                 std::to_string(p.size()))))
            << old_size << " to " << new_size;
      }
    }
  }
}

TEST(MerkleProofs, EqualTreeHeadsNeedEqualRootsAndTheEmptyTreeItsOwnRoot) {
  GrownTree tree = Grow(8);
  EXPECT_THAT(VerifyConsistency(5, 5, tree.roots[5], tree.roots[5], {}), IsOk());
  EXPECT_THAT(VerifyConsistency(5, 5, tree.roots[5], tree.roots[6], {}),
              StatusIs(kUnauthenticated, HasSubstr("different roots")));
  EXPECT_THAT(VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {}), IsOk());
  EXPECT_THAT(VerifyConsistency(0, 6, EmptyRoot(), tree.roots[6], {}), IsOk());
  EXPECT_THAT(VerifyConsistency(0, 6, tree.roots[1], tree.roots[6], {}),
              StatusIs(kUnauthenticated, HasSubstr("the root of the empty tree")));
}

TEST(MerkleProofs, AnOldTreeLargerThanTheNewOneIsAnInvalidArgument) {
  GrownTree tree = Grow(8);
  EXPECT_THAT(ConsistencyProof(6, 5, tree.store.Source(6)), StatusIs(kInvalid, HasSubstr("not from 6 leaves to 5")));
  EXPECT_THAT(VerifyConsistency(6, 5, tree.roots[6], tree.roots[5], {}),
              StatusIs(kInvalid, HasSubstr("5 leaves cannot extend one of 6")));
  EXPECT_EQ(tree.store.reads(), 0);
}

// ---- Storage errors.

// A source over the tree of `size` leaves in `store` whose read number
// `fail_at` (from 1) fails. (FunctionRef calls it as const.)
struct FailingSource {
  SubtreeStore& store;
  uint64_t size;
  int fail_at;
  mutable int reads = 0;

  absl::StatusOr<std::string> operator()(uint32_t level, uint64_t index) const {
    if (++reads == fail_at) return absl::DataLossError("disk says no");
    return store.Source(size)(level, index);
  }
};

TEST(MerkleStorage, AFailedReadAnywhereStopsRootsProofsAndLoad) {
  GrownTree tree = Grow(kMaxSize);
  auto reads_of = [&](auto run) {
    tree.store.ResetReads();
    EXPECT_THAT(run(tree.store.Source(kMaxSize)), IsOk());
    return tree.store.reads();
  };
  for (uint64_t size : {2u, 5u, 13u, 32u, 63u, 70u}) {
    std::vector<std::pair<std::string, std::function<absl::Status(SubtreeSource)>>> runs = {
        {"RootHash", [&](SubtreeSource s) { return RootHash(size, s).status(); }},
        {"InclusionProof", [&](SubtreeSource s) { return InclusionProof(size / 3, size, s).status(); }},
        {"ConsistencyProof", [&](SubtreeSource s) { return ConsistencyProof(size / 2, size, s).status(); }},
        {"Load", [&](SubtreeSource s) { return MerkleFrontier::Load(size, s).status(); }},
    };
    for (const auto& [name, run] : runs) {
      const int reads = reads_of(run);
      EXPECT_GT(reads, 0) << name << " on " << size << " leaves";
      for (int k = 1; k <= reads; ++k) {
        EXPECT_THAT(run(FailingSource{tree.store, size, k}), StatusIs(kDataLoss, HasSubstr("disk says no")))
            << name << " on " << size << " leaves, read " << k << " of " << reads;
      }
    }
  }
}

TEST(MerkleStorage, AStoredHashOfTheWrongSizeIsDataLoss) {
  GrownTree tree = Grow(8);
  tree.store.Put(1, 2, "short");
  EXPECT_THAT(RootHash(6, tree.store.Source(6)), StatusIs(kDataLoss, HasSubstr("(level 1, index 2) has 5 bytes")));
  EXPECT_THAT(InclusionProof(0, 6, tree.store.Source(6)), StatusIs(kDataLoss));
  EXPECT_THAT(ConsistencyProof(1, 6, tree.store.Source(6)), StatusIs(kDataLoss));
  EXPECT_THAT(MerkleFrontier::Load(6, tree.store.Source(6)), StatusIs(kDataLoss));
}

}  // namespace
}  // namespace congvan::audit
