// Fuzzes what an auditor is handed: the bytes are one evidence container
// (an ASiC-E ZIP), read with audit::ContainerReader (its structural checks
// at Open, then every entry read to the end and its manifest checked) and
// verified as `congvan verify` does (audit::VerifyEvidence), against the seed
// corpus's trust anchor and CRLs at the time the seeds were made.
//
// Both take a path, so the input is written to one file per process.
//
// In the libFuzzer build a custom mutator also mutates the container's
// entries rather than its bytes: a byte flipped inside a deflated entry
// only ever fails its CRC, so the verifier would never parse a changed
// header, event, proof or answer. Half of the mutations take one entry,
// mutate its content with libFuzzer's own mutator and write the container
// anew with audit::ContainerWriter; the other half mutate the ZIP's bytes
// as usual (its headers and directory are what ContainerReader checks).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

#include "congvan/audit/container.h"
#include "congvan/audit/evidence.h"
#include "congvan/signer/certificate.h"
#include "fuzz/fuzz_support.h"

namespace congvan::fuzz {
namespace {

const std::string& InputPath() {
  static const std::string path = ScratchDir() + "/evidence.zip";
  return path;
}

// Reads every entry as the verifier's streaming reads do: what reaches the
// sink never exceeds what the entry declares, and an entry that reads
// without error is exactly its declared size.
void ReadEverything(const std::string& path) {
  absl::StatusOr<std::unique_ptr<audit::ContainerReader>> reader = audit::ContainerReader::Open(path);
  if (!reader.ok()) return;
  for (const std::string& name : (*reader)->names()) {
    FUZZ_CHECK((*reader)->Has(name));
    FUZZ_CHECK(audit::CheckEntryName(name).ok());
    absl::StatusOr<uint64_t> declared = (*reader)->SizeOf(name);
    FUZZ_CHECK(declared.ok());
    uint64_t seen = 0;
    absl::Status read = (*reader)->ReadTo(name, [&](std::string_view chunk) {
      seen += chunk.size();
      FUZZ_CHECK(seen <= *declared);
      return absl::OkStatus();
    });
    if (read.ok()) FUZZ_CHECK(seen == *declared);
  }
  (void)audit::CheckManifest(**reader);
}

}  // namespace
}  // namespace congvan::fuzz

#ifdef CONGVAN_LIBFUZZER
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace congvan::fuzz {
namespace {

// The container with one entry's content mutated, or nullopt when it is
// not a container the reader opens (or the result would be too large).
std::optional<std::string> MutateEntry(std::string_view zip, size_t max_size, std::minstd_rand& random) {
  const std::string in = ScratchDir() + "/mutate-in.zip";
  const std::string out = ScratchDir() + "/mutate-out.zip";
  WriteFileOrDie(in, zip);
  absl::StatusOr<std::unique_ptr<audit::ContainerReader>> reader = audit::ContainerReader::Open(in);
  if (!reader.ok() || (*reader)->names().empty()) return std::nullopt;
  const std::vector<std::string>& names = (*reader)->names();
  const std::string& chosen = names[random() % names.size()];
  absl::StatusOr<std::unique_ptr<audit::ContainerWriter>> writer = audit::ContainerWriter::Create(out);
  if (!writer.ok()) return std::nullopt;
  for (const std::string& name : names) {
    absl::StatusOr<std::string> bytes = (*reader)->Read(name, max_size);
    if (!bytes.ok()) return std::nullopt;
    if (name == chosen) {
      const size_t size = bytes->size();
      bytes->resize(std::max<size_t>(2 * size, 64));
      bytes->resize(LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(bytes->data()), size, bytes->size()));
    }
    if (!(*writer)->AddBytes(name, *std::move(bytes)).ok()) return std::nullopt;
  }
  if (!(*writer)->Close().ok()) return std::nullopt;
  absl::StatusOr<std::string> mutated = signer::ReadFile(out);
  if (!mutated.ok() || mutated->size() > max_size) return std::nullopt;
  return *std::move(mutated);
}

}  // namespace
}  // namespace congvan::fuzz

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  std::minstd_rand random(seed);
  if (random() % 2 == 0) {
    std::optional<std::string> mutated = congvan::fuzz::MutateEntry(
        std::string_view(reinterpret_cast<const char*>(data), size), max_size, random);
    if (mutated.has_value()) {
      std::copy(mutated->begin(), mutated->end(), data);
      return mutated->size();
    }
  }
  return LLVMFuzzerMutate(data, size, max_size);
}
#endif  // CONGVAN_LIBFUZZER

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace congvan;
  const std::string& path = fuzz::InputPath();
  fuzz::WriteFileOrDie(path, std::string_view(reinterpret_cast<const char*>(data), size));
  fuzz::ReadEverything(path);

  audit::VerifyEvidenceOptions options;
  options.trust_files = {fuzz::SeedRootPath()};
  options.crl_files = {fuzz::SeedCrlPath()};
  options.at = fuzz::VerifyAt();
  absl::StatusOr<audit::EvidenceReport> report = audit::VerifyEvidence(path, options);
  // Everything wrong with a container is a failed check, never an error:
  // errors are for the caller's own trust and CRL files.
  FUZZ_CHECK(report.ok());
  for (const audit::EvidenceCheck& check : report->checks) {
    if (!check.ok) fuzz::Trace(check.what, absl::InvalidArgumentError(check.file + ": " + check.detail));
  }
  fuzz::Trace("evidence", report->ok() ? absl::OkStatus() : absl::InvalidArgumentError("a check failed"));
  if (report->ok()) FUZZ_CHECK(!report->checks.empty() && !report->message_id.empty());
  return 0;
}
