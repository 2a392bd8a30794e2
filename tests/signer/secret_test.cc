#include "congvan/signer/secret.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace congvan::signer {
namespace {

using ::congvan::testing::StatusIs;
using ::congvan::testing::TempDir;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ReadSecret, ReadsTheFirstLineOfAPrivateFile) {
  TempDir dir;
  WriteTestFile(dir.File("pin"), "123456\r\nignored\n");
  auto secret = ReadSecret({.file = dir.File("pin")});
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(*secret, "123456");
}

TEST(ReadSecret, RefusesAFileOthersCanRead) {
  TempDir dir;
  WriteTestFile(dir.File("pin"), "123456\n");
  chmod(dir.File("pin").c_str(), 0644);
  auto secret = ReadSecret({.file = dir.File("pin")});
  EXPECT_THAT(secret, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("chmod 600")));
  EXPECT_THAT(std::string(secret.status().message()), Not(HasSubstr("123456")));
}

TEST(ReadSecret, ReadsAnEnvironmentVariable) {
  setenv("CONGVAN_TEST_SECRET", "s3cret", 1);
  auto secret = ReadSecret({.env = "CONGVAN_TEST_SECRET"});
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(*secret, "s3cret");
  EXPECT_THAT(ReadSecret({.env = "CONGVAN_TEST_UNSET_VARIABLE"}), StatusIs(absl::StatusCode::kNotFound));
}

TEST(ReadSecret, RejectsMissingEmptyOrAmbiguousSources) {
  TempDir dir;
  WriteTestFile(dir.File("empty"), "\n");
  EXPECT_THAT(ReadSecret({.file = dir.File("empty")}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(ReadSecret({.file = dir.File("missing")}), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ReadSecret({}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ReadSecret({.file = dir.File("empty"), .env = "X"}), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace congvan::signer
