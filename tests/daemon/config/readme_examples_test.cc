// The examples in daemon/README.md stay valid: their TOML has no problem of
// its own; only the files they name are missing on a test machine.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "congvan/config/node_config.h"
#include "congvan/config/profile.h"
#include "testing/temp_dir.h"

namespace congvan::config {
namespace {

using ::congvan::testing::ReadTestFile;
using ::congvan::testing::TempDir;
using ::congvan::testing::WriteTestFile;

// The first ```toml block after `heading` in daemon/README.md.
std::string ExampleAfter(const std::string& heading) {
  const std::string readme = ReadTestFile(std::string(CONGVAN_SOURCE_DIR) + "/daemon/README.md");
  const size_t section = readme.find("\n" + heading + "\n");
  EXPECT_NE(section, std::string::npos) << heading;
  const size_t start = readme.find("```toml\n", section);
  const size_t end = readme.find("```\n", start + 8);
  EXPECT_NE(end, std::string::npos);
  return readme.substr(start + 8, end - start - 8);
}

void ExpectOnlyFileProblems(const std::vector<ConfigProblem>& problems) {
  EXPECT_FALSE(problems.empty());
  for (const ConfigProblem& p : problems) {
    EXPECT_NE(p.code, absl::StatusCode::kInvalidArgument) << p.ToString();
  }
}

TEST(ConfigReadme, TheNodeTomlExampleIsValidToml) {
  TempDir tmp;
  WriteTestFile(tmp.File("node.toml"), ExampleAfter("## node.toml"));
  ExpectOnlyFileProblems(CheckNodeConfig(tmp.File("node.toml")));
}

TEST(ConfigReadme, TheProfileExampleIsValidToml) {
  TempDir tmp;
  WriteTestFile(tmp.File("profile.toml"), ExampleAfter("## profile.toml"));
  ExpectOnlyFileProblems(CheckProfile(tmp.File("profile.toml")));
}

}  // namespace
}  // namespace congvan::config
