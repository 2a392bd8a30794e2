// A disk of its own for a test: a tmpfs of a few MiB mounted on a temp
// directory, which the kernel really fills (ENOSPC), and a filler file that
// takes its space and gives it back. Mounting needs root (CAP_SYS_ADMIN):
// elsewhere mounted() is false and why() says so, for GTEST_SKIP.
// A test process that dies without unwinding (abort, SIGKILL) leaves its
// tmpfs mounted on $TMPDIR/congvan-test-*/...: `umount` it.
#ifndef CONGVAN_TESTS_TESTING_SMALL_DISK_H_
#define CONGVAN_TESTS_TESTING_SMALL_DISK_H_

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>

#include "absl/status/status.h"

namespace congvan::testing {

class SmallDisk {
 public:
  // Mounts a tmpfs of `bytes` on `path` (created if missing).
  SmallDisk(std::string path, uint64_t bytes) : path_(std::move(path)) {
    std::error_code error;
    std::filesystem::create_directories(path_, error);
    if (geteuid() != 0) {
      why_ = "mounting a tmpfs needs root";
      return;
    }
    const std::string data = "size=" + std::to_string(bytes) + ",mode=0700";
    if (mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, data.c_str()) != 0) {
      why_ = "cannot mount a tmpfs on " + path_ + ": " + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  // Unmounts (lazily: a process still holding a file lets go of it later).
  ~SmallDisk() {
    if (mounted_) umount2(path_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

  // What an unprivileged writer may still write.
  uint64_t FreeBytes() const {
    struct statvfs fs {};
    if (statvfs(path_.c_str(), &fs) != 0) return 0;
    return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  }

  // Grows the filler file until at most `leave` bytes are free.
  absl::Status FillLeaving(uint64_t leave) {
    const int fd = open(File(kFiller).c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0) return absl::InternalError("cannot open the filler: " + std::string(std::strerror(errno)));
    const std::string block(64 << 10, '\xa5');
    absl::Status status;
    for (uint64_t free = FreeBytes(); free > leave; free = FreeBytes()) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(block.size(), free - leave));
      if (write(fd, block.data(), want) < 0) {
        if (errno != ENOSPC) status = absl::InternalError("cannot write the filler: " + std::string(std::strerror(errno)));
        break;
      }
    }
    close(fd);
    return status;
  }

  // Gives the filler's space back.
  void Free() {
    std::error_code error;
    std::filesystem::remove(File(kFiller), error);
  }

 private:
  static constexpr char kFiller[] = "filler";

  std::string path_;
  bool mounted_ = false;
  std::string why_;
};

}  // namespace congvan::testing

#endif  // CONGVAN_TESTS_TESTING_SMALL_DISK_H_
