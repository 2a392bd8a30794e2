// The lines of congvand's log: text with the UTC time to the millisecond,
// the level and the agency; JSON with the leading key=value fields as
// members of their own; and neither lets a message forge a second line.
#include "congvan/node/logging.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::congvan::testing::StatusIs;

constexpr char kAgency[] = "000.01.01.H49";
constexpr char kId[] = "0193a5b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b";
// 2026-12-01T08:00:00.123 UTC, 15:00:00.123 in Hà Nội.
const absl::Time kAt = absl::FromUnixMillis(1796112000123);

TEST(LogLine, TextHasTheUtcTimeToTheMillisecondTheLevelAndTheAgency) {
  EXPECT_EQ(FormatLogLine(LogFormat::kText, kAt, "warn", kAgency,
                          std::string("message=") + kId + " peer=000.00.01.H49 attempt=2 document delivery failed"),
            std::string("2026-12-01T08:00:00.123Z warn 000.01.01.H49 message=") + kId +
                " peer=000.00.01.H49 attempt=2 document delivery failed");
  EXPECT_EQ(FormatLogLine(LogFormat::kText, absl::FromUnixSeconds(1796112000), "info", kAgency, "x"),
            "2026-12-01T08:00:00.000Z info 000.01.01.H49 x");
}

TEST(LogLine, JsonMakesTheLeadingFieldsMembersAndTheRestTheMessage) {
  const std::string line = FormatLogLine(
      LogFormat::kJson, kAt, "warn", kAgency,
      std::string("message=") + kId + " peer=000.00.01.H49 attempt=2 delivery failed: node x=1 said \"no\"");
  const nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["time"], "2026-12-01T08:00:00.123Z");
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["agency"], kAgency);
  EXPECT_EQ(j["message_id"], kId);
  EXPECT_EQ(j["peer"], "000.00.01.H49");
  EXPECT_EQ(j["attempt"], "2");
  // Fields lead: a key=value after the first word of text stays text.
  EXPECT_EQ(j["msg"], "delivery failed: node x=1 said \"no\"");
  EXPECT_EQ(j.size(), 7u);
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(LogLine, AnEventWithoutFieldsIsAllMessage) {
  const nlohmann::json j =
      nlohmann::json::parse(FormatLogLine(LogFormat::kJson, kAt, "info", kAgency, "trust anchors and CRLs reloaded"));
  EXPECT_EQ(j["msg"], "trust anchors and CRLs reloaded");
  EXPECT_FALSE(j.contains("message_id"));
  // A field named like a member of the line stays in the text.
  const nlohmann::json clash =
      nlohmann::json::parse(FormatLogLine(LogFormat::kJson, kAt, "info", kAgency, "level=debug x"));
  EXPECT_EQ(clash["level"], "info");
  EXPECT_EQ(clash["msg"], "level=debug x");
}

TEST(LogLine, AMessageCannotForgeASecondLine) {
  const std::string text = "message=m1 peer=p node answered: oops\n2026-12-01T08:00:00.000Z error 000.00.00.A00 forged";
  const std::string plain = FormatLogLine(LogFormat::kText, kAt, "info", kAgency, text);
  EXPECT_EQ(plain.find('\n'), std::string::npos);
  EXPECT_THAT(plain, ::testing::HasSubstr("oops 2026-12-01T08:00:00.000Z error"));
  const std::string json = FormatLogLine(LogFormat::kJson, kAt, "info", kAgency, text + "\x01\t\"\\");
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(json)["msg"],
            "node answered: oops\n2026-12-01T08:00:00.000Z error 000.00.00.A00 "
            "forged\x01\t\"\\");
}

TEST(LogLine, TheFormatIsTextOrJson) {
  EXPECT_THAT(ParseLogFormat("text"), ::congvan::testing::IsOkAndHolds(LogFormat::kText));
  EXPECT_THAT(ParseLogFormat("json"), ::congvan::testing::IsOkAndHolds(LogFormat::kJson));
  EXPECT_THAT(ParseLogFormat("logfmt"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace congvan::node
