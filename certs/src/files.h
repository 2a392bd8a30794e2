// Small file-system and formatting helpers for the dev PKI.
#ifndef CONGVAN_CERTS_SRC_FILES_H_
#define CONGVAN_CERTS_SRC_FILES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace congvan::pki::internal {

// Creates `path` and its parents; `path` itself gets `mode`.
[[nodiscard]] absl::Status MakeDir(const std::string& path, int mode = 0755);

// OK when `path` does not exist or is an empty directory;
// FAILED_PRECONDITION otherwise (init never overwrites a PKI).
[[nodiscard]] absl::Status CheckEmptyOrMissing(const std::string& path);

// `path` made absolute and normalised, without a trailing slash.
std::string AbsolutePath(const std::string& path);

// A TOML basic string: quoted, with '"', '\\' and control characters escaped.
std::string TomlString(std::string_view value);

// `length` characters from [0-9A-Za-z], from the kernel's random source.
[[nodiscard]] absl::StatusOr<std::string> RandomPin(size_t length);

}  // namespace congvan::pki::internal

#endif  // CONGVAN_CERTS_SRC_FILES_H_
