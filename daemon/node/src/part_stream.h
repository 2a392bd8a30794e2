// Receiving a document's parts from a client stream (a clerk's Send, a
// peer's Deliver) into an Upload, checking every chunk against the sizes the
// header declared, and the digests at the end.
#ifndef CONGVAN_NODE_SRC_PART_STREAM_H_
#define CONGVAN_NODE_SRC_PART_STREAM_H_

#include <grpcpp/support/sync_stream.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "congvan/signer/status_macros.h"
#include "congvan/store/upload.h"

namespace congvan::node::internal {

struct ExpectedPart {
  std::string name;
  uint64_t size = 0;
  std::string sha256;
};

template <typename Request>
absl::Status ReceiveParts(grpc::ServerReaderInterface<Request>* reader, store::Upload& upload,
                          const std::vector<ExpectedPart>& parts) {
  std::vector<uint64_t> received(parts.size(), 0);
  uint32_t current = 0;
  Request request;
  while (reader->Read(&request)) {
    if (!request.has_chunk()) return absl::InvalidArgumentError("the stream carries a second header");
    const auto& chunk = request.chunk();
    const uint32_t p = chunk.part();
    if (p >= parts.size()) {
      return absl::InvalidArgumentError("a chunk names part " + std::to_string(p + 1) + ", but the document has " +
                                        std::to_string(parts.size()) + " parts");
    }
    if (p < current) return absl::InvalidArgumentError("the parts arrive out of order");
    current = p;
    if (received[p] + chunk.data().size() > parts[p].size) {
      return absl::InvalidArgumentError("part " + std::to_string(p + 1) + " '" + parts[p].name +
                                        "' is larger than the " + std::to_string(parts[p].size) +
                                        " bytes its header declares");
    }
    received[p] += chunk.data().size();
    RETURN_IF_ERROR(upload.Append(p, chunk.data()));
  }
  for (size_t p = 0; p < parts.size(); ++p) {
    if (received[p] != parts[p].size) {
      return absl::InvalidArgumentError("the stream ended before part " + std::to_string(p + 1) + " '" +
                                        parts[p].name + "' was complete (" + std::to_string(received[p]) + " of " +
                                        std::to_string(parts[p].size) + " bytes): nothing was stored, send again");
    }
  }
  ASSIGN_OR_RETURN(std::vector<store::PartDigest> digests, upload.Finish(static_cast<uint32_t>(parts.size())));
  for (size_t p = 0; p < parts.size(); ++p) {
    if (digests[p].sha256 != parts[p].sha256) {
      return absl::InvalidArgumentError("part " + std::to_string(p + 1) + " '" + parts[p].name +
                                        "' does not match the SHA-256 its header declares: it was altered or "
                                        "damaged in transit; nothing was stored");
    }
  }
  return absl::OkStatus();
}

}  // namespace congvan::node::internal

#endif  // CONGVAN_NODE_SRC_PART_STREAM_H_
