// The one place where absl::Status becomes grpc::Status (STYLE.md,
// "Errors"): same code, same message, nothing else.
#ifndef CONGVAN_NODE_GRPC_STATUS_H_
#define CONGVAN_NODE_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace congvan::node {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace congvan::node

#endif  // CONGVAN_NODE_GRPC_STATUS_H_
