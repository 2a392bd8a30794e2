#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "congvan/audit/container.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/status_macros.h"
#include "io_error.h"

namespace congvan::audit {
namespace {

using internal::IoError;

constexpr size_t kMaxNameBytes = 255;
constexpr size_t kChunkBytes = 256 << 10;
// The mimetype entry is read whole to show what it says when it is wrong.
constexpr uint64_t kMaxMimetypeBytes = 256;

// The length of the UTF-8 sequence at s[i] and its code point, or 0 if it is
// not well-formed (overlong forms, surrogates and values past U+10FFFF are not).
size_t DecodeUtf8(std::string_view s, size_t i, char32_t* cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len;
  char32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, *cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, *cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, *cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (byte(i + k) & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
  return len;
}

bool IsControl(char32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

// `name` in quotes for a message: readable UTF-8 stays (Vietnamese file names
// are common), control characters and malformed bytes become \xNN, so an
// untrusted name can neither break a log line nor drive a terminal.
std::string Quote(std::string_view name) {
  std::string out = "\"";
  for (size_t i = 0; i < name.size() && i < 4 * kMaxNameBytes;) {
    char32_t cp;
    size_t len = DecodeUtf8(name, i, &cp);
    if (len == 0 || IsControl(cp)) {
      static constexpr char kHex[] = "0123456789abcdef";
      auto b = static_cast<unsigned char>(name[i]);
      out += {'\\', 'x', kHex[b >> 4], kHex[b & 0xF]};
      i += 1;
      continue;
    }
    if (cp == '"' || cp == '\\') out += '\\';
    out.append(name.substr(i, len));
    i += len;
  }
  if (name.size() > 4 * kMaxNameBytes) out += "...";
  return out + "\"";
}

absl::Status BadName(std::string_view name, const std::string& why) {
  return absl::InvalidArgumentError("the entry name " + Quote(name) + " " + why);
}


// An error while reading an entry's data: the container's fault (DATA_LOSS)
// or the machine's.
absl::Status ReadError(const std::string& name, zip_error_t* error) {
  std::string message = "cannot read " + name + ": " + zip_error_strerror(error);
  switch (zip_error_code_zip(error)) {
    case ZIP_ER_CRC:
    case ZIP_ER_INCONS:
    case ZIP_ER_COMPRESSED_DATA:
    case ZIP_ER_ZLIB:
    case ZIP_ER_EOF:
      return absl::DataLossError(message + "; the container is damaged");
    case ZIP_ER_MEMORY:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::UnavailableError(message);
  }
}

struct ZipCloser {
  void operator()(zip_t* zip) const { zip_discard(zip); }  // read-only: nothing to write
};
struct ZipFileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};

// libzip refuses a name that comes twice under ZIP_CHECKCONS without saying
// which; a lenient second look finds it for the message.
std::string DuplicateName(const std::string& path) {
  std::string message = "two entries have the same name";
  int code = 0;
  std::unique_ptr<zip_t, ZipCloser> zip(zip_open(path.c_str(), ZIP_RDONLY, &code));
  if (zip != nullptr) {
    std::set<std::string, std::less<>> seen;
    zip_int64_t count = zip_get_num_entries(zip.get(), 0);
    for (zip_int64_t i = 0; i < count; ++i) {
      const char* name = zip_get_name(zip.get(), static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW);
      if (name != nullptr && !seen.insert(name).second) {
        message = "the entry name " + Quote(name) + " comes twice";
        break;
      }
    }
  }
  return message + "; which one is the evidence is ambiguous";
}

}  // namespace

absl::Status CheckEntryName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("an entry name is empty");
  if (name.size() > kMaxNameBytes) {
    return BadName(name, absl::StrCat("is ", name.size(), " bytes long; at most ", kMaxNameBytes, " are allowed"));
  }
  for (size_t i = 0; i < name.size();) {
    char32_t cp;
    size_t len = DecodeUtf8(name, i, &cp);
    if (len == 0) return BadName(name, absl::StrCat("is not valid UTF-8 (at byte ", i, ")"));
    if (IsControl(cp)) return BadName(name, "contains a control character");
    if (cp == '\\') return BadName(name, "contains a backslash; entry names are '/'-separated");
    i += len;
  }
  if (name.front() == '/') return BadName(name, "is absolute; entry names are relative");
  // "C:x" is relative to nothing on Windows, where an auditor may unzip too.
  if (name.size() >= 2 && name[1] == ':' && ((name[0] | 0x20) >= 'a' && (name[0] | 0x20) <= 'z')) {
    return BadName(name, "starts with a drive letter; entry names are relative");
  }
  if (name == kMimetypeName) return BadName(name, "is reserved for the first entry of the container");
  for (size_t start = 0;;) {
    size_t end = name.find('/', start);
    std::string_view component = name.substr(start, end == std::string_view::npos ? end : end - start);
    if (component.empty()) return BadName(name, "has an empty component (a directory entry or \"//\")");
    if (component == ".") return BadName(name, "has a \".\" component");
    if (component == "..") return BadName(name, "has a \"..\" component, which would escape the directory");
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return absl::OkStatus();
}

struct ContainerReader::State {
  std::string path;
  std::unique_ptr<zip_t, ZipCloser> zip;
};

ContainerReader::ContainerReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
ContainerReader::~ContainerReader() = default;

absl::StatusOr<std::unique_ptr<ContainerReader>> ContainerReader::Open(const std::string& path,
                                                                       ContainerLimits limits) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return absl::NotFoundError("there is no container at " + path);
    return IoError("cannot read the container " + path, errno);
  }
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(path + " is not a file, so not a container");
  if (access(path.c_str(), R_OK) != 0) return IoError("cannot read the container " + path, errno);

