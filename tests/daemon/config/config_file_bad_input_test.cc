// Configuration files that cannot be one whatever their text
// (tests/SECURITY.md, "node.toml: oversized"): far larger than any
// configuration, or not a regular file. Refused before they are read into
// memory, naming the file and the limit, by LoadNodeConfig and by
// CheckNodeConfig (what `congvand --check-config` prints).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "congvan/config/node_config.h"
#include "congvan/config/profile.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace congvan::config {
namespace {

using ::congvan::testing::StatusIs;
using ::congvan::testing::TempDir;
using ::congvan::testing::WriteTestFile;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// Valid TOML (a comment) of `bytes` bytes.
std::string CommentOf(size_t bytes) { return "#" + std::string(bytes - 2, 'x') + "\n"; }

TEST(ConfigFileBadInput, ANodeTomlOverOneMebibyteIsRefusedNamingTheFileAndTheLimit) {
  TempDir dir;
  const std::string path = dir.File("node.toml");
  WriteTestFile(path, CommentOf((1 << 20) + 1));
  EXPECT_THAT(LoadNodeConfig(path),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr(path), HasSubstr("1048577 bytes"), HasSubstr("more than the 1 MiB"))));
  const std::vector<ConfigProblem> problems = CheckNodeConfig(path);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].code, absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(problems[0].key, "");
  EXPECT_THAT(problems[0].message, HasSubstr("more than the 1 MiB a configuration file may have"));

  // At the limit it is read (and found to lack every required key, not to be too large).
  WriteTestFile(path, CommentOf(1 << 20));
  EXPECT_THAT(LoadNodeConfig(path), StatusIs(absl::StatusCode::kInvalidArgument, Not(HasSubstr("more than"))));
}

TEST(ConfigFileBadInput, AProfileOverOneMebibyteIsRefused) {
  TempDir dir;
  const std::string path = dir.File("profile.toml");
  WriteTestFile(path, CommentOf(4 << 20));
  EXPECT_THAT(LoadProfile(path), StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr(path)));
}

TEST(ConfigFileBadInput, ANodeTomlThatIsNotARegularFileIsRefusedWithoutReadingIt) {
  TempDir dir;
  std::filesystem::create_directory(dir.File("node.toml"));
  EXPECT_THAT(LoadNodeConfig(dir.File("node.toml")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a regular file")));
  // A FIFO would block a reader for ever; /dev/zero would never end.
  ASSERT_EQ(mkfifo(dir.File("fifo.toml").c_str(), 0600), 0);
  EXPECT_THAT(LoadNodeConfig(dir.File("fifo.toml")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a regular file")));
  EXPECT_THAT(LoadNodeConfig("/dev/zero"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a regular file")));
}

}  // namespace
}  // namespace congvan::config
