#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "congvan/audit/container.h"
#include "congvan/signer/status_macros.h"
#include "io_error.h"

namespace congvan::audit {
namespace {

using internal::IoError;

constexpr mode_t kFileMode = 0644;
// External attributes of every entry: a regular file, mode 0644 (Unix).
constexpr zip_uint32_t kEntryAttributes = (S_IFREG | kFileMode) << 16;

absl::Status ZipError(const std::string& what, zip_error_t* error) {
  std::string message = what + ": " + zip_error_strerror(error);
  switch (zip_error_code_zip(error)) {
    case ZIP_ER_EXISTS:
    case ZIP_ER_INVAL:
      return absl::InvalidArgumentError(message);
    case ZIP_ER_OPEN:
      return zip_error_code_system(error) == ENOENT ? absl::NotFoundError(message)
                                                    : absl::FailedPreconditionError(message);
    case ZIP_ER_MEMORY:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::UnavailableError(message);
  }
}

// Makes a rename in `path`'s directory durable.
void SyncParentDirectory(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the rename itself succeeded
  (void)fsync(fd);
  close(fd);
}

absl::Status SyncFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open " + path + " to sync it", errno);
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return IoError("cannot sync " + path, err);
  return absl::OkStatus();
}

}  // namespace

struct ContainerWriter::State {
  std::string path;
  std::string tmp_path;
  zip_t* zip = nullptr;  // null once closed or discarded
  // The bytes of AddBytes entries: libzip reads them only at zip_close.
  std::vector<std::unique_ptr<std::string>> buffers;
  std::vector<std::pair<std::string, std::string>> files;  // (entry name, file path)
  std::set<std::string, std::less<>> names;
  bool finished = false;  // written or discarded: nothing left to clean up

  // Adds `source` (taking it) as entry `name`, compressed with `method`.
  absl::Status Add(const std::string& name, zip_source_t* source, zip_int32_t method) {
    zip_int64_t index = zip_file_add(zip, name.c_str(), source, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(source);
      return ZipError("cannot add " + name + " to " + path, zip_get_error(zip));
    }
    auto i = static_cast<zip_uint64_t>(index);
    if (zip_set_file_compression(zip, i, method, 0) != 0 ||
        zip_file_set_external_attributes(zip, i, 0, ZIP_OPSYS_UNIX, kEntryAttributes) != 0) {
      return ZipError("cannot set up " + name + " in " + path, zip_get_error(zip));
    }
    return absl::OkStatus();
  }

  absl::Status AddBuffer(const std::string& name, std::string bytes, zip_int32_t method) {
    auto buffer = std::make_unique<std::string>(std::move(bytes));
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(buffer->data(), buffer->size(), 0, &error);
    if (source == nullptr) {
      absl::Status status = ZipError("cannot add " + name, &error);
      zip_error_fini(&error);
      return status;
    }
    zip_error_fini(&error);
    buffers.push_back(std::move(buffer));
    return Add(name, source, method);
  }

  void Discard() {
    if (finished) return;
    finished = true;
    if (zip != nullptr) zip_discard(zip);
    zip = nullptr;
    unlink(tmp_path.c_str());
    buffers.clear();
  }
};

ContainerWriter::ContainerWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}

ContainerWriter::~ContainerWriter() { state_->Discard(); }

absl::StatusOr<std::unique_ptr<ContainerWriter>> ContainerWriter::Create(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError("cannot write a container at " + path + ": it is a directory");
  }
  auto state = std::make_unique<State>();
  state->path = path;
  state->tmp_path = path + ".tmp";
  // Fail here, not at Close, when the directory is missing or read-only.
  int fd = open(state->tmp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kFileMode);
  if (fd < 0) return IoError("cannot create " + state->tmp_path, errno);
  close(fd);
  int code = 0;
  state->zip = zip_open(state->tmp_path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (state->zip == nullptr) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    absl::Status status = ZipError("cannot create " + state->tmp_path, &error);
    zip_error_fini(&error);
    unlink(state->tmp_path.c_str());
    return status;
  }
  // Our own writer from here on, so that the destructor cleans up any failure.
  std::unique_ptr<ContainerWriter> writer(new ContainerWriter(std::move(state)));
  // ASiC (EN 319 162-1 A.1): first, stored, no extra field; a buffer source
  // carries no attributes, so libzip writes none.
  RETURN_IF_ERROR(writer->state_->AddBuffer(kMimetypeName, kAsicMimeType, ZIP_CM_STORE));
  return writer;
}

