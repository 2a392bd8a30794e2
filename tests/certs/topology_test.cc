// Topology files: the sample parses; each kind of mistake is rejected with
// its own message naming the file and the entry.
#include "congvan/pki/topology.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "testing/status_matchers.h"

namespace congvan::pki {
namespace {

using ::congvan::testing::IsOk;
using ::congvan::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using signer::AgencyId;

const std::string kSample = std::string(CONGVAN_SOURCE_DIR) + "/deploy/topologies/sample.toml";

AgencyId Id(const std::string& text) { return *AgencyId::Parse(text); }

TEST(Topology, LoadsTheSample) {
  ASSERT_OK_AND_ASSIGN(Topology t, Topology::Load(kSample));
  EXPECT_EQ(t.root(), Id("000.00.00.A00"));
  EXPECT_EQ(t.agencies().size(), 12u);
  EXPECT_EQ(t.people().size(), 28u);

  const Agency* quang_ninh = t.FindAgency(Id("000.00.00.H49"));
  ASSERT_NE(quang_ninh, nullptr);
  EXPECT_EQ(quang_ninh->name, "UBND tỉnh Quảng Ninh");
  EXPECT_EQ(t.hierarchy().ParentOf(Id("000.00.00.H49")), Id("000.00.00.A00"));
  EXPECT_EQ(t.hierarchy().ParentOf(Id("000.01.02.H49")), Id("000.00.02.H49"));
  EXPECT_TRUE(t.hierarchy().IsAncestor(Id("000.00.00.H49"), Id("000.02.01.H49")));

  // One leader and one clerk per agency, one auditor, two leaders on tokens.
  for (const Agency& a : t.agencies()) {
    int leaders = 0, clerks = 0;
    for (const Person& p : t.people()) {
      if (p.agency != a.id) continue;
      leaders += p.HasRole(Role::kLeader);
      clerks += p.HasRole(Role::kClerk);
    }
    EXPECT_EQ(leaders, 1) << a.id.str();
    EXPECT_EQ(clerks, 1) << a.id.str();
  }
  int auditors = 0, tokens = 0;
  for (const Person& p : t.people()) {
    auditors += p.HasRole(Role::kAuditor);
    tokens += p.token;
  }
  EXPECT_EQ(auditors, 2);  // at the root and at Hồng Gai
  EXPECT_GE(tokens, 2);
  const Person* leader = t.FindPerson("leader-h49");
  ASSERT_NE(leader, nullptr);
  EXPECT_TRUE(leader->token);
  EXPECT_EQ(leader->position, "Chủ tịch");
  EXPECT_EQ(t.FindPerson("nobody"), nullptr);
}

TEST(Topology, AcceptsAParentOverride) {
  // The 2025 reform: a commune directly under its province.
  ASSERT_OK_AND_ASSIGN(Topology t, Topology::Parse(R"(
root = "000.00.00.A00"
[[agency]]
id = "000.00.00.A00"
name = "Trục"
[[agency]]
id = "000.00.00.H49"
name = "UBND tỉnh Quảng Ninh"
[[agency]]
id = "000.01.01.H49"
name = "UBND phường Hồng Gai"
parent = "000.00.00.H49"
)", "reform.toml"));
  EXPECT_EQ(t.hierarchy().ParentOf(Id("000.01.01.H49")), Id("000.00.00.H49"));
  EXPECT_TRUE(t.people().empty());
}

TEST(Topology, MissingFileIsNotFound) {
  EXPECT_THAT(Topology::Load("/nonexistent/topology.toml"), StatusIs(absl::StatusCode::kNotFound));
}

// A valid topology with one placeholder, replaced by each case.
constexpr char kTemplate[] = R"(
root = "000.00.00.A00"
@TOP@
[[agency]]
id = "000.00.00.A00"
name = "Trục liên thông"
@ROOT@
[[agency]]
id = "000.00.00.H49"
name = "UBND tỉnh Quảng Ninh"
@H49@
[[person]]
login = "leader-h49"
agency = "000.00.00.H49"
name = "Nguyễn Văn An"
roles = ["leader"]
@PERSON@
)";

struct InvalidCase {
  const char* name;
  const char* placeholder;
  const char* text;
  const char* message;  // expected in the error, besides the file name
};

std::string Fill(const InvalidCase& c) {
  std::string out = kTemplate;
  for (const char* p : {"@TOP@", "@ROOT@", "@H49@", "@PERSON@"}) {
    const size_t at = out.find(p);
    out.replace(at, std::string(p).size(), std::string(p) == c.placeholder ? c.text : "");
  }
  return out;
}

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

class TopologyInvalid : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(TopologyInvalid, IsRejectedWithItsOwnMessage) {
  const InvalidCase& c = GetParam();
  auto result = Topology::Parse(Fill(c), "bad.toml");
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("bad.toml"), HasSubstr(c.message))));
}

