#include "congvan/node/health.h"

#include <utility>

namespace congvan::node {

Health::Health(std::vector<grpc::HealthCheckServiceInterface*> services) : services_(std::move(services)) {
  absl::MutexLock lock(&mu_);
  Publish();
}

void Health::SetStoreWritable(bool writable) {
  absl::MutexLock lock(&mu_);
  store_writable_ = writable;
  Publish();
}

void Health::SetCertificatesValid(bool valid) {
  absl::MutexLock lock(&mu_);
  certificates_valid_ = valid;
  Publish();
}

void Health::SetTimestampAlarm(bool alarm) {
  absl::MutexLock lock(&mu_);
  timestamp_alarm_ = alarm;
  Publish();
}

bool Health::Serving(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  if (name == kNode || name == kStore) return store_writable_;
  if (name == kCertificates) return certificates_valid_;
  if (name == kAudit) return !timestamp_alarm_;
  return false;
}

void Health::Publish() {
  // Under mu_: two changes never publish in the other order.
  const std::pair<const char*, bool> statuses[] = {
      {kNode, store_writable_},
      {kStore, store_writable_},
      {kCertificates, certificates_valid_},
      {kAudit, !timestamp_alarm_},
  };
  for (grpc::HealthCheckServiceInterface* service : services_) {
    if (service == nullptr) continue;
    for (const auto& [name, serving] : statuses) service->SetServingStatus(name, serving);
  }
}

}  // namespace congvan::node
