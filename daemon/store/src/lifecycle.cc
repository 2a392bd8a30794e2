#include "congvan/store/lifecycle.h"

namespace congvan::store {

using congvan::v1::InboxEntry;

bool Supersedes(const InboxEntry& entry) {
  return (entry.action() == congvan::v1::BUSINESS_ACTION_UPDATE ||
          entry.action() == congvan::v1::BUSINESS_ACTION_REPLACE) &&
         !entry.reference_message_id().empty();
}

absl::Status CheckStatusAllowed(const InboxEntry& entry, congvan::v1::StatusCode code) {
  if (entry.state() == congvan::v1::DOCUMENT_STATE_RECALLED) {
    return absl::FailedPreconditionError("message " + entry.message_id() +
                                         " was recalled: it takes no further status");
  }
  if (code != congvan::v1::STATUS_CODE_RECALL_ACCEPTED && code != congvan::v1::STATUS_CODE_RECALL_REFUSED) {
    return absl::OkStatus();
  }
  if (entry.state() == congvan::v1::DOCUMENT_STATE_RECALL_REQUESTED) return absl::OkStatus();
  const bool answered = entry.status() == congvan::v1::STATUS_CODE_RECALL_ACCEPTED ||
                        entry.status() == congvan::v1::STATUS_CODE_RECALL_REFUSED;
  if (Supersedes(entry) && !answered) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "15 and 16 answer a recall request or an update / replacement, and message " + entry.message_id() +
      " has none waiting for an answer");
}

}  // namespace congvan::store
