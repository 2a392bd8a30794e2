// A progress bar for transfers (send, fetch), drawn on stderr so that stdout
// stays clean for the result and for scripts.
#ifndef CONGVAN_CLIENT_PROGRESS_H_
#define CONGVAN_CLIENT_PROGRESS_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace congvan::client {

// Transfers up to this size finish too fast for a bar to help.
inline constexpr uint64_t kProgressMinBytes = uint64_t{4} << 20;

// Whether to draw a bar: on a terminal, for more than kProgressMinBytes,
// never with --json.
bool ShouldShowProgress(uint64_t total_bytes, bool json, bool is_terminal);

// "512 B", "1.5 KiB", "12.0 MiB", "2.00 GiB".
std::string FormatBytes(uint64_t bytes);

// One line of the bar, e.g.
//   "báo-cáo.pdf  [##########----------]  50%  12.0 MiB / 24.0 MiB"
// with the label cut or padded to `label_width` columns and a bar of
// `bar_width` cells. `done` beyond `total` counts as `total`.
std::string RenderProgress(std::string_view label, uint64_t done, uint64_t total, size_t label_width = 24,
                           size_t bar_width = 30);

// Draws RenderProgress lines over one another ("\r", erase to end of line)
// whenever the whole percentage changes, at most about a hundred times per
// transfer. Not thread-safe.
class ProgressBar {
 public:
  // Draws on `out` (not owned) when it is not null; with null, every call
  // does nothing.
  ProgressBar(std::string label, uint64_t total, std::ostream* out);
  // A bar on std::cerr when ShouldShowProgress(total, json, isatty(stderr)),
  // else one that draws nothing.
  static ProgressBar ForStderr(std::string label, uint64_t total, bool json);
  // Ends the line if the bar was drawn and Finish was not called.
  ~ProgressBar();
  ProgressBar(ProgressBar&& other) noexcept;
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ProgressBar& operator=(ProgressBar&&) = delete;

  bool enabled() const { return out_ != nullptr; }
  uint64_t done() const { return done_; }

  // The label shown from the next redraw on (e.g. the part being moved).
  void SetLabel(std::string label);
  void Add(uint64_t bytes);
  // Draws the final state and ends the line.
  void Finish();

 private:
  void Draw();

  std::string label_;
  uint64_t total_;
  uint64_t done_ = 0;
  std::ostream* out_;
  int drawn_percent_ = -1;  // -1: nothing drawn yet
  bool finished_ = false;
};

}  // namespace congvan::client

#endif  // CONGVAN_CLIENT_PROGRESS_H_
