// Issuing and receiving documents: header checks, leader signatures, seals,
// envelopes and receipts, with certificates from a real (test) CA.
#include "congvan/node/documents.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/random/random.h"
#include "congvan/signer/verify_error.h"
#include "testing/status_matchers.h"
#include "testing/test_pki.h"

namespace congvan::node {
namespace {

using ::congvan::testing::IsOk;
using ::congvan::testing::StatusIs;
using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;
using ::testing::HasSubstr;

constexpr char kProvince[] = "000.00.00.H49";
constexpr char kDistrict[] = "000.00.01.H49";
const std::string kMain = "%PDF-1.7 Quyết định số 12/QĐ-UBND";

class DocumentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    leader_ = std::make_unique<TestLeaf>(pki_.Issue({.agency_id = kProvince, .person_login = "leader-h49"}, "leader"));
    seal_leaf_ = std::make_unique<TestLeaf>(
        pki_.Issue({.profile = signer::CertificateProfile::kSeal, .agency_id = kProvince, .person_login = ""}, "seal"));
    seal_ = std::make_unique<SealCredentials>(SealCredentials{seal_leaf_->key.get(), seal_leaf_->cert, {pki_.issuing()}});
    trust_ = std::make_unique<signer::TrustStore>(pki_.Trust(true));
  }

  std::string LeaderSignature(const TestLeaf& leader, const std::string& content) {
    signer::SignRequest request{leader.key.get(), leader.cert, {pki_.issuing()}, pki_.now()};
    auto signature = signer::SignDetached(content, request);
    EXPECT_OK(signature);
    return signature.value_or("");
  }

  v1::SendHeader Request() {
    v1::SendHeader h;
    h.add_recipients(kDistrict);
    h.set_subject("Về việc triển khai chuyển đổi số");
    h.set_document_type("Công văn");
    h.set_notation("12/UBND-VP");
    v1::PartSpec* main = h.add_parts();
    main->set_name("quyet-dinh.pdf");
    main->set_media_type("application/pdf");
    main->set_size(kMain.size());
    main->set_sha256(signer::Sha256(kMain));
    main->set_main(true);
    h.add_leader_signatures(LeaderSignature(*leader_, kMain));
    return h;
  }

  // An envelope as the province's node would send it.
  v1::Envelope IssuedEnvelope(const v1::SendHeader& request, const SealCredentials& seal) {
    absl::BitGen random;
    std::vector<std::string> sigs(request.leader_signatures().begin(), request.leader_signatures().end());
    auto signers = CheckLeaderSignatures(sigs, signer::Sha256(kMain), *trust_, pki_.now(), {kProvince, {"leader-h49"}});
    EXPECT_OK(signers);
    Issuance issuance{NewMessageId(pki_.now(), random), kProvince, "UBND tỉnh Quảng Ninh", {}, *signers};
    issuance.registration.set_year(2026);
    issuance.registration.set_number(7);
    v1::DocumentHeader header = BuildHeader(request, issuance);
    auto sealed = Seal(v1::MESSAGE_KIND_DOCUMENT, header.SerializeAsString(), seal, pki_.now());
    EXPECT_OK(sealed);
    v1::Envelope envelope;
    *envelope.mutable_document() = *sealed;
    *envelope.mutable_leader_signatures() = request.leader_signatures();
    envelope.add_serve(kDistrict);
    return envelope;
  }

  TestPki pki_;
  std::unique_ptr<TestLeaf> leader_;
  std::unique_ptr<TestLeaf> seal_leaf_;
  std::unique_ptr<SealCredentials> seal_;
  std::unique_ptr<signer::TrustStore> trust_;
  DocumentLimits limits_;
};

TEST(NewMessageId, IsAUuidV7OrderedByTime) {
  absl::BitGen random;
  const absl::Time t = absl::FromUnixMillis(1763800000123);
  const std::string a = NewMessageId(t, random);
  const std::string b = NewMessageId(t + absl::Milliseconds(1), random);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '7');
  EXPECT_THAT(std::string("89ab"), HasSubstr(std::string(1, a[19])));
  EXPECT_LT(a, b);
  EXPECT_NE(NewMessageId(t, random), NewMessageId(t, random));
}

