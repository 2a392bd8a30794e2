// What the fuzz targets share (tests/fuzz/README.md): the trust store and
// the time that every signature is checked against, an in-memory CA whose
// seals let a target re-seal a mutated body (so that the fuzzer gets past a
// seal to the checks behind it), and a scratch directory for the code under
// test that reads files.
//
// Everything is built once per process, on first use, and kept until exit:
// nothing here allocates per input.
#ifndef CONGVAN_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define CONGVAN_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "congvan/signer/trust.h"

namespace congvan::fuzz {

// The agencies of the seed corpus (deploy/topologies/sample.toml), in the
// order a document from phường Hồng Gai to the national axis travels:
// Hồng Gai → Hạ Long → Quảng Ninh → the axis, which is also the
// time-stamping authority.
inline constexpr char kHongGai[] = "000.01.01.H49";
inline constexpr char kHaLong[] = "000.00.01.H49";
inline constexpr char kQuangNinh[] = "000.00.00.H49";
inline constexpr char kAxis[] = "000.00.00.A00";

// The time every signature is checked at: when the seed corpus was made
// (pki/verify-at.txt, RFC 3339), so that its signatures verify on any date
// and a run does not depend on the clock.
absl::Time VerifyAt();

// The seed corpus's dev PKI, as make_seeds.sh left it: its root (pki/root.pem)
// and the CRLs of its root and issuing CA (pki/crl.pem). Public files only.
std::string SeedRootPath();
std::string SeedCrlPath();

// Trust anchors and CRLs: the seed corpus's PKI and the in-memory CA.
const signer::TrustStore& Trust();

// A detached CMS seal over `body`, signed at VerifyAt() by the in-memory
// seal certificate of `agency` when it is one of the four above, else of
// Hồng Gai. Such a seal verifies against Trust().
std::string Reseal(std::string_view agency, std::string_view body);

// A directory of this process's own, removed at exit.
const std::string& ScratchDir();

// With FUZZ_TRACE=1 in the environment, prints how far an input got ("seal:
// OK", "trace: INVALID_ARGUMENT: ..."), to see what a seed or a crash
// input reaches; otherwise nothing.
void Trace(std::string_view step, const absl::Status& status);

// Replaces the file at `path` with `data` (mode 0600); aborts on failure.
void WriteFileOrDie(const std::string& path, std::string_view data);

}  // namespace congvan::fuzz

// An invariant of the code under test, checked on what it accepted: a
// failure aborts, which libFuzzer reports as a crash with the input.
#define FUZZ_CHECK(condition)                                                          \
  do {                                                                                 \
    if (!(condition)) {                                                                \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (false)

#endif  // CONGVAN_TESTS_FUZZ_FUZZ_SUPPORT_H_
