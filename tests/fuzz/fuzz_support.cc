#include "fuzz/fuzz_support.h"

#include <fcntl.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <memory>

#include <google/protobuf/stubs/logging.h>

#include "congvan/signer/certificate.h"
#include "congvan/signer/cms.h"
#include "testing/temp_dir.h"
#include "testing/test_pki.h"

namespace congvan::fuzz {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "fuzz support: " << what << "\n";
  std::abort();
}

std::string PkiFile(const std::string& name) { return std::string(CONGVAN_FUZZ_PKI_DIR) + "/" + name; }

// Protobuf logs every string field that is not UTF-8 as it parses one; on
// fuzzed input that is most inputs, and the writing would cost more than
// the parsing. The parse still fails, which is what the code under test sees.
[[maybe_unused]] const bool kProtobufQuiet = (google::protobuf::SetLogHandler(nullptr), true);

// The in-memory CA (a root and an issuing CA, valid around VerifyAt()) and a
// seal certificate for each agency of the seed corpus. Its key files live
// in the TestPki's own temporary directory, written once.
class ResealCa {
 public:
  ResealCa() : pki_(VerifyAt()) {
    for (const char* agency : {kHongGai, kHaLong, kQuangNinh, kAxis}) {
      testing::LeafOptions options{.profile = signer::CertificateProfile::kSeal,
                                   .name = std::string("Fuzz seal ") + agency,
                                   .agency_id = agency,
                                   .person_login = ""};
      seals_.emplace(agency, pki_.Issue(options, std::string("seal-") + agency));
    }
  }

  const testing::TestPki& pki() const { return pki_; }

  std::string Seal(std::string_view agency, std::string_view body) const {
    auto it = seals_.find(std::string(agency));
    if (it == seals_.end()) it = seals_.find(kHongGai);
    const testing::TestLeaf& seal = it->second;
    signer::SignRequest request{seal.key.get(), seal.cert, {pki_.issuing()}, VerifyAt()};
    absl::StatusOr<std::string> signature = signer::SignDetached(body, request);
    if (!signature.ok()) Die("re-sealing: " + signature.status().ToString());
    return *std::move(signature);
  }

 private:
  testing::TestPki pki_;
  std::map<std::string, testing::TestLeaf> seals_;
};

// A static object, not a leaked pointer: its destructor removes the key
// files at exit.
const ResealCa& Ca() {
  static const ResealCa ca;
  return ca;
}

}  // namespace

absl::Time VerifyAt() {
  static const absl::Time at = [] {
    absl::StatusOr<std::string> text = signer::ReadFile(PkiFile("verify-at.txt"));
    if (!text.ok()) Die("no pki/verify-at.txt (run tests/fuzz/make_seeds.sh): " + text.status().ToString());
    std::string line = *text;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, line, &t, &error)) Die("pki/verify-at.txt: " + error);
    return t;
  }();
  return at;
}

std::string SeedRootPath() { return PkiFile("root.pem"); }
std::string SeedCrlPath() { return PkiFile("crl.pem"); }

const signer::TrustStore& Trust() {
  static const signer::TrustStore* const trust = [] {
    const testing::TestPki& pki = Ca().pki();
    absl::StatusOr<signer::TrustStore> store =
        signer::TrustStore::Load({SeedRootPath(), pki.root_path()}, {SeedCrlPath(), pki.crl_path()});
    if (!store.ok()) Die("trust store: " + store.status().ToString());
    return new signer::TrustStore(*std::move(store));
  }();
  return *trust;
}

std::string Reseal(std::string_view agency, std::string_view body) { return Ca().Seal(agency, body); }

const std::string& ScratchDir() {
  // Removed by its destructor at exit, also when libFuzzer stops at
  // -max_total_time (it calls exit()).
  static const testing::TempDir dir;
  return dir.path();
}

void Trace(std::string_view step, const absl::Status& status) {
  static const bool enabled = [] {
    const char* value = std::getenv("FUZZ_TRACE");
    return value != nullptr && *value != '\0' && std::string_view(value) != "0";
  }();
  if (enabled) std::cerr << "  " << step << ": " << status.ToString() << "\n";
}

// Plain write(2), not signer::WriteFile: that one syncs, which would cost
// more than the input's processing.
void WriteFileOrDie(const std::string& path, std::string_view data) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) Die(path + ": cannot open for writing");
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0) Die(path + ": cannot write");
    done += static_cast<size_t>(n);
  }
  close(fd);
}

}  // namespace congvan::fuzz