TEST_F(DocumentsTest, AWellFormedRequestPasses) { EXPECT_OK(ValidateSendHeader(Request(), kProvince, limits_)); }

TEST_F(DocumentsTest, EachMalformedRequestIsRejectedNamingTheField) {
  struct Case {
    const char* what;
    std::function<void(v1::SendHeader&)> mutate;
    absl::StatusCode code;
    const char* words;
  };
  const std::vector<Case> cases = {
      {"no recipient", [](auto& h) { h.clear_recipients(); }, absl::StatusCode::kInvalidArgument, "no recipient"},
      {"bad recipient", [](auto& h) { h.add_recipients("h49"); }, absl::StatusCode::kInvalidArgument, "recipient"},
      {"self", [](auto& h) { h.add_recipients(kProvince); }, absl::StatusCode::kInvalidArgument, "sending agency itself"},
      {"twice", [](auto& h) { h.add_recipients(kDistrict); }, absl::StatusCode::kInvalidArgument, "listed twice"},
      {"subject", [](auto& h) { h.clear_subject(); }, absl::StatusCode::kInvalidArgument, "subject is required"},
      {"control", [](auto& h) { h.set_subject("a\x01"); }, absl::StatusCode::kInvalidArgument, "control character"},
      {"no main", [](auto& h) { h.mutable_parts(0)->set_main(false); }, absl::StatusCode::kInvalidArgument,
       "exactly one part"},
      {"path", [](auto& h) { h.mutable_parts(0)->set_name("../../etc/passwd"); }, absl::StatusCode::kInvalidArgument,
       "plain file name"},
      {"digest", [](auto& h) { h.mutable_parts(0)->set_sha256("short"); }, absl::StatusCode::kInvalidArgument,
       "32 bytes"},
      {"huge", [](auto& h) { h.mutable_parts(0)->set_size(uint64_t{3} << 30); }, absl::StatusCode::kResourceExhausted,
       "larger than the limit"},
      {"no leader", [](auto& h) { h.clear_leader_signatures(); }, absl::StatusCode::kInvalidArgument,
       "no leader signature"},
      {"update", [](auto& h) { h.set_action(v1::BUSINESS_ACTION_UPDATE); }, absl::StatusCode::kInvalidArgument,
       "earlier message"},
      {"long request id", [](auto& h) { h.set_request_id(std::string(65, 'a')); }, absl::StatusCode::kInvalidArgument,
       "request id is longer than 64"},
      {"request id", [](auto& h) { h.set_request_id("có dấu"); }, absl::StatusCode::kInvalidArgument,
       "request id may hold only"},
  };
  for (const Case& c : cases) {
    v1::SendHeader h = Request();
    c.mutate(h);
    EXPECT_THAT(ValidateSendHeader(h, kProvince, limits_), StatusIs(c.code, HasSubstr(c.words))) << c.what;
  }
  v1::SendHeader with_id = Request();
  with_id.set_request_id("3f2a9c01:clerk-h49_retry.2");
  EXPECT_OK(ValidateSendHeader(with_id, kProvince, limits_));
  v1::SendHeader many = Request();
  for (int i = 0; i < 100; ++i) *many.add_parts() = many.parts(0), many.mutable_parts(i + 1)->set_main(false),
                                many.mutable_parts(i + 1)->set_name("annex-" + std::to_string(i) + ".pdf");
  EXPECT_THAT(ValidateSendHeader(many, kProvince, limits_), StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST_F(DocumentsTest, LeaderSignaturesMustBeByALeaderOfTheAgency) {
  const std::string digest = signer::Sha256(kMain);
  auto ok = CheckLeaderSignatures({LeaderSignature(*leader_, kMain)}, digest, *trust_, pki_.now(),
                                  {kProvince, {"leader-h49"}});
  ASSERT_OK(ok);
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].person_login(), "leader-h49");
  EXPECT_EQ((*ok)[0].full_name(), "Nguyễn Văn A");

  EXPECT_THAT(CheckLeaderSignatures({LeaderSignature(*leader_, kMain)}, digest, *trust_, pki_.now(),
                                    {kProvince, {"someone-else"}}),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("does not hold the leader role")));
  TestLeaf outsider = pki_.Issue({.agency_id = kDistrict, .person_login = "leader-hl"}, "outsider");
  EXPECT_THAT(CheckLeaderSignatures({LeaderSignature(outsider, kMain)}, digest, *trust_, pki_.now(),
                                    {kProvince, {"leader-hl"}}),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("cannot sign for agency")));
  auto other_content = CheckLeaderSignatures({LeaderSignature(*leader_, "another file")}, digest, *trust_, pki_.now(),
                                             {kProvince, {"leader-h49"}});
  EXPECT_EQ(signer::VerifyFailureOf(other_content.status()), signer::VerifyFailure::kContentMismatch);
  EXPECT_THAT(CheckLeaderSignatures({"garbage"}, digest, *trust_, pki_.now(), {kProvince, {"leader-h49"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("leader signature 1")));
}

TEST_F(DocumentsTest, AnIssuedEnvelopeVerifiesAtTheRecipient) {
  v1::Envelope envelope = IssuedEnvelope(Request(), *seal_);
  auto header = VerifyEnvelope(envelope, *trust_, pki_.now(), limits_);
  ASSERT_OK(header);
  EXPECT_EQ(header->from_agency(), kProvince);
  EXPECT_EQ(header->registration().number(), 7u);
  EXPECT_EQ(header->signers(0).person_login(), "leader-h49");
  EXPECT_EQ(header->parts(0).sha256(), signer::Sha256(kMain));
}

TEST_F(DocumentsTest, AHeaderSealedByOneAgencyClaimingAnotherIsRejected) {
  TestLeaf district_seal = pki_.Issue(
      {.profile = signer::CertificateProfile::kSeal, .agency_id = kDistrict, .person_login = ""}, "dseal");
  v1::SendHeader request = Request();
  request.set_recipients(0, "000.00.02.H49");
  v1::Envelope envelope = IssuedEnvelope(request, {district_seal.key.get(), district_seal.cert, {pki_.issuing()}});
  envelope.set_serve(0, "000.00.02.H49");
  EXPECT_THAT(VerifyEnvelope(envelope, *trust_, pki_.now(), limits_),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("sealed by " + std::string(kDistrict))));
}

