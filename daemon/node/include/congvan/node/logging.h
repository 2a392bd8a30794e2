// How congvand writes its log: one line per event on standard output,
// flushed after each line. As text:
//
//   2026-12-01T08:00:00.123Z warn 000.01.01.H49 message=0193… peer=000.00.01.H49 delivery failed (attempt 2): …
//
// the time in UTC to the millisecond, the level (trace, debug, info, warn,
// error, critical), the node's agency, then the event. An event about a
// message begins with key=value fields, message=<id> first, then
// peer=<agency> and what else it is about; the words after the fields say
// what happened. As JSON (congvand --log-format json), one object per line
// with the same content; the leading fields become members of their own,
// the message id as "message_id":
//
//   {"time":"2026-12-01T08:00:00.123Z","level":"warn","agency":"000.01.01.H49",
//    "message_id":"0193…","peer":"000.00.01.H49","msg":"delivery failed (attempt 2): …"}
#ifndef CONGVAN_NODE_LOGGING_H_
#define CONGVAN_NODE_LOGGING_H_

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace congvan::node {

enum class LogFormat { kText, kJson };

// "text" or "json"; INVALID_ARGUMENT for anything else.
[[nodiscard]] absl::StatusOr<LogFormat> ParseLogFormat(std::string_view name);

// One line of the log, without its line feed.
std::string FormatLogLine(LogFormat format, absl::Time time, std::string_view level, std::string_view agency,
                          std::string_view text);

struct LogOptions {
  std::string agency;
  LogFormat format = LogFormat::kText;
  // The time written into each line. Default: the system clock.
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

// Makes spdlog's default logger (which the node's libraries log to) write
// FormatLogLine lines to standard output, from info up. Call once, before
// other threads log.
void ConfigureLogging(LogOptions options);

}  // namespace congvan::node

#endif  // CONGVAN_NODE_LOGGING_H_
