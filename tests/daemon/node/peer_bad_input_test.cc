// What a broken or hostile peer can send a real node on its peers port, and
// what it gets back (tests/SECURITY.md, the peer rows): Deliver streams in
// the wrong shape or order, envelopes that serve nobody or route back to
// their sender, replays, answers that are not what they claim, and witness
// calls from nodes that are not children. A test peer speaks NodeService and
// WitnessService with the TLS identity `pki init` gave a real agency, and
// seals with that agency's seal. Nothing refused is filed.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "absl/random/random.h"
#include "congvan/config/node_config.h"
#include "congvan/node/documents.h"
#include "congvan/node/tls.h"
#include "congvan/node/trace.h"
#include "congvan/signer/cms.h"
#include "congvan/v1/audit.grpc.pb.h"
#include "congvan/v1/node.grpc.pb.h"
#include "testing/cluster.h"
#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::RunResult;
using ::testing::HasSubstr;

constexpr char kHongGai[] = "000.01.01.H49";  // a child of Hạ Long
constexpr char kHaLong[] = "000.00.01.H49";   // the node under test
constexpr char kBaiChay[] = "000.02.01.H49";  // another child, the sender of the documents below
constexpr char kProvince[] = "000.00.00.H49";  // Hạ Long's parent
constexpr char kHanoi[] = "000.00.00.H29";     // not a peer of Hạ Long

// An agency's seal, as its node holds it.
struct SealOf {
  std::unique_ptr<signer::KeyBackend> key;
  std::vector<signer::Certificate> certs;
  SealCredentials credentials() const { return {key.get(), certs.front(), {certs.begin() + 1, certs.end()}}; }
};

class PeerBadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster();
    cluster_->Start(kHaLong);
  }
  static void TearDownTestSuite() { delete cluster_; }

  static SealOf Seal(const std::string& agency) {
    const std::string dir = cluster_->dir() + "/agencies/" + agency;
    SealOf seal;
    auto key = signer::LoadKeyFile(dir + "/seal.key");
    EXPECT_OK(key);
    auto certs = signer::LoadCertificates(dir + "/seal.pem");
    EXPECT_OK(certs);
    if (key.ok()) seal.key = std::move(key).value();
    if (certs.ok()) seal.certs = std::move(certs).value();
    return seal;
  }

  // Bãi Cháy's leader's detached signature over `main` (a key file).
  static std::string LeaderSignature(const std::string& main) {
    const std::string dir = cluster_->Person("leader-baichay");
    auto key = signer::LoadKeyFile(dir + "/sign.key");
    EXPECT_OK(key);
    auto certs = signer::LoadCertificates(dir + "/sign.pem");
    EXPECT_OK(certs);
    if (!key.ok() || !certs.ok()) return "";
    auto signature = signer::SignDetached(main, {key->get(), certs->front(), {certs->begin() + 1, certs->end()},
                                                 absl::Now()});
    EXPECT_OK(signature);
    return signature.value_or("");
  }

  // A document from Bãi Cháy to `recipients` with `parts`, the first the
  // main one, as Bãi Cháy's node would send it to Hạ Long (serving all of
  // `recipients`).
  static v1::Envelope Envelope(const std::vector<std::string>& recipients, const std::vector<std::string>& parts) {
    v1::SendHeader request;
    for (const std::string& r : recipients) request.add_recipients(r);
    request.set_subject("Về việc thử đầu vào xấu");
    request.set_document_type("Công văn");
    request.set_notation("5/UBND");
    for (size_t i = 0; i < parts.size(); ++i) {
      v1::PartSpec* part = request.add_parts();
      part->set_name("part-" + std::to_string(i) + ".pdf");
      part->set_media_type("application/pdf");
      part->set_size(parts[i].size());
      part->set_sha256(signer::Sha256(parts[i]));
      part->set_main(i == 0);
    }
    const std::string leader_sig = LeaderSignature(parts.front());
    v1::SignerInfo signer;
    signer.set_person_login("leader-baichay");
    signer.set_agency_id(kBaiChay);
    signer.set_signature_sha256(signer::Sha256(leader_sig));
    absl::BitGen random;
    Issuance issuance{NewMessageId(absl::Now(), random), kBaiChay, "UBND phường Bãi Cháy", {}, {signer}};
    issuance.registration.set_year(2026);
    issuance.registration.set_number(5);
    const v1::DocumentHeader header = BuildHeader(request, issuance);
    SealOf seal = Seal(kBaiChay);
    auto sealed = node::Seal(v1::MESSAGE_KIND_DOCUMENT, header.SerializeAsString(), seal.credentials(), absl::Now());
    EXPECT_OK(sealed);
    v1::Envelope envelope;
    *envelope.add_trace() = SenderTraceEntry(header);
    *envelope.mutable_document() = *sealed;
    envelope.add_leader_signatures(leader_sig);
    for (const std::string& r : recipients) envelope.add_serve(r);
    return envelope;
  }

  static std::shared_ptr<grpc::Channel> PeerChannel(const std::string& as) {
    const std::string dir = cluster_->dir() + "/agencies/" + as;
    auto credentials = MakeChannelCredentials({dir + "/tls.pem", dir + "/tls.key", {cluster_->Root()}});
    EXPECT_OK(credentials);
    auto config = config::LoadNodeConfig(cluster_->NodeConfig(kHaLong));
    EXPECT_OK(config);
    return grpc::CreateChannel(config->listen.peers.ToString(), *credentials);
  }

  // One Deliver call as `as`: the requests in order, then the status.
  static grpc::Status Deliver(const std::string& as, const std::vector<v1::DeliverRequest>& requests,
                              v1::DeliverResponse* response = nullptr) {
    auto stub = v1::NodeService::NewStub(PeerChannel(as));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::DeliverResponse ignored;
    auto writer = stub->Deliver(&context, response != nullptr ? response : &ignored);
    for (const v1::DeliverRequest& request : requests) {
      if (!writer->Write(request)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  static v1::DeliverRequest First(const v1::Envelope& envelope) {
    v1::DeliverRequest r;
    *r.mutable_envelope() = envelope;
    return r;
  }
  static v1::DeliverRequest Chunk(uint32_t part, const std::string& data) {
    v1::DeliverRequest r;
    r.mutable_chunk()->set_part(part);
    r.mutable_chunk()->set_data(data);
    return r;
  }

  static grpc::Status Answer(const std::string& as, const v1::SignedMessage& answer, const std::string& to) {
    auto stub = v1::NodeService::NewStub(PeerChannel(as));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::AnswerRequest request;
    *request.mutable_answer() = answer;
    request.set_to_agency(to);
    v1::AnswerResponse response;
    return stub->Answer(&context, request, &response);
  }

  static v1::SignedMessage Sealed(const std::string& agency, v1::MessageKind kind, const std::string& body) {
    SealOf seal = Seal(agency);
    auto sealed = node::Seal(kind, body, seal.credentials(), absl::Now());
    EXPECT_OK(sealed);
    return sealed.value_or(v1::SignedMessage());
  }

  static v1::SignedMessage Receipt(const std::string& sealer, const std::string& recipient,
                                   const std::string& message_id, const std::string& header_sha256) {
    v1::ReceiptBody body;
    body.set_message_id(message_id);
    body.set_header_sha256(header_sha256);
    body.set_recipient(recipient);
    body.set_code(v1::STATUS_CODE_ARRIVED);
    body.set_time(FormatRfc3339(absl::Now()));
    return Sealed(sealer, v1::MESSAGE_KIND_RECEIPT, body.SerializeAsString());
  }

  static grpc::Status Witness(const std::string& as, const v1::SignedMessage& head) {
    auto stub = v1::WitnessService::NewStub(PeerChannel(as));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::WitnessRequest request;
    *request.mutable_head() = head;
    v1::WitnessResponse response;
    return stub->Witness(&context, request, &response);
  }

  static v1::SignedMessage TreeHead(const std::string& sealer, const std::string& agency) {
    v1::TreeHead body;
    body.set_agency(agency);
    body.set_tree_size(1);
    body.set_root_hash(std::string(32, '\x11'));
    body.set_time(FormatRfc3339(absl::Now()));
    return Sealed(sealer, v1::MESSAGE_KIND_TREE_HEAD, body.SerializeAsString());
  }

  // How many times `id` is in Hạ Long's inbox.
  static int InInbox(const std::string& id) {
    RunResult inbox = cluster_->Congvan("clerk-halong", {"inbox", "--json"});
    EXPECT_EQ(inbox.exit_code, 0) << inbox.err;
    if (inbox.exit_code != 0) return -1;
    int n = 0;
    for (const auto& entry : nlohmann::json::parse(inbox.out)) n += entry["message_id"] == id ? 1 : 0;
    return n;
  }

  // Delivers a good document from Bãi Cháy to Hạ Long; returns its envelope.
  static v1::Envelope Delivered(const std::string& main, v1::DeliverResponse* response) {
    v1::Envelope envelope = Envelope({kHaLong}, {main});
    const grpc::Status status = Deliver(kBaiChay, {First(envelope), Chunk(0, main)}, response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return envelope;
  }

  static std::string MessageIdOf(const v1::Envelope& envelope) {
    v1::DocumentHeader header;
    header.ParseFromString(envelope.document().body());
    return header.message_id();
  }

  static Cluster* cluster_;
};

Cluster* PeerBadInputTest::cluster_ = nullptr;

MATCHER_P2(GrpcIs, code, words, "is " + ::testing::PrintToString(code) + " saying \"" + std::string(words) + "\"") {
  *result_listener << "is " << arg.error_code() << ": " << arg.error_message();
  return arg.error_code() == code && arg.error_message().find(words) != std::string::npos;
}

TEST_F(PeerBadInputTest, ADeliverStreamMustBeginWithTheEnvelope) {
  const std::string main = "%PDF-1.7 không có phong bì";
  v1::Envelope envelope = Envelope({kHaLong}, {main});
  EXPECT_THAT(Deliver(kBaiChay, {Chunk(0, main), First(envelope)}),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "must begin with the envelope"));
  EXPECT_THAT(Deliver(kBaiChay, {}), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "must begin with the envelope"));
  EXPECT_EQ(InInbox(MessageIdOf(envelope)), 0);
}

TEST_F(PeerBadInputTest, ChunksOutOfOrderPastTheLastPartLongerThanDeclaredOrAfterASecondEnvelopeAreRefused) {
  const std::string main = "%PDF-1.7 phần chính", annex = "phụ lục";
  v1::Envelope envelope = Envelope({kHaLong}, {main, annex});
  EXPECT_THAT(Deliver(kBaiChay, {First(envelope), Chunk(1, annex), Chunk(0, main)}),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "out of order"));
  EXPECT_THAT(Deliver(kBaiChay, {First(envelope), Chunk(0, main), Chunk(1, annex), Chunk(2, "x")}),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "the document has 2"));
  EXPECT_THAT(Deliver(kBaiChay, {First(envelope), Chunk(0, main + "x"), Chunk(1, annex)}),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "part 1"));
  EXPECT_THAT(Deliver(kBaiChay, {First(envelope), Chunk(0, main), First(envelope)}),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "second header"));
  EXPECT_EQ(InInbox(MessageIdOf(envelope)), 0);
  // The same envelope, streamed right, is taken: what was refused left nothing behind.
  EXPECT_TRUE(Deliver(kBaiChay, {First(envelope), Chunk(0, main), Chunk(1, annex)}).ok());
  EXPECT_EQ(InInbox(MessageIdOf(envelope)), 1);
}

