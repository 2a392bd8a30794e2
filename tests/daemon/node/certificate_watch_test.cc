// CertificateWatch: the days left of each kind of certificate, and the log
// lines an operator acts on — a warning within the window, when first seen
// and once a day after, an error as soon as a certificate has expired —
// with certificates of a real (test) CA and a clock the test moves.
#include "congvan/node/certificate_watch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "congvan/node/documents.h"
#include "testing/log_capture.h"
#include "testing/status_matchers.h"
#include "testing/test_pki.h"

namespace congvan::node {
namespace {

using ::congvan::testing::LogCapture;
using ::congvan::testing::StatusIs;
using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Key;
using ::testing::SizeIs;

constexpr char kAgency[] = "000.00.00.H49";
const absl::Duration kDay = absl::Hours(24);

class CertificateWatchTest : public ::testing::Test {
 protected:
  // A seal that expires 40 days after the PKI's now.
  TestLeaf Seal(absl::Duration valid_for = 41 * kDay, const std::string& stem = "seal") {
    return pki_.Issue({.profile = signer::CertificateProfile::kSeal,
                       .name = "UBND tỉnh Quảng Ninh",
                       .agency_id = kAgency,
                       .person_login = "",
                       .valid_from = -kDay,
                       .valid_for = valid_for},
                      stem);
  }

