// The life of a received document after it arrives (shared/DESIGN.md
// "Flows" 5): the sender may ask for a recall (13) or send an update or a
// replacement that references it; the recipient's clerk accepts (15) or
// refuses (16). These rules are shared by the node, which checks them before
// it seals a clerk's status, and the store, which applies them.
#ifndef CONGVAN_STORE_LIFECYCLE_H_
#define CONGVAN_STORE_LIFECYCLE_H_

#include "absl/status/status.h"
#include "congvan/v1/node.pb.h"

namespace congvan::store {

// Whether a clerk may answer `code` for the inbox entry now. 15 and 16
// answer a pending recall request, or an update / replacement not yet
// answered with 15 or 16; a recalled document takes no further status.
// FAILED_PRECONDITION saying why not.
[[nodiscard]] absl::Status CheckStatusAllowed(const congvan::v1::InboxEntry& entry, congvan::v1::StatusCode code);

// True for an update or a replacement of an earlier document.
bool Supersedes(const congvan::v1::InboxEntry& entry);

}  // namespace congvan::store

#endif  // CONGVAN_STORE_LIFECYCLE_H_
