// Memory stays flat whatever the document size: a 512 MiB part streams in
// through an upload and back out through ReadPart while the process's peak
// RSS grows by less than 100 MB.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "store_fixture.h"

namespace congvan::store::testing {
namespace {

using congvan::testing::TempDir;

// A field of /proc/self/status in kB ("VmHWM", "VmRSS").
long StatusKb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// Forgets the peak so far (Linux clear_refs "5"): earlier tests in the same
// process must not count.
void ResetPeakRss() { std::ofstream("/proc/self/clear_refs") << "5"; }

// Pseudo-random bytes, cheap enough not to dominate the measurement.
void Fill(std::string& buf, uint64_t& state) {
  for (size_t i = 0; i + 8 <= buf.size(); i += 8) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    std::memcpy(buf.data() + i, &state, 8);
  }
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

TEST(StoreMemory, Streaming512MiBPartInAndOutKeepsPeakRssGrowthUnder100MB) {
  constexpr size_t kPart = size_t{512} << 20;
  constexpr size_t kPiece = size_t{256} << 10;  // a gRPC-sized message
  TempDir dir;
  auto store = OpenOrDie(OptionsIn(dir));
  ASSERT_NE(store, nullptr);
  ResetPeakRss();
  const long base_kb = StatusKb("VmRSS");

  auto start = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Upload> upload, store->BeginUpload());
  std::string piece(kPiece, '\0');
  uint64_t state = 88172645463325252ull;
  for (size_t at = 0; at < kPart; at += kPiece) {
    Fill(piece, state);
    ASSERT_OK(upload->Append(0, piece));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<PartDigest> digests, upload->Finish(1));
  ASSERT_EQ(digests[0].size, kPart);
  ASSERT_OK(store->Issue(IssueRequest{kSender, 2025, upload.get(), T(0)},
                         [&](uint64_t n) -> absl::StatusOr<IssuedDocument> {
                           IssuedDocument d;
                           d.document = Sealed(Header("m-big", kSender, 2025, n, {kCommuneA}, digests));
                           return d;
                         }));
  const double write_s = Seconds(start);

  start = std::chrono::steady_clock::now();
  uint64_t read = 0;
  uint64_t check = 88172645463325252ull;
  std::string expected(kPiece, '\0');
  size_t in_piece = kPiece;  // bytes of `expected` already compared
  bool same = true;
  // ReadPart checks the SHA-256 itself; comparing bytes proves order too.
  ASSERT_OK(store->ReadPart("m-big", 0, [&](std::string_view chunk) {
    while (!chunk.empty()) {
      if (in_piece == kPiece) {
        Fill(expected, check);
        in_piece = 0;
      }
      size_t n = std::min(chunk.size(), kPiece - in_piece);
      same = same && chunk.substr(0, n) == std::string_view(expected).substr(in_piece, n);
      in_piece += n;
      read += n;
      chunk.remove_prefix(n);
    }
    return absl::OkStatus();
  }));
  const double read_s = Seconds(start);
  EXPECT_EQ(read, kPart);
  EXPECT_TRUE(same);

  const long growth_mb = (StatusKb("VmHWM") - base_kb) / 1024;
  std::printf("512 MiB part: in %.2f s (%.0f MB/s, hashed, committed), out %.2f s (%.0f MB/s); peak RSS +%ld MB\n",
              write_s, kPart / 1e6 / write_s, read_s, kPart / 1e6 / read_s, growth_mb);
  RecordProperty("peak_rss_growth_mb", static_cast<int>(growth_mb));
  EXPECT_LT(growth_mb, 100);
}

}  // namespace
}  // namespace congvan::store::testing
