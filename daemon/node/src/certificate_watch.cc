#include "congvan/node/certificate_watch.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "congvan/node/documents.h"
#include "congvan/signer/status_macros.h"

namespace congvan::node {
namespace {

constexpr absl::Duration kRepeatEvery = absl::Hours(24);

absl::StatusOr<signer::Certificate> FirstOf(const std::string& file) {
  ASSIGN_OR_RETURN(std::vector<signer::Certificate> certs, signer::LoadCertificates(file));
  return certs.front();
}

// "in 12 days", "in 5 hours", "in 40 minutes": rounded, for a person.
std::string Remaining(absl::Duration left) {
  const double hours = absl::ToDoubleHours(left);
  if (hours >= 47.5) return "in " + std::to_string(std::lround(hours / 24)) + " days";
  if (hours >= 1.5) return "in " + std::to_string(std::lround(hours)) + " hours";
  return "in " + std::to_string(std::max<long>(1, std::lround(hours * 60))) + " minutes";
}

// What to do about it: the node reloads its anchors, not its own certificates.
std::string Advice(const std::string& role) {
  return role == "anchor" ? "put its successor into trust.anchors" : "renew it and restart the node";
}

}  // namespace

absl::StatusOr<std::vector<WatchedCertificate>> OwnCertificates(const config::NodeConfig& config,
                                                                const signer::Certificate& seal) {
  std::vector<WatchedCertificate> out;
  out.push_back({"seal", config.seal.cert_file, seal});
  ASSIGN_OR_RETURN(signer::Certificate tls, FirstOf(config.tls.cert_file));
  out.push_back({"tls", config.tls.cert_file, tls});
  if (config.tsa.has_value()) {
    ASSIGN_OR_RETURN(signer::Certificate tsa, FirstOf(config.tsa->cert_file));
    out.push_back({"tsa", config.tsa->cert_file, tsa});
  }
  return out;
}

std::vector<WatchedCertificate> AnchorCertificates(const std::vector<std::string>& anchor_files) {
  std::vector<WatchedCertificate> out;
  for (const std::string& file : anchor_files) {
    absl::StatusOr<std::vector<signer::Certificate>> certs = signer::LoadCertificates(file);
    if (!certs.ok()) continue;
    for (signer::Certificate& cert : *certs) out.push_back({"anchor", file, std::move(cert)});
  }
  return out;
}

CertificateReport CertificateWatch::Check(const std::vector<WatchedCertificate>& certificates, absl::Time now) {
  CertificateReport report;
  std::map<std::string, Logged> seen;
  for (const WatchedCertificate& watched : certificates) {
    const absl::Time expiry = watched.certificate.NotAfter();
    const absl::Duration left = expiry - now;
    const double days = absl::ToDoubleHours(left) / 24;
    auto [soonest, inserted] = report.days_left.emplace(watched.role, days);
    if (!inserted) soonest->second = std::min(soonest->second, days);

    const State state = left <= absl::ZeroDuration() ? State::kExpired
                        : left <= warning_           ? State::kExpiring
                                                     : State::kValid;
    if (state != State::kValid) report.all_valid = false;
    const std::string key = watched.role + "\n" + watched.file + "\n" + watched.certificate.Sha256Hex();
    Logged logged = logged_.count(key) != 0 ? logged_[key] : Logged{};
    const bool due = state != logged.state || now - logged.at >= kRepeatEvery;
    if (state != State::kValid && due) {
      const std::string fields =
          "certificate=" + watched.role + " file=" + watched.file + " expires=" + FormatRfc3339(expiry);
      const std::string subject = watched.certificate.Subject();
      if (state == State::kExpired) {
        spdlog::error("{} the {} certificate \"{}\" has expired: {}", fields, watched.role, subject,
                      Advice(watched.role));
      } else {
        spdlog::warn("{} the {} certificate \"{}\" expires {}: {}", fields, watched.role, subject, Remaining(left),
                     Advice(watched.role));
      }
      logged.at = now;
    }
    logged.state = state;
    seen[key] = logged;
  }
  logged_ = std::move(seen);  // a certificate no longer watched is forgotten
  return report;
}

}  // namespace congvan::node
