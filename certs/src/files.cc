#include "files.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace congvan::pki::internal {

namespace fs = std::filesystem;

absl::Status MakeDir(const std::string& path, int mode) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return absl::PermissionDeniedError("cannot create directory " + path + ": " + ec.message());
  if (chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    return absl::PermissionDeniedError("cannot set the mode of " + path + ": " + std::strerror(errno));
  }
  return absl::OkStatus();
}

absl::Status CheckEmptyOrMissing(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) return absl::OkStatus();
  if (ec) return absl::PermissionDeniedError("cannot inspect " + path + ": " + ec.message());
  if (status.type() != fs::file_type::directory) {
    return absl::FailedPreconditionError(path + " exists and is not a directory");
  }
  if (!fs::is_empty(path, ec) || ec) {
    return absl::FailedPreconditionError(path +
                                         " is not empty: pki init never overwrites; choose a new directory");
  }
  return absl::OkStatus();
}

std::string AbsolutePath(const std::string& path) {
  std::string out = fs::absolute(fs::path(path)).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string TomlString(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04X", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

absl::StatusOr<std::string> RandomPin(size_t length) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  constexpr unsigned kAlphabetSize = sizeof kAlphabet - 1;  // 62
  // Bytes at or above 248 (= 4 * 62) are dropped so that every character is
  // equally likely.
  constexpr unsigned kLimit = 256 - 256 % kAlphabetSize;
  std::string pin;
  while (pin.size() < length) {
    unsigned char buf[64];
    const ssize_t n = getrandom(buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(std::string("no randomness for a PIN: ") + std::strerror(errno));
    }
    for (ssize_t i = 0; i < n && pin.size() < length; ++i) {
      if (buf[i] < kLimit) pin += kAlphabet[buf[i] % kAlphabetSize];
    }
  }
  return pin;
}

}  // namespace congvan::pki::internal
