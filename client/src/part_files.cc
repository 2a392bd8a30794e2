#include "part_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "congvan/signer/cms.h"
#include "table.h"

namespace congvan::client {
namespace {

std::string Errno() { return std::strerror(errno); }

// "leader-<digits>.p7s", the names fetch gives leader signatures.
absl::Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(Errno());
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

std::string LeaderSignatureFileName(size_t index) {
  return node::kLeaderSignaturePrefix + std::to_string(index + 1) + ".p7s";
}

std::string MediaTypeOf(std::string_view file_name) {
  static const std::map<std::string, std::string> kTypes = {
      {"pdf", "application/pdf"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"doc", "application/msword"},
      {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {"odt", "application/vnd.oasis.opendocument.text"},
      {"txt", "text/plain"},
      {"zip", "application/zip"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"xml", "application/xml"},
  };
  const size_t dot = file_name.rfind('.');
  if (dot != std::string_view::npos) {
    auto it = kTypes.find(absl::AsciiStrToLower(std::string(file_name.substr(dot + 1))));
    if (it != kTypes.end()) return it->second;
  }
  return "application/octet-stream";
}

absl::StatusOr<std::unique_ptr<PartsWriter>> PartsWriter::Create(std::string dir,
                                                                 const std::vector<v1::PartInfo>& parts) {
  std::set<std::string> names;
  for (const v1::PartInfo& part : parts) {
    if (absl::Status s = CheckPartName(part.name()); !s.ok()) {
      return absl::InvalidArgumentError(std::string(s.message()) + "; nothing was written");
    }
    if (!names.insert(part.name()).second) {
      return absl::InvalidArgumentError("two parts are named '" + Printable(part.name()) + "'; nothing was written");
    }
  }
  return std::unique_ptr<PartsWriter>(new PartsWriter(std::move(dir), parts));
}

PartsWriter::PartsWriter(std::string dir, std::vector<v1::PartInfo> parts)
    : dir_(std::move(dir)), parts_(std::move(parts)) {}

PartsWriter::~PartsWriter() {
  if (fd_ >= 0) {
    close(fd_);
    unlink((PathOf(current_) + kPartialSuffix).c_str());
  }
}

const std::string& PartsWriter::current_name() const {
  static const std::string kNone;
  if (parts_.empty()) return kNone;
  return parts_[std::min(current_, parts_.size() - 1)].name();
}

std::string PartsWriter::PathOf(size_t index) const { return dir_ + "/" + parts_[index].name(); }

absl::Status PartsWriter::Fail(absl::Status s) {
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
    unlink((PathOf(current_) + kPartialSuffix).c_str());
  }
  error_ = s;
  return s;
}

absl::Status PartsWriter::Open() {
  const std::string partial = PathOf(current_) + kPartialSuffix;
  // O_NOFOLLOW: a symbolic link planted under the temporary name is refused,
  // not written through.
  fd_ = open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd_ < 0) return Fail(absl::InternalError("cannot write " + partial + ": " + Errno()));
  written_ = 0;
  return absl::OkStatus();
}

absl::Status PartsWriter::Complete() {
  const v1::PartInfo& part = parts_[current_];
  const std::string name = Printable(part.name());
  if (written_ != part.size()) {
    return Fail(absl::DataLossError("part '" + name + "': the node sent " + std::to_string(written_) + " of its " +
                                    std::to_string(part.size()) + " bytes; it was not written"));
  }
  const std::string digest = hash_.Finish();
  if (digest != part.sha256()) {
    return Fail(absl::DataLossError("part '" + name + "': its SHA-256 is " + signer::HexEncode(digest) +
                                    " but the sealed header says " + signer::HexEncode(part.sha256()) +
                                    "; it was not written"));
  }
  const std::string final_path = PathOf(current_);
  const std::string partial = final_path + kPartialSuffix;
  if (fsync(fd_) != 0) return Fail(absl::InternalError("cannot sync " + partial + ": " + Errno()));
  const int fd = fd_;
  fd_ = -1;
  if (close(fd) != 0) {
    unlink(partial.c_str());
    return Fail(absl::InternalError("cannot write " + partial + ": " + Errno()));
  }
  if (rename(partial.c_str(), final_path.c_str()) != 0) {
    const std::string why = Errno();
    unlink(partial.c_str());
    return Fail(absl::InternalError("cannot rename " + partial + " to " + final_path + ": " + why));
  }
  ++current_;
  written_ = 0;
  return absl::OkStatus();
}

absl::Status PartsWriter::Accept(const v1::PartChunk& chunk) {
  if (!error_.ok()) return error_;
  const size_t index = chunk.part();
  if (index >= parts_.size()) {
    return Fail(absl::DataLossError("the node sent data for part " + std::to_string(index + 1) +
                                    " of a document with " + std::to_string(parts_.size()) + " parts"));
  }
  if (index < current_) {
    return Fail(absl::DataLossError("the node sent data for part '" + Printable(parts_[index].name()) +
                                    "' after the parts that follow it"));
  }
  while (current_ < index) {  // the parts before are complete (or empty)
    if (fd_ < 0 && !Open().ok()) return error_;
    if (!Complete().ok()) return error_;
  }
  if (fd_ < 0 && !Open().ok()) return error_;
  const v1::PartInfo& part = parts_[current_];
  if (chunk.data().size() > part.size() - written_) {
    return Fail(absl::DataLossError("part '" + Printable(part.name()) + "': the node sent more than its " +
                                    std::to_string(part.size()) + " bytes; it was not written"));
  }
  if (absl::Status s = WriteAll(fd_, chunk.data()); !s.ok()) {
    return Fail(
        absl::InternalError("cannot write " + PathOf(current_) + kPartialSuffix + ": " + std::string(s.message())));
  }
  hash_.Update(chunk.data());
  written_ += chunk.data().size();
  bytes_written_ += chunk.data().size();
  return absl::OkStatus();
}

absl::Status PartsWriter::Finish() {
  if (!error_.ok()) return error_;
  while (current_ < parts_.size()) {
    if (fd_ < 0 && !Open().ok()) return error_;
    if (!Complete().ok()) return error_;
  }
  // Make the renames durable too.
  const int dir_fd = open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    fsync(dir_fd);
    close(dir_fd);
  }
  return absl::OkStatus();
}

}  // namespace congvan::client