absl::Status ContainerWriter::CheckNewName(const std::string& name) {
  if (state_->zip == nullptr) {
    return absl::FailedPreconditionError("the container " + state_->path + " is already closed");
  }
  RETURN_IF_ERROR(CheckEntryName(name));
  if (state_->names.count(name) != 0) {
    return absl::InvalidArgumentError("the container already has an entry named \"" + name + "\"");
  }
  return absl::OkStatus();
}

absl::Status ContainerWriter::AddBytes(const std::string& name, std::string bytes) {
  RETURN_IF_ERROR(CheckNewName(name));
  RETURN_IF_ERROR(state_->AddBuffer(name, std::move(bytes), ZIP_CM_DEFLATE));
  state_->names.insert(name);
  return absl::OkStatus();
}

absl::Status ContainerWriter::AddFile(const std::string& name, const std::string& file_path) {
  RETURN_IF_ERROR(CheckNewName(name));
  struct stat st;
  if (stat(file_path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::NotFoundError("cannot add " + name + ": no file " + file_path);
    return IoError("cannot add " + name + " from " + file_path, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError("cannot add " + name + ": " + file_path + " is not a regular file");
  }
  zip_error_t error;
  zip_error_init(&error);
  // Opened and read in blocks by zip_close, never whole.
  zip_source_t* source = zip_source_file_create(file_path.c_str(), 0, -1, &error);
  if (source == nullptr) {
    absl::Status status = ZipError("cannot add " + name + " from " + file_path, &error);
    zip_error_fini(&error);
    return status;
  }
  zip_error_fini(&error);
  RETURN_IF_ERROR(state_->Add(name, source, ZIP_CM_DEFLATE));
  state_->files.emplace_back(name, file_path);
  state_->names.insert(name);
  return absl::OkStatus();
}

absl::Status ContainerWriter::Close() {
  State& s = *state_;
  if (s.zip == nullptr) return absl::FailedPreconditionError("the container " + s.path + " is already closed");
  // libzip's own error would not say which file went missing.
  for (const auto& [name, file_path] : s.files) {
    struct stat st;
    if (stat(file_path.c_str(), &st) != 0) {
      int err = errno;
      s.Discard();
      if (err == ENOENT) {
        return absl::NotFoundError("cannot write " + s.path + ": " + file_path + " (for " + name +
                                   ") was removed before the container was written");
      }
      return IoError("cannot write " + s.path + ": cannot read " + file_path + " (for " + name + ")", err);
    }
  }
  if (zip_close(s.zip) != 0) {
    absl::Status status = ZipError("cannot write " + s.path, zip_get_error(s.zip));
    s.Discard();
    return status;
  }
  s.zip = nullptr;
  s.buffers.clear();
  absl::Status status = absl::OkStatus();
  if (chmod(s.tmp_path.c_str(), kFileMode) != 0) status = IoError("cannot set the mode of " + s.tmp_path, errno);
  if (status.ok()) status = SyncFile(s.tmp_path);
  if (status.ok() && rename(s.tmp_path.c_str(), s.path.c_str()) != 0) {
    status = IoError("cannot rename " + s.tmp_path + " to " + s.path, errno);
  }
  if (!status.ok()) {
    s.Discard();
    return status;
  }
  s.finished = true;
  SyncParentDirectory(s.path);
  return absl::OkStatus();
}

}  // namespace congvan::audit
