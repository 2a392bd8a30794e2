// Fuzzes the configuration files an operator and a person write: the bytes
// are one TOML file, read as
//   - a node.toml (congvan/config/node_config.h): CheckNodeConfig, which
//     collects every problem, and LoadNodeConfig, which must succeed exactly
//     when there is none;
//   - a person's profile.toml (profile.h): CheckProfile and LoadProfile, the
//     same way;
//   - a topology file (congvan/pki/topology.h): Topology::Parse, and for a
//     topology it accepts, every agency's path to the root.
//
// The config readers take a path, so the input is written to one file per
// process, in a directory laid out as `congvan pki init` lays out its
// output: node.toml's "../../agencies/<ID>/seal.pem", "../../ca/root.pem",
// "../../topology.toml" and a profile's "tls.pem" all resolve, to files
// made once at start-up with the dev CA (valid now, as the checks want),
// so that a seed from pki init gets through every check of the files it
// names.
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "congvan/config/node_config.h"
#include "congvan/config/profile.h"
#include "congvan/pki/topology.h"
#include "congvan/signer/certificate.h"
#include "fuzz/fuzz_support.h"
#include "testing/temp_dir.h"
#include "testing/test_pki.h"

namespace congvan::fuzz {
namespace {

namespace fs = std::filesystem;

// The seeds are the node.toml of Hạ Long (a node with a parent and
// children) and of the axis (the root, with [tsa]), and this person's
// profile: the files below are theirs.
constexpr char kPerson[] = "clerk-halong";

void Install(const std::string& path, const std::string& from_file) {
  fs::create_directories(fs::path(path).parent_path());
  WriteFileOrDie(path, testing::ReadTestFile(from_file));
}

// Writes the directory once; returns the path the inputs are written to.
std::string MakeLayout() {
  const std::string dir = ScratchDir() + "/config";
  testing::TestPki pki;  // valid now: CheckNodeConfig validates at the clock
  Install(dir + "/ca/root.pem", pki.root_path());
  Install(dir + "/ca/crl.pem", pki.crl_path());
  Install(dir + "/topology.toml", CONGVAN_SAMPLE_TOPOLOGY);
  struct Leaf {
    const char* agency;
    const char* stem;
    signer::CertificateProfile profile;
    const char* login;
  };
  for (const Leaf& leaf : {Leaf{kHaLong, "seal", signer::CertificateProfile::kSeal, ""},
                           Leaf{kHaLong, "tls", signer::CertificateProfile::kNodeTls, ""},
                           Leaf{kAxis, "seal", signer::CertificateProfile::kSeal, ""},
                           Leaf{kAxis, "tls", signer::CertificateProfile::kNodeTls, ""},
                           Leaf{kAxis, "tsa", signer::CertificateProfile::kTimestamping, ""},
                           Leaf{kHaLong, "person-tls", signer::CertificateProfile::kPersonTls, kPerson}}) {
    testing::TestLeaf issued = pki.Issue({.profile = leaf.profile,
                                          .name = std::string(leaf.agency) + " " + leaf.stem,
                                          .agency_id = leaf.agency,
                                          .person_login = leaf.login},
                                         std::string(leaf.agency) + "-" + leaf.stem);
    const std::string base = std::string(leaf.login).empty()
                                 ? dir + "/agencies/" + leaf.agency + "/" + leaf.stem
                                 : dir + "/people/" + leaf.login + "/tls";
    Install(base + ".pem", issued.cert_path);
    Install(base + ".key", issued.key_path);
  }
  return dir + "/people/" + kPerson + "/input.toml";
}

const std::string& InputPath() {
  static const std::string path = MakeLayout();
  return path;
}

}  // namespace
}  // namespace congvan::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace congvan;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string& path = fuzz::InputPath();
  fuzz::WriteFileOrDie(path, input);

  const std::vector<config::ConfigProblem> node_problems = config::CheckNodeConfig(path);
  absl::StatusOr<config::NodeConfig> node = config::LoadNodeConfig(path);
  fuzz::Trace("node.toml", node.status());
  FUZZ_CHECK(node.ok() == node_problems.empty());
  if (node.ok()) FUZZ_CHECK(node->agency.str().size() <= 35);

  const std::vector<config::ConfigProblem> profile_problems = config::CheckProfile(path);
  absl::StatusOr<config::Profile> profile = config::LoadProfile(path);
  fuzz::Trace("profile.toml", profile.status());
  FUZZ_CHECK(profile.ok() == profile_problems.empty());

  absl::StatusOr<pki::Topology> topology = pki::Topology::Parse(input, "input.toml");
  fuzz::Trace("topology", topology.status());
  if (topology.ok()) {
    for (const pki::Agency& agency : topology->agencies()) {
      FUZZ_CHECK(topology->FindAgency(agency.id) != nullptr);
      // Routing walks these paths: each must end at the root, without a
      // cycle, through listed agencies.
      const std::vector<signer::AgencyId> path_to_root = topology->hierarchy().PathToRoot(agency.id);
      FUZZ_CHECK(!path_to_root.empty() && path_to_root.back() == topology->root());
      FUZZ_CHECK(path_to_root.size() <= topology->agencies().size() + 1);
      for (const signer::AgencyId& hop : path_to_root) {
        FUZZ_CHECK(hop == topology->root() || topology->FindAgency(hop) != nullptr);
      }
    }
    for (const pki::Person& person : topology->people()) {
      FUZZ_CHECK(topology->FindAgency(person.agency) != nullptr);
    }
  }
  return 0;
}
