#include "congvan/node/logging.h"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <utility>
#include <vector>

namespace congvan::node {
namespace {

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

bool IsKeyChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

// The leading key=value words of `text` (a key of [a-z0-9_], a value without
// spaces); `*rest` is what follows them.
std::vector<std::pair<std::string_view, std::string_view>> LeadingFields(std::string_view text,
                                                                         std::string_view* rest) {
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  while (true) {
    const size_t end = std::min(text.find(' '), text.size());
    const std::string_view word = text.substr(0, end);
    const size_t equals = word.find('=');
    if (equals == 0 || equals == std::string_view::npos) break;
    const std::string_view key = word.substr(0, equals);
    // A key that would collide with a member of the line stays in the text.
    bool is_key = key != "time" && key != "level" && key != "agency" && key != "msg" && key != "message_id";
    for (char c : key) is_key = is_key && IsKeyChar(c);
    if (!is_key) break;
    fields.emplace_back(key, word.substr(equals + 1));
    text = end < text.size() ? text.substr(end + 1) : std::string_view();
  }
  *rest = text;
  return fields;
}

// A JSON string: quotes, backslashes and control characters escaped; other
// bytes (UTF-8) as they are.
void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void AppendJsonMember(std::string& out, std::string_view key, std::string_view value) {
  out += out.size() > 1 ? "," : "";
  AppendJsonString(out, key);
  out += ':';
  AppendJsonString(out, value);
}

class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(LogOptions options) : options_(std::move(options)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string line = FormatLogLine(options_.format, options_.now(), LevelName(msg.level), options_.agency,
                                           std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<LineFormatter>(options_); }

 private:
  const LogOptions options_;
};

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError("unknown log format '" + std::string(name) + "' (expected text or json)");
}

std::string FormatLogLine(LogFormat format, absl::Time time, std::string_view level, std::string_view agency,
                          std::string_view text) {
  const std::string stamp = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
  if (format == LogFormat::kText) {
    std::string line = stamp + " " + std::string(level) + " " + std::string(agency) + " ";
    // One event, one line: a line feed inside the text would forge another.
    for (char c : text) line += c == '\n' ? ' ' : c;
    return line;
  }
  std::string out = "{";
  AppendJsonMember(out, "time", stamp);
  AppendJsonMember(out, "level", level);
  AppendJsonMember(out, "agency", agency);
  std::string_view rest;
  for (const auto& [key, value] : LeadingFields(text, &rest)) {
    AppendJsonMember(out, key == "message" ? "message_id" : key, value);
  }
  AppendJsonMember(out, "msg", rest);
  out += '}';
  return out;
}

void ConfigureLogging(LogOptions options) {
  auto logger = std::make_shared<spdlog::logger>("congvand", std::make_shared<spdlog::sinks::stdout_sink_mt>());
  logger->set_formatter(std::make_unique<LineFormatter>(std::move(options)));
  logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::trace);  // every line, as it happens: the log of a node that dies is whole
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace congvan::node
