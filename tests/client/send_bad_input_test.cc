// Files handed to `congvan send` that cannot be a document's parts or a
// leader's signature (tests/SECURITY.md, the part-file rows): each is a
// usage error (exit 2) found before any node is called. The real binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace congvan::client {
namespace {

using ::congvan::testing::Bin;
using ::congvan::testing::RunResult;
using ::congvan::testing::TempDir;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

// `send` of `file` with `leader_sig`, through a profile that does not exist:
// whatever fails first must be the file, not the node.
RunResult Send(const TempDir& dir, const std::string& file, const std::string& leader_sig) {
  return ::congvan::testing::Run({Bin("congvan"), "send", "--profile", dir.File("no-profile.toml"), "--to",
                                  "000.00.01.H49", "--subject", "Thử", "--type", "Công văn", "--notation", "1/UBND",
                                  "--file", file, "--leader-sig", leader_sig});
}

TEST(SendBadInput, ALeaderSignatureFileTooLargeToBeOneIsAUsageError) {
  TempDir dir;
  WriteTestFile(dir.File("qd.pdf"), "%PDF-1.7");
  WriteTestFile(dir.File("huge.p7s"), std::string(8 << 20, '\x30'));
  RunResult r = Send(dir, dir.File("qd.pdf"), dir.File("huge.p7s"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("is too large to be a signature"));
  RunResult missing = Send(dir, dir.File("qd.pdf"), dir.File("nosuch.p7s"));
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("cannot read --leader-sig"));
}

TEST(SendBadInput, APartThatIsADirectoryOrUnreadableIsAUsageError) {
  TempDir dir;
  WriteTestFile(dir.File("sig.p7s"), "x");
  std::filesystem::create_directory(dir.File("folder.pdf"));
  RunResult folder = Send(dir, dir.File("folder.pdf"), dir.File("sig.p7s"));
  EXPECT_EQ(folder.exit_code, 2) << folder.err;
  EXPECT_THAT(folder.err, HasSubstr("folder.pdf is not a regular file"));
  RunResult missing = Send(dir, dir.File("nosuch.pdf"), dir.File("sig.p7s"));
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_THAT(missing.err, HasSubstr("nosuch.pdf"));
  if (geteuid() != 0) {  // root reads any file
    WriteTestFile(dir.File("secret.pdf"), "%PDF");
    chmod(dir.File("secret.pdf").c_str(), 0);
    RunResult unreadable = Send(dir, dir.File("secret.pdf"), dir.File("sig.p7s"));
    EXPECT_EQ(unreadable.exit_code, 2) << unreadable.err;
    EXPECT_THAT(unreadable.err, HasSubstr("secret.pdf"));
  }
}

}  // namespace
}  // namespace congvan::client