TEST_F(PeerBadInputTest, AnEnvelopeServingNobodyAnUnknownAgencyOrRoutingBackToItsSenderIsRefused) {
  const std::string main = "%PDF-1.7 định tuyến";
  v1::Envelope nobody = Envelope({kHaLong}, {main});
  nobody.clear_serve();
  EXPECT_THAT(Deliver(kBaiChay, {First(nobody), Chunk(0, main)}),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "serve no recipient"));
  // Below Hạ Long, but no child of its leads there.
  v1::Envelope unknown = Envelope({"000.05.01.H49"}, {main});
  EXPECT_THAT(Deliver(kBaiChay, {First(unknown), Chunk(0, main)}),
              GrpcIs(grpc::StatusCode::NOT_FOUND, "no route to 000.05.01.H49"));
  // Below Bãi Cháy: Hạ Long would hand it back to the node that delivered it.
  v1::Envelope loop = Envelope({"007.02.01.H49"}, {main});
  EXPECT_THAT(Deliver(kBaiChay, {First(loop), Chunk(0, main)}),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "refusing a loop"));
  // A recipient the header does not name.
  v1::Envelope stranger = Envelope({kHaLong}, {main});
  stranger.add_serve(kHongGai);
  EXPECT_THAT(Deliver(kBaiChay, {First(stranger), Chunk(0, main)}),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "not a recipient"));
  for (const v1::Envelope* e : {&nobody, &unknown, &loop, &stranger}) EXPECT_EQ(InInbox(MessageIdOf(*e)), 0);
}

