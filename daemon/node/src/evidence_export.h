// The evidence container of one document (audit/README.md, "Evidence
// container"), as the node streams it to `congvan export`: every file in
// pieces, then the ASiC manifest of their SHA-256 digests and the node's
// seal over it.
#ifndef CONGVAN_NODE_SRC_EVIDENCE_EXPORT_H_
#define CONGVAN_NODE_SRC_EVIDENCE_EXPORT_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "congvan/node/node_context.h"
#include "congvan/v1/audit.pb.h"

namespace congvan::node {

// Sends the container's files for `message_id`, stored at this node,
// through `send` (a new file starts with a chunk that names it). NOT_FOUND
// for an unknown message; UNAVAILABLE while its events are not under a
// sealed tree head; a `send` error stops the export and is returned.
[[nodiscard]] absl::Status ExportEvidence(NodeContext& node, const std::string& message_id,
                                          absl::FunctionRef<absl::Status(const v1::ExportChunk&)> send);

// The README.txt of a container: what each file is and how to check it
// with openssl.
std::string EvidenceReadme(const v1::DocumentHeader& header, const std::string& exporter, const std::string& time,
                           const std::string& main_part, bool has_token);

}  // namespace congvan::node

#endif  // CONGVAN_NODE_SRC_EVIDENCE_EXPORT_H_
