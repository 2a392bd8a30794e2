// `congvan verify` handed a container that is not one (tests/SECURITY.md, the
// evidence-container rows): a file that is no zip, a zip whose entry climbs
// out of the directory, a zip bomb whose entry inflates past what its header
// declares, and files that are not there. Each fails with its exit code and
// a check that says why; none crashes the tool or writes outside its place.
// The real `congvan` binary; zips written by python3's zipfile, which writes
// what it is told.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "testing/subprocess.h"
#include "testing/temp_dir.h"
#include "testing/test_pki.h"

namespace congvan::client {
namespace {

using ::congvan::testing::Bin;
using ::congvan::testing::RunResult;
using ::congvan::testing::TempDir;
using ::congvan::testing::TestPki;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

RunResult Verify(const std::string& container, const std::string& trust) {
  return ::congvan::testing::Run({Bin("congvan"), "verify", container, "--trust", trust, "--json"});
}

// The first failed check of a `verify --json` report ("" when none failed).
std::string FirstFailure(const RunResult& r) {
  const nlohmann::json report = nlohmann::json::parse(r.out, nullptr, false);
  if (report.is_discarded()) return "unparsable: " + r.out;
  for (const auto& check : report.value("checks", nlohmann::json::array())) {
    if (!check.value("ok", true)) return check.dump();
  }
  return "";
}

// Whether a failed check of a `verify --json` report names `words`.
bool AFailedCheckSays(const RunResult& r, const std::string& words) {
  const nlohmann::json report = nlohmann::json::parse(r.out, nullptr, false);
  if (report.is_discarded()) return false;
  for (const auto& check : report.value("checks", nlohmann::json::array())) {
    if (!check.value("ok", true) && check.dump().find(words) != std::string::npos) return true;
  }
  return false;
}

bool HavePython() { return ::congvan::testing::Run({"sh", "-c", "command -v python3"}).exit_code == 0; }

// Writes a zip with the ASiC mimetype first (stored), then `name` holding
// `size` bytes of 'a' (deflated), its headers declaring `declared` bytes
// (the real size when 0).
void WriteZip(const std::string& path, const std::string& name, size_t size, size_t declared = 0) {
  const char* script = R"(
import sys, zipfile, struct
path, name, size, declared = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with zipfile.ZipFile(path, 'w') as z:
    z.writestr(zipfile.ZipInfo('mimetype'), 'application/vnd.etsi.asic-e+zip', compress_type=zipfile.ZIP_STORED)
    z.writestr(zipfile.ZipInfo(name), b'a' * size, compress_type=zipfile.ZIP_DEFLATED)
if declared:
    data = bytearray(open(path, 'rb').read())
    raw = name.encode()
    for sig, off in ((b'PK\x03\x04', 22), (b'PK\x01\x02', 24)):
        at = data.find(sig)
        while at >= 0:
            name_at = at + (30 if sig == b'PK\x03\x04' else 46)
            if data[name_at:name_at + len(raw)] == raw:
                data[at + off:at + off + 4] = struct.pack('<I', declared)
            at = data.find(sig, at + 1)
    open(path, 'wb').write(bytes(data))
)";
  RunResult r = ::congvan::testing::Run({"python3", "-c", script, path, name, std::to_string(size),
                                         std::to_string(declared)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

TEST(VerifyBadInput, AFileThatIsNotAContainerFailsWithExitOne) {
  TestPki pki;
  TempDir dir;
  for (const std::string& bytes : {std::string("PK not really"), std::string(), std::string(100000, '\0')}) {
    WriteTestFile(dir.File("not.asice"), bytes);
    RunResult r = Verify(dir.File("not.asice"), pki.root_path());
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_THAT(FirstFailure(r), HasSubstr(dir.File("not.asice")));
  }
}

TEST(VerifyBadInput, AMissingContainerOrTrustFileIsAUsageError) {
  TestPki pki;
  TempDir dir;
  RunResult missing = Verify(dir.File("nosuch.asice"), pki.root_path());
  EXPECT_EQ(missing.exit_code, 2) << missing.out << missing.err;
  EXPECT_THAT(missing.out + missing.err, HasSubstr("no such file"));
  WriteTestFile(dir.File("not.asice"), "PK");
  RunResult trust = Verify(dir.File("not.asice"), dir.File("nosuch-root.pem"));
  EXPECT_EQ(trust.exit_code, 2) << trust.out << trust.err;
}

TEST(VerifyBadInput, AnEntryThatClimbsOutOfTheDirectoryFailsAndWritesNothingThere) {
  if (!HavePython()) GTEST_SKIP() << "python3 is not installed";
  TestPki pki;
  TempDir dir;
  std::filesystem::create_directories(dir.File("in"));
  const std::string zip = dir.File("in/evil.asice");
  ASSERT_NO_FATAL_FAILURE(WriteZip(zip, "../escaped.txt", 10));
  RunResult r = Verify(zip, pki.root_path());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(FirstFailure(r), HasSubstr("escaped.txt"));
  EXPECT_FALSE(std::filesystem::exists(dir.File("escaped.txt")));
  ASSERT_NO_FATAL_FAILURE(WriteZip(zip, "/tmp/absolute.txt", 10));
  RunResult absolute = Verify(zip, pki.root_path());
  EXPECT_EQ(absolute.exit_code, 1) << absolute.out << absolute.err;
}

TEST(VerifyBadInput, AZipBombIsReadNoFurtherThanItsHeaderDeclares) {
  if (!HavePython()) GTEST_SKIP() << "python3 is not installed";
  TestPki pki;
  TempDir dir;
  const std::string zip = dir.File("bomb.asice");
  // 64 MiB of 'a' deflate to some 64 KiB; the headers say 1,000 bytes.
  ASSERT_NO_FATAL_FAILURE(WriteZip(zip, "document/header.pb", size_t{64} << 20, 1000));
  RunResult r = Verify(zip, pki.root_path());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(AFailedCheckSays(r, "holds more than the 1000 bytes its header declares")) << r.out;
}

}  // namespace
}  // namespace congvan::client
