#include "congvan/audit/container.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <regex>
#include <sstream>

#include "congvan/signer/cms.h"
#include "congvan/signer/status_macros.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace congvan::audit {
namespace {

using ::congvan::testing::ReadTestFile;
using ::congvan::testing::RunResult;
using ::congvan::testing::StatusIs;
using ::congvan::testing::TempDir;
using ::congvan::testing::WriteTestFile;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Runs a program (testing::Test has a Run of its own).
RunResult Exec(const std::vector<std::string>& argv) { return ::congvan::testing::Run(argv); }

MATCHER_P(HoldsValue, expected, "is OK and holds the expected value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return *arg == expected;
}

using Files = std::vector<std::pair<std::string, std::string>>;

absl::Status WriteContainer(const std::string& path, const Files& files) {
  ASSIGN_OR_RETURN(std::unique_ptr<ContainerWriter> writer, ContainerWriter::Create(path));
  for (const auto& [name, bytes] : files) RETURN_IF_ERROR(writer->AddBytes(name, bytes));
  return writer->Close();
}

bool HaveTool(const std::string& tool) { return Exec({"sh", "-c", "command -v " + tool}).exit_code == 0; }

// Info-ZIP's zip, storing (-0) or deflating, with bare file names (-j) and no
// extra fields (-X): containers that another tool made.
RunResult Zip(const std::string& zip_path, const std::vector<std::string>& files, bool store) {
  std::vector<std::string> argv = {"zip", "-q", "-j", "-X", store ? "-0" : "-6", zip_path};
  argv.insert(argv.end(), files.begin(), files.end());
  return Exec(argv);
}

struct RawEntry {
  std::string name;
  std::string data;
  bool deflate = false;
};

// python3's zipfile writes whatever it is given (here: a compressed
// mimetype), which ContainerWriter refuses to. False if there is no python3.
bool WriteZipWithPython(const std::string& path, const std::vector<RawEntry>& entries) {
  if (!HaveTool("python3")) return false;
  static constexpr char kScript[] = R"(
import binascii, sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    a = sys.argv[2:]
    for i in range(0, len(a), 3):
        info = zipfile.ZipInfo(binascii.unhexlify(a[i]).decode('utf-8'), date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED if a[i + 2] == '1' else zipfile.ZIP_STORED
        z.writestr(info, binascii.unhexlify(a[i + 1]))
)";
  std::vector<std::string> argv = {"python3", "-c", kScript, path};
  for (const RawEntry& e : entries) {
    argv.push_back(signer::HexEncode(e.name));
    argv.push_back(signer::HexEncode(e.data));
    argv.push_back(e.deflate ? "1" : "0");
  }
  RunResult r = Exec(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0;
}

// Forges the uncompressed size that both the local and the central header of
// `name` declare.
void DeclareSize(std::string* zip, const std::string& name, uint32_t size) {
  int patched = 0;
  auto put32 = [&](size_t at) {
    for (int i = 0; i < 4; ++i) (*zip)[at + i] = static_cast<char>((size >> (8 * i)) & 0xFF);
    ++patched;
  };
  for (size_t at = zip->find(name); at != std::string::npos; at = zip->find(name, at + 1)) {
    if (at >= 30 && zip->compare(at - 30, 4, std::string("PK\x03\x04", 4)) == 0) put32(at - 30 + 22);
    if (at >= 46 && zip->compare(at - 46, 4, std::string("PK\x01\x02", 4)) == 0) put32(at - 46 + 24);
  }
  ASSERT_EQ(patched, 2) << "expected one local and one central header for " << name;
}

// Writes a container of `files`, then renames entries in both headers (names
// are not checksummed, so the archive stays valid): the names that
// ContainerWriter refuses to write. Each new name has its old one's length.
void WriteForgedNames(const std::string& path, const Files& files,
                      const std::vector<std::pair<std::string, std::string>>& renames) {
  ASSERT_OK(WriteContainer(path, files));
  std::string zip = ReadTestFile(path);
  for (const auto& [from, to] : renames) {
    ASSERT_EQ(from.size(), to.size());
    int patched = 0;
    for (size_t at = zip.find(from); at != std::string::npos; at = zip.find(from, at + 1)) {
      bool local = at >= 30 && zip.compare(at - 30, 4, std::string("PK\x03\x04", 4)) == 0;
      bool central = at >= 46 && zip.compare(at - 46, 4, std::string("PK\x01\x02", 4)) == 0;
      if (local || central) {
        zip.replace(at, from.size(), to);
        ++patched;
      }
    }
    ASSERT_EQ(patched, 2) << "expected one local and one central header for " << from;
  }
  WriteTestFile(path, zip);
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(gen() & 0xFF);
  return s;
}

// The names `unzip -l` lists, in its order.
std::vector<std::string> UnzipList(const std::string& zip_path) {
  RunResult r = Exec({"unzip", "-l", zip_path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> names;
  std::istringstream lines(r.out);
  std::string line;
  int dashes = 0;
  static const std::regex kRow(R"(^\s*\d+\s+\S+\s+\S+\s+(.+)$)");
  while (std::getline(lines, line)) {
    if (line.rfind("---------", 0) == 0) {
      ++dashes;
      continue;
    }
    std::smatch m;
    if (dashes == 1 && std::regex_match(line, m, kRow)) names.push_back(m[1]);
  }
  return names;
}

// `unzip -Z -v` on one entry, runs of spaces squeezed to one.
std::string ZipInfoOf(const std::string& zip_path, const std::string& name) {
  RunResult r = Exec({"unzip", "-Z", "-v", zip_path, name});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string squeezed;
  for (char c : r.out) {
    if (c == ' ' && !squeezed.empty() && squeezed.back() == ' ') continue;
    squeezed += c;
  }
  return squeezed;
}

long MaxRssKiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// ---------------------------------------------------------------- names

TEST(ContainerEntryName, AcceptsOrdinaryRelativeNames) {
  for (const std::string& name :
       std::vector<std::string>{"header.bin", "parts/1/quyết định số 12.pdf", "META-INF/ASiCManifest.xml", "a/mimetype",
                                "chains/ca.pem", "..hidden", "a.", std::string(255, 'x')}) {
    EXPECT_OK(CheckEntryName(name)) << name;
  }
}

TEST(ContainerEntryName, RejectsNamesThatEscapeOrMislead) {
  struct Case {
    std::string name;
    std::string reason;
  };
  for (const Case& c : std::vector<Case>{
           {"", "empty"},
           {"../evil", "\"..\" component"},
           {"parts/../../evil", "\"..\" component"},
           {"parts/..", "\"..\" component"},
           {"./a", "\".\" component"},
           {"/abs", "absolute"},
           {"C:/Windows/evil", "drive letter"},
           {"parts\\evil", "backslash"},
           {"META-INF/", "empty component"},
           {"a//b", "empty component"},
           {std::string("a\0b", 3), "control character"},
           {"a\nb", "control character"},
           {"a\x7f", "control character"},
           {"a\xc2\x85", "control character"},  // U+0085, a C1 control
           {"bad\xff", "UTF-8"},
           {"over\xc0\xaflong", "UTF-8"},  // an overlong '/'
           {"surrogate\xed\xa0\x80", "UTF-8"},
           {"mimetype", "reserved"},
           {std::string(256, 'x'), "256 bytes"},
       }) {
    EXPECT_THAT(CheckEntryName(c.name), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.reason)))
        << signer::HexEncode(c.name);
  }
}

TEST(ContainerEntryName, QuotesAnUnprintableNameInItsMessage) {
  absl::Status s = CheckEntryName("evil\x1b[31m.pdf");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"evil\\x1b[31m.pdf\"")));
  EXPECT_THAT(CheckEntryName("../quyết định"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("quyết định")));
}

