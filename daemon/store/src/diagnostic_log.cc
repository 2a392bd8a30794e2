#include "diagnostic_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <system_error>

namespace congvan::store::internal {
namespace {

// A line past this is cut: one line is one write(2).
constexpr size_t kMaxLine = 8192;

}  // namespace

DiagnosticLog::DiagnosticLog(std::string dir, size_t max_file_size)
    : path_(dir + "/LOG"), max_file_size_(max_file_size) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);  // DB::Open reports a directory it cannot use
  absl::MutexLock lock(&mu_);
  OpenLocked();
}

DiagnosticLog::~DiagnosticLog() {
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) close(fd_);
}

void DiagnosticLog::OpenLocked() {
  fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  struct stat st {};
  size_ = fd_ >= 0 && fstat(fd_, &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
}

void DiagnosticLog::Logv(const char* format, va_list ap) {
  char line[kMaxLine];
  // The time and thread, as RocksDB's own LOG lines begin.
  timeval now {};
  gettimeofday(&now, nullptr);
  tm local {};
  localtime_r(&now.tv_sec, &local);
  int n = std::snprintf(line, sizeof line, "%04d/%02d/%02d-%02d:%02d:%02d.%06ld %ld ", local.tm_year + 1900,
                        local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec,
                        static_cast<long>(now.tv_usec), static_cast<long>(syscall(SYS_gettid)));
  if (n < 0) return;
  size_t used = static_cast<size_t>(n);
  n = std::vsnprintf(line + used, sizeof line - used, format, ap);
  if (n < 0) return;
  used = std::min(used + static_cast<size_t>(n), sizeof line - 1);  // cut, keeping room for the newline
  if (line[used - 1] != '\n') line[used++] = '\n';

  absl::MutexLock lock(&mu_);
  if (fd_ >= 0 && size_ >= max_file_size_) {
    close(fd_);
    std::rename(path_.c_str(), (path_ + ".old").c_str());
    fd_ = -1;
  }
  if (fd_ < 0) OpenLocked();
  if (fd_ < 0) return;
  // A full disk takes part of the line or none of it: either way the rest
  // is dropped, and the next line is written (or dropped) on its own.
  const ssize_t written = write(fd_, line, used);
  if (written > 0) size_ += static_cast<size_t>(written);
}

size_t DiagnosticLog::GetLogFileSize() const {
  absl::MutexLock lock(&mu_);
  return size_;
}

}  // namespace congvan::store::internal