  TestPki pki_;
};

TEST_F(CertificateWatchTest, ReportsTheSoonestExpiryOfEachRole) {
  const TestLeaf seal = Seal();
  const TestLeaf tls = pki_.Issue({.profile = signer::CertificateProfile::kNodeTls,
                                   .agency_id = kAgency,
                                   .person_login = "",
                                   .valid_from = -kDay,
                                   .valid_for = 366 * kDay},
                                  "tls");
  // A second anchor, from a root made five years earlier: it expires first.
  TestPki older(pki_.now() - 5 * 365 * kDay);
  std::vector<WatchedCertificate> certificates{{"seal", seal.cert_path, seal.cert}, {"tls", tls.cert_path, tls.cert}};
  for (WatchedCertificate& anchor : AnchorCertificates({pki_.root_path(), older.root_path()})) {
    certificates.push_back(std::move(anchor));
  }
  ASSERT_THAT(certificates, SizeIs(4));
  CertificateWatch watch(30 * kDay);
  LogCapture log;
  const CertificateReport report = watch.Check(certificates, pki_.now());
  EXPECT_TRUE(report.all_valid);
  EXPECT_THAT(report.days_left, ElementsAre(Key("anchor"), Key("seal"), Key("tls")));
  EXPECT_THAT(report.days_left.at("seal"), DoubleNear(40, 1e-4));
  EXPECT_THAT(report.days_left.at("tls"), DoubleNear(365, 1e-4));
  EXPECT_THAT(report.days_left.at("anchor"), DoubleNear(5 * 365, 1e-4));
  EXPECT_THAT(log.Lines(), IsEmpty());  // nothing to say
}

TEST_F(CertificateWatchTest, WarnsWithinTheWindowThenOnceADayAndErrsOnceExpired) {
  const TestLeaf seal = Seal();
  const std::vector<WatchedCertificate> certificates{{"seal", seal.cert_path, seal.cert}};
  CertificateWatch watch(30 * kDay);
  LogCapture log;
  const absl::Time start = pki_.now() + 15 * kDay;  // 25 days left

  CertificateReport report = watch.Check(certificates, start);
  EXPECT_FALSE(report.all_valid);
  EXPECT_THAT(report.days_left.at("seal"), DoubleNear(25, 1e-4));
  ASSERT_THAT(log.Lines(), SizeIs(1));
  const std::string line = log.Lines()[0];
  EXPECT_THAT(line, HasSubstr("warning certificate=seal file=" + seal.cert_path +
                              " expires=" + FormatRfc3339(seal.cert.NotAfter()) + " "));
  EXPECT_THAT(line, HasSubstr("\"" + seal.cert.Subject() + "\""));
  EXPECT_THAT(line, HasSubstr("UBND tỉnh Quảng Ninh"));
  EXPECT_THAT(line, HasSubstr("expires in 25 days: renew it and restart the node"));

  // Not again within the day; again after it.
  EXPECT_FALSE(watch.Check(certificates, start + absl::Hours(1)).all_valid);
  EXPECT_FALSE(watch.Check(certificates, start + absl::Hours(23)).all_valid);
  EXPECT_THAT(log.Lines(), SizeIs(1));
  watch.Check(certificates, start + kDay);
  ASSERT_THAT(log.Lines(), SizeIs(2));
  EXPECT_THAT(log.Lines()[1], HasSubstr("expires in 24 days"));

  // Expired: an error at once, not a day after the last warning.
  const absl::Time expired = seal.cert.NotAfter() + absl::Seconds(1);
  report = watch.Check(certificates, expired);
  EXPECT_FALSE(report.all_valid);
  EXPECT_LT(report.days_left.at("seal"), 0);
  ASSERT_THAT(log.Lines(), SizeIs(3));
  EXPECT_THAT(log.Lines()[2], HasSubstr("error certificate=seal file=" + seal.cert_path));
  EXPECT_THAT(log.Lines()[2], HasSubstr("has expired"));
  watch.Check(certificates, expired + absl::Hours(2));
  EXPECT_THAT(log.Lines(), SizeIs(3));
}

TEST_F(CertificateWatchTest, ARenewedCertificateIsValidAgainAndTheOldOneForgotten) {
  const TestLeaf old_seal = Seal();
  const TestLeaf new_seal = Seal(400 * kDay, "seal-2027");
  CertificateWatch watch(30 * kDay);
  LogCapture log;
  const absl::Time t = pki_.now() + 20 * kDay;
  EXPECT_FALSE(watch.Check({{"seal", old_seal.cert_path, old_seal.cert}}, t).all_valid);
  const CertificateReport renewed = watch.Check({{"seal", new_seal.cert_path, new_seal.cert}}, t + absl::Hours(1));
  EXPECT_TRUE(renewed.all_valid);
  EXPECT_THAT(renewed.days_left.at("seal"), DoubleNear(399 - 20 - 1.0 / 24, 1e-4));
  // Back to the old one (a restart with the old file): it is news again.
  EXPECT_FALSE(watch.Check({{"seal", old_seal.cert_path, old_seal.cert}}, t + absl::Hours(2)).all_valid);
  EXPECT_THAT(log.Matching("certificate=seal"), SizeIs(2));
}

TEST_F(CertificateWatchTest, AnAnchorAboutToExpireSaysToAddItsSuccessor) {
  CertificateWatch watch(365 * 11 * kDay);  // the whole root
  LogCapture log;
  const CertificateReport report = watch.Check(AnchorCertificates({pki_.root_path()}), pki_.now());
  EXPECT_FALSE(report.all_valid);
  ASSERT_THAT(log.Lines(), SizeIs(1));
  EXPECT_THAT(log.Lines()[0], HasSubstr("certificate=anchor file=" + pki_.root_path()));
  EXPECT_THAT(log.Lines()[0], HasSubstr("put its successor into trust.anchors"));
}

TEST(NodeCertificates, AreTheSealTheTlsAndTheTsaCertificatesAndEveryAnchorThatReads) {
  TestPki pki;
  const TestLeaf seal =
      pki.Issue({.profile = signer::CertificateProfile::kSeal, .agency_id = kAgency, .person_login = ""}, "seal");
  const TestLeaf tls =
      pki.Issue({.profile = signer::CertificateProfile::kNodeTls, .agency_id = kAgency, .person_login = ""}, "tls");
  const TestLeaf tsa = pki.Issue(
      {.profile = signer::CertificateProfile::kTimestamping, .agency_id = kAgency, .person_login = ""}, "tsa");
  config::NodeConfig config{.agency = *signer::AgencyId::Parse(kAgency)};
  config.seal.cert_file = seal.cert_path;
  config.tls.cert_file = tls.cert_path;
  ASSERT_OK_AND_ASSIGN(std::vector<WatchedCertificate> own, OwnCertificates(config, seal.cert));
  ASSERT_THAT(own, SizeIs(2));
  EXPECT_EQ(own[0].role, "seal");
  EXPECT_EQ(own[0].file, seal.cert_path);
  EXPECT_EQ(own[1].role, "tls");
  EXPECT_EQ(own[1].certificate.der(), tls.cert.der());  // the leaf, not its issuing CA after it

  config.tsa = config::TsaConfig{{"127.0.0.1", 0}, tsa.cert_path, tsa.key_path};
  ASSERT_OK_AND_ASSIGN(own, OwnCertificates(config, seal.cert));
  ASSERT_THAT(own, SizeIs(3));
  EXPECT_EQ(own[2].role, "tsa");
  EXPECT_EQ(own[2].certificate.der(), tsa.cert.der());

  config.tls.cert_file = pki.dir() + "/no-such.pem";
  EXPECT_THAT(OwnCertificates(config, seal.cert), StatusIs(absl::StatusCode::kNotFound));

  const std::vector<WatchedCertificate> anchors =
      AnchorCertificates({pki.root_path(), pki.dir() + "/missing.pem", pki.issuing_path()});
  ASSERT_THAT(anchors, SizeIs(2));
  EXPECT_EQ(anchors[0].file, pki.root_path());
  EXPECT_EQ(anchors[1].file, pki.issuing_path());
}

}  // namespace
}  // namespace congvan::node
