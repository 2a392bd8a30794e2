// RFC 3161 timestamps: the TSA answers requests made by `openssl ts -query`
// and `openssl ts -verify` accepts its responses and tokens; round trips
// through the client side; each rejection with its reason; validation of the
// TSA certificate at the token's genTime.
#include "congvan/signer/timestamp.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "absl/time/clock.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/verify_error.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/test_pki.h"

namespace congvan::signer {
namespace {

using ::congvan::testing::LeafOptions;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::RunResult;
using ::congvan::testing::StatusIs;
using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kTreeHead = "congvan tree head v1\n000.00.00.A00\nsize 4096\nroot 5f0c...e1\n";

RunResult OpenSsl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  return ::congvan::testing::Run(argv);
}

// The root agency's TSA certificate, as `pki init` issues it.
LeafOptions TsaOptions(KeyType key_type = KeyType::kRsa2048) {
  return {.key_type = key_type,
          .profile = CertificateProfile::kTimestamping,
          .name = "TSA 000.00.00.A00",
          .agency_id = "000.00.00.A00",
          .person_login = ""};
}

// A fixed clock a little before the PKI's `now`, with a fraction of a second
// that genTime drops.
absl::Time FakeNow(const TestPki& pki) {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(pki.now()) - 3600) + absl::Milliseconds(250);
}
absl::Time WholeSeconds(absl::Time t) { return absl::FromUnixSeconds(absl::ToUnixSeconds(t)); }

std::unique_ptr<TimestampAuthority> MakeTsa(const TestPki& pki, const TestLeaf& tsa, absl::Time now,
                                            std::string policy = kEtsiBestPracticesTsaPolicy) {
  auto authority = TimestampAuthority::Create({.certificate = tsa.cert,
                                               .chain = {pki.issuing()},
                                               .key_file = tsa.key_path,
                                               .policy = std::move(policy),
                                               .now = [now] { return now; }});
  EXPECT_THAT(authority, ::congvan::testing::IsOk());
  return authority.ok() ? *std::move(authority) : nullptr;
}

// A token over `digest` from `authority`, through the client functions.
std::string TokenOrDie(const TimestampAuthority& authority, std::string_view digest, uint64_t nonce = 42) {
  auto request = MakeTimestampRequest(digest, nonce);
  EXPECT_THAT(request, ::congvan::testing::IsOk());
  auto response = authority.Respond(request.value_or(""));
  EXPECT_THAT(response, ::congvan::testing::IsOk());
  auto token = TokenFromResponse(response.value_or(""), digest, nonce);
  EXPECT_THAT(token, ::congvan::testing::IsOk());
  return token.value_or("");
}

void ExpectFailure(const absl::Status& status, absl::StatusCode code, VerifyFailure failure,
                   const std::string& words) {
  ASSERT_FALSE(status.ok()) << "expected " << VerifyFailureName(failure);
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(VerifyFailureOf(status), failure) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr(words));
}