  auto invalid = [&](const std::string& why) { return absl::InvalidArgumentError(path + ": " + why); };
  int code = 0;
  // CHECKCONS: every local header must agree with the central directory, so
  // that no tool sees a different name or size than this reader does.
  zip_t* raw = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (raw == nullptr) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    if (code == ZIP_ER_OPEN || code == ZIP_ER_READ) return absl::UnavailableError("cannot read " + path + ": " + why);
    if (code == ZIP_ER_EXISTS) return invalid(DuplicateName(path));
    return invalid("not a readable ZIP archive, so not an evidence container (" + why + ")");
  }
  auto state = std::make_unique<State>();
  state->path = path;
  state->zip.reset(raw);
  std::unique_ptr<ContainerReader> reader(new ContainerReader(std::move(state)));
  zip_t* zip = reader->state_->zip.get();

  zip_int64_t count = zip_get_num_entries(zip, 0);
  if (count <= 0) return invalid("the archive is empty; an ASiC-E container starts with a \"mimetype\" entry");
  auto entries = static_cast<uint64_t>(count);
  if (entries - 1 > limits.max_entries) {
    return invalid(absl::StrCat("the container has ", entries - 1, " entries besides mimetype, more than the limit of ",
                                limits.max_entries));
  }

  uint64_t total = 0;
  Entry mimetype;
  for (uint64_t i = 0; i < entries; ++i) {
    zip_stat_t zs;
    zip_stat_init(&zs);
    const char* raw_name = zip_get_name(zip, i, ZIP_FL_ENC_RAW);
    if (raw_name == nullptr || zip_stat_index(zip, i, ZIP_FL_ENC_RAW, &zs) != 0) {
      return invalid(absl::StrCat("entry ", i, " cannot be read (", zip_error_strerror(zip_get_error(zip)), ")"));
    }
    std::string name = raw_name;
    if ((zs.valid & ZIP_STAT_SIZE) == 0 || (zs.valid & ZIP_STAT_COMP_METHOD) == 0 ||
        (zs.valid & ZIP_STAT_ENCRYPTION_METHOD) == 0) {
      return invalid("the header of " + Quote(name) + " is incomplete");
    }
    if (i == 0) {
      if (name != kMimetypeName) {
        zip_int64_t at = zip_name_locate(zip, kMimetypeName, ZIP_FL_ENC_RAW);
        return invalid(
            "the first entry is " + Quote(name) + ", not \"mimetype\"" +
            (at > 0 ? absl::StrCat(" (mimetype comes at position ", at + 1, ")") : std::string(" (it has none)")) +
            "; ASiC-E requires mimetype first");
      }
      if (zs.encryption_method != ZIP_EM_NONE) return invalid("mimetype is encrypted; ASiC-E requires it in clear");
      if (zs.comp_method != ZIP_CM_STORE) {
        return invalid(absl::StrCat("mimetype is compressed (method ", zs.comp_method,
                                    "); ASiC-E requires it stored, uncompressed"));
      }
      if (zs.size > kMaxMimetypeBytes) {
        return invalid(absl::StrCat("mimetype holds ", zs.size, " bytes, not \"", kAsicMimeType, "\""));
      }
      mimetype = {i, zs.size};
      continue;
    }
    if (absl::Status s = CheckEntryName(name); !s.ok()) return invalid(std::string(s.message()));
    if (reader->index_.count(name) != 0) {
      return invalid("the entry name " + Quote(name) + " comes twice; which one is the evidence is ambiguous");
    }
    if (zs.encryption_method != ZIP_EM_NONE) {
      return invalid(Quote(name) + " is encrypted; an evidence container holds nothing encrypted");
    }
    if (zs.comp_method != ZIP_CM_STORE && zs.comp_method != ZIP_CM_DEFLATE) {
      return invalid(absl::StrCat(Quote(name), " uses compression method ", zs.comp_method,
                                  "; ASiC-E containers are stored or deflated"));
    }
    if (zs.size > limits.max_entry_bytes) {
      return invalid(absl::StrCat(Quote(name), " declares ", zs.size, " bytes, more than the limit of ",
                                  limits.max_entry_bytes, " for one entry"));
    }
    if (zs.size > limits.max_total_bytes - total) {  // total <= max_total_bytes here
      return invalid(absl::StrCat("the entries up to ", Quote(name), " declare more than the limit of ",
                                  limits.max_total_bytes, " bytes in all"));
    }
    total += zs.size;
    reader->index_.emplace(name, Entry{i, zs.size});
    reader->names_.push_back(std::move(name));
  }

  std::string content;
  absl::Status read = reader->ReadIndex(kMimetypeName, mimetype, [&](std::string_view chunk) {
    content.append(chunk);
    return absl::OkStatus();
  });
  if (!read.ok()) return invalid("the mimetype entry cannot be read: " + std::string(read.message()));
  if (content != kAsicMimeType) {
    return invalid("mimetype says " + Quote(content) + ", not \"" + kAsicMimeType +
                   "\"; this is not an ASiC-E container");
  }
  return reader;
}

