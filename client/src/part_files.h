// A document's parts as files on the clerk's machine: which names are safe
// to write, media types from file names, and writing fetched parts so that
// a file under its final name always holds exactly the bytes the sealed
// header describes.
#ifndef CONGVAN_CLIENT_PART_FILES_H_
#define CONGVAN_CLIENT_PART_FILES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "congvan/node/documents.h"
#include "congvan/signer/cms.h"
#include "congvan/v1/message.pb.h"
#include "congvan/v1/node.pb.h"

namespace congvan::client {

// What `congvan fetch` writes besides the parts, and which part names are
// safe to write, are the node's rule (congvan/node/documents.h): the node
// refuses a document whose parts could not be fetched, fetch checks every
// name the node sends, and send checks names before sending.
using node::CheckPartName;
using node::kHeaderFileName;
using node::kPartialSuffix;
using node::kSealFileName;
std::string LeaderSignatureFileName(size_t index);  // 0 → "leader-1.p7s"

// The media type of a file from its extension (case-insensitive): pdf, docx,
// doc, xlsx, odt, txt, zip, png, jpg/jpeg, xml; application/octet-stream
// for anything else.
std::string MediaTypeOf(std::string_view file_name);

// Writes the parts of one fetched document under `dir`, from chunks in the
// order the node sends them (parts in header order, each part's chunks in
// order, no chunk for an empty part). Each part goes to
// "<dir>/<name>.partial", hashed as it is written; when the part is
// complete its size and SHA-256 are checked against the header and only
// then is it synced and renamed to "<dir>/<name>". A part that fails its
// check, or is left incomplete, leaves no file behind: the destructor
// removes any .partial file. Not thread-safe.
class PartsWriter {
 public:
  // Checks every part name with CheckPartName and that no two are the same
  // (INVALID_ARGUMENT: the node sent a header this CLI will not write).
  // `dir` must exist.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PartsWriter>> Create(std::string dir,
                                                                           const std::vector<v1::PartInfo>& parts);
  ~PartsWriter();
  PartsWriter(const PartsWriter&) = delete;
  PartsWriter& operator=(const PartsWriter&) = delete;

  // Takes the next chunk. DATA_LOSS when it does not fit what the header
  // says (a part out of order or unknown, more bytes than its size, a
  // finished part whose SHA-256 differs), naming the part; INTERNAL for a
  // failed write. After an error the writer takes nothing more.
  [[nodiscard]] absl::Status Accept(const v1::PartChunk& chunk);

  // The stream ended: finishes the parts still open (empty ones included).
  // DATA_LOSS when a part is shorter than its size or fails its check.
  [[nodiscard]] absl::Status Finish();

  // Bytes written so far, over every part.
  uint64_t bytes_written() const { return bytes_written_; }
  // The name of the part being written (the last one once finished).
  const std::string& current_name() const;

 private:
  PartsWriter(std::string dir, std::vector<v1::PartInfo> parts);
  absl::Status Open();                // opens parts_[current_]
  absl::Status Complete();            // checks, syncs and renames parts_[current_]
  absl::Status Fail(absl::Status s);  // removes the open .partial and latches the error
  std::string PathOf(size_t index) const;

  std::string dir_;
  std::vector<v1::PartInfo> parts_;
  size_t current_ = 0;    // the part being written; parts_.size() when all are done
  int fd_ = -1;           // open on PathOf(current_) + ".partial", or -1
  uint64_t written_ = 0;  // bytes of parts_[current_] so far
  uint64_t bytes_written_ = 0;
  signer::Sha256Stream hash_;
  absl::Status error_;
};

}  // namespace congvan::client

#endif  // CONGVAN_CLIENT_PART_FILES_H_
