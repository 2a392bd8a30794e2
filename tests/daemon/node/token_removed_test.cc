// A node whose seal is on a PKCS#11 token that is pulled out while the node
// runs, and put back (tests/SECURITY.md, "token removed while the node
// runs"). The token is a real SoftHSM2 token holding the agency's seal key,
// reached through the test module testing/pkcs11_shim, which plays the
// removal: while its control file exists, the token is gone and its
// sessions with it.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "testing/cluster.h"
#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::Replace;
using ::congvan::testing::RunResult;
using ::congvan::testing::WaitFor;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

constexpr char kHongGai[] = "000.01.01.H49";  // the node under test
constexpr char kHaLong[] = "000.00.01.H49";   // the recipient (not started: deliveries wait)

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class NodeTokenRemoved : public ::testing::Test {
 protected:
  void SetUp() override {
    // A SoftHSM2 token of its own, holding Hồng Gai's seal key.
    const std::string home = cluster_.File("seal-token");
    std::filesystem::create_directories(home + "/tokens");
    const std::string conf = home + "/softhsm2.conf";
    WriteTestFile(conf, "directories.tokendir = " + home + "/tokens\nobjectstore.backend = file\nlog.level = ERROR\n");
    const std::map<std::string, std::string> env = {{"SOFTHSM2_CONF", conf}};
    RunResult init = ::congvan::testing::Run({"softhsm2-util", "--init-token", "--free", "--label", "seal-honggai",
                                              "--so-pin", "so-pin-1470", "--pin", "pin-2581"},
                                             env);
    ASSERT_EQ(init.exit_code, 0) << init.err;
    RunResult imported = ::congvan::testing::Run(
        {"softhsm2-util", "--import", cluster_.dir() + "/agencies/" + kHongGai + "/seal.key", "--token",
         "seal-honggai", "--label", "seal", "--id", "01", "--pin", "pin-2581"},
        env);
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    WriteTestFile(home + "/seal.pin", "pin-2581\n");
    removed_ = home + "/removed";
    WriteTestFile(home + "/token.toml", std::string("module = \"") + PKCS11_SHIM_MODULE +
                                            "\"\ntoken = \"seal-honggai\"\nkey_label = \"seal\"\n"
                                            "pin_file = \"seal.pin\"\n[environment]\nSOFTHSM2_CONF = \"" +
                                            conf + "\"\nCONGVAN_PKCS11_SHIM_REMOVED = \"" + removed_ + "\"\n");
    const std::string config = cluster_.NodeConfig(kHongGai);
    WriteTestFile(config, Replace(ReadTestFile(config),
                                  "key = \"../../agencies/" + std::string(kHongGai) + "/seal.key\"",
                                  "token_config = \"" + home + "/token.toml\""));
    cluster_.Start(kHongGai);
  }

  // Sends a small document signed by Hồng Gai's leader; the CLI's result.
  RunResult Send(const std::string& name) {
    const std::string file = cluster_.File(name + ".pdf");
    WriteTestFile(file, "%PDF-1.7 " + name);
    const std::string leader = cluster_.Person("leader-honggai");
    EXPECT_EQ(cluster_.Congvan("", {"sign", "--cert", leader + "/sign.pem", "--token-config",
                                    leader + "/token.toml", "--in", file, "--out", file + ".p7s"})
                  .exit_code,
              0);
    return cluster_.Congvan("clerk-honggai", {"send", "--to", kHaLong, "--subject", "Về việc " + name, "--type",
                                              "Công văn", "--notation", "11/UBND", "--file", file, "--leader-sig",
                                              file + ".p7s", "--json"});
  }

  Cluster cluster_;
  std::string removed_;
};

TEST_F(NodeTokenRemoved, TheSealFailsClearlyTheNodeStaysUpAndSealsAgainOnceTheTokenIsBack) {
  RunResult first = Send("truoc");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(nlohmann::json::parse(first.out).value("number", 0u), 1u);

  WriteTestFile(removed_, "");  // pulled out
  RunResult refused = Send("khi-rut");
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  ASSERT_FALSE(refused.out.empty()) << refused.err;
  const nlohmann::json error = nlohmann::json::parse(refused.out);
  EXPECT_EQ(error.value("code", ""), "UNAVAILABLE") << refused.out;
  EXPECT_THAT(error.value("error", ""), HasSubstr("token 'seal-honggai', key 'seal'")) << refused.out;
  EXPECT_THAT(error.value("error", ""), HasSubstr("CKR_DEVICE_REMOVED")) << refused.out;
  EXPECT_THAT(error.value("error", ""), HasSubstr("it is used again once it is back")) << refused.out;
  // The audit loop cannot seal its tree heads either, and says so once,
  // not every second.
  ASSERT_TRUE(WaitFor([&] { return Count(cluster_.Log(kHongGai), "sealing a tree head with the node's seal") > 0; }))
      << cluster_.Log(kHongGai);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // three more rounds of the audit loop
  EXPECT_EQ(Count(cluster_.Log(kHongGai), "sealing a tree head with the node's seal"), 1u) << cluster_.Log(kHongGai);
  // The node serves what needs no seal.
  EXPECT_TRUE(cluster_.Running(kHongGai));
  RunResult track = cluster_.Congvan("clerk-honggai", {"track", nlohmann::json::parse(first.out)["message_id"],
                                                       "--json"});
  EXPECT_EQ(track.exit_code, 0) << track.err;

  std::filesystem::remove(removed_);  // put back
  RunResult again = Send("sau");
  ASSERT_EQ(again.exit_code, 0) << again.err << again.out;
  EXPECT_EQ(nlohmann::json::parse(again.out).value("number", 0u), 2u);  // the refused took no number
  ASSERT_TRUE(WaitFor([&] {
    return cluster_.Log(kHongGai).find("sealing a tree head with the node's seal: works again") != std::string::npos;
  })) << cluster_.Log(kHongGai);
  EXPECT_TRUE(cluster_.Running(kHongGai));
}

}  // namespace
}  // namespace congvan::node
