// A directory with everything a valid node.toml for 000.00.00.H49 names:
// a test PKI's root and CRLs, seal and node TLS certificates with their
// keys (mode 0600), and another agency's seal for the error cases.
#ifndef CONGVAN_TESTS_DAEMON_CONFIG_NODE_FIXTURE_H_
#define CONGVAN_TESTS_DAEMON_CONFIG_NODE_FIXTURE_H_

#include <gtest/gtest.h>

#include <string>

#include "testing/temp_dir.h"
#include "testing/test_pki.h"

namespace congvan::config {

inline constexpr char kAgency[] = "000.00.00.H49";

// Every key of node.toml, with relative paths into the fixture's directory.
inline constexpr char kFullNodeToml[] = R"(# A node with every key set.
agency = "000.00.00.H49"
agency_name = "UBND tỉnh Quảng Ninh"
data_dir = "data"
topology = "topology.toml"

[listen]
peers = "0.0.0.0:27406"
people = "127.0.0.1:27407"
metrics = "127.0.0.1:27408"

[seal]
cert = "seal.pem"
key = "seal.key"

[tls]
cert = "tls.pem"
key = "tls.key"

[trust]
anchors = ["root.pem"]
crls = ["crl.pem"]

[peers.parent]
agency = "000.00.00.A00"
address = "axis.gov.vn:27400"

[[peers.children]]
agency = "000.00.01.H49"
address = "10.0.0.5:27400"

[[peers.children]]
agency = "000.00.02.H49"
address = "[fd00::7]:27400"

[[peers.direct]]
agency = "000.00.00.H29"
address = "127.0.0.1:27404"

[[people]]
login = "clerk-h49"
roles = ["clerk"]

[[people]]
login = "leader-h49"
roles = ["leader", "auditor"]

[limits]
max_message_bytes = "512 MiB"
max_parts = 20
chunk_bytes = 65536
max_header_bytes = "256 KiB"

[retry]
initial_backoff = "500ms"
max_backoff = "1m"
delivery_deadline = "2h"

[audit]
tree_head_interval = "2s"
tsa = "https://tsa.axis.gov.vn:27700/"
tsa_alarm_after = "30m"

[tsa]
listen = "127.0.0.1:27409"
cert = "tsa.pem"
key = "tsa.key"

[operations]
certificate_warning_days = 14
)";

// Only what has no default.
inline constexpr char kMinimalNodeToml[] = R"(agency = "000.00.00.H49"
data_dir = "data"
topology = "alone.toml"
[listen]
peers = "127.0.0.1:27406"
people = "127.0.0.1:27407"
[seal]
cert = "seal.pem"
key = "seal.key"
[tls]
cert = "tls.pem"
key = "tls.key"
[trust]
anchors = ["root.pem"]
)";

// The agencies kFullNodeToml names: H49 under the root A00, with two
// children; H29 and G12 elsewhere in the tree.
inline constexpr char kTopologyToml[] = R"(root = "000.00.00.A00"
[[agency]]
id = "000.00.00.A00"
name = "Trục liên thông văn bản quốc gia"
[[agency]]
id = "000.00.00.G12"
name = "Bộ Nội vụ"
[[agency]]
id = "000.00.00.H29"
name = "UBND thành phố Hà Nội"
[[agency]]
id = "000.00.00.H49"
name = "UBND tỉnh Quảng Ninh"
[[agency]]
id = "000.00.01.H49"
name = "UBND thành phố Hạ Long"
[[agency]]
id = "000.00.02.H49"
name = "UBND huyện Vân Đồn"
)";

// A topology of H49 alone (kMinimalNodeToml: a root without peers).
inline constexpr char kAloneTopologyToml[] = R"(root = "000.00.00.H49"
[[agency]]
id = "000.00.00.H49"
name = "UBND tỉnh Quảng Ninh"
)";

class NodeFixture {
 public:
  NodeFixture() {
    using signer::CertificateProfile;
    pki_.Issue({.profile = CertificateProfile::kSeal, .name = "UBND tỉnh Quảng Ninh", .agency_id = kAgency,
                .person_login = ""},
               "seal");
    pki_.Issue({.profile = CertificateProfile::kNodeTls, .name = kAgency, .agency_id = kAgency, .person_login = ""},
               "tls");
    pki_.Issue({.profile = CertificateProfile::kTimestamping, .name = "TSA " + std::string(kAgency),
                .agency_id = kAgency, .person_login = ""},
               "tsa");
    pki_.Issue({.profile = CertificateProfile::kSeal, .name = "UBND thành phố Hà Nội", .agency_id = "000.00.00.H29",
                .person_login = ""},
               "other-seal");
    pki_.Issue({.profile = CertificateProfile::kPersonTls, .name = "Bùi Thị Ngọc Ánh", .agency_id = kAgency,
                .person_login = "clerk-h49"},
               "person-tls");
    Write(kTopologyToml, "topology.toml");
    Write(kAloneTopologyToml, "alone.toml");
  }

  const std::string& dir() const { return pki_.dir(); }
  std::string File(const std::string& name) const { return dir() + "/" + name; }

  // Writes `toml` as node.toml (or `name`) and returns its path.
  std::string Write(const std::string& toml, const std::string& name = "node.toml") const {
    testing::WriteTestFile(File(name), toml);
    return File(name);
  }

 private:
  testing::TestPki pki_;
};

using ::congvan::testing::Replace;

}  // namespace congvan::config

#endif  // CONGVAN_TESTS_DAEMON_CONFIG_NODE_FIXTURE_H_
