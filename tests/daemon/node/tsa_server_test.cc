// TsaServer over real HTTPS on 127.0.0.1 with mutual TLS from a test PKI:
// curl as the independent client and `openssl ts` as the independent
// verifier, the HTTP refusals, the handshake refusal of a client without a
// certificate, and PostTimestampRequest against it and against nothing.
#include "congvan/node/tsa_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/time/clock.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/timestamp.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/test_pki.h"

namespace congvan::node {
namespace {

using ::congvan::testing::ReadTestFile;
using ::congvan::testing::RunResult;
using ::congvan::testing::StatusIs;
using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const std::string kTreeHead = "congvan tree head v1\n000.00.00.H49\nsize 17\n";

// A root agency's TSA and node TLS certificates, a second node's TLS
// certificate, and the TSA serving on 127.0.0.1 with port 0.
class TsaServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto authority = signer::TimestampAuthority::Create(
        {.certificate = tsa_leaf_.cert, .chain = {pki_.issuing()}, .key_file = tsa_leaf_.key_path});
    ASSERT_THAT(authority, ::congvan::testing::IsOk());
    authority_ = *std::move(authority);
    auto server = TsaServer::Start({"127.0.0.1", 0}, ServerTls(), *authority_);
    ASSERT_THAT(server, ::congvan::testing::IsOk());
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
    WriteTestFile(File("tree-head.txt"), kTreeHead);
    RunResult q = ::congvan::testing::Run(
        {"openssl", "ts", "-query", "-data", File("tree-head.txt"), "-sha256", "-cert", "-out", File("req.tsq")});
    ASSERT_EQ(q.exit_code, 0) << q.err;
  }

  std::string File(const std::string& name) const { return pki_.dir() + "/" + name; }
  TlsFiles ServerTls() const { return {server_tls_.cert_path, server_tls_.key_path, {pki_.root_path()}}; }
  std::string Url(const std::string& path = "/") const {
    return "https://127.0.0.1:" + std::to_string(server_->port()) + path;
  }
  TsaClientOptions Client(const std::string& path = "/") const {
    return {.url = Url(path), .cert_file = client_tls_.cert_path, .key_file = client_tls_.key_path,
            .ca_file = pki_.root_path()};
  }

  // curl with the client certificate (unless `extra` replaces it): the status
  // and content type on the first line of out, the body in `body_file`.
  RunResult Curl(const std::vector<std::string>& extra, const std::string& path = "/",
                 bool with_client_cert = true) {
    std::vector<std::string> argv = {"curl", "-s", "-S", "--cacert", pki_.root_path(), "-o", File("body"), "-w",
                                     "%{http_code} %{content_type}\n"};
    if (with_client_cert) argv.insert(argv.end(), {"--cert", client_tls_.cert_path, "--key", client_tls_.key_path});
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(Url(path));
    return ::congvan::testing::Run(argv);
  }

  TestPki pki_;
  TestLeaf tsa_leaf_ = pki_.Issue({.profile = signer::CertificateProfile::kTimestamping,
                                   .name = "TSA 000.00.00.A00",
                                   .agency_id = "000.00.00.A00",
                                   .person_login = ""},
                                  "tsa");
  TestLeaf server_tls_ = pki_.Issue({.profile = signer::CertificateProfile::kNodeTls,
                                     .name = "000.00.00.A00",
                                     .agency_id = "000.00.00.A00",
                                     .person_login = ""},
                                    "root-tls");
  TestLeaf client_tls_ = pki_.Issue({.profile = signer::CertificateProfile::kNodeTls,
                                     .name = "000.00.00.H49",
                                     .agency_id = "000.00.00.H49",
                                     .person_login = ""},
                                    "h49-tls");
  std::unique_ptr<signer::TimestampAuthority> authority_;
  std::unique_ptr<TsaServer> server_;
};

TEST_F(TsaServerTest, AnswersCurlWithAReplyThatOpenSslVerifies) {
  for (const std::string path : {"/", "/tsa"}) {
    RunResult r = Curl({"-H", "Content-Type: application/timestamp-query", "--data-binary", "@" + File("req.tsq")},
                       path);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "200 application/timestamp-reply\n") << path;
    RunResult verify = ::congvan::testing::Run({"openssl", "ts", "-verify", "-in", File("body"), "-queryfile",
                                                File("req.tsq"), "-CAfile", pki_.root_path()});
    EXPECT_EQ(verify.exit_code, 0) << path << ": " << verify.out << verify.err;
    verify = ::congvan::testing::Run({"openssl", "ts", "-verify", "-in", File("body"), "-data", File("tree-head.txt"),
                                      "-CAfile", pki_.root_path(), "-untrusted", tsa_leaf_.cert_path});
    EXPECT_EQ(verify.exit_code, 0) << path << ": " << verify.out << verify.err;
    EXPECT_THAT(verify.out, HasSubstr("Verification: OK"));
  }
}

