#include "progress.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "table.h"

namespace congvan::client {
namespace {

int Percent(uint64_t done, uint64_t total) {
  if (total == 0 || done >= total) return 100;
  // done < total <= 2^64: scale without overflowing.
  return static_cast<int>(static_cast<long double>(done) * 100 / static_cast<long double>(total));
}

}  // namespace

bool ShouldShowProgress(uint64_t total_bytes, bool json, bool is_terminal) {
  return is_terminal && !json && total_bytes > kProgressMinBytes;
}

std::string FormatBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  long double value = static_cast<long double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  // Two decimals from GiB on, where a tenth is still a lot of data.
  std::snprintf(text, sizeof text, unit >= 2 ? "%.2Lf %s" : "%.1Lf %s", value, kUnits[unit]);
  return text;
}

std::string RenderProgress(std::string_view label, uint64_t done, uint64_t total, size_t label_width,
                           size_t bar_width) {
  if (done > total) done = total;
  const int percent = Percent(done, total);
  const size_t filled =
      total == 0 ? bar_width
                 : static_cast<size_t>(static_cast<long double>(done) * bar_width / static_cast<long double>(total));
  std::string line = PadToWidth(TruncateToWidth(Printable(label), label_width), label_width);
  line += "  [";
  line.append(filled, '#');
  line.append(bar_width - filled, '-');
  line += "]  ";
  char pct[8];
  std::snprintf(pct, sizeof pct, "%3d%%", percent);
  line += pct;
  line += "  " + FormatBytes(done) + " / " + FormatBytes(total);
  return line;
}

ProgressBar::ProgressBar(std::string label, uint64_t total, std::ostream* out)
    : label_(std::move(label)), total_(total), out_(out) {}

ProgressBar ProgressBar::ForStderr(std::string label, uint64_t total, bool json) {
  const bool show = ShouldShowProgress(total, json, isatty(STDERR_FILENO) == 1);
  return ProgressBar(std::move(label), total, show ? &std::cerr : nullptr);
}

ProgressBar::ProgressBar(ProgressBar&& other) noexcept
    : label_(std::move(other.label_)),
      total_(other.total_),
      done_(other.done_),
      out_(other.out_),
      drawn_percent_(other.drawn_percent_),
      finished_(other.finished_) {
  other.out_ = nullptr;
}

ProgressBar::~ProgressBar() {
  if (out_ != nullptr && drawn_percent_ >= 0 && !finished_) {
    *out_ << "\n";
    out_->flush();
  }
}

void ProgressBar::SetLabel(std::string label) { label_ = std::move(label); }

void ProgressBar::Add(uint64_t bytes) {
  done_ += bytes;
  if (out_ == nullptr) return;
  if (Percent(done_, total_) != drawn_percent_) Draw();
}

void ProgressBar::Finish() {
  if (out_ == nullptr || finished_) return;
  Draw();
  *out_ << "\n";
  out_->flush();
  finished_ = true;
}

void ProgressBar::Draw() {
  drawn_percent_ = Percent(done_, total_);
  *out_ << "\r" << RenderProgress(label_, done_, total_) << "\x1b[K";
  out_->flush();
}

}  // namespace congvan::client