// ---------------------------------------------------------------- writer

TEST(ContainerWriter, WritesMimetypeFirstStoredWithoutExtraField) {
  TempDir dir;
  std::string path = dir.File("evidence.asice");
  ASSERT_OK(WriteContainer(path, {{"header.bin", "header bytes"},
                                  {"parts/1.pdf", std::string(10000, 'p')},
                                  {"META-INF/ASiCManifest.xml", "<x/>"}}));

  EXPECT_THAT(UnzipList(path), ElementsAre("mimetype", "header.bin", "parts/1.pdf", "META-INF/ASiCManifest.xml"));
  EXPECT_THAT(ZipInfoOf(path, "mimetype"),
              AllOf(HasSubstr("compression method: none (stored)"), HasSubstr("length of extra field: 0 bytes")));
  EXPECT_THAT(ZipInfoOf(path, "parts/1.pdf"), HasSubstr("compression method: deflated"));
  RunResult p = Exec({"unzip", "-p", path, "mimetype"});
  EXPECT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(p.out, kAsicMimeType);
  RunResult t = Exec({"unzip", "-t", path});
  EXPECT_EQ(t.exit_code, 0) << t.out << t.err;
  EXPECT_THAT(t.out, HasSubstr("No errors detected"));

  // The local header too (what ASiC's "magic number" readers look at):
  // "mimetype" at byte 30, stored, no extra field, its content at byte 38.
  std::string bytes = ReadTestFile(path);
  ASSERT_GT(bytes.size(), 38u + sizeof(kAsicMimeType));
  EXPECT_EQ(bytes.substr(0, 4), std::string("PK\x03\x04", 4));
  EXPECT_EQ(bytes.substr(8, 2), std::string(2, '\0')) << "compression method";
  EXPECT_EQ(bytes.substr(28, 2), std::string(2, '\0')) << "extra field length";
  EXPECT_EQ(bytes.substr(30, 8), "mimetype");
  EXPECT_EQ(bytes.substr(38, sizeof(kAsicMimeType) - 1), kAsicMimeType);
}

