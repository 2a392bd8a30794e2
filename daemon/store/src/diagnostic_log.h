// RocksDB's diagnostic log (the LOG file in the database directory), written
// so that a full disk cannot take the process down with it.
//
// RocksDB 7.8's own logger (EnvLogger) writes through a WritableFileWriter
// that, once one write failed, asserts on the next: Debian builds RocksDB
// with assertions on, so the first line RocksDB logs after the disk filled —
// it logs the failed WAL write itself — aborted the node. This one writes
// each line with one write(2) and drops the lines the disk refuses: the log
// is for diagnosis, never state.
//
// The file is `<dir>/LOG`; past `max_file_size` it becomes `LOG.old` (the
// previous one replaced) and a new LOG starts. Thread-safe.
#ifndef CONGVAN_STORE_SRC_DIAGNOSTIC_LOG_H_
#define CONGVAN_STORE_SRC_DIAGNOSTIC_LOG_H_

#include <cstdarg>
#include <cstddef>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"

namespace congvan::store::internal {

class DiagnosticLog : public rocksdb::Logger {
 public:
  // Opens (creating `dir` and the file if needed). A file that cannot be
  // opened now is tried again at the next line; nothing fails.
  DiagnosticLog(std::string dir, size_t max_file_size);
  ~DiagnosticLog() override;

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;
  size_t GetLogFileSize() const override;

 private:
  void OpenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const size_t max_file_size_;
  mutable absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  size_t size_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace congvan::store::internal

#endif  // CONGVAN_STORE_SRC_DIAGNOSTIC_LOG_H_