TEST_F(DocumentsTest, TamperedEnvelopesAreRejected) {
  v1::Envelope changed_body = IssuedEnvelope(Request(), *seal_);
  changed_body.mutable_document()->mutable_body()->back() ^= 1;
  EXPECT_FALSE(VerifyEnvelope(changed_body, *trust_, pki_.now(), limits_).ok());

  v1::Envelope swapped = IssuedEnvelope(Request(), *seal_);
  swapped.set_leader_signatures(0, LeaderSignature(*leader_, kMain));  // a valid but different signature
  EXPECT_THAT(VerifyEnvelope(swapped, *trust_, pki_.now(), limits_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not the one the header names")));

  v1::Envelope stranger = IssuedEnvelope(Request(), *seal_);
  stranger.add_serve("000.00.00.G12");
  EXPECT_THAT(VerifyEnvelope(stranger, *trust_, pki_.now(), limits_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a recipient")));

  v1::Envelope garbage;
  garbage.mutable_document()->set_kind(v1::MESSAGE_KIND_DOCUMENT);
  garbage.mutable_document()->set_body("\xff\xff\xff");
  EXPECT_THAT(VerifyEnvelope(garbage, *trust_, pki_.now(), limits_), StatusIs(absl::StatusCode::kInvalidArgument));

  v1::Envelope person_seal = IssuedEnvelope(Request(), {leader_->key.get(), leader_->cert, {pki_.issuing()}});
  EXPECT_THAT(VerifyEnvelope(person_seal, *trust_, pki_.now(), limits_),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("person's signature")));
}

// congvan_signatures_total as Metrics renders it.
double Signatures(const Metrics& metrics, const std::string& operation) {
  const std::string text = metrics.Render();
  const std::string series = "congvan_signatures_total{operation=\"" + operation + "\"} ";
  const size_t at = text.find(series);
  return at == std::string::npos ? 0 : std::stod(text.substr(at + series.size()));
}

TEST_F(DocumentsTest, CountsEachSealMadeAndEachSignatureThatVerifies) {
  Metrics metrics;
  SignatureCounter counter(metrics);
  SealCredentials counted = *seal_;
  counted.counter = &counter;
  v1::Envelope envelope = IssuedEnvelope(Request(), counted);  // its leader check is not counted
  EXPECT_EQ(Signatures(metrics, "made"), 1);
  EXPECT_EQ(Signatures(metrics, "verified"), 0);

  std::vector<std::string> sigs(envelope.leader_signatures().begin(), envelope.leader_signatures().end());
  ASSERT_OK(CheckLeaderSignatures(sigs, signer::Sha256(kMain), *trust_, pki_.now(), {kProvince, {"leader-h49"}},
                                  &counter));
  EXPECT_EQ(Signatures(metrics, "verified"), 1);
  // The seal and the one leader signature.
  ASSERT_OK_AND_ASSIGN(v1::DocumentHeader header, VerifyEnvelope(envelope, *trust_, pki_.now(), limits_, &counter));
  EXPECT_EQ(Signatures(metrics, "verified"), 3);

  // What does not verify is not counted.
  v1::Envelope changed = envelope;
  changed.mutable_document()->mutable_body()->back() ^= 1;
  EXPECT_FALSE(VerifyEnvelope(changed, *trust_, pki_.now(), limits_, &counter).ok());
  EXPECT_FALSE(CheckLeaderSignatures({"garbage"}, signer::Sha256(kMain), *trust_, pki_.now(),
                                     {kProvince, {"leader-h49"}}, &counter)
                   .ok());
  EXPECT_EQ(Signatures(metrics, "verified"), 3);

  ASSERT_OK_AND_ASSIGN(v1::SignedMessage receipt, MakeReceipt(header, envelope.document().body(), kDistrict,
                                                              v1::STATUS_CODE_ARRIVED, "", counted, pki_.now()));
  EXPECT_EQ(Signatures(metrics, "made"), 2);
  ASSERT_OK(VerifySeal(receipt, *trust_, pki_.now(), &counter));
  EXPECT_EQ(Signatures(metrics, "verified"), 4);

  // Without a counter nothing is counted.
  ASSERT_OK(Seal(v1::MESSAGE_KIND_STATUS, "body", *seal_, pki_.now()));
  ASSERT_OK(VerifySeal(receipt, *trust_, pki_.now()));
  EXPECT_EQ(Signatures(metrics, "made"), 2);
  EXPECT_EQ(Signatures(metrics, "verified"), 4);
}

TEST_F(DocumentsTest, ReceiptsAreSealedByTheRecipient) {
  v1::Envelope envelope = IssuedEnvelope(Request(), *seal_);
  auto header = VerifyEnvelope(envelope, *trust_, pki_.now(), limits_);
  ASSERT_OK(header);
  TestLeaf district_seal = pki_.Issue(
      {.profile = signer::CertificateProfile::kSeal, .agency_id = kDistrict, .person_login = ""}, "dseal");
  auto receipt = MakeReceipt(*header, envelope.document().body(), kDistrict, v1::STATUS_CODE_ARRIVED, "",
                             {district_seal.key.get(), district_seal.cert, {pki_.issuing()}}, pki_.now());
  ASSERT_OK(receipt);
  auto verified = VerifySeal(*receipt, *trust_, pki_.now());
  ASSERT_OK(verified);
  EXPECT_EQ(verified->agency, kDistrict);
  v1::ReceiptBody body;
  ASSERT_TRUE(body.ParseFromString(receipt->body()));
  EXPECT_EQ(body.message_id(), header->message_id());
  EXPECT_EQ(body.header_sha256(), signer::Sha256(envelope.document().body()));
  EXPECT_EQ(body.code(), v1::STATUS_CODE_ARRIVED);
}

}  // namespace
}  // namespace congvan::node
