// The life of a document after it is sent, with real congvand processes:
// the sender recalls it (13) and each recipient accepts (15) or refuses (16);
// the sender replaces or updates it with a new document that references it,
// and the recipient's inbox shows where each document stands.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/cluster.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::RunResult;
using ::congvan::testing::WaitFor;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

constexpr char kHongGai[] = "000.01.01.H49";
constexpr char kHaLong[] = "000.00.01.H49";
constexpr char kBaiChay[] = "000.02.01.H49";

nlohmann::json Json(const RunResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

class Lifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* agency : {kHongGai, kHaLong, kBaiChay}) cluster_.Start(agency);
    const std::string leader = cluster_.Person("leader-honggai");
    WriteTestFile(cluster_.File("main.pdf"), "%PDF-1.7 Kế hoạch tổ chức lễ hội");
    ASSERT_EQ(cluster_.Congvan("", {"sign", "--cert", leader + "/sign.pem", "--token-config", leader + "/token.toml",
                                    "--in", cluster_.File("main.pdf"), "--out", cluster_.File("main.pdf.p7s")})
                  .exit_code,
              0);
  }

  // Sends the signed main part from Hồng Gai; waits for every 01 receipt.
  std::string Send(const std::vector<std::string>& to, const std::string& subject,
                   std::vector<std::string> extra = {}) {
    std::string recipients;
    for (const std::string& r : to) recipients += (recipients.empty() ? "" : ",") + r;
    std::vector<std::string> args = {"send", "--to", recipients, "--subject", subject, "--type", "Kế hoạch",
                                     "--notation", "7/KH-UBND", "--file", cluster_.File("main.pdf"),
                                     "--leader-sig", cluster_.File("main.pdf.p7s"), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const std::string id = Json(cluster_.Congvan("clerk-honggai", args)).value("message_id", "");
    EXPECT_TRUE(WaitFor([&] { return Codes(id).size() == to.size(); })) << Track(id).dump();
    return id;
  }

  nlohmann::json Track(const std::string& id) { return Json(cluster_.Congvan("clerk-honggai", {"track", id, "--json"})); }

  // agency -> codes answered, at the sender.
  std::map<std::string, std::vector<std::string>> Codes(const std::string& id) {
    std::map<std::string, std::vector<std::string>> codes;
    const nlohmann::json track = Track(id);
    for (const auto& r : track["recipients"]) {
      for (const auto& a : r["answers"]) codes[r["agency"]].push_back(a["code"]);
    }
    return codes;
  }

  bool Answered(const std::string& id, const std::string& agency, const std::string& code) {
    auto codes = Codes(id)[agency];
    return std::find(codes.begin(), codes.end(), code) != codes.end();
  }

  // The inbox entry of `id` at `clerk`.
  nlohmann::json Entry(const std::string& clerk, const std::string& id) {
    const nlohmann::json inbox = Json(cluster_.Congvan(clerk, {"inbox", "--json"}));
    for (const auto& e : inbox) {
      if (e["message_id"] == id) return e;
    }
    ADD_FAILURE() << id << " is not in the inbox of " << clerk;
    return nlohmann::json::object();
  }

  Cluster cluster_;
};

