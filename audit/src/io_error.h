// The errno of a failed file operation of the container code as a status:
// what the operator fixes (a wrong path, permissions, a read-only file
// system) is FAILED_PRECONDITION; the rest (a full disk, EIO) UNAVAILABLE.
#ifndef CONGVAN_AUDIT_SRC_IO_ERROR_H_
#define CONGVAN_AUDIT_SRC_IO_ERROR_H_

#include <string>

#include "absl/status/status.h"

namespace congvan::audit::internal {

absl::Status IoError(const std::string& what, int err);

}  // namespace congvan::audit::internal

#endif  // CONGVAN_AUDIT_SRC_IO_ERROR_H_