TEST(ContainerWriter, FilesFromDiskComeBackByteIdentical) {
  TempDir dir;
  std::string small = RandomBytes(70000, 1);
  WriteTestFile(dir.File("small.bin"), small);
  WriteTestFile(dir.File("empty.bin"), "");
  std::string path = dir.File("c.asice");
  {
    ASSERT_OK_AND_ASSIGN(auto writer, ContainerWriter::Create(path));
    ASSERT_OK(writer->AddFile("parts/small.bin", dir.File("small.bin")));
    ASSERT_OK(writer->AddFile("parts/empty.bin", dir.File("empty.bin")));
    ASSERT_OK(writer->Close());
  }
  RunResult p = Exec({"unzip", "-p", path, "parts/small.bin"});
  EXPECT_EQ(p.exit_code, 0) << p.err;
  EXPECT_TRUE(p.out == small) << "unzip -p gave " << p.out.size() << " bytes";
  ASSERT_OK_AND_ASSIGN(auto reader, ContainerReader::Open(path));
  ASSERT_OK_AND_ASSIGN(std::string back, reader->Read("parts/small.bin"));
  EXPECT_TRUE(back == small);
  EXPECT_THAT(reader->Read("parts/empty.bin"), HoldsValue(std::string()));
}

TEST(ContainerWriter, StreamsALargeFileWithoutHoldingItInMemory) {
  TempDir dir;
  // 50 MiB, mostly a hole, with marks at the start, in the middle and at the
  // end: cheap to make and to deflate, yet every byte is checked.
  constexpr off_t kSize = off_t{50} << 20;
  std::string big = dir.File("big.bin");
  int fd = open(big.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, kSize), 0);
  for (off_t at : {off_t{0}, (off_t{17} << 20) + 3, kSize - 4096}) {
    std::string mark = RandomBytes(4096, static_cast<uint32_t>(at));
    ASSERT_EQ(pwrite(fd, mark.data(), mark.size(), at), static_cast<ssize_t>(mark.size()));
  }
  close(fd);
  ASSERT_OK_AND_ASSIGN(std::string want, signer::Sha256File(big));

  long rss_before = MaxRssKiB();
  std::string path = dir.File("big.asice");
  {
    ASSERT_OK_AND_ASSIGN(auto writer, ContainerWriter::Create(path));
    ASSERT_OK(writer->AddFile("parts/big.bin", big));
    ASSERT_OK(writer->Close());
  }
  ASSERT_OK_AND_ASSIGN(auto reader, ContainerReader::Open(path));
  EXPECT_THAT(reader->SizeOf("parts/big.bin"), HoldsValue(static_cast<uint64_t>(kSize)));
  ASSERT_OK(reader->ExtractTo("parts/big.bin", dir.File("extracted.bin")));
  EXPECT_THAT(signer::Sha256File(dir.File("extracted.bin")), HoldsValue(want));
  // Neither direction held the 50 MiB (the high-water mark only rises, so
  // earlier use can hide growth but never fake it).
  EXPECT_LT(MaxRssKiB() - rss_before, 20 * 1024);

  // And an independent reader agrees (extracting checks the CRC too).
  RunResult x = Exec({"unzip", "-q", "-d", dir.File("unzipped"), path, "parts/big.bin"});
  ASSERT_EQ(x.exit_code, 0) << x.err;
  EXPECT_THAT(signer::Sha256File(dir.File("unzipped/parts/big.bin")), HoldsValue(want));
}

