// The node's trust anchors and CRLs, reloaded when their files change, so an
// operator who drops in a new CRL needs no restart. Readers get an immutable
// snapshot; a reload that fails (a half-written file, garbage) keeps the
// previous snapshot and reports the error.
#ifndef CONGVAN_NODE_TRUST_RELOADER_H_
#define CONGVAN_NODE_TRUST_RELOADER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "congvan/signer/trust.h"

namespace congvan::node {

// Thread-safe.
class TrustReloader {
 public:
  // Loads the files once. Errors as TrustStore::Load.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TrustReloader>> Create(std::vector<std::string> anchor_files,
                                                                            std::vector<std::string> crl_files);

  // The current snapshot. Cheap: no file access.
  std::shared_ptr<const signer::TrustStore> Current() const;

  // Reloads when any file's size or modification time changed since the
  // last load. Returns whether a new snapshot was installed; an error when
  // the changed files do not load (the old snapshot stays).
  [[nodiscard]] absl::StatusOr<bool> ReloadIfChanged();

 private:
  TrustReloader(std::vector<std::string> anchor_files, std::vector<std::string> crl_files)
      : anchor_files_(std::move(anchor_files)), crl_files_(std::move(crl_files)) {}
  // size and mtime (ns) of every file, in order; -1 for a missing file.
  std::vector<int64_t> Fingerprint() const;

  const std::vector<std::string> anchor_files_;
  const std::vector<std::string> crl_files_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const signer::TrustStore> current_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> fingerprint_ ABSL_GUARDED_BY(mu_);
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_TRUST_RELOADER_H_