TEST_F(PeerBadInputTest, AReplayedDeliveryGetsTheOriginalReceiptsAndIsFiledOnce) {
  const std::string main = "%PDF-1.7 gửi lại";
  v1::DeliverResponse first;
  const v1::Envelope envelope = Delivered(main, &first);
  ASSERT_EQ(first.receipts_size(), 1);
  // The same stream again, and the envelope with other bytes after it: the
  // message id is known, so the original receipt answers either.
  for (const std::string& data : {main, std::string("khác")}) {
    v1::DeliverResponse again;
    ASSERT_TRUE(Deliver(kBaiChay, {First(envelope), Chunk(0, data)}, &again).ok());
    ASSERT_EQ(again.receipts_size(), 1);
    EXPECT_EQ(again.receipts(0).SerializeAsString(), first.receipts(0).SerializeAsString());
  }
  EXPECT_EQ(InInbox(MessageIdOf(envelope)), 1);
}

TEST_F(PeerBadInputTest, AnswersThatAreNotWhatTheyClaimAreRefused) {
  // A sealed message of another kind.
  EXPECT_THAT(Answer(kHongGai, Sealed(kHongGai, v1::MESSAGE_KIND_DOCUMENT, "x"), kHaLong),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "must be a receipt, a status or a delivery report"));
  // A receipt whose body does not parse.
  EXPECT_THAT(Answer(kHongGai, Sealed(kHongGai, v1::MESSAGE_KIND_RECEIPT, "\xff\xff\xff"), kHaLong),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "cannot be parsed"));
  // Hồng Gai's seal on Bãi Cháy's receipt.
  EXPECT_THAT(Answer(kHongGai, Receipt(kHongGai, kBaiChay, "m", std::string(32, 'h')), kHaLong),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "sealed by " + std::string(kHongGai)));
  // A seal that is not a signature at all, and one over other bytes.
  v1::SignedMessage unsigned_receipt = Receipt(kHongGai, kHongGai, "m", std::string(32, 'h'));
  unsigned_receipt.set_seal_signature("not a CMS signature");
  EXPECT_THAT(Answer(kHongGai, unsigned_receipt, kHaLong), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "seal"));
  v1::SignedMessage altered = Receipt(kHongGai, kHongGai, "m", std::string(32, 'h'));
  altered.mutable_body()->append("x");
  EXPECT_THAT(Answer(kHongGai, altered, kHaLong), GrpcIs(grpc::StatusCode::UNAUTHENTICATED, "seal"));
  // An address that is no agency id.
  EXPECT_THAT(Answer(kHongGai, Receipt(kHongGai, kHongGai, "m", std::string(32, 'h')), "h49"),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, ""));
}

TEST_F(PeerBadInputTest, AnAnswerForADocumentNotHereNotIssuedHereOrAboutAnotherHeaderIsRefused) {
  EXPECT_THAT(Answer(kHongGai, Receipt(kHongGai, kHongGai, "01900000-0000-7000-8000-000000000000",
                                       std::string(32, 'h')), kHaLong),
              GrpcIs(grpc::StatusCode::NOT_FOUND, "no document"));
  // A document Hạ Long received (from Bãi Cháy) takes no receipt at Hạ Long.
  v1::DeliverResponse response;
  const v1::Envelope envelope = Delivered("%PDF-1.7 nhận tại Hạ Long", &response);
  const std::string id = MessageIdOf(envelope);
  const std::string header_sha256 = signer::Sha256(envelope.document().body());
  EXPECT_THAT(Answer(kHongGai, Receipt(kHongGai, kHongGai, id, header_sha256), kHaLong),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "was not issued here"));
  EXPECT_THAT(Answer(kHongGai, Receipt(kHongGai, kHongGai, id, std::string(32, 'h')), kHaLong),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "another header"));
  // Only its sender may ask for its recall.
  v1::StatusBody recall;
  recall.set_message_id(id);
  recall.set_header_sha256(header_sha256);
  recall.set_agency(kHongGai);
  recall.set_code(v1::STATUS_CODE_RECALL_REQUESTED);
  recall.set_reason("thu hồi");
  recall.set_time(FormatRfc3339(absl::Now()));
  EXPECT_THAT(Answer(kHongGai, Sealed(kHongGai, v1::MESSAGE_KIND_STATUS, recall.SerializeAsString()), kHaLong),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "only the sender " + std::string(kBaiChay)));
  RunResult inbox = cluster_->Congvan("clerk-halong", {"inbox", "--json"});
  ASSERT_EQ(inbox.exit_code, 0);
  for (const auto& entry : nlohmann::json::parse(inbox.out)) {
    if (entry["message_id"] == id) EXPECT_EQ(entry["state"], "active") << entry.dump();  // no recall requested
  }
}

