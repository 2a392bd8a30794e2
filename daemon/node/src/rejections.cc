#include "congvan/node/rejections.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "congvan/node/caller.h"
#include "congvan/node/grpc_status.h"

namespace congvan::node {

grpc::Status AnswerOrReject(NodeContext& node, const grpc::ServerContext& context, std::string_view call,
                            const absl::Status& status) {
  if (status.ok() || absl::IsCancelled(status)) return ToGrpcStatus(status);
  v1::AuditEvent event;
  event.set_kind(v1::AUDIT_EVENT_REJECTED);
  absl::StatusOr<Caller> caller = IdentifyCaller(*context.auth_context(), *node.trust->Current(), node.now());
  if (caller.ok()) {
    event.set_agency(caller->login.empty() ? caller->agency : caller->login + "@" + caller->agency);
  } else {
    event.set_agency(context.peer());
  }
  event.set_detail(absl::StrCat(std::string(call), ": ", absl::StatusCodeToString(status.code()), ": ", status.message()));
  if (absl::Status logged = node.store->RecordEvent(std::move(event)); !logged.ok()) {
    spdlog::error("audit log: cannot log a rejected {}: {}", std::string(call), std::string(logged.message()));
  }
  return ToGrpcStatus(status);
}

}  // namespace congvan::node
