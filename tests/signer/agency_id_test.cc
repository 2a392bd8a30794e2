#include "congvan/signer/agency_id.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace congvan::signer {
namespace {

using ::congvan::testing::StatusIs;
using ::testing::HasSubstr;

AgencyId Id(const std::string& text) {
  auto id = AgencyId::Parse(text);
  EXPECT_TRUE(id.ok()) << text << ": " << id.status();
  return *id;
}

TEST(AgencyIdParse, AcceptsRealShapedIds) {
  for (const char* text : {"000.00.00.H49", "000.12.05.H49", "000.00.00.G12", "000.00.00.A00", "H49", "01.H29"}) {
    EXPECT_TRUE(AgencyId::Parse(text).ok()) << text;
  }
  EXPECT_EQ(Id("000.12.05.H49").groups(), (std::vector<std::string>{"000", "12", "05", "H49"}));
}

TEST(AgencyIdParse, RejectsMalformedIdsWithTheReason) {
  EXPECT_THAT(AgencyId::Parse(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(AgencyId::Parse("000..00.H49"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty group")));
  EXPECT_THAT(AgencyId::Parse(".H49"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty group")));
  EXPECT_THAT(AgencyId::Parse("000.00.00.H49."), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty group")));
  EXPECT_THAT(AgencyId::Parse("000.00.00.h49"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("upper-case")));
  EXPECT_THAT(AgencyId::Parse("000.00-00.H49"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("upper-case")));
  EXPECT_THAT(AgencyId::Parse("000.00.00.000"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("level-1")));
  EXPECT_THAT(AgencyId::Parse(std::string(36, '1')), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("35")));
  EXPECT_TRUE(AgencyId::Parse(std::string(35, '1')).ok());
}

TEST(AgencyIdLevel, IsTheDeepestNonZeroGroup) {
  EXPECT_EQ(Id("000.00.00.H49").level(), 1);
  EXPECT_EQ(Id("000.00.05.H49").level(), 2);
  EXPECT_EQ(Id("000.12.05.H49").level(), 3);
  EXPECT_EQ(Id("001.12.05.H49").level(), 4);
  EXPECT_EQ(Id("000.12.00.H49").level(), 3);
}

TEST(AgencyIdDerivedParent, ZeroesTheLeftmostNonZeroGroup) {
  EXPECT_EQ(Id("000.12.05.H49").DerivedParent(), Id("000.00.05.H49"));
  EXPECT_EQ(Id("000.00.05.H49").DerivedParent(), Id("000.00.00.H49"));
  EXPECT_EQ(Id("000.12.00.H49").DerivedParent(), Id("000.00.00.H49"));
  EXPECT_EQ(Id("000.00.00.H49").DerivedParent(), std::nullopt);
}

TEST(Hierarchy, DerivesParentsUpToTheRoot) {
  auto h = Hierarchy::Create(Id("000.00.00.A00"));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->ParentOf(Id("000.00.00.H49")), Id("000.00.00.A00"));
  EXPECT_EQ(h->ParentOf(Id("000.00.00.A00")), std::nullopt);
  EXPECT_EQ(h->PathToRoot(Id("000.12.05.H49")),
            (std::vector<AgencyId>{Id("000.12.05.H49"), Id("000.00.05.H49"), Id("000.00.00.H49"), Id("000.00.00.A00")}));
  EXPECT_TRUE(h->IsAncestor(Id("000.00.00.H49"), Id("000.12.05.H49")));
  EXPECT_TRUE(h->IsAncestor(Id("000.00.00.A00"), Id("000.12.05.H49")));
  EXPECT_FALSE(h->IsAncestor(Id("000.00.00.H29"), Id("000.12.05.H49")));
  EXPECT_FALSE(h->IsAncestor(Id("000.12.05.H49"), Id("000.12.05.H49")));
}

TEST(Hierarchy, OverridesReplaceTheDerivedParent) {
  // The 2025 reform: a commune directly under its province.
  auto h = Hierarchy::Create(Id("000.00.00.A00"), {{Id("000.12.05.H49"), Id("000.00.00.H49")}});
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->ParentOf(Id("000.12.05.H49")), Id("000.00.00.H49"));
  EXPECT_FALSE(h->IsAncestor(Id("000.00.05.H49"), Id("000.12.05.H49")));
  // Agencies without an override still derive.
  EXPECT_EQ(h->ParentOf(Id("000.13.05.H49")), Id("000.00.05.H49"));
}

TEST(Hierarchy, RejectsCyclesAndARootWithAParent) {
  EXPECT_THAT(Hierarchy::Create(Id("000.00.00.A00"),
                                {{Id("000.00.00.H49"), Id("000.00.01.H49")}, {Id("000.00.01.H49"), Id("000.00.00.H49")}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cycle")));
  EXPECT_THAT(Hierarchy::Create(Id("000.00.00.A00"), {{Id("000.00.00.A00"), Id("000.00.00.H49")}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("root")));
}

}  // namespace
}  // namespace congvan::signer
