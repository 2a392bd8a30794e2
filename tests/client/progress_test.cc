// The transfer progress bar: when it shows, what a line looks like, and
// that it redraws only when the percentage moves.
#include "progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "table.h"

namespace congvan::client {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr uint64_t kMiB = uint64_t{1} << 20;

TEST(ProgressShow, OnlyOnATerminalForMoreThanFourMiBWithoutJson) {
  EXPECT_TRUE(ShouldShowProgress(4 * kMiB + 1, /*json=*/false, /*is_terminal=*/true));
  EXPECT_FALSE(ShouldShowProgress(4 * kMiB, false, true));
  EXPECT_FALSE(ShouldShowProgress(100 * kMiB, /*json=*/true, true));
  EXPECT_FALSE(ShouldShowProgress(100 * kMiB, false, /*is_terminal=*/false));
}

TEST(ProgressFormat, BytesInBinaryUnits) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(12 * kMiB), "12.0 MiB");
  EXPECT_EQ(FormatBytes(2048 * kMiB), "2.00 GiB");
}

TEST(ProgressRender, HalfWay) {
  const std::string line = RenderProgress("report.pdf", 12 * kMiB, 24 * kMiB, 12, 10);
  EXPECT_EQ(line, "report.pdf    [#####-----]   50%  12.0 MiB / 24.0 MiB");
}

TEST(ProgressRender, VietnameseLabelIsPaddedByColumns) {
  const std::string label = "Quye\u0302\u0301t \u0111i\u0323nh.pdf";  // decomposed marks
  const std::string line = RenderProgress(label, 0, 10 * kMiB, 20, 10);
  EXPECT_EQ(DisplayWidth(line.substr(0, line.find('['))), 22u);
  EXPECT_THAT(line, HasSubstr("[----------]    0%"));
}

TEST(ProgressRender, LongLabelIsCut) {
  const std::string line = RenderProgress(std::string(40, 'x'), 1, 2, 8, 4);
  EXPECT_THAT(line, StartsWith("xxxxxxx\u2026  ["));
}

TEST(ProgressRender, ClampsAndHandlesEmptyTotals) {
  EXPECT_THAT(RenderProgress("a", 30, 10, 1, 4), HasSubstr("[####]  100%  10 B / 10 B"));
  EXPECT_THAT(RenderProgress("a", 0, 0, 1, 4), HasSubstr("[####]  100%"));
}

TEST(ProgressBar, RedrawsOnlyWhenThePercentageMoves) {
  std::ostringstream out;
  {
    ProgressBar bar("send", 100 * kMiB, &out);
    for (int i = 0; i < 100 * 16; ++i) bar.Add(64 * 1024);  // 1,600 small steps
    bar.Finish();
  }
  const std::string text = out.str();
  const auto redraws = std::count(text.begin(), text.end(), '\r');
  EXPECT_LE(redraws, 102);
  EXPECT_GE(redraws, 100);
  EXPECT_THAT(text, EndsWith("100%  100.0 MiB / 100.0 MiB\x1b[K\n"));
}

TEST(ProgressBar, EndsTheLineWhenDroppedUnfinished) {
  std::ostringstream out;
  {
    ProgressBar bar("fetch", 10 * kMiB, &out);
    bar.Add(kMiB);
  }
  EXPECT_THAT(out.str(), EndsWith("\n"));
  EXPECT_THAT(out.str(), HasSubstr(" 10%"));
}

TEST(ProgressBar, DisabledDrawsNothing) {
  ProgressBar bar("send", 10 * kMiB, nullptr);
  bar.Add(5 * kMiB);
  bar.Finish();
  EXPECT_FALSE(bar.enabled());
  EXPECT_EQ(bar.done(), 5 * kMiB);
}

TEST(ProgressBar, LabelFollowsThePart) {
  std::ostringstream out;
  ProgressBar bar("send", 100, &out);
  bar.SetLabel("phu-luc.docx");
  bar.Add(50);
  bar.Finish();
  EXPECT_THAT(out.str(), HasSubstr("phu-luc.docx"));
}

}  // namespace
}  // namespace congvan::client
