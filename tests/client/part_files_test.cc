// Writing fetched parts: a file appears under its final name only when its
// size and SHA-256 match the sealed header; nothing else is left behind.
#include "part_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "congvan/signer/cms.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace congvan::client {
namespace {

using ::congvan::testing::IsOk;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::StatusIs;
using ::congvan::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

v1::PartInfo Part(const std::string& name, const std::string& data) {
  v1::PartInfo part;
  part.set_name(name);
  part.set_size(data.size());
  part.set_sha256(signer::Sha256(data));
  return part;
}

v1::PartChunk Chunk(uint32_t part, std::string data) {
  v1::PartChunk chunk;
  chunk.set_part(part);
  chunk.set_data(std::move(data));
  return chunk;
}

std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  return names;
}

TEST(PartFilesMediaType, FromTheExtension) {
  EXPECT_EQ(MediaTypeOf("Quyết định.pdf"), "application/pdf");
  EXPECT_EQ(MediaTypeOf("BAO-CAO.PDF"), "application/pdf");
  EXPECT_EQ(MediaTypeOf("a.docx"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  EXPECT_EQ(MediaTypeOf("a.doc"), "application/msword");
  EXPECT_EQ(MediaTypeOf("a.xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  EXPECT_EQ(MediaTypeOf("a.odt"), "application/vnd.oasis.opendocument.text");
  EXPECT_EQ(MediaTypeOf("a.txt"), "text/plain");
  EXPECT_EQ(MediaTypeOf("a.zip"), "application/zip");
  EXPECT_EQ(MediaTypeOf("a.png"), "image/png");
  EXPECT_EQ(MediaTypeOf("a.jpg"), "image/jpeg");
  EXPECT_EQ(MediaTypeOf("a.xml"), "application/xml");
  EXPECT_EQ(MediaTypeOf("a.tar.gz"), "application/octet-stream");
  EXPECT_EQ(MediaTypeOf("README"), "application/octet-stream");
}

TEST(PartFilesSha256, StreamMatchesOneShot) {
  signer::Sha256Stream hash;
  hash.Update("Công ");
  hash.Update("văn");
  EXPECT_EQ(hash.Finish(), signer::Sha256("Công văn"));
  EXPECT_EQ(hash.Finish(), signer::Sha256(""));  // starts over
}

TEST(PartsWriter, WritesPartsAcrossChunksIncludingEmptyOnes) {
  TempDir dir;
  const std::string main = std::string(3000, 'm');
  const std::string annex = "Phụ lục";
  auto writer = PartsWriter::Create(dir.path(),
                                    {Part("Quyết định.pdf", main), Part("empty.txt", ""), Part("Phụ lục.docx", annex)});
  ASSERT_THAT(writer, IsOk());
  EXPECT_THAT((*writer)->Accept(Chunk(0, main.substr(0, 1000))), IsOk());
  EXPECT_THAT((*writer)->Accept(Chunk(0, main.substr(1000))), IsOk());
  EXPECT_THAT((*writer)->Accept(Chunk(2, annex)), IsOk());  // part 1 is empty: no chunk
  EXPECT_THAT((*writer)->Finish(), IsOk());
  EXPECT_EQ((*writer)->bytes_written(), main.size() + annex.size());
  EXPECT_EQ(ReadTestFile(dir.File("Quyết định.pdf")), main);
  EXPECT_EQ(ReadTestFile(dir.File("empty.txt")), "");
  EXPECT_EQ(ReadTestFile(dir.File("Phụ lục.docx")), annex);
  EXPECT_THAT(Files(dir.path()), UnorderedElementsAreArray({"Quyết định.pdf", "empty.txt", "Phụ lục.docx"}));
}

TEST(PartsWriter, EmptyPartsAtTheEndAreWrittenOnFinish) {
  TempDir dir;
  auto writer = PartsWriter::Create(dir.path(), {Part("a.txt", "a"), Part("b.txt", "")});
  ASSERT_THAT(writer, IsOk());
  EXPECT_THAT((*writer)->Accept(Chunk(0, "a")), IsOk());
  EXPECT_THAT((*writer)->Finish(), IsOk());
  EXPECT_THAT(Files(dir.path()), UnorderedElementsAreArray({"a.txt", "b.txt"}));
}

TEST(PartsWriter, DigestMismatchLeavesNoFile) {
  TempDir dir;
  v1::PartInfo good = Part("a.pdf", "genuine");
  v1::PartInfo lied = Part("b.pdf", "genuine");  // the header's digest is of other bytes
  auto writer = PartsWriter::Create(dir.path(), {good, lied});
  ASSERT_THAT(writer, IsOk());
  EXPECT_THAT((*writer)->Accept(Chunk(0, "genuine")), IsOk());
  EXPECT_THAT((*writer)->Accept(Chunk(1, "altered")),
              IsOk());  // the same size: only the digest tells, once the part is complete
  EXPECT_THAT((*writer)->Finish(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("SHA-256")));
  EXPECT_THAT(Files(dir.path()), UnorderedElementsAreArray({"a.pdf"}));
}

TEST(PartsWriter, MismatchFoundWhenTheNextPartBeginsStopsEverything) {
  TempDir dir;
  auto writer = PartsWriter::Create(dir.path(), {Part("a.pdf", "genuine"), Part("b.pdf", "next")});
  ASSERT_THAT(writer, IsOk());
  EXPECT_THAT((*writer)->Accept(Chunk(0, "altered")), IsOk());
  EXPECT_THAT((*writer)->Accept(Chunk(1, "next")), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("a.pdf")));
  EXPECT_THAT((*writer)->Accept(Chunk(1, "more")), StatusIs(absl::StatusCode::kDataLoss));  // latched
  EXPECT_THAT((*writer)->Finish(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_TRUE(Files(dir.path()).empty());
}

TEST(PartsWriter, MoreBytesThanDeclaredAreRefused) {
  TempDir dir;
  auto writer = PartsWriter::Create(dir.path(), {Part("a.pdf", "four")});
  ASSERT_THAT(writer, IsOk());
  EXPECT_THAT((*writer)->Accept(Chunk(0, "four and more")),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("more than its 4 bytes")));
  EXPECT_TRUE(Files(dir.path()).empty());
}

TEST(PartsWriter, ShortStreamLeavesNoFile) {
  TempDir dir;
  {
    auto writer = PartsWriter::Create(dir.path(), {Part("a.pdf", "complete")});
    ASSERT_THAT(writer, IsOk());
    EXPECT_THAT((*writer)->Accept(Chunk(0, "comp")), IsOk());
    EXPECT_THAT((*writer)->Finish(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("4 of its 8 bytes")));
  }
  EXPECT_TRUE(Files(dir.path()).empty());
}

TEST(PartsWriter, AbandonedWriterRemovesItsPartialFile) {
  TempDir dir;
  {
    auto writer = PartsWriter::Create(dir.path(), {Part("a.pdf", "complete")});
    ASSERT_THAT(writer, IsOk());
    EXPECT_THAT((*writer)->Accept(Chunk(0, "comp")), IsOk());
    EXPECT_THAT(Files(dir.path()), UnorderedElementsAreArray({"a.pdf.partial"}));
  }
  EXPECT_TRUE(Files(dir.path()).empty());
}

TEST(PartsWriter, OutOfOrderAndUnknownPartsAreRefused) {
  TempDir dir;
  auto writer = PartsWriter::Create(dir.path(), {Part("a.txt", "a"), Part("b.txt", "b")});
  ASSERT_THAT(writer, IsOk());
  EXPECT_THAT((*writer)->Accept(Chunk(0, "a")), IsOk());
  EXPECT_THAT((*writer)->Accept(Chunk(1, "b")), IsOk());
  EXPECT_THAT((*writer)->Accept(Chunk(0, "a")), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("after the parts")));

  auto other = PartsWriter::Create(dir.path(), {Part("c.txt", "c")});
  ASSERT_THAT(other, IsOk());
  EXPECT_THAT((*other)->Accept(Chunk(7, "x")), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("part 8")));
}

TEST(PartsWriter, RefusesUnsafeAndDuplicateNamesBeforeWritingAnything) {
  TempDir dir;
  for (const char* name : {"../escape.pdf", "sub/dir.pdf", "..", "header.pb", "x.partial"}) {
    EXPECT_THAT(PartsWriter::Create(dir.path(), {Part("ok.pdf", "x"), Part(name, "y")}),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nothing was written")))
        << name;
  }
  EXPECT_THAT(PartsWriter::Create(dir.path(), {Part("a.pdf", "x"), Part("a.pdf", "y")}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("two parts")));
  EXPECT_TRUE(Files(dir.path()).empty());
}

TEST(PartsWriter, DoesNotWriteThroughAPlantedLink) {
  TempDir dir;
  ::congvan::testing::WriteTestFile(dir.File("target"), "keep");
  std::filesystem::create_symlink(dir.File("target"), dir.File("a.pdf.partial"));
  auto writer = PartsWriter::Create(dir.path(), {Part("a.pdf", "data")});
  ASSERT_THAT(writer, IsOk());
  EXPECT_THAT((*writer)->Accept(Chunk(0, "data")), StatusIs(absl::StatusCode::kInternal));
  EXPECT_EQ(ReadTestFile(dir.File("target")), "keep");
}

}  // namespace
}  // namespace congvan::client