TEST(TopologyInvalid, TheTemplateItselfIsValid) {
  EXPECT_OK(Topology::Parse(Fill({"", "", "", ""}), "good.toml"));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TopologyInvalid,
    ::testing::Values(
        InvalidCase{"BadToml", "@TOP@", "x = = 1", "not valid TOML"},
        InvalidCase{"UnknownTopLevelKey", "@TOP@", "roots = 1", "unknown key 'roots'"},
        InvalidCase{"LowerCaseId", "@H49@", "[[agency]]\nid = \"000.00.00.h50\"\nname = \"X\"",
                    "[[agency]] #3: 'id': agency ID '000.00.00.h50' may contain only"},
        InvalidCase{"DuplicateId", "@H49@", "[[agency]]\nid = \"000.00.00.H49\"\nname = \"X\"",
                    "[[agency]] #3: agency 000.00.00.H49 is already listed as #2"},
        InvalidCase{"MissingName", "@H49@", "[[agency]]\nid = \"000.00.00.H50\"", "(000.00.00.H50): 'name' is missing"},
        InvalidCase{"NameTooLong", "@H49@",
                    "[[agency]]\nid = \"000.00.00.H50\"\nname = \"Ủy ban nhân dân tỉnh Quảng Ninh, một cái tên dài hơn "
                    "sáu mươi bốn ký tự một chút\"",
                    "longer than 64 characters"},
        InvalidCase{"ParentNotListed", "@H49@", "[[agency]]\nid = \"000.01.01.H49\"\nname = \"X\"",
                    "000.01.01.H49: its parent 000.00.01.H49 (derived from the ID) is not in the topology"},
        InvalidCase{"OverriddenParentNotListed", "@H49@",
                    "[[agency]]\nid = \"000.00.00.H50\"\nname = \"X\"\nparent = \"000.00.00.G99\"",
                    "its parent 000.00.00.G99 (set by 'parent') is not in the topology"},
        InvalidCase{"RootWithParent", "@ROOT@", "parent = \"000.00.00.H49\"", "is the root and cannot have a parent"},
        InvalidCase{"ParentCycle", "@H49@",
                    "parent = \"000.00.01.H49\"\n[[agency]]\nid = \"000.00.01.H49\"\nname = \"X\"", "cycle"},
        InvalidCase{"UnknownAgencyKey", "@H49@", "adress = \"x\"", "unknown key 'adress'"},
        InvalidCase{"BadLogin", "@PERSON@",
                    "[[person]]\nlogin = \"Clerk H49\"\nagency = \"000.00.00.H49\"\nname = \"X\"\nroles = [\"clerk\"]",
                    "[[person]] #2 ('Clerk H49'): login 'Clerk H49' must be 1 to 32 characters"},
        InvalidCase{"LoginTooLong", "@PERSON@",
                    "[[person]]\nlogin = \"clerk-with-a-very-long-login-name-h49\"\nagency = \"000.00.00.H49\"\n"
                    "name = \"X\"\nroles = [\"clerk\"]",
                    "must be 1 to 32 characters"},
        InvalidCase{"DuplicateLogin", "@PERSON@",
                    "[[person]]\nlogin = \"leader-h49\"\nagency = \"000.00.00.A00\"\nname = \"X\"\nroles = [\"clerk\"]",
                    "[[person]] #2 ('leader-h49'): login 'leader-h49' is already used by #1"},
        InvalidCase{"UnknownRole", "@PERSON@",
                    "[[person]]\nlogin = \"boss\"\nagency = \"000.00.00.H49\"\nname = \"X\"\nroles = [\"boss\"]",
                    "('boss'): unknown role 'boss'"},
        InvalidCase{"NoRoles", "@PERSON@",
                    "[[person]]\nlogin = \"nobody\"\nagency = \"000.00.00.H49\"\nname = \"X\"\nroles = []",
                    "'roles' must be a non-empty list"},
        InvalidCase{"PersonAgencyNotListed", "@PERSON@",
                    "[[person]]\nlogin = \"clerk-g12\"\nagency = \"000.00.00.G12\"\nname = \"X\"\nroles = [\"clerk\"]",
                    "('clerk-g12'): agency 000.00.00.G12 is not listed as an [[agency]]"},
        InvalidCase{"TokenNotBool", "@PERSON@", "token = \"yes\"", "'token' must be true or false"},
        InvalidCase{"UnknownPersonKey", "@PERSON@", "tokens = true", "unknown key 'tokens'"}),
    [](const ::testing::TestParamInfo<InvalidCase>& info) { return std::string(info.param.name); });

TEST(TopologyInvalid, RootMustBeListed) {
  EXPECT_THAT(Topology::Parse("root = \"000.00.00.A00\"\n[[agency]]\nid = \"000.00.00.H49\"\nname = \"X\"\n",
                              "bad.toml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("bad.toml: the root 000.00.00.A00 must also be listed as an [[agency]]")));
  EXPECT_THAT(Topology::Parse("[[agency]]\nid = \"000.00.00.A00\"\nname = \"X\"\n", "bad.toml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad.toml: 'root' is missing")));
}

TEST(TopologyInvalid, AgenciesMustBeTables) {
  EXPECT_THAT(Topology::Parse("root = \"000.00.00.A00\"\nagency = \"x\"\n", "bad.toml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'agency' must be written as [[agency]]")));
}

TEST(TopologyRole, NamesRoundTrip) {
  for (Role r : {Role::kClerk, Role::kLeader, Role::kAuditor, Role::kOperator}) {
    ASSERT_OK_AND_ASSIGN(Role parsed, ParseRole(RoleName(r)));
    EXPECT_EQ(parsed, r);
  }
  EXPECT_THAT(ParseRole("Leader"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace congvan::pki
