// The expiry of the node's own certificates (seal, TLS, TSA) and of its
// trust anchors, so that operators renew them before they lapse: the days
// left for the metrics (congvan_certificate_expiry_days), and a line in the
// log for each certificate that expires within the warning window — a
// warning, or an error once it has expired — when it is first seen so, when
// its state changes, and then once a day:
//
//   warn certificate=seal file=/etc/congvan/seal.pem expires=2027-01-10T00:00:00Z the seal certificate
//        "CN=UBND tỉnh Quảng Ninh,..." expires in 12 days: renew it and restart the node
#ifndef CONGVAN_NODE_CERTIFICATE_WATCH_H_
#define CONGVAN_NODE_CERTIFICATE_WATCH_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/config/node_config.h"
#include "congvan/signer/certificate.h"

namespace congvan::node {

struct WatchedCertificate {
  std::string role;  // "seal", "tls", "tsa" or "anchor": the metric's label
  std::string file;  // where it is read from, for the log
  signer::Certificate certificate;
};

// The node's own certificates as it uses them: the seal's (`seal`, as
// loaded), the first of tls.cert_file and, with [tsa], of tsa.cert_file.
// Errors: the files' (NOT_FOUND, INVALID_ARGUMENT).
[[nodiscard]] absl::StatusOr<std::vector<WatchedCertificate>> OwnCertificates(const config::NodeConfig& config,
                                                                              const signer::Certificate& seal);

// Every certificate of the trust anchor files, read now (the node reloads
// them when they change: a renewed anchor is watched without a restart). A
// file that does not read is left out: the trust reloader reports it.
std::vector<WatchedCertificate> AnchorCertificates(const std::vector<std::string>& anchor_files);

struct CertificateReport {
  // No certificate expires within the window, none has expired.
  bool all_valid = true;
  // Days until expiry (fractional, negative once expired), the soonest of
  // each role present.
  std::map<std::string, double> days_left;
};

// Not thread-safe: one caller, the node's periodic check (operations.h).
class CertificateWatch {
 public:
  // Warns about certificates that expire within `warning` of the check.
  explicit CertificateWatch(absl::Duration warning) : warning_(warning) {}

  // Checks `certificates` at `now`, logging as the file comment says.
  CertificateReport Check(const std::vector<WatchedCertificate>& certificates, absl::Time now);

 private:
  enum class State { kValid, kExpiring, kExpired };
  struct Logged {
    State state = State::kValid;
    absl::Time at = absl::InfinitePast();
  };

  const absl::Duration warning_;
  std::map<std::string, Logged> logged_;  // by role, file and certificate digest
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_CERTIFICATE_WATCH_H_