// A document Hạ Long itself issued to Bãi Cháy (whose node is down: the
// document waits in Hạ Long's outbox), and the SHA-256 of its header.
struct Issued {
  std::string id;
  std::string header_sha256;
};
Issued IssueAtHaLong(const Cluster& cluster) {
  const std::string file = cluster.File("di.pdf");
  ::congvan::testing::WriteTestFile(file, "%PDF-1.7 công văn đi từ Hạ Long");
  const std::string leader = cluster.Person("leader-halong");
  EXPECT_EQ(cluster.Congvan("", {"sign", "--cert", leader + "/sign.pem", "--key", leader + "/sign.key", "--in", file,
                                 "--out", file + ".p7s"})
                .exit_code,
            0);
  RunResult sent = cluster.Congvan("clerk-halong", {"send", "--to", kBaiChay, "--subject", "Về việc trả lời",
                                                    "--type", "Công văn", "--notation", "8/UBND", "--file", file,
                                                    "--leader-sig", file + ".p7s", "--json"});
  EXPECT_EQ(sent.exit_code, 0) << sent.err;
  if (sent.exit_code != 0) return {};
  Issued issued{nlohmann::json::parse(sent.out).value("message_id", ""), ""};
  RunResult fetched = cluster.Congvan("clerk-halong", {"fetch", issued.id, "--out", cluster.File("di")});
  EXPECT_EQ(fetched.exit_code, 0) << fetched.err;
  issued.header_sha256 = signer::Sha256(::congvan::testing::ReadTestFile(cluster.File("di/header.pb")));
  return issued;
}

TEST_F(PeerBadInputTest, AnswersForADocumentIssuedHereFromWhoIsNoRecipientOrRoutedBackAreRefusedAndRepeatsStoredOnce) {
  const Issued issued = IssueAtHaLong(*cluster_);
  ASSERT_FALSE(issued.header_sha256.empty());
  // Hồng Gai is no recipient of it: neither its receipt nor its report.
  EXPECT_THAT(Answer(kHongGai, Receipt(kHongGai, kHongGai, issued.id, issued.header_sha256), kHaLong),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "is not a recipient of"));
  v1::DeliveryReport report;
  report.set_message_id(issued.id);
  report.set_header_sha256(issued.header_sha256);
  report.set_relay(kHongGai);
  report.add_recipients(kHongGai);
  report.set_next_hop("007.01.01.H49");
  report.set_reason("không tới được");
  report.set_time(FormatRfc3339(absl::Now()));
  EXPECT_THAT(Answer(kHongGai, Sealed(kHongGai, v1::MESSAGE_KIND_DELIVERY_REPORT, report.SerializeAsString()), kHaLong),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "not a recipient of"));
  // Addressed below Hồng Gai: Hạ Long would hand it back to its sender.
  EXPECT_THAT(Answer(kHongGai, Receipt(kHongGai, kHongGai, issued.id, issued.header_sha256), "007.01.01.H49"),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "route back"));
  // Bãi Cháy's receipt, twice: taken both times, kept once.
  const v1::SignedMessage receipt = Receipt(kBaiChay, kBaiChay, issued.id, issued.header_sha256);
  for (int i = 0; i < 2; ++i) {
    const grpc::Status status = Answer(kBaiChay, receipt, kHaLong);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  RunResult track = cluster_->Congvan("clerk-halong", {"track", issued.id, "--json"});
  ASSERT_EQ(track.exit_code, 0) << track.err;
  const nlohmann::json recipients = nlohmann::json::parse(track.out)["recipients"];
  ASSERT_EQ(recipients.size(), 1u) << track.out;
  EXPECT_EQ(recipients[0]["answers"].size(), 1u) << track.out;
}

