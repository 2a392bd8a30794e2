// The evidence container: one ZIP file that an auditor takes away, laid out
// as ASiC-E (ETSI EN 319 162-1): "mimetype" first, stored, holding
// kAsicMimeType; then the evidence files; META-INF/ASiCManifest.xml listing
// each file with its SHA-256 (asic_manifest.h); META-INF/signature.p7s, the
// exporting node's CAdES seal signature over the manifest.
//
// The reader treats the container as untrusted input: it checks everything
// at Open (names, limits, the mimetype rules), and reads no more bytes of an
// entry than its header declares, so neither a zip-slip name nor a zip bomb
// gets past it. libzip stays inside this library.
//
// Thread-safety: CheckEntryName is thread-safe; ContainerWriter and
// ContainerReader are not (one thread at a time per object).
#ifndef CONGVAN_AUDIT_CONTAINER_H_
#define CONGVAN_AUDIT_CONTAINER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "congvan/audit/asic_manifest.h"

namespace congvan::audit {

inline constexpr char kAsicMimeType[] = "application/vnd.etsi.asic-e+zip";
inline constexpr char kMimetypeName[] = "mimetype";

// OK if `name` may name an entry of a container: non-empty, at most 255
// bytes, valid UTF-8, relative ('/'-separated, not starting with '/' or a
// drive letter such as "C:"), no empty, "." or ".." component (so no
// directory entries either), no backslash, no control character (C0, DEL or
// C1), and not "mimetype", which is reserved for the first entry.
// INVALID_ARGUMENT saying which rule it breaks otherwise. Both the writer and
// the reader apply it, so no name can escape a directory it is extracted to.
[[nodiscard]] absl::Status CheckEntryName(std::string_view name);

// Writes a container. "mimetype" is written first, stored (uncompressed),
// without extra field; the entries follow in the order added, deflated, each
// with Unix mode 0644. Files added from disk are read by Close, in blocks:
// memory does not grow with their size. Nothing appears at `path` until Close
// succeeds: the archive is written to path + ".tmp", synced and renamed.
class ContainerWriter {
 public:
  // Prepares to write a container at `path` (an existing file is replaced
  // when Close succeeds, not appended to). FAILED_PRECONDITION if the
  // directory is missing or not writable or `path` is a directory;
  // UNAVAILABLE for other I/O errors.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ContainerWriter>> Create(const std::string& path);
  // Discards the archive (and path + ".tmp") unless Close succeeded.
  ~ContainerWriter();
  ContainerWriter(const ContainerWriter&) = delete;
  ContainerWriter& operator=(const ContainerWriter&) = delete;

  // Adds an entry holding `bytes`. INVALID_ARGUMENT for a name that fails
  // CheckEntryName or was added before; FAILED_PRECONDITION after Close.
  [[nodiscard]] absl::Status AddBytes(const std::string& name, std::string bytes);
  // Adds an entry holding the contents of `file_path`, read by Close (the file
  // must stay in place until then). As AddBytes, and NOT_FOUND if the file
  // does not exist, INVALID_ARGUMENT if it is not a regular file.
  [[nodiscard]] absl::Status AddFile(const std::string& name, const std::string& file_path);
  // Writes the archive. On any error nothing is left at `path` that was not
  // there before (and path + ".tmp" is removed); the writer is then done
  // either way. NOT_FOUND if a file added from disk is gone; UNAVAILABLE for
  // write errors (a full disk); FAILED_PRECONDITION if called twice.
  [[nodiscard]] absl::Status Close();

