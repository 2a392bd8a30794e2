#include "congvan/node/trust_reloader.h"

#include <sys/stat.h>

#include "congvan/signer/status_macros.h"

namespace congvan::node {

absl::StatusOr<std::unique_ptr<TrustReloader>> TrustReloader::Create(std::vector<std::string> anchor_files,
                                                                    std::vector<std::string> crl_files) {
  std::unique_ptr<TrustReloader> reloader(new TrustReloader(std::move(anchor_files), std::move(crl_files)));
  std::vector<int64_t> fingerprint = reloader->Fingerprint();
  ASSIGN_OR_RETURN(signer::TrustStore store, signer::TrustStore::Load(reloader->anchor_files_, reloader->crl_files_));
  absl::MutexLock lock(&reloader->mu_);
  reloader->current_ = std::make_shared<const signer::TrustStore>(std::move(store));
  reloader->fingerprint_ = std::move(fingerprint);
  return reloader;
}

std::shared_ptr<const signer::TrustStore> TrustReloader::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

std::vector<int64_t> TrustReloader::Fingerprint() const {
  std::vector<int64_t> fingerprint;
  for (const auto* files : {&anchor_files_, &crl_files_}) {
    for (const std::string& file : *files) {
      struct stat st {};
      if (stat(file.c_str(), &st) != 0) {
        fingerprint.insert(fingerprint.end(), {-1, -1});
        continue;
      }
      fingerprint.push_back(static_cast<int64_t>(st.st_size));
      fingerprint.push_back(static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec);
    }
  }
  return fingerprint;
}

absl::StatusOr<bool> TrustReloader::ReloadIfChanged() {
  std::vector<int64_t> fingerprint = Fingerprint();
  {
    absl::MutexLock lock(&mu_);
    if (fingerprint == fingerprint_) return false;
  }
  ASSIGN_OR_RETURN(signer::TrustStore store, signer::TrustStore::Load(anchor_files_, crl_files_));
  absl::MutexLock lock(&mu_);
  current_ = std::make_shared<const signer::TrustStore>(std::move(store));
  fingerprint_ = std::move(fingerprint);
  return true;
}

}  // namespace congvan::node
