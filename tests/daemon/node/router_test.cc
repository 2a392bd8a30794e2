// Routing decisions (shared/DESIGN.md "Routing") over a hierarchy with a
// topology override and a direct peer: next hops, one copy per hop, and the
// whole path that `congvan route` shows.
#include "congvan/node/routing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::testing::ElementsAre;
using ::congvan::testing::StatusIs;
using ::testing::HasSubstr;

signer::AgencyId Id(const std::string& text) { return *signer::AgencyId::Parse(text); }

config::Peer Peer(const std::string& agency) { return {Id(agency), {"127.0.0.1", 1}}; }

signer::Hierarchy SampleHierarchy() {
  // Hà Nội's wards hang directly under the city (the 2025 reform).
  auto hierarchy = signer::Hierarchy::Create(Id("000.00.00.A00"), {{Id("000.01.05.H29"), Id("000.00.00.H29")}});
  EXPECT_OK(hierarchy);
  return *std::move(hierarchy);
}

std::vector<std::string> Agencies(const std::vector<PathHop>& path) {
  std::vector<std::string> out;
  for (const PathHop& hop : path) out.push_back(hop.agency + (hop.link.empty() ? "" : "/" + hop.link));
  return out;
}

TEST(Router, ACommuneGoesUpThroughItsParentForEverythingElse) {
  config::PeersConfig peers;
  peers.parent = Peer("000.00.01.H49");
  Router router(Id("000.01.01.H49"), SampleHierarchy(), peers);
  EXPECT_EQ(*router.NextHop(Id("000.01.01.H49")), "");
  EXPECT_EQ(*router.NextHop(Id("000.02.01.H49")), "000.00.01.H49");
  EXPECT_EQ(*router.NextHop(Id("000.01.05.H29")), "000.00.01.H49");

  auto path = router.Path(Id("000.01.05.H29"));
  ASSERT_OK(path);
  EXPECT_THAT(Agencies(*path), ElementsAre("000.01.01.H49", "000.00.01.H49/parent", "000.00.00.H49/parent",
                                           "000.00.00.A00/parent", "000.00.00.H29/child", "000.01.05.H29/child"));
  EXPECT_THAT(Agencies(*router.Path(Id("000.01.01.H49"))), ElementsAre("000.01.01.H49"));
}

TEST(Router, AProvinceSendsOneCopyPerChildWithTheRecipientsItServes) {
  config::PeersConfig peers;
  peers.parent = Peer("000.00.00.A00");
  peers.children = {Peer("000.00.01.H49"), Peer("000.00.02.H49")};
  Router router(Id("000.00.00.H49"), SampleHierarchy(), peers);
  auto hops = router.Split({"000.01.01.H49", "000.02.01.H49", "000.01.02.H49", "000.00.00.H49", "000.00.00.G12"});
  ASSERT_OK(hops);
  EXPECT_EQ(hops->size(), 4u);
  EXPECT_THAT(hops->at(""), ElementsAre("000.00.00.H49"));
  EXPECT_THAT(hops->at("000.00.01.H49"), ElementsAre("000.01.01.H49", "000.02.01.H49"));
  EXPECT_THAT(hops->at("000.00.02.H49"), ElementsAre("000.01.02.H49"));
  EXPECT_THAT(hops->at("000.00.00.A00"), ElementsAre("000.00.00.G12"));
}

TEST(Router, ADirectPeerShortCutsTheTree) {
  config::PeersConfig peers;
  peers.parent = Peer("000.00.01.H49");
  peers.direct = {Peer("000.00.00.H29")};
  Router router(Id("000.01.01.H49"), SampleHierarchy(), peers);
  EXPECT_EQ(*router.NextHop(Id("000.00.00.H29")), "000.00.00.H29");
  auto path = router.Path(Id("000.01.05.H29"));
  ASSERT_OK(path);
  // Straight to Hà Nội, which is an ancestor of its ward; then down.
  EXPECT_THAT(Agencies(*path), ElementsAre("000.01.01.H49", "000.00.00.H29/direct", "000.01.05.H29/child"));
  // Everything else still goes up.
  EXPECT_EQ(*router.NextHop(Id("000.00.00.G12")), "000.00.01.H49");
  EXPECT_THAT(Agencies(*router.Path(Id("000.00.00.H29"))), ElementsAre("000.01.01.H49", "000.00.00.H29/direct"));
}

TEST(Router, NoRouteIsNotFoundAndSaysWhy) {
  config::PeersConfig root_peers;  // the root, with no child configured for H49
  root_peers.children = {Peer("000.00.00.H29")};
  Router root(Id("000.00.00.A00"), SampleHierarchy(), root_peers);
  EXPECT_THAT(root.NextHop(Id("000.01.01.H49")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("not configured as a child")));
  EXPECT_THAT(root.Path(Id("000.01.01.H49")), StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace congvan::node