TEST_F(PeerBadInputTest, AMessageOverTheNodesSizeLimitIsResourceExhausted) {
  // Above limits.max_header_bytes + chunk_bytes + 1 MiB (3 MiB by default):
  // gRPC refuses it before the node reads it.
  const std::string main = "%PDF-1.7 quá lớn";
  v1::Envelope envelope = Envelope({kHaLong}, {main});
  envelope.add_leader_signatures(std::string(8 << 20, '\x30'));
  EXPECT_EQ(Deliver(kBaiChay, {First(envelope), Chunk(0, main)}).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  v1::Envelope fine = Envelope({kHaLong}, {main});
  EXPECT_EQ(Deliver(kBaiChay, {First(fine), Chunk(0, std::string(8 << 20, 'x'))}).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(InInbox(MessageIdOf(envelope)), 0);
  EXPECT_EQ(InInbox(MessageIdOf(fine)), 0);
}

TEST_F(PeerBadInputTest, CallsFromANodeThatIsNotAPeerAreRefused) {
  const std::string main = "%PDF-1.7 người lạ";
  v1::Envelope envelope = Envelope({kHaLong}, {main});
  EXPECT_THAT(Deliver(kHanoi, {First(envelope), Chunk(0, main)}),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "not a peer of this node"));
  EXPECT_THAT(Answer(kHanoi, Receipt(kHanoi, kHanoi, "m", std::string(32, 'h')), kHaLong),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "not a peer of this node"));
  EXPECT_THAT(Witness(kHanoi, TreeHead(kHanoi, kHanoi)),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "not a peer of this node"));
  EXPECT_EQ(InInbox(MessageIdOf(envelope)), 0);
}

TEST_F(PeerBadInputTest, WitnessTakesOnlyAChildsOwnSealedTreeHead) {
  // The parent is a peer, not a child.
  EXPECT_THAT(Witness(kProvince, TreeHead(kProvince, kProvince)),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "not a child of"));
  // A child with another child's head, and with a head it sealed for another.
  EXPECT_THAT(Witness(kHongGai, TreeHead(kBaiChay, kBaiChay)),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "not of the calling node"));
  EXPECT_THAT(Witness(kHongGai, TreeHead(kHongGai, kBaiChay)),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "not sealed by that agency's seal"));
  // Something else than a tree head, and a body that does not parse.
  EXPECT_THAT(Witness(kHongGai, Sealed(kHongGai, v1::MESSAGE_KIND_RECEIPT, "x")),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "not a sealed tree head"));
  EXPECT_THAT(Witness(kHongGai, Sealed(kHongGai, v1::MESSAGE_KIND_TREE_HEAD, "\xff\xff\xff")),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "does not parse"));
}

// A child that sends the head its parent recorded last again (its audit
// loop does after a restart): taken, and recorded once.
TEST_F(PeerBadInputTest, WitnessTakesAReplayOfTheHeadRecordedLastAndRecordsNothingNew) {
  auto witness = [](const v1::SignedMessage& head, uint64_t from_size, v1::WitnessResponse* response) {
    auto stub = v1::WitnessService::NewStub(PeerChannel(kBaiChay));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::WitnessRequest request;
    *request.mutable_head() = head;
    request.set_from_size(from_size);
    return stub->Witness(&context, request, response);
  };
  const std::string accepted = "congvan_audit_witness_total{role=\"parent\",result=\"accepted\"}";
  const double before = ::congvan::testing::MetricValue(cluster_->Metrics(kHaLong), accepted);
  const v1::SignedMessage head = TreeHead(kBaiChay, kBaiChay);  // Bãi Cháy's first: nothing to be consistent with
  v1::WitnessResponse first;
  ASSERT_TRUE(witness(head, 0, &first).ok());
  EXPECT_TRUE(first.recorded());
  for (int i = 0; i < 2; ++i) {
    v1::WitnessResponse replayed;
    const grpc::Status status = witness(head, 1, &replayed);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(replayed.recorded());
    EXPECT_EQ(replayed.last_seen().SerializeAsString(), head.SerializeAsString());
  }
  // From a size the parent does not hold: it answers with the head it holds, to prove from.
  v1::WitnessResponse stale;
  ASSERT_TRUE(witness(head, 0, &stale).ok());
  EXPECT_FALSE(stale.recorded());
  EXPECT_EQ(stale.last_seen().SerializeAsString(), head.SerializeAsString());
  EXPECT_EQ(::congvan::testing::MetricValue(cluster_->Metrics(kHaLong), accepted), before + 1);
}

}  // namespace
}  // namespace congvan::node
