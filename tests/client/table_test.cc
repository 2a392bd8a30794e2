// Display widths, cleaning and tables for the clerk commands' text output:
// Vietnamese names, precomposed or with combining marks, must line up.
#include "table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace congvan::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// "Nguyễn Văn Ánh" precomposed (NFC) and decomposed (NFD: base letters
// followed by combining circumflex, tilde, breve, acute).
const std::string kNameNfc = "Nguy\u1EC5n V\u0103n \u00C1nh";
const std::string kNameNfd = "Nguye\u0302\u0303n Va\u0306n A\u0301nh";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The display column where `needle` starts in `line`.
size_t ColumnOf(const std::string& line, const std::string& needle) {
  const size_t at = line.find(needle);
  EXPECT_NE(at, std::string::npos) << needle << " not in " << line;
  return DisplayWidth(line.substr(0, at));
}

TEST(TableWidth, CountsCodePointsNotBytes) {
  EXPECT_EQ(DisplayWidth(kNameNfc), 14u);
  EXPECT_GT(kNameNfc.size(), 14u);
  EXPECT_EQ(DisplayWidth("Quyết định số 12/QĐ-UBND"), 24u);
  EXPECT_EQ(DisplayWidth(""), 0u);
}

TEST(TableWidth, CombiningMarksTakeNoColumn) {
  EXPECT_EQ(DisplayWidth(kNameNfd), 14u);
  EXPECT_EQ(DisplayWidth(kNameNfd), DisplayWidth(kNameNfc));
}

TEST(TableWidth, WideCharactersTakeTwoColumns) { EXPECT_EQ(DisplayWidth("\u6587\u4EF6"), 4u); }

TEST(TableWidth, BytesThatAreNotUtf8CountOneEach) {
  EXPECT_EQ(DisplayWidth("a\xFF\xFE"), 3u);
  EXPECT_EQ(DisplayWidth("\xE1\xBB"), 2u);      // a truncated sequence
  EXPECT_EQ(DisplayWidth("\xC0\xAF"), 2u);      // an overlong '/'
  EXPECT_EQ(DisplayWidth("\xED\xA0\x80"), 3u);  // a surrogate
}

TEST(TablePrintable, KeepsVietnameseAndReplacesControls) {
  EXPECT_EQ(Printable(kNameNfc), kNameNfc);
  EXPECT_EQ(Printable(kNameNfd), kNameNfd);
  EXPECT_EQ(Printable("a\tb\nc\rd"), "a b c d");
  EXPECT_EQ(Printable("red\x1b[31m"), "red\uFFFD[31m");
  EXPECT_EQ(Printable("x\x7fy\u0085z"), "x\uFFFDy\uFFFDz");
  EXPECT_EQ(Printable("abc\u202Edef"), "abc\uFFFDdef");
  EXPECT_EQ(Printable("bad\xFFutf8"), "bad\uFFFDutf8");
}

TEST(TableTruncate, LeavesTextThatFits) {
  EXPECT_EQ(TruncateToWidth(kNameNfc, 14), kNameNfc);
  EXPECT_EQ(TruncateToWidth(kNameNfd, 20), kNameNfd);
}

TEST(TableTruncate, CutsByColumnsAndEndsWithEllipsis) {
  EXPECT_EQ(TruncateToWidth(kNameNfc, 8), "Nguy\u1EC5n \u2026");
  EXPECT_EQ(DisplayWidth(TruncateToWidth(kNameNfc, 8)), 8u);
  EXPECT_EQ(TruncateToWidth(kNameNfc, 1), "\u2026");
  EXPECT_EQ(TruncateToWidth(kNameNfc, 0), "");
}

TEST(TableTruncate, KeepsCombiningMarksWithTheirLetter) {
  // Five columns: "Nguy" + the "e" that carries both marks, then the ellipsis.
  EXPECT_EQ(TruncateToWidth(kNameNfd, 6), "Nguye\u0302\u0303\u2026");
  EXPECT_EQ(TruncateToWidth(kNameNfd, 5), "Nguy\u2026");
}

TEST(TableTruncate, NeverSplitsAWideCharacter) {
  const std::string cut = TruncateToWidth("a\u6587\u4EF6\u6587", 4);
  EXPECT_EQ(cut, "a\u6587\u2026");
  EXPECT_LE(DisplayWidth(cut), 4u);
}

TEST(TablePad, PadsByColumns) {
  EXPECT_EQ(DisplayWidth(PadToWidth(kNameNfd, 20)), 20u);
  EXPECT_EQ(PadToWidth("abc", 2), "abc");
}

TEST(TableRender, AlignsVietnameseColumnsByDisplayWidth) {
  Table table({{"NAME"}, {"AGENCY"}, {"NUMBER", Align::kRight}});
  table.AddRow({kNameNfc, "000.00.00.H49", "7"});
  table.AddRow({kNameNfd, "000.00.00.H29", "12"});
  table.AddRow({"Tran Van B", "000.00.00.G12", "1234"});
  const std::vector<std::string> lines = Lines(table.Render());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(ColumnOf(lines[0], "AGENCY"), 16u);  // 14 columns of name + 2 spaces
  EXPECT_EQ(ColumnOf(lines[1], "000.00.00.H49"), 16u);
  EXPECT_EQ(ColumnOf(lines[2], "000.00.00.H29"), 16u);
  EXPECT_EQ(ColumnOf(lines[3], "000.00.00.G12"), 16u);
  // Right-aligned numbers end in the same column.
  for (const std::string& line : lines) EXPECT_EQ(DisplayWidth(line), 16u + 13 + 2 + 6) << line;
}

TEST(TableRender, LeavesNoTrailingSpaces) {
  Table table({{"A"}, {"LONG TITLE"}});
  table.AddRow({"wide cell here", ""});
  for (const std::string& line : Lines(table.Render())) {
    EXPECT_THAT(line, Not(::testing::EndsWith(" "))) << "'" << line << "'";
  }
}

TEST(TableRender, CleansAndTruncatesCells) {
  Table table({{"SUBJECT", Align::kLeft, 10}, {"FROM"}});
  table.AddRow({"Về việc\x1b]0;pwned\x07 tổ chức hội nghị", "x"});
  const std::string text = table.Render();
  EXPECT_THAT(text, Not(HasSubstr("\x1b")));
  EXPECT_THAT(text, Not(HasSubstr("\x07")));
  const std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(ColumnOf(lines[1], "x"), 12u);
  EXPECT_THAT(lines[1], HasSubstr("\u2026"));
}

TEST(TableRender, TitleRowOnlyWhenEmpty) {
  Table table({{"A"}, {"B"}});
  EXPECT_EQ(table.rows(), 0u);
  EXPECT_THAT(Lines(table.Render()), ElementsAre("A  B"));
}

TEST(TableRenderDeathTest, AbortsOnAWrongNumberOfCells) {
  Table table({{"A"}, {"B"}});
  EXPECT_DEATH(table.AddRow({"only one"}), "");
}

}  // namespace
}  // namespace congvan::client
