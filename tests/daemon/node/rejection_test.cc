// Bad input at a real node: each case gets its own gRPC code and a message a
// clerk or an operator can act on, and stores nothing (the registers do not
// move and no inbox fills). A test peer speaks NodeService with a real
// node's TLS identity to craft what a broken or hostile peer would send.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "absl/random/random.h"
#include "congvan/config/node_config.h"
#include "congvan/config/profile.h"
#include "congvan/node/documents.h"
#include "congvan/node/tls.h"
#include "congvan/v1/node.grpc.pb.h"
#include "congvan/node/trace.h"
#include "testing/cluster.h"
#include "testing/status_matchers.h"
#include "testing/test_pki.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::RunResult;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

constexpr char kHongGai[] = "000.01.01.H49";
constexpr char kHaLong[] = "000.00.01.H49";
constexpr char kBaiChay[] = "000.02.01.H49";
constexpr char kHanoi[] = "000.00.00.H29";
constexpr char kAxis[] = "000.00.00.A00";  // the root, where the auditor works
const std::string kMain = "%PDF-1.7 Công văn số 9";

class RejectionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster();
    cluster_->Start(kHongGai);
    cluster_->Start(kHaLong);
    cluster_->Start(kAxis);
    WriteTestFile(cluster_->File("main.pdf"), kMain);
    Sign("leader-honggai", "main.pdf.p7s", /*token=*/true);
    Sign("clerk-honggai", "clerk.p7s", false);
  }
  static void TearDownTestSuite() { delete cluster_; }

  static void Sign(const std::string& login, const std::string& out, bool token) {
    const std::string dir = cluster_->Person(login);
    std::vector<std::string> args = {"sign", "--cert", dir + "/sign.pem", "--in", cluster_->File("main.pdf"), "--out",
                                     cluster_->File(out)};
    const std::vector<std::string> key = token ? std::vector<std::string>{"--token-config", dir + "/token.toml"}
                                               : std::vector<std::string>{"--key", dir + "/sign.key"};
    args.insert(args.end(), key.begin(), key.end());
    ASSERT_EQ(cluster_->Congvan("", args).exit_code, 0);
  }

  static RunResult Send(const std::string& login, std::vector<std::string> extra) {
    std::vector<std::string> args = {"send", "--subject", "Thử", "--type", "Công văn", "--notation", "9/UBND",
                                     "--file", cluster_->File("main.pdf")};
    args.insert(args.end(), extra.begin(), extra.end());
    return cluster_->Congvan(login, args);
  }

  // A NodeService stub that authenticates as the node of `agency`.
  static std::unique_ptr<v1::NodeService::Stub> PeerStub(const std::string& agency, const std::string& target) {
    auto credentials = MakeChannelCredentials({cluster_->dir() + "/agencies/" + agency + "/tls.pem",
                                               cluster_->dir() + "/agencies/" + agency + "/tls.key",
                                               {cluster_->Root()}});
    EXPECT_OK(credentials);
    auto config = config::LoadNodeConfig(cluster_->NodeConfig(target));
    EXPECT_OK(config);
    return v1::NodeService::NewStub(grpc::CreateChannel(config->listen.peers.ToString(), *credentials));
  }

  // An envelope for `main` as `from` would issue it, sealed with `seal_agency`'s seal.
  static v1::Envelope Envelope(const std::string& from, const std::string& seal_agency, const std::string& main) {
    const std::string seal_dir = cluster_->dir() + "/agencies/" + seal_agency;
    auto key = signer::LoadKeyFile(seal_dir + "/seal.key");
    EXPECT_OK(key);
    auto certs = signer::LoadCertificates(seal_dir + "/seal.pem");
    EXPECT_OK(certs);
    SealCredentials seal{key->get(), certs->front(), {certs->begin() + 1, certs->end()}};
    v1::SendHeader request;
    request.add_recipients(kHaLong);
    request.set_subject("Thử");
    request.set_document_type("Công văn");
    request.set_notation("9/UBND");
    v1::PartSpec* part = request.add_parts();
    part->set_name("main.pdf");
    part->set_media_type("application/pdf");
    part->set_size(main.size());
    part->set_sha256(signer::Sha256(main));
    part->set_main(true);
    const std::string leader_sig = ::congvan::testing::ReadTestFile(cluster_->File("main.pdf.p7s"));
    v1::SignerInfo signer;
    signer.set_person_login("leader-honggai");
    signer.set_agency_id(kHongGai);
    signer.set_signature_sha256(signer::Sha256(leader_sig));
    absl::BitGen random;
    Issuance issuance{NewMessageId(absl::Now(), random), from, "x", {}, {signer}};
    issuance.registration.set_year(2026);
    issuance.registration.set_number(99);
    const v1::DocumentHeader header = BuildHeader(request, issuance);
    auto sealed = Seal(v1::MESSAGE_KIND_DOCUMENT, header.SerializeAsString(), seal, absl::Now());
    EXPECT_OK(sealed);
    v1::Envelope envelope;
    *envelope.add_trace() = SenderTraceEntry(header);
    *envelope.mutable_document() = *sealed;
    envelope.add_leader_signatures(leader_sig);
    envelope.add_serve(kHaLong);
    return envelope;
  }

  // Delivers `envelope` and then `chunks` of part 0 to Hạ Long as `as`.
  static grpc::Status Deliver(const std::string& as, const v1::Envelope& envelope, std::vector<std::string> chunks) {
    auto stub = PeerStub(as, kHaLong);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::DeliverResponse response;
    auto writer = stub->Deliver(&context, &response);
    v1::DeliverRequest first;
    *first.mutable_envelope() = envelope;
    writer->Write(first);
    for (const std::string& data : chunks) {
      v1::DeliverRequest chunk;
      chunk.mutable_chunk()->set_part(0);
      chunk.mutable_chunk()->set_data(data);
      if (!writer->Write(chunk)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  static void ExpectNothingDelivered() {
    RunResult inbox = cluster_->Congvan("clerk-halong", {"inbox", "--json"});
    ASSERT_EQ(inbox.exit_code, 0) << inbox.err;
    EXPECT_EQ(nlohmann::json::parse(inbox.out).size(), 0u) << inbox.out;
  }

  static Cluster* cluster_;
};

Cluster* RejectionTest::cluster_ = nullptr;

TEST_F(RejectionTest, ClerkInputErrorsStoreNothing) {
  struct Case {
    std::string login;
    std::vector<std::string> args;
    std::string words;
  };
  const std::vector<Case> cases = {
      {"clerk-honggai", {"--to", kHaLong}, "no leader signature"},
      {"clerk-honggai", {"--to", kHaLong, "--leader-sig", cluster_->File("main.pdf")}, "leader signature 1"},
      {"clerk-honggai", {"--to", kHaLong, "--leader-sig", cluster_->File("clerk.p7s")}, "does not hold the leader role"},
      {"leader-honggai", {"--to", kHaLong, "--leader-sig", cluster_->File("main.pdf.p7s")}, "needs the clerk role"},
      {"auditor-a00", {"--to", kHaLong, "--leader-sig", cluster_->File("main.pdf.p7s")}, "needs the clerk role"},
      {"clerk-honggai", {"--to", "000.00.00.H99", "--leader-sig", cluster_->File("main.pdf.p7s")},
       "not a known agency"},
  };
  for (const Case& c : cases) {
    RunResult r = Send(c.login, c.args);
    EXPECT_EQ(r.exit_code, 1) << c.words;
    EXPECT_THAT(r.err, HasSubstr(c.words)) << r.err;
  }
  // No number was consumed: the first valid document is number 1.
  RunResult ok = Send("clerk-honggai", {"--to", kBaiChay, "--leader-sig", cluster_->File("main.pdf.p7s"), "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(nlohmann::json::parse(ok.out)["number"], 1);
}

TEST_F(RejectionTest, OversizedDocumentIsResourceExhausted) {
  auto profile = config::LoadProfile(cluster_->Profile("clerk-honggai"));
  ASSERT_OK(profile);
  auto credentials = MakeChannelCredentials({profile->tls.cert_file, profile->tls.key_file, profile->trust.anchor_files});
  ASSERT_OK(credentials);
  auto stub = v1::ClerkService::NewStub(grpc::CreateChannel(profile->node.ToString(), *credentials));
  grpc::ClientContext context;
  v1::SendResponse response;
  auto writer = stub->Send(&context, &response);
  v1::SendRequest first;
  v1::SendHeader* header = first.mutable_header();
  header->add_recipients(kHaLong);
  header->set_subject("Quá lớn");
  header->set_document_type("Công văn");
  header->set_notation("1/UBND");
  v1::PartSpec* part = header->add_parts();
  part->set_name("huge.pdf");
  part->set_media_type("application/pdf");
  part->set_size(uint64_t{3} << 30);
  part->set_sha256(std::string(32, 'x'));
  part->set_main(true);
  header->add_leader_signatures(::congvan::testing::ReadTestFile(cluster_->File("main.pdf.p7s")));
  writer->Write(first);
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("larger than the limit"));
}

TEST_F(RejectionTest, PeerStreamErrors) {
  // A part whose bytes do not match the header's digest.
  grpc::Status mismatch = Deliver(kHongGai, Envelope(kHongGai, kHongGai, kMain), {"%PDF-1.7 Công văn số 8"});
  EXPECT_EQ(mismatch.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << mismatch.error_message();
  // The byte counts differ too; either way the content is refused.
  EXPECT_THAT(mismatch.error_message(), ::testing::AnyOf(HasSubstr("SHA-256"), HasSubstr("larger than")));

  std::string same_size = kMain;
  same_size.back() ^= 1;
  grpc::Status altered = Deliver(kHongGai, Envelope(kHongGai, kHongGai, kMain), {same_size});
  EXPECT_EQ(altered.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(altered.error_message(), HasSubstr("does not match the SHA-256"));

  // A stream that ends early.
  grpc::Status truncated = Deliver(kHongGai, Envelope(kHongGai, kHongGai, kMain), {kMain.substr(0, 5)});
  EXPECT_EQ(truncated.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(truncated.error_message(), HasSubstr("stream ended before"));

  // A header sealed by one agency that claims another.
  grpc::Status forged = Deliver(kHongGai, Envelope(kHongGai, kBaiChay, kMain), {kMain});
  EXPECT_EQ(forged.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(forged.error_message(), HasSubstr("sealed by " + std::string(kBaiChay)));

  // A path that does not end at the node that delivers it, or skips a relay's statement.
  v1::Envelope detour = Envelope(kHongGai, kHongGai, kMain);
  detour.mutable_trace(0)->set_agency(kBaiChay);
  grpc::Status not_sender = Deliver(kHongGai, detour, {kMain});
  EXPECT_EQ(not_sender.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(not_sender.error_message(), HasSubstr("trace entry 1"));
  v1::Envelope unsigned_hop = Envelope(kHongGai, kHongGai, kMain);
  unsigned_hop.add_trace()->set_agency(kHongGai);
  grpc::Status unsigned_status = Deliver(kHongGai, unsigned_hop, {kMain});
  EXPECT_EQ(unsigned_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(unsigned_status.error_message(), HasSubstr("no signed relay statement"));

  // A peer whose certificate names an agency that is not in this node's directory.
  grpc::Status stranger = Deliver(kHanoi, Envelope(kHongGai, kHongGai, kMain), {kMain});
  EXPECT_EQ(stranger.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(stranger.error_message(), HasSubstr("not a peer of this node"));

  ExpectNothingDelivered();
}

TEST_F(RejectionTest, ARevokedSealIsUnauthenticated) {
  RunResult revoke = cluster_->Congvan("", {"pki", "revoke", "--dir", cluster_->dir(), "--cert",
                                            cluster_->dir() + "/agencies/" + kHongGai + "/seal.pem", "--reason",
                                            "keyCompromise"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  grpc::Status status;
  for (int i = 0; i < 50; ++i) {  // the node reloads its CRL within a second
    status = Deliver(kHongGai, Envelope(kHongGai, kHongGai, kMain), {kMain});
    if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("seal"));
  EXPECT_THAT(status.error_message(), HasSubstr("revoked"));
}

TEST_F(RejectionTest, TlsIdentityErrors) {
  auto config = config::LoadNodeConfig(cluster_->NodeConfig(kHaLong));
  ASSERT_OK(config);
  // No client certificate: the handshake fails.
  grpc::SslCredentialsOptions anonymous;
  anonymous.pem_root_certs = ::congvan::testing::ReadTestFile(cluster_->Root());
  auto stub = v1::NodeService::NewStub(grpc::CreateChannel(config->listen.peers.ToString(), grpc::SslCredentials(anonymous)));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::AnswerResponse response;
  grpc::Status no_cert = stub->Answer(&context, v1::AnswerRequest(), &response);
  EXPECT_EQ(no_cert.error_code(), grpc::StatusCode::UNAVAILABLE) << no_cert.error_message();

  // A certificate from a CA the node does not trust: the handshake fails.
  ::congvan::testing::TestPki other_ca;
  auto stranger = other_ca.Issue({.profile = signer::CertificateProfile::kPersonTls, .agency_id = kHaLong,
                                  .person_login = "clerk-halong"},
                                 "stranger");
  auto stranger_credentials = MakeChannelCredentials({stranger.cert_path, stranger.key_path, {cluster_->Root()}});
  ASSERT_OK(stranger_credentials);
  auto people = v1::ClerkService::NewStub(grpc::CreateChannel(config->listen.people.ToString(), *stranger_credentials));
  grpc::ClientContext stranger_context;
  stranger_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::InboxResponse inbox;
  grpc::Status untrusted = people->Inbox(&stranger_context, v1::InboxRequest(), &inbox);
  EXPECT_EQ(untrusted.error_code(), grpc::StatusCode::UNAVAILABLE) << untrusted.error_message();

  // A person's certificate on the peers' port.
  auto person = MakeChannelCredentials({cluster_->Person("clerk-halong") + "/tls.pem",
                                        cluster_->Person("clerk-halong") + "/tls.key", {cluster_->Root()}});
  ASSERT_OK(person);
  auto person_stub = v1::NodeService::NewStub(grpc::CreateChannel(config->listen.peers.ToString(), *person));
  grpc::ClientContext person_context;
  grpc::Status wrong_port = person_stub->Answer(&person_context, v1::AnswerRequest(), &response);
  EXPECT_EQ(wrong_port.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(wrong_port.error_message(), HasSubstr("person's certificate"));

  // A revoked TLS certificate, once the node has reloaded the CRL.
  RunResult revoke = cluster_->Congvan("", {"pki", "revoke", "--dir", cluster_->dir(), "--cert",
                                            cluster_->Person("clerk-halong") + "/tls.pem"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  RunResult after;
  for (int i = 0; i < 50; ++i) {
    after = cluster_->Congvan("clerk-halong", {"inbox"});
    if (after.exit_code != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(after.exit_code, 1);
  EXPECT_THAT(after.err, HasSubstr("revoked"));
}

}  // namespace
}  // namespace congvan::node
