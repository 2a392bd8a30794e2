// What the code under test logs through spdlog's default logger, captured
// for the life of a LogCapture (which puts the previous logger back). Lines
// are "<level> <text>", e.g. "warning certificate=seal ...". Header-only:
// only the binaries that link spdlog include it.
#ifndef CONGVAN_TESTS_TESTING_LOG_CAPTURE_H_
#define CONGVAN_TESTS_TESTING_LOG_CAPTURE_H_

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <vector>

namespace congvan::testing {

class LogCapture {
 public:
  LogCapture()
      : previous_(spdlog::default_logger()), sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(10000)) {
    sink_->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("test", sink_);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(std::move(logger));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Every line so far, oldest first, without line feeds. Thread-safe.
  std::vector<std::string> Lines() const {
    std::vector<std::string> lines = sink_->last_formatted();
    for (std::string& line : lines) {
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    }
    return lines;
  }
  // The lines that contain `text`.
  std::vector<std::string> Matching(const std::string& text) const {
    std::vector<std::string> out;
    for (std::string& line : Lines()) {
      if (line.find(text) != std::string::npos) out.push_back(std::move(line));
    }
    return out;
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

}  // namespace congvan::testing

#endif  // CONGVAN_TESTS_TESTING_LOG_CAPTURE_H_
