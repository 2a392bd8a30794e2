// Envelopes a peer may send that the receiver must refuse before it stores
// anything (tests/SECURITY.md, the envelope rows the node-level tests do not
// reach): seals and leader signatures whose certificates expired, are not
// yet valid or come from another CA, headers over the limits or with texts
// the sender's own checks would have refused, part names that climb out of
// the directory. VerifyEnvelope with certificates from a real (test) CA.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/random/random.h"
#include "congvan/node/documents.h"
#include "testing/status_matchers.h"
#include "testing/test_pki.h"

namespace congvan::node {
namespace {

using ::congvan::testing::StatusIs;
using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;
using ::testing::HasSubstr;

constexpr char kProvince[] = "000.00.00.H49";
constexpr char kDistrict[] = "000.00.01.H49";
const std::string kMain = "%PDF-1.7 Công văn số 3";

class EnvelopeBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override { trust_ = std::make_unique<signer::TrustStore>(pki_.Trust(true)); }

  TestLeaf Leader(TestPki& pki, absl::Duration from = absl::Hours(-24), absl::Duration valid = absl::Hours(24 * 365)) {
    return pki.Issue({.agency_id = kProvince, .person_login = "leader-h49", .valid_from = from, .valid_for = valid},
                     "leader");
  }
  TestLeaf SealLeaf(TestPki& pki, absl::Duration from = absl::Hours(-24), absl::Duration valid = absl::Hours(24 * 365)) {
    return pki.Issue({.profile = signer::CertificateProfile::kSeal, .agency_id = kProvince, .person_login = "",
                      .valid_from = from, .valid_for = valid},
                     "seal");
  }

  // A header from the province to the district, changed by `edit`, sealed
  // with `seal` and signed by `leader`, both of `pki`.
  v1::Envelope Sealed(const TestLeaf& seal, const TestLeaf& leader, TestPki& pki,
                      const std::function<void(v1::DocumentHeader&)>& edit = {}) {
    signer::SignRequest sign{leader.key.get(), leader.cert, {pki.issuing()}, pki.now()};
    auto leader_sig = signer::SignDetached(kMain, sign);
    EXPECT_OK(leader_sig);
    v1::SendHeader request;
    request.add_recipients(kDistrict);
    request.set_subject("Về việc kiểm tra");
    request.set_document_type("Công văn");
    request.set_notation("3/UBND");
    v1::PartSpec* part = request.add_parts();
    part->set_name("cong-van.pdf");
    part->set_media_type("application/pdf");
    part->set_size(kMain.size());
    part->set_sha256(signer::Sha256(kMain));
    part->set_main(true);
    v1::SignerInfo signer;
    signer.set_person_login("leader-h49");
    signer.set_agency_id(kProvince);
    signer.set_signature_sha256(signer::Sha256(leader_sig.value_or("")));
    absl::BitGen random;
    Issuance issuance{NewMessageId(pki.now(), random), kProvince, "UBND tỉnh", {}, {signer}};
    issuance.registration.set_year(2026);
    issuance.registration.set_number(3);
    issuance.registration.set_notation("3/UBND");
    v1::DocumentHeader header = BuildHeader(request, issuance);
    if (edit) edit(header);
    auto sealed = Seal(v1::MESSAGE_KIND_DOCUMENT, header.SerializeAsString(),
                       {seal.key.get(), seal.cert, {pki.issuing()}}, pki.now());
    EXPECT_OK(sealed);
    v1::Envelope envelope;
    *envelope.mutable_document() = sealed.value_or(v1::SignedMessage());
    envelope.add_leader_signatures(leader_sig.value_or(""));
    envelope.add_serve(kDistrict);
    return envelope;
  }

  absl::StatusOr<v1::DocumentHeader> Verify(const v1::Envelope& envelope, absl::Duration later = absl::ZeroDuration()) {
    return VerifyEnvelope(envelope, *trust_, pki_.now() + later, limits_);
  }

  TestPki pki_;
  std::unique_ptr<signer::TrustStore> trust_;
  DocumentLimits limits_;
};

TEST_F(EnvelopeBadInputTest, AGoodEnvelopePasses) {
  EXPECT_OK(Verify(Sealed(SealLeaf(pki_), Leader(pki_), pki_)));
}

TEST_F(EnvelopeBadInputTest, ASealWhoseCertificateExpiredIsNotYetValidOrIsOfAnotherCaIsUnauthenticated) {
  const TestLeaf leader = Leader(pki_);
  // Sealed while valid, delivered after it expired.
  const v1::Envelope late = Sealed(SealLeaf(pki_, absl::Hours(-1), absl::Hours(2)), leader, pki_);
  EXPECT_THAT(Verify(late, absl::Hours(3)), StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("seal")));
  EXPECT_THAT(Verify(late, absl::Hours(3)), StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("expired")));
  EXPECT_THAT(Verify(Sealed(SealLeaf(pki_, absl::Hours(2)), leader, pki_)),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("not valid before")));
  TestPki other;
  EXPECT_THAT(Verify(Sealed(SealLeaf(other), leader, other)),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("not issued by a trusted")));
  // A header changed after it was sealed.
  v1::Envelope changed = Sealed(SealLeaf(pki_), leader, pki_);
  v1::DocumentHeader header;
  ASSERT_TRUE(header.ParseFromString(changed.document().body()));
  header.set_subject("Về việc khác");
  changed.mutable_document()->set_body(header.SerializeAsString());
  EXPECT_THAT(Verify(changed), StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("seal")));
}