TEST(TimestampAuthority, AnswersOpenSslTsQueryAndOpenSslTsVerifyAccepts) {
  TestPki pki;
  TestLeaf tsa = pki.Issue(TsaOptions(), "tsa");
  auto authority = MakeTsa(pki, tsa, FakeNow(pki));
  ASSERT_NE(authority, nullptr);
  const std::string data = pki.dir() + "/tree-head.txt";
  const std::string query = pki.dir() + "/req.tsq";
  const std::string reply = pki.dir() + "/resp.tsr";
  WriteTestFile(data, kTreeHead);
  RunResult q = OpenSsl({"ts", "-query", "-data", data, "-sha256", "-cert", "-out", query});
  ASSERT_EQ(q.exit_code, 0) << q.err;

  ASSERT_OK_AND_ASSIGN(std::string response, authority->Respond(ReadTestFile(query)));
  WriteTestFile(reply, response);

  RunResult text = OpenSsl({"ts", "-reply", "-in", reply, "-text"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("Status: Granted."));
  EXPECT_THAT(text.out, HasSubstr("Policy OID: 0.4.0.2023.1.1"));
  EXPECT_THAT(text.out, HasSubstr("Hash Algorithm: sha256"));
  EXPECT_THAT(text.out, HasSubstr("Accuracy: 0x01 seconds"));
  EXPECT_THAT(text.out, HasSubstr("Nonce: 0x"));
  // genTime is the TSA's clock, not the wall clock.
  EXPECT_THAT(text.out, HasSubstr("Time stamp: " + absl::FormatTime("%b %e %H:%M:%S %Y GMT", FakeNow(pki),
                                                                      absl::UTCTimeZone())));

  // The token inside: SHA-256 throughout, and ESS signingCertificateV2.
  RunResult token = OpenSsl({"ts", "-reply", "-in", reply, "-token_out", "-out", pki.dir() + "/token.der"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  RunResult cms = OpenSsl({"cms", "-cmsout", "-print", "-inform", "DER", "-in", pki.dir() + "/token.der"});
  ASSERT_EQ(cms.exit_code, 0) << cms.err;
  EXPECT_THAT(cms.out, HasSubstr("eContentType: id-smime-ct-TSTInfo"));
  EXPECT_THAT(cms.out, HasSubstr("object: id-smime-aa-signingCertificateV2"));
  EXPECT_THAT(cms.out, Not(HasSubstr("object: id-smime-aa-signingCertificate\n")));
  EXPECT_THAT(cms.out, HasSubstr("algorithm: sha256"));
  EXPECT_THAT(cms.out, Not(HasSubstr("sha1")));

  // The check asked for: the data, the root as the only trust anchor, the
  // TSA certificate and its issuer as untrusted certificates.
  RunResult verify = OpenSsl({"ts", "-verify", "-in", reply, "-data", data, "-CAfile", pki.root_path(),
                              "-untrusted", tsa.cert_path});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("Verification: OK"));
  // The request asked for certificates (certReq): the token carries the TSA
  // certificate and the issuing CA, so the root alone verifies it.
  verify = OpenSsl({"ts", "-verify", "-in", reply, "-data", data, "-CAfile", pki.root_path()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  // Against the query itself: imprint and nonce.
  verify = OpenSsl({"ts", "-verify", "-in", reply, "-queryfile", query, "-CAfile", pki.root_path()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  // ... and openssl notices other data.
  WriteTestFile(data, kTreeHead + "tampered");
  verify = OpenSsl({"ts", "-verify", "-in", reply, "-data", data, "-CAfile", pki.root_path()});
  EXPECT_NE(verify.exit_code, 0) << verify.out;
}

TEST(TimestampAuthority, LeavesCertificatesOutWhenTheRequestDoesNotAskForThem) {
  TestPki pki;
  TestLeaf tsa = pki.Issue(TsaOptions(KeyType::kP256), "tsa");
  auto authority = MakeTsa(pki, tsa, FakeNow(pki));
  ASSERT_NE(authority, nullptr);
  const std::string data = pki.dir() + "/tree-head.txt";
  WriteTestFile(data, kTreeHead);
  RunResult q = OpenSsl({"ts", "-query", "-data", data, "-sha256", "-out", pki.dir() + "/req.tsq"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  ASSERT_OK_AND_ASSIGN(std::string response, authority->Respond(ReadTestFile(pki.dir() + "/req.tsq")));
  WriteTestFile(pki.dir() + "/resp.tsr", response);
  // openssl needs the certificates given, and then verifies.
  RunResult verify = OpenSsl({"ts", "-verify", "-in", pki.dir() + "/resp.tsr", "-data", data, "-CAfile",
                              pki.root_path()});
  EXPECT_NE(verify.exit_code, 0) << verify.out;
  verify = OpenSsl({"ts", "-verify", "-in", pki.dir() + "/resp.tsr", "-data", data, "-CAfile", pki.root_path(),
                    "-untrusted", tsa.cert_path});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  // congvan verifies offline from the token alone, so it says what is missing.
  RunResult token = OpenSsl({"ts", "-reply", "-in", pki.dir() + "/resp.tsr", "-token_out", "-out",
                             pki.dir() + "/token.der"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  ExpectFailure(VerifyTimestampToken(ReadTestFile(pki.dir() + "/token.der"), Sha256(kTreeHead), pki.Trust())
                    .status(),
                absl::StatusCode::kUnauthenticated, VerifyFailure::kUntrusted, "certReq");
}

TEST(TimestampAuthority, ServesSha384AndSha512ImprintsAndItsOwnPolicy) {
  TestPki pki;
  TestLeaf tsa = pki.Issue(TsaOptions(KeyType::kP256), "tsa");
  auto authority = MakeTsa(pki, tsa, FakeNow(pki));
  ASSERT_NE(authority, nullptr);
  const std::string data = pki.dir() + "/tree-head.txt";
  WriteTestFile(data, kTreeHead);
  for (const std::vector<std::string>& extra : std::vector<std::vector<std::string>>{
           {"-sha384"}, {"-sha512"}, {"-sha256", "-tspolicy", "0.4.0.2023.1.1"}}) {
    std::vector<std::string> args = {"ts", "-query", "-data", data, "-cert", "-out", pki.dir() + "/req.tsq"};
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_EQ(OpenSsl(args).exit_code, 0);
    ASSERT_OK_AND_ASSIGN(std::string response, authority->Respond(ReadTestFile(pki.dir() + "/req.tsq")));
    WriteTestFile(pki.dir() + "/resp.tsr", response);
    RunResult verify = OpenSsl({"ts", "-verify", "-in", pki.dir() + "/resp.tsr", "-queryfile",
                                pki.dir() + "/req.tsq", "-CAfile", pki.root_path()});
    EXPECT_EQ(verify.exit_code, 0) << extra[0] << ": " << verify.out << verify.err;
  }
}

TEST(TimestampRoundTrip, GivesTheClocksGenTimeThePolicyAndTheChain) {
  TestPki pki;
  TestLeaf tsa = pki.Issue(TsaOptions(KeyType::kP256), "tsa");
  auto authority = MakeTsa(pki, tsa, FakeNow(pki), "1.3.6.1.4.1.99999.1.2");
  ASSERT_NE(authority, nullptr);
  const std::string digest = Sha256(kTreeHead);
  const std::string token = TokenOrDie(*authority, digest, 0xFEEDFACECAFEBEEFull);

  ASSERT_OK_AND_ASSIGN(VerifiedTimestamp verified, VerifyTimestampToken(token, digest, pki.Trust(true)));
  EXPECT_EQ(verified.gen_time, WholeSeconds(FakeNow(pki)));
  EXPECT_EQ(verified.policy, "1.3.6.1.4.1.99999.1.2");
  EXPECT_EQ(verified.tsa.der(), tsa.cert.der());
  ASSERT_EQ(verified.chain.size(), 3u);
  EXPECT_EQ(verified.chain[0].der(), tsa.cert.der());
  EXPECT_EQ(verified.chain[1].der(), pki.issuing().der());
  EXPECT_EQ(verified.chain[2].der(), pki.root().der());
  EXPECT_TRUE(verified.revocation_checked);
  EXPECT_GE(verified.serial_hex.size(), 16u);  // at least 64 bits
  ASSERT_OK_AND_ASSIGN(absl::Time shown, TimestampTokenTime(token));
  EXPECT_EQ(shown, WholeSeconds(FakeNow(pki)));
}

TEST(TimestampRoundTrip, StoredTokenVerifiesWithOpenSslTsVerifyTokenIn) {
  TestPki pki;
  TestLeaf tsa = pki.Issue(TsaOptions(), "tsa");
  auto authority = MakeTsa(pki, tsa, FakeNow(pki));
  ASSERT_NE(authority, nullptr);
  const std::string digest = Sha256(kTreeHead);
  WriteTestFile(pki.dir() + "/token.der", TokenOrDie(*authority, digest));
  RunResult verify = OpenSsl({"ts", "-verify", "-token_in", "-in", pki.dir() + "/token.der", "-digest",
                              HexEncode(digest), "-CAfile", pki.root_path(), "-untrusted", tsa.cert_path});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("Verification: OK"));
  verify = OpenSsl({"ts", "-verify", "-token_in", "-in", pki.dir() + "/token.der", "-digest",
                    HexEncode(Sha256("another tree head")), "-CAfile", pki.root_path()});
  EXPECT_NE(verify.exit_code, 0) << verify.out;
}

TEST(TimestampAuthority, GivesEveryTokenItsOwnSerialUnderConcurrentRequests) {
  TestPki pki;
  TestLeaf tsa = pki.Issue(TsaOptions(KeyType::kP256), "tsa");
  auto authority = MakeTsa(pki, tsa, FakeNow(pki));
  ASSERT_NE(authority, nullptr);
  const TrustStore trust = pki.Trust();
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::vector<std::string>> serials(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string digest = Sha256(kTreeHead + std::to_string(t * kEach + i));
        const uint64_t nonce = static_cast<uint64_t>(t * kEach + i);
        auto request = MakeTimestampRequest(digest, nonce);
        auto response = authority->Respond(request.value_or(""));
        auto token = TokenFromResponse(response.value_or(""), digest, nonce);
        auto verified = VerifyTimestampToken(token.value_or(""), digest, trust);
        if (verified.ok()) serials[t].push_back(verified->serial_hex);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<std::string> distinct;
  for (const auto& list : serials) distinct.insert(list.begin(), list.end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kThreads * kEach));
}

// The rejections a client can cause, as OpenSSL prints them and as
// TokenFromResponse reports them.
struct Rejection {
  std::string name;
  std::vector<std::string> query_args;  // empty: a request that is not DER at all
  std::string failure_info;             // PKIFailureInfo name
  std::string openssl_text;             // how `openssl ts -reply -text` words it
};

class TimestampRejection : public ::testing::TestWithParam<Rejection> {};

TEST_P(TimestampRejection, AnswersRejectionWithTheFailureInfo) {
  const Rejection& param = GetParam();
  TestPki pki;
  TestLeaf tsa = pki.Issue(TsaOptions(KeyType::kP256), "tsa");
  auto authority = MakeTsa(pki, tsa, FakeNow(pki));
  ASSERT_NE(authority, nullptr);
  const std::string data = pki.dir() + "/tree-head.txt";
  WriteTestFile(data, kTreeHead);
  std::string request = "this is not a TimeStampReq";
  if (!param.query_args.empty()) {
    std::vector<std::string> args = {"ts", "-query", "-data", data, "-cert", "-out", pki.dir() + "/req.tsq"};
    args.insert(args.end(), param.query_args.begin(), param.query_args.end());
    RunResult q = OpenSsl(args);
    ASSERT_EQ(q.exit_code, 0) << q.err;
    request = ReadTestFile(pki.dir() + "/req.tsq");
  }
  ASSERT_OK_AND_ASSIGN(std::string response, authority->Respond(request));
  WriteTestFile(pki.dir() + "/resp.tsr", response);
  RunResult text = OpenSsl({"ts", "-reply", "-in", pki.dir() + "/resp.tsr", "-text"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("Status: Rejected."));
  EXPECT_THAT(text.out, HasSubstr(param.openssl_text));
  EXPECT_THAT(text.out, HasSubstr("TST info:\nNot included."));
  EXPECT_THAT(TokenFromResponse(response, Sha256(kTreeHead), 1),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("rejection (" + param.failure_info + ")")));
}

INSTANTIATE_TEST_SUITE_P(
    TimestampRequests, TimestampRejection,
    ::testing::Values(Rejection{"Garbage", {}, "badDataFormat", "the data submitted has the wrong format"},
                      Rejection{"Sha1Imprint", {"-sha1"}, "badAlg", "unrecognized or unsupported algorithm"},
                      Rejection{"Md5Imprint", {"-md5"}, "badAlg", "unrecognized or unsupported algorithm"},
                      Rejection{"OtherPolicy",
                                {"-sha256", "-tspolicy", "1.2.3.4"},
                                "unacceptedPolicy",
                                "the requested TSA policy is not supported by the TSA"}),
    [](const ::testing::TestParamInfo<Rejection>& info) { return info.param.name; });

TEST(TimestampAuthority, AnswersAnEmptyOrTruncatedRequestWithBadDataFormat) {
  TestPki pki;
  TestLeaf tsa = pki.Issue(TsaOptions(KeyType::kP256), "tsa");
  auto authority = MakeTsa(pki, tsa, FakeNow(pki));
  ASSERT_NE(authority, nullptr);
  ASSERT_OK_AND_ASSIGN(std::string request, MakeTimestampRequest(Sha256(kTreeHead), 7));
  for (const std::string& bad : {std::string(), request.substr(0, request.size() - 3), request + "x"}) {
    ASSERT_OK_AND_ASSIGN(std::string response, authority->Respond(bad));
    EXPECT_THAT(TokenFromResponse(response, Sha256(kTreeHead), 7),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("badDataFormat")));
  }
}

TEST(TokenFromResponse, RejectsAnotherNonceOrDigestAndUnreadableResponses) {
  TestPki pki;
  TestLeaf tsa = pki.Issue(TsaOptions(KeyType::kP256), "tsa");
  auto authority = MakeTsa(pki, tsa, FakeNow(pki));
  ASSERT_NE(authority, nullptr);
  const std::string digest = Sha256(kTreeHead);
  ASSERT_OK_AND_ASSIGN(std::string request, MakeTimestampRequest(digest, 1001));
  ASSERT_OK_AND_ASSIGN(std::string response, authority->Respond(request));
  EXPECT_OK(TokenFromResponse(response, digest, 1001));
  EXPECT_THAT(TokenFromResponse(response, digest, 1002), StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("nonce")));
  EXPECT_THAT(TokenFromResponse(response, Sha256("another tree head"), 1001),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("another digest")));
  EXPECT_THAT(TokenFromResponse("not a response", digest, 1001), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(TokenFromResponse(response, "short", 1001), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeTimestampRequest("short", 1), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(VerifyTimestampToken, RejectsAnotherDigest) {
  TestPki pki;
  TestLeaf tsa = pki.Issue(TsaOptions(KeyType::kP256), "tsa");
  auto authority = MakeTsa(pki, tsa, FakeNow(pki));
  ASSERT_NE(authority, nullptr);
  const std::string token = TokenOrDie(*authority, Sha256(kTreeHead));
  ExpectFailure(VerifyTimestampToken(token, Sha256(kTreeHead + "x"), pki.Trust()).status(),
                absl::StatusCode::kUnauthenticated, VerifyFailure::kContentMismatch, "another digest");
  ExpectFailure(VerifyTimestampToken(token, "short", pki.Trust()).status(), absl::StatusCode::kInvalidArgument,
                VerifyFailure::kMalformed, "32 bytes");
}

TEST(VerifyTimestampToken, RejectsATsaWhoseRootIsNotTrusted) {
  TestPki pki;
  TestPki other;
  TestLeaf foreign = other.Issue(TsaOptions(KeyType::kP256), "tsa");
  auto authority = MakeTsa(other, foreign, FakeNow(other));
  ASSERT_NE(authority, nullptr);
  const std::string token = TokenOrDie(*authority, Sha256(kTreeHead));
  ASSERT_OK(VerifyTimestampToken(token, Sha256(kTreeHead), other.Trust()));
  const absl::Status status = VerifyTimestampToken(token, Sha256(kTreeHead), pki.Trust()).status();
  ExpectFailure(status, absl::StatusCode::kUnauthenticated, VerifyFailure::kUntrusted, "TSA certificate");
}

TEST(VerifyTimestampToken, RejectsAlteredTokens) {
  TestPki pki;
  TestLeaf tsa = pki.Issue(TsaOptions(KeyType::kP256), "tsa");
  auto authority = MakeTsa(pki, tsa, FakeNow(pki));
  ASSERT_NE(authority, nullptr);
  const std::string digest = Sha256(kTreeHead);
  const std::string token = TokenOrDie(*authority, digest);
  ASSERT_OK(VerifyTimestampToken(token, digest, pki.Trust()));

  // genTime moved by a second inside the signed TSTInfo.
  const std::string gen_time = absl::FormatTime("%Y%m%d%H%M%SZ", FakeNow(pki), absl::UTCTimeZone());
  const size_t at = token.find(gen_time);
  ASSERT_NE(at, std::string::npos);
  std::string later = token;
  later[at + 13] = static_cast<char>(later[at + 13] == '9' ? '8' : later[at + 13] + 1);
  ExpectFailure(VerifyTimestampToken(later, digest, pki.Trust()).status(), absl::StatusCode::kUnauthenticated,
                VerifyFailure::kBadSignature, "signature does not verify");

  // The last byte is in the signature value.
  std::string bad_signature = token;
  bad_signature.back() ^= 0x01;
  EXPECT_THAT(VerifyTimestampToken(bad_signature, digest, pki.Trust()),
              StatusIs(absl::StatusCode::kUnauthenticated));

  // A flipped outer tag, truncation, trailing bytes, garbage.
  std::string bad_tag = token;
  bad_tag[0] ^= 0x01;
  for (const std::string& broken : {bad_tag, token.substr(0, token.size() / 2), token + std::string(1, '\0'), std::string("junk")}) {
    ExpectFailure(VerifyTimestampToken(broken, digest, pki.Trust()).status(), absl::StatusCode::kInvalidArgument,
                  VerifyFailure::kMalformed, "cannot be read");
    EXPECT_THAT(TimestampTokenTime(broken), StatusIs(absl::StatusCode::kInvalidArgument));
  }

  // Every single flipped byte is caught, one way or another.
  for (size_t i = 0; i < token.size(); i += 7) {
    std::string flipped = token;
    flipped[i] ^= 0x20;
    auto verified = VerifyTimestampToken(flipped, digest, pki.Trust());
    // The outer SignedData digestAlgorithms and version are not signed, and a
    // change there may leave a token that still verifies: then it must still
    // say exactly what the original said.
    if (verified.ok()) {
      EXPECT_EQ(verified->gen_time, WholeSeconds(FakeNow(pki))) << "byte " << i;
      EXPECT_EQ(verified->tsa.der(), tsa.cert.der()) << "byte " << i;
    }
  }
}

TEST(VerifyTimestampToken, ValidatesTheTsaCertificateAtGenTime) {
  // A PKI from 400 days ago whose TSA certificate lived for 30 days and was
  // revoked after it had made the token: today the certificate has long
  // expired, and the token still verifies.
  const absl::Time then = absl::Now() - absl::Hours(24 * 400);
  TestPki pki(then);
  TestLeaf tsa = pki.Issue({.key_type = KeyType::kP256,
                            .profile = CertificateProfile::kTimestamping,
                            .name = "TSA 000.00.00.A00",
                            .agency_id = "000.00.00.A00",
                            .person_login = "",
                            .valid_from = absl::Hours(-24),
                            .valid_for = absl::Hours(24 * 30)},
                           "tsa");
  ASSERT_LT(tsa.cert.NotAfter(), absl::Now() - absl::Hours(24 * 300));
  auto authority = MakeTsa(pki, tsa, then);
  ASSERT_NE(authority, nullptr);
  const std::string digest = Sha256(kTreeHead);
  const std::string token = TokenOrDie(*authority, digest);
  pki.Revoke(tsa.cert, then + absl::Hours(24));

  ASSERT_OK_AND_ASSIGN(VerifiedTimestamp verified, VerifyTimestampToken(token, digest, pki.Trust(true)));
  EXPECT_EQ(verified.gen_time, WholeSeconds(then));
  EXPECT_TRUE(verified.revocation_checked);
  // openssl agrees when told the time; at today's time it does not.
  WriteTestFile(pki.dir() + "/token.der", token);
  std::vector<std::string> args = {"ts", "-verify", "-token_in", "-in", pki.dir() + "/token.der", "-digest",
                                   HexEncode(digest), "-CAfile", pki.root_path()};
  EXPECT_NE(OpenSsl(args).exit_code, 0);
  args.insert(args.end(), {"-attime", std::to_string(absl::ToUnixSeconds(then))});
  RunResult at_then = OpenSsl(args);
  EXPECT_EQ(at_then.exit_code, 0) << at_then.out << at_then.err;

  // A token made after the certificate expired, or after it was revoked, does not verify.
  auto late = MakeTsa(pki, tsa, tsa.cert.NotAfter() + absl::Hours(1));
  ASSERT_NE(late, nullptr);
  ExpectFailure(VerifyTimestampToken(TokenOrDie(*late, digest), digest, pki.Trust()).status(),
                absl::StatusCode::kUnauthenticated, VerifyFailure::kExpired, "");
  auto after_revocation = MakeTsa(pki, tsa, then + absl::Hours(48));
  ASSERT_NE(after_revocation, nullptr);
  ExpectFailure(VerifyTimestampToken(TokenOrDie(*after_revocation, digest), digest, pki.Trust(true)).status(),
                absl::StatusCode::kUnauthenticated, VerifyFailure::kRevoked, "");
}

TEST(TimestampAuthorityCreate, RefusesACertificateWithoutTimeStampingEku) {
  TestPki pki;
  TestLeaf seal = pki.Issue({.profile = CertificateProfile::kSeal, .name = "UBND", .person_login = ""}, "seal");
  EXPECT_THAT(TimestampAuthority::Create({.certificate = seal.cert, .key_file = seal.key_path}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("timeStamping")));
  TestLeaf tls = pki.Issue({.profile = CertificateProfile::kNodeTls, .name = "000.00.00.H49", .person_login = ""},
                           "tls");
  EXPECT_THAT(TimestampAuthority::Create({.certificate = tls.cert, .key_file = tls.key_path}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("timeStamping")));
}

TEST(TimestampAuthorityCreate, ChecksTheKeyAndTheOptions) {
  TestPki pki;
  TestLeaf tsa = pki.Issue(TsaOptions(KeyType::kP256), "tsa");
  TestLeaf other = pki.Issue(TsaOptions(KeyType::kP256), "other");
  EXPECT_THAT(TimestampAuthority::Create({.certificate = tsa.cert, .key_file = other.key_path}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("does not belong")));
  EXPECT_THAT(TimestampAuthority::Create({.certificate = tsa.cert, .key_file = pki.dir() + "/missing.key"}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(TimestampAuthority::Create({.certificate = tsa.cert, .key_file = tsa.cert_path}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a private key")));
  EXPECT_THAT(TimestampAuthority::Create({.certificate = tsa.cert, .key_file = tsa.key_path, .policy = "ETSI"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("OID")));
  EXPECT_THAT(TimestampAuthority::Create(
                  {.certificate = tsa.cert, .key_file = tsa.key_path, .accuracy = absl::Seconds(-1)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("accuracy")));
}

TEST(TimestampAuthorityCreate, ReadsDerAndEncryptedKeys) {
  TestPki pki;
  TestLeaf tsa = pki.Issue(TsaOptions(KeyType::kRsa2048), "tsa");
  const std::string der = pki.dir() + "/tsa.der";
  const std::string encrypted = pki.dir() + "/tsa-enc.pem";
  const std::string encrypted_der = pki.dir() + "/tsa-enc.der";
  const std::string pass = pki.dir() + "/pass";
  const std::string wrong = pki.dir() + "/wrong";
  WriteTestFile(pass, "đúng mật khẩu\n");
  WriteTestFile(wrong, "sai\n");
  ASSERT_EQ(OpenSsl({"pkey", "-in", tsa.key_path, "-outform", "DER", "-out", der}).exit_code, 0);
  ASSERT_EQ(OpenSsl({"pkcs8", "-topk8", "-in", tsa.key_path, "-v2", "aes-256-cbc", "-passout", "file:" + pass,
                     "-out", encrypted})
                .exit_code,
            0);
  ASSERT_EQ(OpenSsl({"pkcs8", "-topk8", "-in", tsa.key_path, "-v2", "aes-256-cbc", "-passout", "file:" + pass,
                     "-outform", "DER", "-out", encrypted_der})
                .exit_code,
            0);
  const std::string digest = Sha256(kTreeHead);
  for (const std::string& file : {der, encrypted, encrypted_der}) {
    auto authority = TimestampAuthority::Create({.certificate = tsa.cert,
                                                 .chain = {pki.issuing()},
                                                 .key_file = file,
                                                 .passphrase = {.file = pass}});
    ASSERT_THAT(authority, ::congvan::testing::IsOk()) << file;
    EXPECT_OK(VerifyTimestampToken(TokenOrDie(**authority, digest), digest, pki.Trust())) << file;
  }
  for (const std::string& file : {encrypted, encrypted_der}) {
    EXPECT_THAT(TimestampAuthority::Create({.certificate = tsa.cert, .key_file = file}),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("passphrase")))
        << file;
    EXPECT_THAT(TimestampAuthority::Create({.certificate = tsa.cert, .key_file = file, .passphrase = {.file = wrong}}),
                StatusIs(absl::StatusCode::kPermissionDenied))
        << file;
  }
}

TEST(TimestampAuthority, OmitsAccuracyWhenZero) {
  TestPki pki;
  TestLeaf tsa = pki.Issue(TsaOptions(KeyType::kP256), "tsa");
  ASSERT_OK_AND_ASSIGN(auto authority, TimestampAuthority::Create({.certificate = tsa.cert,
                                                                   .key_file = tsa.key_path,
                                                                   .accuracy = absl::ZeroDuration()}));
  ASSERT_OK_AND_ASSIGN(std::string request, MakeTimestampRequest(Sha256(kTreeHead), 5));
  ASSERT_OK_AND_ASSIGN(std::string response, authority->Respond(request));
  WriteTestFile(pki.dir() + "/resp.tsr", response);
  RunResult text = OpenSsl({"ts", "-reply", "-in", pki.dir() + "/resp.tsr", "-text"});
  EXPECT_THAT(text.out, HasSubstr("Accuracy: unspecified"));
  EXPECT_THAT(text.out, Not(HasSubstr("Accuracy: 0x")));
  // The default clock is the wall clock.
  ASSERT_OK_AND_ASSIGN(std::string token, TokenFromResponse(response, Sha256(kTreeHead), 5));
  ASSERT_OK_AND_ASSIGN(absl::Time gen_time, TimestampTokenTime(token));
  EXPECT_LE(absl::AbsDuration(gen_time - absl::Now()), absl::Minutes(5));
}

}  // namespace
}  // namespace congvan::signer
