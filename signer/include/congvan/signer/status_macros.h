// RETURN_IF_ERROR / ASSIGN_OR_RETURN for absl::Status and absl::StatusOr.
// Debian's Abseil 20220623 ships neither, so congvan keeps these two here.
#ifndef CONGVAN_SIGNER_STATUS_MACROS_H_
#define CONGVAN_SIGNER_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CONGVAN_CONCAT_INNER_(a, b) a##b
#define CONGVAN_CONCAT_(a, b) CONGVAN_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                            \
  do {                                                   \
    ::absl::Status congvan_status_ = (expr);             \
    if (!congvan_status_.ok()) return congvan_status_;   \
  } while (false)

// `ASSIGN_OR_RETURN(auto x, F());` declares x from the value of F(), or
// returns F()'s status from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr) \
  CONGVAN_ASSIGN_OR_RETURN_IMPL_(CONGVAN_CONCAT_(congvan_statusor_, __LINE__), lhs, expr)

#define CONGVAN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return std::move(tmp).status();       \
  lhs = std::move(tmp).value()

#endif  // CONGVAN_SIGNER_STATUS_MACROS_H_