 private:
  struct State;
  explicit ContainerWriter(std::unique_ptr<State> state);
  [[nodiscard]] absl::Status CheckNewName(const std::string& name);
  std::unique_ptr<State> state_;
};

struct ContainerLimits {
  uint64_t max_entries = 10000;                    // entries besides mimetype. Default: 10,000
  uint64_t max_entry_bytes = uint64_t{64} << 30;   // one entry, uncompressed. Default: 64 GiB
  uint64_t max_total_bytes = uint64_t{256} << 30;  // all entries, uncompressed. Default: 256 GiB
};

// Reads a container. Every structural check happens at Open; reading an entry
// then checks its CRC and that it holds exactly the bytes its header declares.
class ContainerReader {
 public:
  // Opens and checks the container at `path`. NOT_FOUND if there is no such
  // file; FAILED_PRECONDITION if it cannot be read (permissions);
  // INVALID_ARGUMENT, with a message an auditor can act on that names the
  // entry, unless: it is a readable ZIP archive (consistent local and central
  // headers); its first entry is "mimetype", stored, holding exactly
  // kAsicMimeType; no entry is encrypted or compressed other than stored or
  // deflated; no name comes twice; every other name passes CheckEntryName;
  // the declared sizes and the entry count are within `limits`.
  // Memory at Open grows with the central directory (bounded by the file).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ContainerReader>> Open(const std::string& path,
                                                                             ContainerLimits limits = {});
  ~ContainerReader();
  ContainerReader(const ContainerReader&) = delete;
  ContainerReader& operator=(const ContainerReader&) = delete;

  // The entries in archive order, without "mimetype".
  const std::vector<std::string>& names() const { return names_; }
  bool Has(const std::string& name) const { return index_.count(name) != 0; }
  // The uncompressed size that the entry's header declares; NOT_FOUND.
  [[nodiscard]] absl::StatusOr<uint64_t> SizeOf(const std::string& name) const;

  // The whole entry. NOT_FOUND if there is none; RESOURCE_EXHAUSTED if it
  // declares more than `max_bytes` (nothing is read then); DATA_LOSS if its
  // CRC does not match or it holds other than its declared size.
  [[nodiscard]] absl::StatusOr<std::string> Read(const std::string& name, uint64_t max_bytes = 64 << 20);
  // Hands the entry to `sink` in chunks of at most 256 KiB, in bounded memory,
  // stopping at the first error `sink` returns. As Read otherwise; on
  // DATA_LOSS the sink may have seen part of the entry (never more than the
  // declared size), so a caller acts on the data only once ReadTo returns OK.
  [[nodiscard]] absl::Status ReadTo(const std::string& name, absl::FunctionRef<absl::Status(std::string_view)> sink);
  // The entry's SHA-256 (32 raw bytes), streamed.
  [[nodiscard]] absl::StatusOr<std::string> Sha256Of(const std::string& name);
  // Writes the entry to `file_path` (mode 0644), streamed, through
  // file_path + ".tmp" and a rename: on error nothing new is left at
  // `file_path`. FAILED_PRECONDITION / UNAVAILABLE for I/O errors.
  [[nodiscard]] absl::Status ExtractTo(const std::string& name, const std::string& file_path);

 private:
  struct State;
  struct Entry {
    uint64_t index = 0;  // in the ZIP
    uint64_t size = 0;   // declared, uncompressed
  };
  explicit ContainerReader(std::unique_ptr<State> state);
  [[nodiscard]] absl::Status ReadIndex(const std::string& name, const Entry& entry,
                                       absl::FunctionRef<absl::Status(std::string_view)> sink);

  std::unique_ptr<State> state_;
  std::vector<std::string> names_;
  std::map<std::string, Entry, std::less<>> index_;
};

// The manifest check of one file.
struct FileCheck {
  std::string name;
  bool ok = false;
  // Empty when ok; otherwise "its SHA-256 differs from the manifest's", "not
  // listed in the manifest", "listed in the manifest but missing", or "could
  // not be read: " and why (a CRC error, a size that is not the declared one).
  std::string problem;
};

// Reads and parses kManifestName and checks every entry but the manifest and
// kManifestSignatureName against it: one FileCheck per such entry, in archive
// order, then one per file that the manifest lists and the container lacks,
// in manifest order. INVALID_ARGUMENT naming kManifestName if the manifest is
// missing, larger than 16 MiB, unreadable or not a manifest (ParseManifest).
// It does not check the signature over the manifest.
[[nodiscard]] absl::StatusOr<std::vector<FileCheck>> CheckManifest(ContainerReader& reader);

}  // namespace congvan::audit

#endif  // CONGVAN_AUDIT_CONTAINER_H_