absl::StatusOr<uint64_t> ContainerReader::SizeOf(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) return absl::NotFoundError("the container has no entry " + Quote(name));
  return it->second.size;
}

absl::Status ContainerReader::ReadIndex(const std::string& name, const Entry& entry,
                                        absl::FunctionRef<absl::Status(std::string_view)> sink) {
  std::unique_ptr<zip_file_t, ZipFileCloser> file(zip_fopen_index(state_->zip.get(), entry.index, 0));
  if (file == nullptr) return ReadError(name, zip_get_error(state_->zip.get()));
  auto buffer = std::make_unique<char[]>(kChunkBytes);
  uint64_t total = 0;
  for (;;) {
    // Ask for at most one byte past the declared size: a zip bomb that
    // declares less than it inflates to is caught without inflating the rest.
    uint64_t left = entry.size - total;
    uint64_t want = left >= kChunkBytes ? kChunkBytes : left + 1;
    zip_int64_t got = zip_fread(file.get(), buffer.get(), want);
    if (got < 0) return ReadError(name, zip_file_get_error(file.get()));
    if (got == 0) break;
    if (static_cast<uint64_t>(got) > entry.size - total) {
      return absl::DataLossError(absl::StrCat("cannot read ", name, ": it holds more than the ", entry.size,
                                              " bytes its header declares; the container is damaged or forged"));
    }
    total += static_cast<uint64_t>(got);
    RETURN_IF_ERROR(sink(std::string_view(buffer.get(), static_cast<size_t>(got))));
  }
  if (total != entry.size) {
    return absl::DataLossError(absl::StrCat("cannot read ", name, ": it holds ", total, " bytes, not the ", entry.size,
                                            " its header declares; the container is damaged"));
  }
  return absl::OkStatus();
}

absl::Status ContainerReader::ReadTo(const std::string& name, absl::FunctionRef<absl::Status(std::string_view)> sink) {
  auto it = index_.find(name);
  if (it == index_.end()) return absl::NotFoundError("the container has no entry " + Quote(name));
  return ReadIndex(name, it->second, sink);
}

absl::StatusOr<std::string> ContainerReader::Read(const std::string& name, uint64_t max_bytes) {
  auto it = index_.find(name);
  if (it == index_.end()) return absl::NotFoundError("the container has no entry " + Quote(name));
  if (it->second.size > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(name, " is ", it->second.size, " bytes, more than the ", max_bytes,
                                                     " that may be read into memory"));
  }
  std::string data;
  data.reserve(static_cast<size_t>(it->second.size));
  RETURN_IF_ERROR(ReadIndex(name, it->second, [&](std::string_view chunk) {
    data.append(chunk);
    return absl::OkStatus();
  }));
  return data;
}

absl::StatusOr<std::string> ContainerReader::Sha256Of(const std::string& name) {
  signer::Sha256Stream sha;
  RETURN_IF_ERROR(ReadTo(name, [&](std::string_view chunk) {
    sha.Update(chunk);
    return absl::OkStatus();
  }));
  return sha.Finish();
}

absl::Status ContainerReader::ExtractTo(const std::string& name, const std::string& file_path) {
  if (!Has(name)) return absl::NotFoundError("the container has no entry " + Quote(name));
  std::string tmp = file_path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create " + tmp, errno);
  absl::Status status = ReadTo(name, [&](std::string_view chunk) {
    while (!chunk.empty()) {
      ssize_t n = write(fd, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return IoError("cannot write " + tmp, errno);
      chunk.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  });
  if (status.ok() && fchmod(fd, 0644) != 0) status = IoError("cannot set the mode of " + tmp, errno);
  if (close(fd) != 0 && status.ok()) status = IoError("cannot write " + tmp, errno);
  if (status.ok() && rename(tmp.c_str(), file_path.c_str()) != 0) {
    status = IoError("cannot rename " + tmp + " to " + file_path, errno);
  }
  if (!status.ok()) unlink(tmp.c_str());
  return status;
}

}  // namespace congvan::audit
