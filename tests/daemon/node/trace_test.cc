// The signed path of a document: relays' sealed statements chained to each
// other, checked by the next node before it stores anything.
#include "congvan/node/trace.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "congvan/signer/verify_error.h"
#include "testing/status_matchers.h"
#include "testing/test_pki.h"

namespace congvan::node {
namespace {

using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;
using ::congvan::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kCommune[] = "000.01.01.H49";
constexpr char kDistrict[] = "000.00.01.H49";
constexpr char kProvince[] = "000.00.00.H49";
constexpr char kRoot[] = "000.00.00.A00";
constexpr char kOther[] = "000.00.00.H29";

class TraceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* agency : {kDistrict, kProvince, kRoot, kOther}) {
      auto leaf = std::make_unique<TestLeaf>(pki_.Issue(
          {.profile = signer::CertificateProfile::kSeal, .agency_id = agency, .person_login = ""},
          std::string("seal-") + agency));
      seals_.emplace(agency, SealCredentials{leaf->key.get(), leaf->cert, {pki_.issuing()}});
      leaves_.push_back(std::move(leaf));
    }
    trust_ = std::make_unique<signer::TrustStore>(pki_.Trust(true));
    header_.set_message_id("01890000-0000-7000-8000-000000000001");
    header_.set_from_agency(kCommune);
    header_.mutable_registration()->set_issued_at("2026-11-22T08:00:00Z");
    header_bytes_ = header_.SerializeAsString();
    trace_.Add(SenderTraceEntry(header_));
  }

  // `agency` received the document from the last node of the trace and relays it.
  void Relay(const std::string& agency) {
    const std::string from = trace_[trace_.size() - 1].agency();
    auto entry = MakeTraceEntry(trace_, header_, header_bytes_, agency, from, true, seals_.at(agency), pki_.now());
    ASSERT_OK(entry);
    trace_.Add(*std::move(entry));
  }

  absl::Status Verify(const Trace& trace, const std::string& delivered_by, const std::string& own = kOther) {
    return VerifyTrace(trace, header_, header_bytes_, delivered_by, own, *trust_, pki_.now());
  }

  TestPki pki_;
  std::vector<std::unique_ptr<TestLeaf>> leaves_;
  std::map<std::string, SealCredentials> seals_;
  std::unique_ptr<signer::TrustStore> trust_;
  v1::DocumentHeader header_;
  std::string header_bytes_;
  Trace trace_;
};

TEST_F(TraceTest, EachRelaySignsAStatementChainedToTheOneBefore) {
  Relay(kDistrict);
  Relay(kProvince);
  Relay(kRoot);
  ASSERT_EQ(trace_.size(), 4);
  EXPECT_FALSE(trace_[0].has_signed_());
  for (int i = 1; i < trace_.size(); ++i) {
    ASSERT_TRUE(trace_[i].has_signed_());
    v1::TraceHop hop;
    ASSERT_TRUE(hop.ParseFromString(trace_[i].signed_().body()));
    EXPECT_EQ(hop.agency(), trace_[i].agency());
    EXPECT_EQ(hop.from_agency(), trace_[i - 1].agency());
    EXPECT_EQ(hop.message_id(), header_.message_id());
    EXPECT_EQ(hop.header_sha256(), signer::Sha256(header_bytes_));
    EXPECT_EQ(hop.previous_sha256(), i == 1 ? "" : signer::Sha256(trace_[i - 1].signed_().body()));
  }
  EXPECT_OK(Verify(trace_, kRoot));
}

TEST_F(TraceTest, AFinalRecipientAddsAPlainEntry) {
  Relay(kDistrict);
  auto own = MakeTraceEntry(trace_, header_, header_bytes_, kProvince, kDistrict, false, seals_.at(kProvince),
                            pki_.now());
  ASSERT_OK(own);
  EXPECT_EQ(own->agency(), kProvince);
  EXPECT_FALSE(own->has_signed_());
}

TEST_F(TraceTest, TheSenderEntryMustBeTheHeadersOwn) {
  EXPECT_OK(Verify(trace_, kCommune));
  Trace wrong = trace_;
  wrong[0].set_time("2026-11-22T09:00:00Z");
  EXPECT_THAT(Verify(wrong, kCommune), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sender")));
  Trace empty;
  EXPECT_THAT(Verify(empty, kCommune), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no trace")));
}

TEST_F(TraceTest, TheLastEntryMustBeTheNodeThatDelivered) {
  Relay(kDistrict);
  EXPECT_THAT(Verify(trace_, kProvince),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("delivered by " + std::string(kProvince))));
}

TEST_F(TraceTest, ADroppedOrReorderedHopBreaksTheChain) {
  Relay(kDistrict);
  Relay(kProvince);
  Relay(kRoot);
  Trace dropped;
  for (int i : {0, 1, 3}) dropped.Add()->CopyFrom(trace_[i]);
  EXPECT_THAT(Verify(dropped, kRoot), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not follow")));
  Trace swapped = trace_;
  swapped.SwapElements(1, 2);
  EXPECT_THAT(Verify(swapped, kRoot), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not follow")));
}

TEST_F(TraceTest, AStatementIsBoundToItsDocumentAndItsSigner) {
  Relay(kDistrict);
  // The same statement replayed for another document.
  v1::DocumentHeader other = header_;
  other.set_message_id("01890000-0000-7000-8000-000000000002");
  Trace replayed = trace_;
  replayed[0] = SenderTraceEntry(other);
  EXPECT_THAT(VerifyTrace(replayed, other, other.SerializeAsString(), kDistrict, kOther, *trust_, pki_.now()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("another document")));
  // An entry naming the district, sealed by the province.
  Trace forged = trace_;
  forged[1].set_agency(kProvince);
  EXPECT_THAT(Verify(forged, kProvince), StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("sealed by")));
  // A statement whose bytes were changed.
  Trace tampered = trace_;
  tampered[1].mutable_signed_()->mutable_body()->back() ^= 1;
  EXPECT_FALSE(Verify(tampered, kDistrict).ok());
  // An entry without its statement.
  Trace unsigned_hop = trace_;
  unsigned_hop[1].clear_signed_();
  EXPECT_THAT(Verify(unsigned_hop, kDistrict),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no signed relay statement")));
}

TEST_F(TraceTest, ANodeAlreadyOnThePathIsALoop) {
  Relay(kDistrict);
  Relay(kProvince);
  EXPECT_THAT(Verify(trace_, kProvince, kDistrict), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("loop")));
  Trace long_trace = trace_;
  while (long_trace.size() < kMaxTraceEntries) long_trace.Add()->CopyFrom(trace_[1]);
  EXPECT_THAT(Verify(long_trace, kDistrict), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("loop")));
}

}  // namespace
}  // namespace congvan::node
