#include "table.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstdlib>

namespace congvan::client {
namespace {

constexpr char32_t kInvalid = 0xFFFFFFFF;
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";     // U+2026

struct CodePoint {
  char32_t value;  // kInvalid for a byte that does not start valid UTF-8
  size_t length;   // bytes taken from the text
};

// Decodes the code point at the start of `text` (not empty), rejecting
// overlong forms, surrogates and values past U+10FFFF.
CodePoint Decode(std::string_view text) {
  const auto b0 = static_cast<unsigned char>(text[0]);
  if (b0 < 0x80) return {b0, 1};
  size_t length;
  char32_t value;
  char32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2, value = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3, value = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4, value = b0 & 0x07, min = 0x10000;
  } else {
    return {kInvalid, 1};
  }
  if (text.size() < length) return {kInvalid, 1};
  for (size_t i = 1; i < length; ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if ((b & 0xC0) != 0x80) return {kInvalid, 1};
    value = (value << 6) | (b & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return {kInvalid, 1};
  return {value, length};
}

struct Range {
  char32_t first;
  char32_t last;
};

bool InRanges(char32_t c, std::initializer_list<Range> ranges) {
  return std::any_of(ranges.begin(), ranges.end(), [c](const Range& r) { return c >= r.first && c <= r.last; });
}

// Combining marks and other characters that take no column of their own.
bool IsZeroWidth(char32_t c) {
  return InRanges(c, {{0x0300, 0x036F},
                      {0x0483, 0x0489},
                      {0x0591, 0x05BD},
                      {0x0610, 0x061A},
                      {0x064B, 0x065F},
                      {0x1AB0, 0x1AFF},
                      {0x1DC0, 0x1DFF},
                      {0x200B, 0x200F},
                      {0x2060, 0x2064},
                      {0x20D0, 0x20FF},
                      {0xFE00, 0xFE0F},
                      {0xFE20, 0xFE2F},
                      {0xFEFF, 0xFEFF},
                      {0xE0100, 0xE01EF}});
}

// East Asian wide and fullwidth characters (the common blocks).
bool IsWide(char32_t c) {
  return InRanges(c, {{0x1100, 0x115F},
                      {0x2E80, 0x303E},
                      {0x3041, 0x33FF},
                      {0x3400, 0x4DBF},
                      {0x4E00, 0x9FFF},
                      {0xA000, 0xA4CF},
                      {0xAC00, 0xD7A3},
                      {0xF900, 0xFAFF},
                      {0xFE30, 0xFE4F},
                      {0xFF00, 0xFF60},
                      {0xFFE0, 0xFFE6},
                      {0x1F300, 0x1F64F},
                      {0x1F900, 0x1F9FF},
                      {0x20000, 0x2FFFD},
                      {0x30000, 0x3FFFD}});
}

size_t Width(char32_t c) {
  if (c == kInvalid) return 1;
  if (IsZeroWidth(c)) return 0;
  return IsWide(c) ? 2 : 1;
}

bool IsControl(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

// Characters that reorder the text around them (Trojan Source).
bool IsBidiControl(char32_t c) { return InRanges(c, {{0x202A, 0x202E}, {0x2066, 0x2069}}); }

}  // namespace

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  while (!text.empty()) {
    CodePoint cp = Decode(text);
    width += Width(cp.value);
    text.remove_prefix(cp.length);
  }
  return width;
}

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    CodePoint cp = Decode(text);
    if (cp.value == '\t' || cp.value == '\n' || cp.value == '\r') {
      out.push_back(' ');
    } else if (cp.value == kInvalid || IsControl(cp.value) || IsBidiControl(cp.value)) {
      out.append(kReplacement);
    } else {
      out.append(text.substr(0, cp.length));
    }
    text.remove_prefix(cp.length);
  }
  return out;
}

std::string TruncateToWidth(std::string_view text, size_t max_width) {
  if (DisplayWidth(text) <= max_width) return std::string(text);
  if (max_width == 0) return "";
  const size_t budget = max_width - 1;  // one column for the ellipsis
  size_t width = 0;
  size_t end = 0;  // bytes kept
  bool stopped = false;
  std::string_view rest = text;
  while (!rest.empty()) {
    CodePoint cp = Decode(rest);
    const size_t w = Width(cp.value);
    if (w > 0) {
      if (width + w > budget) stopped = true;
      width += w;
    }
    if (stopped) break;
    end += cp.length;  // a combining mark stays with the character before it
    rest.remove_prefix(cp.length);
  }
  std::string out(text.substr(0, end));
  out.append(kEllipsis);
  return out;
}

std::string PadToWidth(std::string_view text, size_t width) {
  std::string out(text);
  const size_t have = DisplayWidth(text);
  if (have < width) out.append(width - have, ' ');
  return out;
}

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

void Table::AddRow(std::vector<std::string> cells) {
  if (cells.size() != columns_.size()) std::abort();
  for (size_t i = 0; i < cells.size(); ++i) {
    cells[i] = Printable(cells[i]);
    if (columns_[i].max_width > 0) cells[i] = TruncateToWidth(cells[i], columns_[i].max_width);
  }
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const {
  std::vector<std::vector<std::string>> lines;
  lines.reserve(rows_.size() + 1);
  std::vector<std::string> titles;
  for (const Column& column : columns_) titles.push_back(Printable(column.title));
  lines.push_back(std::move(titles));
  lines.insert(lines.end(), rows_.begin(), rows_.end());

  std::vector<size_t> widths(columns_.size(), 0);
  for (const auto& line : lines) {
    for (size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(line[i]));
  }
  std::string out;
  for (const auto& line : lines) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      if (i > 0) text.append("  ");
      const size_t pad = widths[i] - DisplayWidth(line[i]);
      if (columns_[i].align == Align::kRight) {
        text.append(pad, ' ');
        text.append(line[i]);
      } else {
        text.append(line[i]);
        text.append(pad, ' ');
      }
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out.append(text);
    out.push_back('\n');
  }
  return out;
}

}  // namespace congvan::client