TEST_F(Lifecycle, ARecallIsAcceptedByOneRecipientAndRefusedByAnother) {
  const std::string id = Send({kBaiChay, kHaLong}, "ke-hoach-le-hoi");

  nlohmann::json recall =
      Json(cluster_.Congvan("clerk-honggai", {"recall", id, "--reason", "Sai ngày tổ chức", "--json"}));
  EXPECT_EQ(recall["code"], "13");
  EXPECT_EQ(recall["agency"], kHongGai);
  // Through the relay (Hạ Long) to Bãi Cháy, and to Hạ Long itself.
  ASSERT_TRUE(WaitFor([&] { return Entry("clerk-baichay", id)["state"] == "recall requested"; }));
  EXPECT_EQ(Entry("clerk-baichay", id)["recall_reason"], "Sai ngày tổ chức");
  ASSERT_TRUE(WaitFor([&] { return Entry("clerk-halong", id)["state"] == "recall requested"; }));
  EXPECT_THAT(cluster_.Congvan("clerk-baichay", {"inbox"}).out, HasSubstr("recall requested: Sai ngày tổ chức"));

  ASSERT_EQ(cluster_.Congvan("clerk-baichay", {"set-status", id, "--code", "15"}).exit_code, 0);
  ASSERT_EQ(cluster_.Congvan("clerk-halong", {"set-status", id, "--code", "16", "--reason", "Đã triển khai"})
                .exit_code,
            0);
  EXPECT_EQ(Entry("clerk-baichay", id)["state"], "recalled");
  EXPECT_EQ(Entry("clerk-halong", id)["state"], "active");

  // Both answers come back to the sender, beside its own request.
  ASSERT_TRUE(WaitFor([&] { return Answered(id, kBaiChay, "15") && Answered(id, kHaLong, "16"); }))
      << Track(id).dump();
  nlohmann::json track = Track(id);
  ASSERT_EQ(track["requests"].size(), 1u);
  EXPECT_EQ(track["requests"][0]["code"], "13");
  EXPECT_EQ(track["requests"][0]["reason"], "Sai ngày tổ chức");

  // A recalled document takes no further status; 15 needs a pending request.
  RunResult late = cluster_.Congvan("clerk-baichay", {"set-status", id, "--code", "03"});
  EXPECT_EQ(late.exit_code, 1);
  EXPECT_THAT(late.err, HasSubstr("recalled"));
  RunResult again = cluster_.Congvan("clerk-halong", {"set-status", id, "--code", "15"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("none waiting"));
  // Only the sender recalls, and only what it sent.
  RunResult foreign = cluster_.Congvan("clerk-baichay", {"recall", id, "--reason", "x"});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_THAT(foreign.err, HasSubstr("no document"));
}

TEST_F(Lifecycle, AReplacementAcceptedAndAnUpdateRefusedShowInTheInbox) {
  const std::string first = Send({kBaiChay}, "ke-hoach");
  const std::string second = Send({kBaiChay}, "ke-hoach-thay-the", {"--replaces", first});

  // The replacement names the earlier document; it waits for the clerk.
  nlohmann::json waiting = Entry("clerk-baichay", first);
  EXPECT_EQ(waiting["state"], "active");
  EXPECT_EQ(waiting["superseded_by"], second);
  nlohmann::json replacement = Entry("clerk-baichay", second);
  EXPECT_EQ(replacement["action"], "replace");
  EXPECT_EQ(replacement["reference_message_id"], first);
  nlohmann::json fetched =
      Json(cluster_.Congvan("clerk-baichay", {"fetch", second, "--out", cluster_.File("second"), "--json"}));
  EXPECT_EQ(fetched["action"], "replace");
  EXPECT_EQ(fetched["reference_message_id"], first);

  ASSERT_EQ(cluster_.Congvan("clerk-baichay", {"set-status", second, "--code", "15"}).exit_code, 0);
  EXPECT_EQ(Entry("clerk-baichay", first)["state"], "replaced");
  EXPECT_EQ(Entry("clerk-baichay", first)["superseded_by"], second);
  EXPECT_THAT(cluster_.Congvan("clerk-baichay", {"inbox"}).out, HasSubstr("replaced by " + second));
  ASSERT_TRUE(WaitFor([&] { return Answered(second, kBaiChay, "15"); })) << Track(second).dump();

  // An update of the replacement, refused: the replacement stays in force.
  const std::string third = Send({kBaiChay}, "ke-hoach-cap-nhat", {"--updates", second});
  EXPECT_EQ(Entry("clerk-baichay", second)["superseded_by"], third);
  ASSERT_EQ(cluster_.Congvan("clerk-baichay", {"set-status", third, "--code", "16", "--reason", "Không phù hợp"})
                .exit_code,
            0);
  EXPECT_EQ(Entry("clerk-baichay", second)["state"], "active");
  EXPECT_EQ(Entry("clerk-baichay", second)["superseded_by"], "");
  ASSERT_TRUE(WaitFor([&] { return Answered(third, kBaiChay, "16"); }));

  // Only a document this agency sent can be replaced.
  RunResult foreign = cluster_.Congvan(
      "clerk-honggai", {"send", "--to", kBaiChay, "--subject", "x", "--type", "Kế hoạch", "--notation", "1/KH",
                        "--file", cluster_.File("main.pdf"), "--leader-sig", cluster_.File("main.pdf.p7s"),
                        "--replaces", "01890000-0000-7000-8000-000000000000"});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_THAT(foreign.err, HasSubstr("no document"));
  RunResult both = cluster_.Congvan("clerk-honggai", {"send", "--to", kBaiChay, "--subject", "x", "--type", "K",
                                                      "--notation", "1", "--file", cluster_.File("main.pdf"),
                                                      "--leader-sig", cluster_.File("main.pdf.p7s"), "--replaces",
                                                      first, "--updates", first});
  EXPECT_EQ(both.exit_code, 2);
}

}  // namespace
}  // namespace congvan::node
