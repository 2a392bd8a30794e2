#include "congvan/node/operations.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace congvan::node {
namespace {

constexpr absl::Duration kRepeatStoreErrorEvery = absl::Minutes(1);

}  // namespace

void OperationsCheck::RunOnce() {
  ProbeStore();
  CountStore();
  CheckCertificates();
}

void OperationsCheck::ProbeStore() {
  const absl::Status probed = store_.Probe();
  const absl::Time now = options_.now();
  if (probed.ok()) {
    if (store_failing_) spdlog::info("store: writes again: the node takes documents again");
    store_failing_ = false;
  } else {
    if (!store_failing_ || now - store_logged_ >= kRepeatStoreErrorEvery) {
      spdlog::error("store: cannot write ({}): the node takes no document until it can; health NOT_SERVING: {}",
                    absl::StatusCodeToString(probed.code()), std::string(probed.message()));
      store_logged_ = now;
    }
    store_failing_ = true;
  }
  health_.SetStoreWritable(probed.ok());
}

void OperationsCheck::CountStore() {
  // A store that cannot be read keeps the last values: the probe's health
  // and error say what is wrong.
  if (absl::StatusOr<store::OutboxCounts> counts = store_.CountOutbox(); counts.ok()) {
    metrics_.Set("congvan_outbox_entries", {{"state", "pending"}}, static_cast<double>(counts->pending));
    metrics_.Set("congvan_outbox_entries", {{"state", "failed"}}, static_cast<double>(counts->failed));
  }
  if (absl::StatusOr<uint64_t> bytes = store_.DiskUsage(); bytes.ok()) {
    metrics_.Set("congvan_store_bytes", {}, static_cast<double>(*bytes));
  }
}

void OperationsCheck::CheckCertificates() {
  std::vector<WatchedCertificate> watched = options_.certificates;
  for (WatchedCertificate& anchor : AnchorCertificates(options_.anchor_files)) watched.push_back(std::move(anchor));
  const CertificateReport report = certificates_.Check(watched, options_.now());
  for (const auto& [role, days] : report.days_left) {
    metrics_.Set("congvan_certificate_expiry_days", {{"certificate", role}}, days);
  }
  health_.SetCertificatesValid(report.all_valid);
}

}  // namespace congvan::node
