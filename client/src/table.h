// Text for people: display widths of UTF-8 text, cleaning text that came
// from elsewhere before it reaches a terminal, and aligned tables.
//
// Widths count terminal columns: one per code point, none for combining
// marks (Vietnamese written with decomposed diacritics, "Nguye\u0302\u0303n",
// is as wide as its precomposed form) and other zero-width characters, two
// for East Asian wide characters. Bytes that are not UTF-8 count one each.
#ifndef CONGVAN_CLIENT_TABLE_H_
#define CONGVAN_CLIENT_TABLE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace congvan::client {

// Terminal columns taken by `text`.
size_t DisplayWidth(std::string_view text);

// `text` safe to print: tab, CR and LF become spaces; other control
// characters (C0, DEL, C1), bidirectional overrides and bytes that are not
// UTF-8 become U+FFFD. Subjects and reasons come from other agencies: a
// terminal must never receive their escape sequences.
std::string Printable(std::string_view text);

// `text` cut to at most `max_width` columns, ending with "…" when cut. A
// character is never split from its combining marks.
std::string TruncateToWidth(std::string_view text, size_t max_width);

// `text` followed by spaces up to `width` columns (unchanged if wider).
std::string PadToWidth(std::string_view text, size_t width);

enum class Align { kLeft, kRight };

struct Column {
  std::string title;
  Align align = Align::kLeft;
  // Cells wider than this are truncated with "…". Default: 0, no limit.
  size_t max_width = 0;
};

// A table printed as columns separated by two spaces, under a title row.
// Cells pass through Printable; lines carry no trailing spaces.
//
//   MESSAGE ID  FROM           SUBJECT
//   0190…       000.00.00.H49  Về việc tổ chức hội nghị
class Table {
 public:
  explicit Table(std::vector<Column> columns);

  // Aborts if `cells` does not have one cell per column: a caller's bug.
  void AddRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }

  // Every line, each ending in "\n".
  std::string Render() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;  // cleaned and truncated
};

}  // namespace congvan::client

#endif  // CONGVAN_CLIENT_TABLE_H_