TEST_F(TsaServerTest, RefusesAClientWithoutACertificateAtTheHandshake) {
  RunResult r = Curl({"-H", "Content-Type: application/timestamp-query", "--data-binary", "@" + File("req.tsq")}, "/",
                     /*with_client_cert=*/false);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.out, StartsWith("000"));  // no HTTP response at all
  // In TLS 1.2 the server refuses before the handshake completes.
  RunResult s = ::congvan::testing::Run({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(server_->port()),
                                         "-tls1_2", "-CAfile", pki_.root_path(), "-verify_return_error"},
                                        {}, "GET / HTTP/1.0\r\n\r\n");
  EXPECT_NE(s.exit_code, 0) << s.out;
  EXPECT_THAT(s.err, HasSubstr("alert handshake failure"));
  EXPECT_THAT(s.out, Not(HasSubstr("HTTP/1.")));
}

TEST_F(TsaServerTest, RefusesAClientCertificateFromAnotherPki) {
  TestPki other;
  TestLeaf stranger = other.Issue({.profile = signer::CertificateProfile::kNodeTls,
                                   .name = "000.00.00.H49",
                                   .agency_id = "000.00.00.H49",
                                   .person_login = ""},
                                  "stranger");
  RunResult r = Curl({"--cert", stranger.cert_path, "--key", stranger.key_path, "-H",
                      "Content-Type: application/timestamp-query", "--data-binary", "@" + File("req.tsq")},
                     "/", /*with_client_cert=*/false);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.out, StartsWith("000"));
  EXPECT_THAT(PostTimestampRequest({.url = Url(), .cert_file = stranger.cert_path, .key_file = stranger.key_path,
                                    .ca_file = pki_.root_path()},
                                   ReadTestFile(File("req.tsq"))),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(TsaServerTest, AnswersOtherContentTypesWith415) {
  for (const std::vector<std::string>& headers : std::vector<std::vector<std::string>>{
           {"-H", "Content-Type: application/octet-stream"}, {}, {"-H", "Content-Type: application/timestamp-reply"}}) {
    std::vector<std::string> args = headers;
    args.insert(args.end(), {"--data-binary", "@" + File("req.tsq")});
    RunResult r = Curl(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, StartsWith("415 text/plain"));
    EXPECT_THAT(ReadTestFile(File("body")), HasSubstr("application/timestamp-query"));
  }
  // Media types are case-insensitive and may carry parameters.
  RunResult r = Curl({"-H", "Content-Type: Application/Timestamp-Query; charset=binary", "--data-binary",
                      "@" + File("req.tsq")});
  EXPECT_THAT(r.out, StartsWith("200 application/timestamp-reply"));
}

TEST_F(TsaServerTest, AnswersOtherPathsWith404AndOtherMethodsWith405) {
  const std::vector<std::string> query = {"-H", "Content-Type: application/timestamp-query", "--data-binary",
                                          "@" + File("req.tsq")};
  for (const std::string path : {"/x", "/tsa/", "/metrics", "/tsax"}) {
    RunResult r = Curl(query, path);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, StartsWith("404 ")) << path;
  }
  for (const std::string method : {"GET", "PUT", "DELETE"}) {
    RunResult r = Curl({"-X", method, "-i"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, StartsWith("405 ")) << method;
    EXPECT_THAT(ReadTestFile(File("body")), HasSubstr("Allow: POST"));
  }
}

TEST_F(TsaServerTest, AnswersBodiesOver64KiBWith413AndNeedsALength) {
  WriteTestFile(File("big"), std::string(kMaxTimestampRequestBytes + 1, '\x30'));
  WriteTestFile(File("limit"), std::string(kMaxTimestampRequestBytes, '\x30'));
  RunResult r = Curl({"-H", "Content-Type: application/timestamp-query", "--data-binary", "@" + File("big")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("413 "));
  // Without "Expect: 100-continue" the body is on its way anyway.
  r = Curl({"-H", "Content-Type: application/timestamp-query", "-H", "Expect:", "--data-binary", "@" + File("big")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("413 "));
  // 64 KiB is read, and answered with a rejection: it is no TimeStampReq.
  r = Curl({"-H", "Content-Type: application/timestamp-query", "--data-binary", "@" + File("limit")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("200 application/timestamp-reply"));
  EXPECT_THAT(signer::TokenFromResponse(ReadTestFile(File("body")), signer::Sha256(kTreeHead), 1),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("badDataFormat")));
  // A chunked body has no length to check before reading it.
  r = Curl({"-H", "Content-Type: application/timestamp-query", "-H", "Transfer-Encoding: chunked", "--data-binary",
            "@" + File("req.tsq")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("411 "));
}

TEST_F(TsaServerTest, PostTimestampRequestRoundTrips) {
  const std::string digest = signer::Sha256(kTreeHead);
  ASSERT_OK_AND_ASSIGN(std::string request, signer::MakeTimestampRequest(digest, 0x1234567890ull));
  ASSERT_OK_AND_ASSIGN(std::string response, PostTimestampRequest(Client(), request));
  ASSERT_OK_AND_ASSIGN(std::string token, signer::TokenFromResponse(response, digest, 0x1234567890ull));
  ASSERT_OK_AND_ASSIGN(signer::VerifiedTimestamp verified, signer::VerifyTimestampToken(token, digest, pki_.Trust()));
  EXPECT_EQ(verified.tsa.der(), tsa_leaf_.cert.der());
  EXPECT_LE(absl::AbsDuration(verified.gen_time - absl::Now()), absl::Minutes(5));
  // /tsa too; a path the server does not serve is an answer other than 200.
  EXPECT_OK(PostTimestampRequest(Client("/tsa"), request));
  EXPECT_THAT(PostTimestampRequest(Client("/nothing"), request),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("HTTP 404")));
}

TEST_F(TsaServerTest, PostTimestampRequestChecksTheServerCertificate) {
  TestPki other;
  TsaClientOptions options = Client();
  options.ca_file = other.root_path();
  EXPECT_THAT(PostTimestampRequest(options, "x"), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("certificate does not verify")));
  // The certificate names 127.0.0.1 and localhost, not another name.
  options = Client();
  options.url = "https://localhost:" + std::to_string(server_->port()) + "/";
  EXPECT_OK(PostTimestampRequest(options, "x"));
}

TEST_F(TsaServerTest, PostTimestampRequestIsUnavailableWhereNobodyListens) {
  // A bound socket that does not listen: connections to its port are refused.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  TsaClientOptions options = Client();
  options.url = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  EXPECT_THAT(PostTimestampRequest(options, "x"),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("cannot reach the time-stamping authority")));
  // A socket that accepts connections and never answers: the timeout ends it.
  ASSERT_EQ(listen(fd, 4), 0);
  options.timeout = absl::Milliseconds(300);
  const absl::Time start = absl::Now();
  EXPECT_THAT(PostTimestampRequest(options, "x"), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  close(fd);
}

TEST_F(TsaServerTest, PostTimestampRequestRefusesBadUrlsAndMissingFiles) {
  for (const std::string url : {"http://127.0.0.1:1/", "127.0.0.1:443", "https://", "https://:443/",
                                "https://127.0.0.1:0/", "https://127.0.0.1:x/", "https://[::1/"}) {
    TsaClientOptions options = Client();
    options.url = url;
    EXPECT_THAT(PostTimestampRequest(options, "x"), StatusIs(absl::StatusCode::kInvalidArgument)) << url;
  }
  TsaClientOptions options = Client();
  options.key_file = File("missing.key");
  EXPECT_THAT(PostTimestampRequest(options, "x"), StatusIs(absl::StatusCode::kNotFound));
  options = Client();
  options.key_file = tsa_leaf_.key_path;  // another certificate's key
  EXPECT_THAT(PostTimestampRequest(options, "x"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(TsaServerTest, StartChecksTheTlsFilesAndThePort) {
  TlsFiles tls = ServerTls();
  tls.private_key = File("missing.key");
  EXPECT_THAT(TsaServer::Start({"127.0.0.1", 0}, tls, *authority_), StatusIs(absl::StatusCode::kNotFound));
  tls = ServerTls();
  tls.private_key = client_tls_.key_path;  // not the certificate's key
  EXPECT_THAT(TsaServer::Start({"127.0.0.1", 0}, tls, *authority_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not belong")));
  tls = ServerTls();
  tls.anchors = {};
  EXPECT_THAT(TsaServer::Start({"127.0.0.1", 0}, tls, *authority_), StatusIs(absl::StatusCode::kInvalidArgument));
  tls = ServerTls();
  WriteTestFile(File("open.key"), ReadTestFile(server_tls_.key_path));
  chmod(File("open.key").c_str(), 0644);
  tls.private_key = File("open.key");
  EXPECT_THAT(TsaServer::Start({"127.0.0.1", 0}, tls, *authority_), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(TsaServer::Start({"127.0.0.1", server_->port()}, ServerTls(), *authority_),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("127.0.0.1:" + std::to_string(server_->port()))));
}

TEST_F(TsaServerTest, StopsPromptlyAndTwice) {
  const std::string url = Url();
  server_->Stop();
  server_->Stop();
  TsaClientOptions options = Client();
  options.url = url;
  EXPECT_THAT(PostTimestampRequest(options, "x"), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace congvan::node