TEST(ContainerWriter, RefusesUnsafeReservedAndDuplicateNames) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto writer, ContainerWriter::Create(dir.File("c.asice")));
  EXPECT_THAT(writer->AddBytes("../evil", "x"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("..")));
  EXPECT_THAT(writer->AddBytes("mimetype", "x"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reserved")));
  ASSERT_OK(writer->AddBytes("a.txt", "x"));
  EXPECT_THAT(writer->AddBytes("a.txt", "y"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("already")));
  WriteTestFile(dir.File("f"), "f");
  EXPECT_THAT(writer->AddFile("a.txt", dir.File("f")), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(writer->AddFile("b.txt", dir.File("missing")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(writer->AddFile("b.txt", dir.path()), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK(writer->Close());
  ASSERT_OK_AND_ASSIGN(auto reader, ContainerReader::Open(dir.File("c.asice")));
  EXPECT_THAT(reader->names(), ElementsAre("a.txt"));
  EXPECT_THAT(reader->Read("a.txt"), HoldsValue(std::string("x")));
}

TEST(ContainerWriter, LeavesTheOldFileWhenClosingFails) {
  TempDir dir;
  std::string path = dir.File("c.asice");
  WriteTestFile(path, "an older export");
  WriteTestFile(dir.File("part"), "part");
  ASSERT_OK_AND_ASSIGN(auto writer, ContainerWriter::Create(path));
  ASSERT_OK(writer->AddFile("part", dir.File("part")));
  ASSERT_EQ(unlink(dir.File("part").c_str()), 0);
  EXPECT_THAT(writer->Close(), StatusIs(absl::StatusCode::kNotFound, HasSubstr("removed")));
  EXPECT_EQ(ReadTestFile(path), "an older export");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_THAT(writer->Close(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(writer->AddBytes("x", "x"), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(ContainerWriter, WritesNothingWithoutClose) {
  TempDir dir;
  std::string path = dir.File("c.asice");
  {
    ASSERT_OK_AND_ASSIGN(auto writer, ContainerWriter::Create(path));
    ASSERT_OK(writer->AddBytes("a", "a"));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(ContainerWriter, ReplacesAnExistingFileWithMode0644) {
  TempDir dir;
  std::string path = dir.File("c.asice");
  WriteTestFile(path, "an older export");
  mode_t old_umask = umask(077);
  absl::Status written = WriteContainer(path, {{"a", "a"}});
  umask(old_umask);
  ASSERT_OK(written);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_OK(ContainerReader::Open(path).status());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(ContainerWriter, CreateFailsWhereNothingCanBeWritten) {
  TempDir dir;
  EXPECT_THAT(ContainerWriter::Create(dir.File("no/such/dir/c.asice")),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no/such/dir")));
  EXPECT_THAT(ContainerWriter::Create(dir.path()), StatusIs(absl::StatusCode::kFailedPrecondition));
}

// ---------------------------------------------------------------- reader

TEST(ContainerReader, ReadsBackWhatWasWritten) {
  TempDir dir;
  std::string path = dir.File("c.asice");
  ASSERT_OK(WriteContainer(path, {{"b.txt", "bee"}, {"a/x.bin", std::string(1000, 'x')}, {"empty", ""}}));
  ASSERT_OK_AND_ASSIGN(auto reader, ContainerReader::Open(path));
  EXPECT_THAT(reader->names(), ElementsAre("b.txt", "a/x.bin", "empty"));
  EXPECT_TRUE(reader->Has("b.txt"));
  EXPECT_FALSE(reader->Has("mimetype"));
  EXPECT_THAT(reader->Read("b.txt"), HoldsValue(std::string("bee")));
  EXPECT_THAT(reader->Read("empty"), HoldsValue(std::string()));
  EXPECT_THAT(reader->Read("a/x.bin", 999), StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("a/x.bin")));
  EXPECT_THAT(reader->Read("a/x.bin", 1000), HoldsValue(std::string(1000, 'x')));
  EXPECT_THAT(reader->Read("nope"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(reader->Read("mimetype"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(reader->Sha256Of("b.txt"), HoldsValue(signer::Sha256("bee")));
  ASSERT_OK(reader->ExtractTo("b.txt", dir.File("out.txt")));
  EXPECT_EQ(ReadTestFile(dir.File("out.txt")), "bee");
  EXPECT_THAT(reader->ExtractTo("nope", dir.File("nope")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(std::filesystem::exists(dir.File("nope")));
}

TEST(ContainerReader, ReadsAContainerThatTheZipToolMade) {
  if (!HaveTool("zip")) GTEST_SKIP() << "Info-ZIP zip is not installed";
  TempDir dir;
  WriteTestFile(dir.File("mimetype"), kAsicMimeType);
  WriteTestFile(dir.File("doc.txt"), std::string(5000, 'd'));
  std::string path = dir.File("c.asice");
  ASSERT_EQ(Zip(path, {dir.File("mimetype")}, /*store=*/true).exit_code, 0);
  ASSERT_EQ(Zip(path, {dir.File("doc.txt")}, /*store=*/false).exit_code, 0);
  ASSERT_OK_AND_ASSIGN(auto reader, ContainerReader::Open(path));
  EXPECT_THAT(reader->names(), ElementsAre("doc.txt"));
  EXPECT_THAT(reader->Read("doc.txt"), HoldsValue(std::string(5000, 'd')));
}

TEST(ContainerReader, ReportsAMissingFileAsNotFound) {
  TempDir dir;
  EXPECT_THAT(ContainerReader::Open(dir.File("none.asice")), StatusIs(absl::StatusCode::kNotFound));
}

TEST(ContainerReader, RejectsAFileThatIsNotAZip) {
  TempDir dir;
  WriteTestFile(dir.File("c.asice"), "This is a letter, not a container.\n");
  EXPECT_THAT(ContainerReader::Open(dir.File("c.asice")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a readable ZIP archive")));
  WriteTestFile(dir.File("empty.asice"), "");
  EXPECT_THAT(ContainerReader::Open(dir.File("empty.asice")), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ContainerReader::Open(dir.path()), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ContainerReader, RejectsATruncatedContainer) {
  TempDir dir;
  std::string path = dir.File("c.asice");
  ASSERT_OK(WriteContainer(path, {{"a", RandomBytes(5000, 2)}}));
  std::string bytes = ReadTestFile(path);
  WriteTestFile(path, bytes.substr(0, bytes.size() / 2));
  EXPECT_THAT(ContainerReader::Open(path), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ZIP")));
}

TEST(ContainerReader, RejectsAContainerWhoseFirstEntryIsNotMimetype) {
  if (!HaveTool("zip")) GTEST_SKIP() << "Info-ZIP zip is not installed";
  TempDir dir;
  WriteTestFile(dir.File("mimetype"), kAsicMimeType);
  WriteTestFile(dir.File("doc.txt"), "doc");
  std::string path = dir.File("c.asice");
  ASSERT_EQ(Zip(path, {dir.File("doc.txt"), dir.File("mimetype")}, /*store=*/true).exit_code, 0);
  EXPECT_THAT(ContainerReader::Open(path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("first entry is \"doc.txt\""), HasSubstr("position 2"))));
  std::string none = dir.File("none.asice");
  ASSERT_EQ(Zip(none, {dir.File("doc.txt")}, /*store=*/true).exit_code, 0);
  EXPECT_THAT(ContainerReader::Open(none), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("has none")));
}

TEST(ContainerReader, RejectsACompressedMimetype) {
  TempDir dir;
  std::string path = dir.File("c.asice");
  if (!WriteZipWithPython(path, {{"mimetype", kAsicMimeType, /*deflate=*/true}, {"a", "a"}})) {
    GTEST_SKIP() << "python3 is not installed";
  }
  EXPECT_THAT(ContainerReader::Open(path), StatusIs(absl::StatusCode::kInvalidArgument,
                                                    AllOf(HasSubstr("mimetype is compressed"), HasSubstr("stored"))));
}

TEST(ContainerReader, RejectsAWrongMimetype) {
  if (!HaveTool("zip")) GTEST_SKIP() << "Info-ZIP zip is not installed";
  TempDir dir;
  WriteTestFile(dir.File("mimetype"), "application/vnd.etsi.asic-s+zip");
  std::string path = dir.File("c.asice");
  ASSERT_EQ(Zip(path, {dir.File("mimetype")}, /*store=*/true).exit_code, 0);
  EXPECT_THAT(ContainerReader::Open(path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("application/vnd.etsi.asic-s+zip"), HasSubstr(kAsicMimeType))));
  WriteTestFile(dir.File("mimetype"), std::string(kAsicMimeType) + "\n");
  std::string newline = dir.File("newline.asice");
  ASSERT_EQ(Zip(newline, {dir.File("mimetype")}, /*store=*/true).exit_code, 0);
  EXPECT_THAT(ContainerReader::Open(newline), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\\x0a")));
}

TEST(ContainerReader, RejectsAnEntryThatEscapesTheDirectory) {
  TempDir dir;
  std::string path = dir.File("c.asice");
  ASSERT_NO_FATAL_FAILURE(WriteForgedNames(path, {{"ok.txt", "ok"}, {"xx/evil", "evil"}}, {{"xx/evil", "../evil"}}));
  EXPECT_THAT(UnzipList(path), ElementsAre("mimetype", "ok.txt", "../evil"));
  EXPECT_THAT(ContainerReader::Open(path),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("\"../evil\""), HasSubstr("escape"))));
}

TEST(ContainerReader, RejectsAnAbsoluteEntryName) {
  TempDir dir;
  std::string path = dir.File("c.asice");
  ASSERT_NO_FATAL_FAILURE(WriteForgedNames(path, {{"xetc/passwd", "evil"}}, {{"xetc/passwd", "/etc/passwd"}}));
  EXPECT_THAT(UnzipList(path), ElementsAre("mimetype", "/etc/passwd"));
  EXPECT_THAT(ContainerReader::Open(path),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("\"/etc/passwd\""), HasSubstr("absolute"))));
}

TEST(ContainerReader, RejectsANameThatComesTwice) {
  TempDir dir;
  std::string path = dir.File("c.asice");
  ASSERT_NO_FATAL_FAILURE(
      WriteForgedNames(path, {{"receipt.p7s", "first"}, {"receipt.p7x", "second"}}, {{"receipt.p7x", "receipt.p7s"}}));
  EXPECT_THAT(UnzipList(path), ElementsAre("mimetype", "receipt.p7s", "receipt.p7s"));
  EXPECT_THAT(ContainerReader::Open(path),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("\"receipt.p7s\""), HasSubstr("twice"))));
}

TEST(ContainerReader, RejectsASecondMimetype) {
  TempDir dir;
  std::string path = dir.File("c.asice");
  ASSERT_NO_FATAL_FAILURE(WriteForgedNames(path, {{"mimetypx", kAsicMimeType}}, {{"mimetypx", "mimetype"}}));
  EXPECT_THAT(ContainerReader::Open(path),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("\"mimetype\""), HasSubstr("twice"))));
}

TEST(ContainerReader, RejectsAnEncryptedEntry) {
  if (!HaveTool("zip")) GTEST_SKIP() << "Info-ZIP zip is not installed";
  TempDir dir;
  WriteTestFile(dir.File("mimetype"), kAsicMimeType);
  WriteTestFile(dir.File("secret.txt"), "secret");
  std::string path = dir.File("c.asice");
  ASSERT_EQ(Zip(path, {dir.File("mimetype")}, /*store=*/true).exit_code, 0);
  ASSERT_EQ(Exec({"zip", "-q", "-j", "-X", "-P", "password", path, dir.File("secret.txt")}).exit_code, 0);
  EXPECT_THAT(ContainerReader::Open(path),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("\"secret.txt\""), HasSubstr("encrypted"))));
}

TEST(ContainerReader, RejectsMoreEntriesThanTheLimit) {
  TempDir dir;
  std::string path = dir.File("c.asice");
  ASSERT_OK(WriteContainer(path, {{"1", "1"}, {"2", "2"}, {"3", "3"}, {"4", "4"}, {"5", "5"}}));
  EXPECT_THAT(ContainerReader::Open(path, {.max_entries = 4}),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("5 entries"), HasSubstr("limit of 4"))));
  EXPECT_OK(ContainerReader::Open(path, {.max_entries = 5}).status());
}

TEST(ContainerReader, RejectsAnEntryThatDeclaresMoreThanTheLimit) {
  TempDir dir;
  std::string path = dir.File("c.asice");
  ASSERT_OK(WriteContainer(path, {{"small", "s"}, {"parts/big.pdf", std::string(2000, 'b')}}));
  EXPECT_THAT(ContainerReader::Open(path, {.max_entry_bytes = 1999}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("\"parts/big.pdf\" declares 2000 bytes"), HasSubstr("1999"))));
  EXPECT_OK(ContainerReader::Open(path, {.max_entry_bytes = 2000}).status());
  EXPECT_THAT(ContainerReader::Open(path, {.max_total_bytes = 2000}),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("parts/big.pdf"), HasSubstr("in all"))));
  EXPECT_OK(ContainerReader::Open(path, {.max_total_bytes = 2001}).status());
}

TEST(ContainerReader, StopsReadingAtTheDeclaredSize) {
  // A zip bomb: the headers declare 1,000 bytes, the data inflates to 10 MB.
  TempDir dir;
  std::string path = dir.File("c.asice");
  ASSERT_OK(WriteContainer(path, {{"bomb.txt", std::string(10'000'000, 'a')}, {"fine.txt", "fine"}}));
  std::string bytes = ReadTestFile(path);
  ASSERT_NO_FATAL_FAILURE(DeclareSize(&bytes, "bomb.txt", 1000));
  WriteTestFile(path, bytes);

  ASSERT_OK_AND_ASSIGN(auto reader, ContainerReader::Open(path, {.max_entry_bytes = 1000}));
  uint64_t seen = 0;
  absl::Status s = reader->ReadTo("bomb.txt", [&](std::string_view chunk) {
    seen += chunk.size();
    return absl::OkStatus();
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss, AllOf(HasSubstr("bomb.txt"), HasSubstr("more than the 1000"))));
  EXPECT_LE(seen, 1000u);
  EXPECT_THAT(reader->Read("bomb.txt"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(reader->Read("fine.txt"), HoldsValue(std::string("fine")));
}

TEST(ContainerReader, ReportsACorruptedEntryAsDataLoss) {
  TempDir dir;
  std::string path = dir.File("c.asice");
  // Random bytes deflate to a stored block, so they sit in the file as they are.
  std::string data = RandomBytes(4000, 3);
  ASSERT_OK(WriteContainer(path, {{"part.bin", data}, {"other.txt", "other"}}));
  std::string bytes = ReadTestFile(path);
  size_t at = bytes.find(data.substr(1000, 64));
  ASSERT_NE(at, std::string::npos);
  bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
  WriteTestFile(path, bytes);

  ASSERT_OK_AND_ASSIGN(auto reader, ContainerReader::Open(path));
  EXPECT_THAT(reader->Read("part.bin"), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("part.bin")));
  EXPECT_THAT(reader->Sha256Of("part.bin"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(reader->ExtractTo("part.bin", dir.File("part.bin")), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_FALSE(std::filesystem::exists(dir.File("part.bin")));
  EXPECT_FALSE(std::filesystem::exists(dir.File("part.bin.tmp")));
  EXPECT_THAT(reader->Read("other.txt"), HoldsValue(std::string("other")));
}

}  // namespace
}  // namespace congvan::audit