TEST_F(EnvelopeBadInputTest, ALeaderSignatureByAnotherPersonThanTheHeaderNamesIsPermissionDenied) {
  const TestLeaf deputy = pki_.Issue({.agency_id = kProvince, .person_login = "deputy-h49"}, "deputy");
  EXPECT_THAT(Verify(Sealed(SealLeaf(pki_), deputy, pki_)),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("is not by leader-h49 of " + std::string(kProvince))));
}

TEST_F(EnvelopeBadInputTest, ALeaderSignatureWhoseCertificateExpiredOrIsOfAnotherCaIsRefused) {
  const TestLeaf seal = SealLeaf(pki_);
  EXPECT_THAT(Verify(Sealed(seal, Leader(pki_, absl::Hours(-48), absl::Hours(24)), pki_)),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("leader signature 1")));
  TestPki other;
  const TestLeaf stranger = Leader(other);
  // The leader's signature is made with the other PKI, the seal with ours.
  signer::SignRequest sign{stranger.key.get(), stranger.cert, {other.issuing()}, other.now()};
  auto foreign = signer::SignDetached(kMain, sign);
  ASSERT_OK(foreign);
  v1::Envelope envelope = Sealed(seal, Leader(pki_), pki_, [&](v1::DocumentHeader& h) {
    h.mutable_signers(0)->set_signature_sha256(signer::Sha256(*foreign));
  });
  envelope.set_leader_signatures(0, *foreign);
  EXPECT_THAT(Verify(envelope), StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("not issued by a trusted")));
  // No leader signature at all.
  v1::Envelope unsigned_ = Sealed(seal, Leader(pki_), pki_);
  unsigned_.clear_leader_signatures();
  EXPECT_THAT(Verify(unsigned_), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("leader signatures for 1")));
}

TEST_F(EnvelopeBadInputTest, AHeaderOverTheLimitsIsResourceExhausted) {
  const TestLeaf seal = SealLeaf(pki_), leader = Leader(pki_);
  EXPECT_THAT(Verify(Sealed(seal, leader, pki_, [](v1::DocumentHeader& h) {
                for (int i = 0; i < 100; ++i) {
                  v1::PartInfo* p = h.add_parts();
                  *p = h.parts(0);
                  p->set_main(false);
                  p->set_name("annex-" + std::to_string(i) + ".pdf");
                }
              })),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("parts")));
  EXPECT_THAT(Verify(Sealed(seal, leader, pki_, [](v1::DocumentHeader& h) {
                h.mutable_parts(0)->set_size(uint64_t{3} << 30);
              })),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("larger than the limit")));
  limits_.max_recipients = 2;
  EXPECT_THAT(Verify(Sealed(seal, leader, pki_, [](v1::DocumentHeader& h) {
                h.add_recipients("000.00.02.H49");
                h.add_recipients("000.00.03.H49");
              })),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("too many recipients")));
}

TEST_F(EnvelopeBadInputTest, AHeaderTheSendersOwnChecksWouldHaveRefusedIsInvalid) {
  const TestLeaf seal = SealLeaf(pki_), leader = Leader(pki_);
  struct Case {
    const char* what;
    std::function<void(v1::DocumentHeader&)> edit;
    const char* words;
  };
  const std::vector<Case> cases = {
      {"path", [](auto& h) { h.mutable_parts(0)->set_name("../../etc/cron.d/x"); }, "directory separator"},
      {"dots", [](auto& h) { h.mutable_parts(0)->set_name(".."); }, "'..'"},
      {"reserved", [](auto& h) { h.mutable_parts(0)->set_name("header.pb"); }, ""},
      {"twice", [](auto& h) { *h.add_parts() = h.parts(0); }, "two parts are named"},
      {"digest", [](auto& h) { h.mutable_parts(0)->set_sha256("short"); }, "32 bytes"},
      {"no main", [](auto& h) { h.mutable_parts(0)->set_main(false); }, "exactly one part"},
      {"no part", [](auto& h) { h.clear_parts(); }, "no part"},
      {"id", [](auto& h) { h.set_message_id("1"); }, "message id"},
      {"from", [](auto& h) { h.set_from_agency("h49"); }, "from"},
      {"self", [](auto& h) { h.add_recipients(kProvince); }, "sending agency itself"},
      {"recipient twice", [](auto& h) { h.add_recipients(kDistrict); }, "listed twice"},
      {"subject", [](auto& h) { h.set_subject("Về việc\x1b[2J"); }, "subject contains a control character"},
      {"long subject", [](auto& h) { h.set_subject(std::string(5000, 'a')); }, "subject is longer than"},
      {"no subject", [](auto& h) { h.clear_subject(); }, "subject is required"},
      {"type", [](auto& h) { h.set_document_type("x\n"); }, "document type contains"},
      {"notation", [](auto& h) { h.mutable_registration()->set_notation(std::string(5000, 'n')); },
       "notation is longer than"},
      {"name", [](auto& h) { h.set_from_name("UBND\r"); }, "sender name contains"},
      {"date", [](auto& h) { h.set_document_date("2026-01-01T00:00"); }, "document date is longer"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Verify(Sealed(seal, leader, pki_, c.edit)), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.words)))
        << c.what;
  }
  // The kind of message, and a body that is no header.
  v1::Envelope receipt = Sealed(seal, leader, pki_);
  receipt.mutable_document()->set_kind(v1::MESSAGE_KIND_RECEIPT);
  EXPECT_THAT(Verify(receipt), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not carry a document")));
}

}  // namespace
}  // namespace congvan::node
