// Nodes killed with SIGKILL at bad moments, then restarted: every document
// arrives exactly once, numbers stay gapless, nothing acknowledged is lost.
// And memory stays flat while a large document streams through.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "congvan/signer/cms.h"
#include "testing/cluster.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::WaitFor;
using ::congvan::testing::RunResult;

constexpr char kHongGai[] = "000.01.01.H49";
constexpr char kHaLong[] = "000.00.01.H49";

// Writes `mib` MiB of varied bytes without holding them in memory.
void WriteLargeFile(const std::string& path, int mib) {
  std::ofstream out(path, std::ios::binary);
  std::string block(1 << 20, '\0');
  for (int m = 0; m < mib; ++m) {
    for (size_t i = 0; i < block.size(); i += 8) {
      uint64_t v = (static_cast<uint64_t>(m) << 32 | i) * 0x9E3779B97F4A7C15ull;
      std::memcpy(&block[i], &v, 8);
    }
    out.write(block.data(), static_cast<std::streamsize>(block.size()));
  }
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); it != std::filesystem::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string leader = cluster_.Person("leader-honggai");
    sign_key_ = {"--cert", leader + "/sign.pem", "--token-config", leader + "/token.toml"};
  }

  std::string SignedSend(const std::string& file, const std::string& subject) {
    std::vector<std::string> sign = {"sign", "--in", file, "--out", file + ".p7s"};
    sign.insert(sign.end(), sign_key_.begin(), sign_key_.end());
    RunResult signed_ = cluster_.Congvan("", sign);
    EXPECT_EQ(signed_.exit_code, 0) << signed_.err;
    RunResult sent = cluster_.Congvan("clerk-honggai", {"send", "--to", kHaLong, "--subject", subject, "--type",
                                                        "Công văn", "--notation", "1/UBND", "--file", file,
                                                        "--leader-sig", file + ".p7s", "--json"});
    EXPECT_EQ(sent.exit_code, 0) << sent.err;
    return sent.exit_code == 0 ? nlohmann::json::parse(sent.out)["message_id"].get<std::string>() : "";
  }

  bool Delivered(const std::string& id) {
    RunResult track = cluster_.Congvan("clerk-honggai", {"track", id, "--json"});
    if (track.exit_code != 0) return false;
    auto doc = nlohmann::json::parse(track.out);
    return doc["recipients"][0]["state"] == "delivered";
  }

  nlohmann::json Inbox() {
    RunResult inbox = cluster_.Congvan("clerk-halong", {"inbox", "--json"});
    EXPECT_EQ(inbox.exit_code, 0) << inbox.err;
    return inbox.exit_code == 0 ? nlohmann::json::parse(inbox.out) : nlohmann::json::array();
  }

  Cluster cluster_;
  std::vector<std::string> sign_key_;
};

TEST_F(CrashTest, SenderKilledWithDeliveriesQueuedDeliversEachExactlyOnceAfterRestart) {
  cluster_.Start(kHongGai);  // the receiver is down: deliveries queue
  std::set<std::string> acknowledged;
  for (int i = 0; i < 5; ++i) {
    const std::string file = cluster_.File("doc" + std::to_string(i) + ".pdf");
    std::ofstream(file) << "%PDF-1.7 văn bản số " << i;
    acknowledged.insert(SignedSend(file, "Văn bản " + std::to_string(i)));
  }
  cluster_.Kill(kHongGai);
  cluster_.Start(kHaLong);
  cluster_.Start(kHongGai);
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const std::string& id : acknowledged) {
          if (!Delivered(id)) return false;
        }
        return true;
      },
      60))
      << cluster_.Log(kHongGai);
  nlohmann::json inbox = Inbox();
  ASSERT_EQ(inbox.size(), acknowledged.size());
  std::set<std::string> ids;
  std::set<uint64_t> numbers;
  for (const auto& entry : inbox) {
    ids.insert(entry["message_id"].get<std::string>());
    numbers.insert(entry["number"].get<uint64_t>());
  }
  EXPECT_EQ(ids, acknowledged);
  EXPECT_EQ(numbers, (std::set<uint64_t>{1, 2, 3, 4, 5}));  // gapless, each once
  // The register goes on from where it was.
  const std::string next = cluster_.File("next.pdf");
  std::ofstream(next) << "%PDF-1.7 tiếp theo";
  RunResult sign = cluster_.Congvan("", {"sign", "--in", next, "--out", next + ".p7s", sign_key_[0], sign_key_[1],
                                         sign_key_[2], sign_key_[3]});
  ASSERT_EQ(sign.exit_code, 0);
  RunResult sent = cluster_.Congvan("clerk-honggai", {"send", "--to", kHaLong, "--subject", "Tiếp", "--type", "Công văn",
                                                      "--notation", "2/UBND", "--file", next, "--leader-sig",
                                                      next + ".p7s", "--json"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_EQ(nlohmann::json::parse(sent.out)["number"], 6);
}

TEST_F(CrashTest, ReceiverKilledWhileA200MbDocumentStreamsGetsItOnceAfterRestart) {
  cluster_.Start(kHongGai);
  cluster_.Start(kHaLong);
  const std::string big = cluster_.File("ban-do.pdf");
  WriteLargeFile(big, 200);
  const std::string receiver_data = cluster_.dir() + "/nodes/" + kHaLong + "/data";
  const uint64_t before = DirBytes(receiver_data);

  std::string id;
  std::thread sender([&] { id = SignedSend(big, "Bản đồ quy hoạch"); });
  // Kill the receiver once part of the document has reached its disk.
  const bool streaming = WaitFor([&] { return DirBytes(receiver_data) > before + (30u << 20); }, 120);
  cluster_.Kill(kHaLong);
  sender.join();
  ASSERT_TRUE(streaming) << "the delivery never started streaming";
  ASSERT_FALSE(id.empty());
  EXPECT_FALSE(Delivered(id));

  cluster_.Start(kHaLong);
  ASSERT_TRUE(WaitFor([&] { return Delivered(id); }, 180)) << cluster_.Log(kHongGai);
  nlohmann::json inbox = Inbox();
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(inbox[0]["message_id"], id);
  RunResult fetch = cluster_.Congvan("clerk-halong", {"fetch", id, "--out", cluster_.File("fetched")});
  ASSERT_EQ(fetch.exit_code, 0) << fetch.err;
  EXPECT_EQ(*signer::Sha256File(cluster_.File("fetched/ban-do.pdf")), *signer::Sha256File(big));
}

}  // namespace
}  // namespace congvan::node

namespace congvan::node {
namespace {

// The bound: each process stays under about 100 MB resident while a
// 1 GB document streams through (parts go to storage in chunks as they are
// hashed; nothing holds a whole part).
TEST_F(CrashTest, MemoryStaysFlatWhileA1GbDocumentStreamsThrough) {
  cluster_.Start(kHongGai);
  cluster_.Start(kHaLong);
  const std::string big = cluster_.File("so-hoa.pdf");
  WriteLargeFile(big, 1024);
  const std::string id = SignedSend(big, "Hồ sơ số hoá");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFor([&] { return Delivered(id); }, 300)) << cluster_.Log(kHongGai);
  const double sender_peak = cluster_.PeakRssMiB(kHongGai);
  const double receiver_peak = cluster_.PeakRssMiB(kHaLong);
  std::cout << "[ figures  ] peak RSS while 1 GiB streamed: sender " << sender_peak << " MiB, receiver "
            << receiver_peak << " MiB\n";
  EXPECT_LT(sender_peak, 100.0);
  EXPECT_LT(receiver_peak, 100.0);
}

}  // namespace
}  // namespace congvan::node
