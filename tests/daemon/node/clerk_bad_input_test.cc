// What people can ask a real node that they may not, or that is not there
// (tests/SECURITY.md, the ClerkService / OperatorService / AuditService
// rows): each role refused what it does not serve, a person of another
// agency or not configured at the node, a node's certificate on the people's
// port, unknown ids and agencies, statuses a clerk may not set, proofs
// outside the log, and a relay's clerk asking for a document it only
// carried. Over gRPC with the TLS identities `pki init` gave each person.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "congvan/config/node_config.h"
#include "congvan/config/profile.h"
#include "congvan/node/tls.h"
#include "congvan/signer/cms.h"
#include "congvan/v1/audit.grpc.pb.h"
#include "congvan/v1/node.grpc.pb.h"
#include "testing/cluster.h"
#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::RunResult;
using ::congvan::testing::WaitFor;
using ::congvan::testing::WriteTestFile;

constexpr char kHongGai[] = "000.01.01.H49";  // the node under test: a clerk, a leader, an operator, an auditor
constexpr char kHaLong[] = "000.00.01.H49";   // its parent, and the relay to Bãi Cháy
constexpr char kBaiChay[] = "000.02.01.H49";
constexpr char kUnknownId[] = "01900000-0000-7000-8000-000000000000";

MATCHER_P2(GrpcIs, code, words, "is " + ::testing::PrintToString(code) + " saying \"" + std::string(words) + "\"") {
  *result_listener << "is " << arg.error_code() << ": " << arg.error_message();
  return arg.error_code() == code && arg.error_message().find(words) != std::string::npos;
}

// A channel to `login`'s node (its profile), or to `agency`'s people port
// with `cert` / `key` when given.
std::shared_ptr<grpc::Channel> PeopleChannel(const Cluster& cluster, const std::string& login) {
  auto profile = config::LoadProfile(cluster.Profile(login));
  EXPECT_OK(profile);
  auto credentials = MakeChannelCredentials({profile->tls.cert_file, profile->tls.key_file, profile->trust.anchor_files});
  EXPECT_OK(credentials);
  return grpc::CreateChannel(profile->node.ToString(), *credentials);
}

std::shared_ptr<grpc::Channel> ChannelTo(const Cluster& cluster, const std::string& agency, const std::string& cert,
                                         const std::string& key) {
  auto node = config::LoadNodeConfig(cluster.NodeConfig(agency));
  EXPECT_OK(node);
  auto credentials = MakeChannelCredentials({cert, key, {cluster.Root()}});
  EXPECT_OK(credentials);
  return grpc::CreateChannel(node->listen.people.ToString(), *credentials);
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return context;
}

grpc::Status Inbox(const std::shared_ptr<grpc::Channel>& channel) {
  v1::InboxResponse response;
  return v1::ClerkService::NewStub(channel)->Inbox(Context().get(), v1::InboxRequest(), &response);
}

grpc::Status Fetch(const std::shared_ptr<grpc::Channel>& channel, const std::string& id) {
  v1::FetchRequest request;
  request.set_message_id(id);
  auto context = Context();
  auto reader = v1::ClerkService::NewStub(channel)->Fetch(context.get(), request);
  v1::FetchResponse response;
  while (reader->Read(&response)) {
  }
  return reader->Finish();
}

grpc::Status Track(const std::shared_ptr<grpc::Channel>& channel, const std::string& id) {
  v1::TrackRequest request;
  request.set_message_id(id);
  v1::TrackResponse response;
  return v1::ClerkService::NewStub(channel)->Track(Context().get(), request, &response);
}

grpc::Status SetStatus(const std::shared_ptr<grpc::Channel>& channel, const std::string& id, v1::StatusCode code,
                       const std::string& reason = "") {
  v1::SetStatusRequest request;
  request.set_message_id(id);
  request.set_code(code);
  request.set_reason(reason);
  v1::SetStatusResponse response;
  return v1::ClerkService::NewStub(channel)->SetStatus(Context().get(), request, &response);
}

grpc::Status Recall(const std::shared_ptr<grpc::Channel>& channel, const std::string& id, const std::string& reason) {
  v1::RecallRequest request;
  request.set_message_id(id);
  request.set_reason(reason);
  v1::RecallResponse response;
  return v1::ClerkService::NewStub(channel)->Recall(Context().get(), request, &response);
}

grpc::Status Retry(const std::shared_ptr<grpc::Channel>& channel, const std::string& id) {
  v1::RetryRequest request;
  request.set_message_id(id);
  v1::RetryResponse response;
  return v1::ClerkService::NewStub(channel)->Retry(Context().get(), request, &response);
}

grpc::Status Route(const std::shared_ptr<grpc::Channel>& channel, const std::string& agency) {
  v1::RouteRequest request;
  request.set_agency(agency);
  v1::RouteResponse response;
  return v1::OperatorService::NewStub(channel)->Route(Context().get(), request, &response);
}

grpc::Status TreeHead(const std::shared_ptr<grpc::Channel>& channel, uint64_t size) {
  v1::TreeHeadRequest request;
  request.set_tree_size(size);
  v1::LoggedTreeHead response;
  return v1::AuditService::NewStub(channel)->GetTreeHead(Context().get(), request, &response);
}

grpc::Status Events(const std::shared_ptr<grpc::Channel>& channel, const std::string& id) {
  v1::MessageEventsRequest request;
  request.set_message_id(id);
  v1::MessageEventsResponse response;
  return v1::AuditService::NewStub(channel)->GetMessageEvents(Context().get(), request, &response);
}

grpc::Status Export(const std::shared_ptr<grpc::Channel>& channel, const std::string& id) {
  v1::ExportRequest request;
  request.set_message_id(id);
  auto context = Context();
  auto reader = v1::AuditService::NewStub(channel)->Export(context.get(), request);
  v1::ExportChunk chunk;
  while (reader->Read(&chunk)) {
  }
  return reader->Finish();
}

// Signs a small document with `leader`'s key (file or token) and sends it
// with `clerk`'s profile; returns its message id.
std::string Send(const Cluster& cluster, const std::string& clerk, const std::string& leader, const std::string& to,
                 const std::string& name) {
  const std::string file = cluster.File(name + ".pdf");
  WriteTestFile(file, "%PDF-1.7 " + name);
  const std::string dir = cluster.Person(leader);
  std::vector<std::string> sign = {"sign", "--cert", dir + "/sign.pem", "--in", file, "--out", file + ".p7s"};
  if (std::filesystem::exists(dir + "/token.toml")) {
    sign.insert(sign.end(), {"--token-config", dir + "/token.toml"});
  } else {
    sign.insert(sign.end(), {"--key", dir + "/sign.key"});
  }
  EXPECT_EQ(cluster.Congvan("", sign).exit_code, 0);
  RunResult sent = cluster.Congvan(clerk, {"send", "--to", to, "--subject", "Về việc " + name, "--type", "Công văn",
                                           "--notation", "3/UBND", "--file", file, "--leader-sig", file + ".p7s",
                                           "--json"});
  EXPECT_EQ(sent.exit_code, 0) << sent.err;
  return sent.exit_code == 0 ? nlohmann::json::parse(sent.out).value("message_id", "") : "";
}

bool InInbox(const Cluster& cluster, const std::string& clerk, const std::string& id) {
  RunResult inbox = cluster.Congvan(clerk, {"inbox", "--json"});
  if (inbox.exit_code != 0) return false;
  for (const auto& entry : nlohmann::json::parse(inbox.out)) {
    if (entry["message_id"] == id) return true;
  }
  return false;
}

class ClerkBadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster();
    for (const char* agency : {kHongGai, kHaLong, kBaiChay}) cluster_->Start(agency);
    // In Hồng Gai's inbox, from Hạ Long; and from Hồng Gai to Bãi Cháy, through Hạ Long.
    received_ = new std::string(Send(*cluster_, "clerk-halong", "leader-halong", kHongGai, "den-hong-gai"));
    relayed_ = new std::string(Send(*cluster_, "clerk-honggai", "leader-honggai", kBaiChay, "qua-ha-long"));
    ASSERT_TRUE(WaitFor([] { return InInbox(*cluster_, "clerk-honggai", *received_); }));
    ASSERT_TRUE(WaitFor([] { return InInbox(*cluster_, "clerk-baichay", *relayed_); }));
  }

  // The latest code Hồng Gai answered for `id` (its inbox's status).
  static std::string StatusAtHongGai(const std::string& id) {
    RunResult inbox = cluster_->Congvan("clerk-honggai", {"inbox", "--json"});
    EXPECT_EQ(inbox.exit_code, 0) << inbox.err;
    if (inbox.exit_code != 0) return "";
    for (const auto& entry : nlohmann::json::parse(inbox.out)) {
      if (entry["message_id"] == id) return entry["status"];
    }
    return "";
  }
  static void TearDownTestSuite() {
    delete received_;
    delete relayed_;
    delete cluster_;
  }

  static Cluster* cluster_;
  static std::string* received_;
  static std::string* relayed_;
};

Cluster* ClerkBadInputTest::cluster_ = nullptr;
std::string* ClerkBadInputTest::received_ = nullptr;
std::string* ClerkBadInputTest::relayed_ = nullptr;

TEST_F(ClerkBadInputTest, EachServiceRefusesTheRolesItDoesNotServe) {
  const auto clerk = PeopleChannel(*cluster_, "clerk-honggai");
  const auto operator_ = PeopleChannel(*cluster_, "operator-honggai");
  const auto auditor = PeopleChannel(*cluster_, "auditor-honggai");
  const auto leader = PeopleChannel(*cluster_, "leader-honggai");
  EXPECT_THAT(Inbox(operator_), GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "needs the"));
  EXPECT_THAT(Fetch(operator_, *received_), GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "needs the"));
  EXPECT_THAT(SetStatus(auditor, *received_, v1::STATUS_CODE_ACCEPTED),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "needs the clerk role"));
  EXPECT_THAT(SetStatus(leader, *received_, v1::STATUS_CODE_ACCEPTED),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "needs the clerk role"));
  EXPECT_THAT(Recall(auditor, *relayed_, "thu hồi"), GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "needs the"));
  EXPECT_THAT(Retry(operator_, *relayed_), GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "needs the"));
  EXPECT_THAT(Route(clerk, kBaiChay), GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "needs the operator role"));
  EXPECT_THAT(TreeHead(clerk, 0), GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "needs the auditor role"));
  EXPECT_THAT(Export(operator_, *received_), GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "needs the auditor role"));
  EXPECT_EQ(StatusAtHongGai(*received_), "01");  // the refused statuses were not set
}

TEST_F(ClerkBadInputTest, APersonOfAnotherAgencyOrANodeCertificateIsRefusedAtThePeoplesPort) {
  // Hạ Long's clerk at Hồng Gai's node.
  const auto stranger = ChannelTo(*cluster_, kHongGai, cluster_->Person("clerk-halong") + "/tls.pem",
                                  cluster_->Person("clerk-halong") + "/tls.key");
  EXPECT_THAT(Inbox(stranger), GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "belongs to agency " + std::string(kHaLong)));
  // Hồng Gai's own node certificate.
  const std::string node_dir = cluster_->dir() + "/agencies/" + kHongGai;
  const auto node = ChannelTo(*cluster_, kHongGai, node_dir + "/tls.pem", node_dir + "/tls.key");
  EXPECT_THAT(Inbox(node), GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "called with a node certificate"));
}

TEST_F(ClerkBadInputTest, UnknownDocumentsAndAgenciesAreNotFoundAndMalformedOnesInvalid) {
  const auto clerk = PeopleChannel(*cluster_, "clerk-honggai");
  const auto operator_ = PeopleChannel(*cluster_, "operator-honggai");
  const auto auditor = PeopleChannel(*cluster_, "auditor-honggai");
  EXPECT_THAT(Fetch(clerk, kUnknownId), GrpcIs(grpc::StatusCode::NOT_FOUND, "no document"));
  EXPECT_THAT(Track(clerk, kUnknownId), GrpcIs(grpc::StatusCode::NOT_FOUND, ""));
  EXPECT_THAT(SetStatus(clerk, kUnknownId, v1::STATUS_CODE_ACCEPTED), GrpcIs(grpc::StatusCode::NOT_FOUND, ""));
  EXPECT_THAT(Recall(clerk, kUnknownId, "thu hồi"), GrpcIs(grpc::StatusCode::NOT_FOUND, "no document"));
  EXPECT_THAT(Retry(clerk, kUnknownId), GrpcIs(grpc::StatusCode::NOT_FOUND, "no document"));
  EXPECT_THAT(Recall(clerk, "", "thu hồi"), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "name the message"));
  // A document this agency received is not its to recall or retry.
  EXPECT_THAT(Recall(clerk, *received_, "thu hồi"), GrpcIs(grpc::StatusCode::NOT_FOUND, "was issued by"));
  EXPECT_THAT(Retry(clerk, *received_), GrpcIs(grpc::StatusCode::NOT_FOUND, "was issued by"));
  // One it issued and delivered has nothing to retry.
  EXPECT_THAT(Retry(clerk, *relayed_), GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "no delivery of"));
  EXPECT_THAT(Route(operator_, "000.09.01.H49"), GrpcIs(grpc::StatusCode::NOT_FOUND, "not a known agency"));
  EXPECT_THAT(Route(operator_, "h49"), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, ""));
  EXPECT_THAT(Events(auditor, kUnknownId), GrpcIs(grpc::StatusCode::NOT_FOUND, "has no event of message"));
  EXPECT_THAT(Events(auditor, ""), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "give the message id"));
  EXPECT_THAT(Events(auditor, std::string(200, 'a')), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "give the message id"));
  EXPECT_THAT(Export(auditor, kUnknownId), GrpcIs(grpc::StatusCode::NOT_FOUND, "no document"));
}

TEST_F(ClerkBadInputTest, AClerkSetsOnlyItsOwnCodesWithWhatEachNeeds) {
  const auto clerk = PeopleChannel(*cluster_, "clerk-honggai");
  // 01 is the node's receipt; 13 is the sender's.
  EXPECT_THAT(SetStatus(clerk, *received_, v1::STATUS_CODE_ARRIVED),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "a clerk answers with"));
  EXPECT_THAT(SetStatus(clerk, *received_, v1::STATUS_CODE_RECALL_REQUESTED),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "a clerk answers with"));
  EXPECT_THAT(SetStatus(clerk, *received_, static_cast<v1::StatusCode>(77)),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "a clerk answers with"));
  EXPECT_THAT(SetStatus(clerk, *received_, v1::STATUS_CODE_REJECTED),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "needs a reason"));
  EXPECT_THAT(SetStatus(clerk, *received_, v1::STATUS_CODE_REJECTED, std::string(100'000, 'x')),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "longer than"));
  // 15 and 16 answer a recall, an update or a replacement: there is none.
  EXPECT_THAT(SetStatus(clerk, *received_, v1::STATUS_CODE_RECALL_ACCEPTED),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, "has none waiting for an answer"));
  // A document it sent is not in its inbox.
  EXPECT_THAT(SetStatus(clerk, *relayed_, v1::STATUS_CODE_ACCEPTED), GrpcIs(grpc::StatusCode::NOT_FOUND, ""));
  // A recall needs a reason, within the limit.
  EXPECT_THAT(Recall(clerk, *relayed_, ""), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "needs a reason"));
  EXPECT_THAT(Recall(clerk, *relayed_, std::string(100'000, 'x')), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "longer than"));
  EXPECT_EQ(StatusAtHongGai(*received_), "01");  // none of it was set
}

TEST_F(ClerkBadInputTest, AnAuditorsRequestsOutsideTheLogAreRefused) {
  const auto auditor = PeopleChannel(*cluster_, "auditor-honggai");
  EXPECT_THAT(TreeHead(auditor, 1'000'000), GrpcIs(grpc::StatusCode::NOT_FOUND, "no tree head was sealed at"));
  v1::InclusionProofRequest inclusion;
  inclusion.set_index(1'000'000);
  inclusion.set_tree_size(1'000'001);
  v1::InclusionProof proof;
  EXPECT_THAT(v1::AuditService::NewStub(auditor)->GetInclusionProof(Context().get(), inclusion, &proof),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, ""));
  v1::ConsistencyProofRequest consistency;
  consistency.set_old_size(2);
  consistency.set_new_size(1);
  v1::ConsistencyProof consistent;
  EXPECT_THAT(v1::AuditService::NewStub(auditor)->GetConsistencyProof(Context().get(), consistency, &consistent),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, ""));
}

TEST_F(ClerkBadInputTest, ARelaysClerkCannotFetchTheDocumentsItOnlyCarried) {
  EXPECT_THAT(Fetch(PeopleChannel(*cluster_, "clerk-halong"), *relayed_),
              GrpcIs(grpc::StatusCode::NOT_FOUND, "no document"));
}

// Nor see who received it and what they answered (receipts, statuses and
// their reasons): what the relay carried is the sender's and the
// recipients' business, as Fetch already holds.
TEST_F(ClerkBadInputTest, ARelaysClerkCannotTrackTheDocumentsItOnlyCarried) {
  EXPECT_THAT(Track(PeopleChannel(*cluster_, "clerk-halong"), *relayed_), GrpcIs(grpc::StatusCode::NOT_FOUND, ""));
}

// A clerk's Send stream: its header first, then exactly the parts it
// declared. A stream in another shape issues nothing and takes no number.
TEST_F(ClerkBadInputTest, ASendStreamWithoutItsHeaderOrWithOtherBytesIssuesNothing) {
  const std::string main = "%PDF-1.7 công văn gửi sai";
  const std::string file = cluster_->File("sai.pdf");
  WriteTestFile(file, main);
  const std::string leader = cluster_->Person("leader-honggai");
  ASSERT_EQ(cluster_->Congvan("", {"sign", "--cert", leader + "/sign.pem", "--token-config", leader + "/token.toml",
                                   "--in", file, "--out", file + ".p7s"})
                .exit_code,
            0);
  v1::SendRequest first;
  v1::SendHeader* header = first.mutable_header();
  header->add_recipients(kBaiChay);
  header->set_subject("Về việc gửi sai");
  header->set_document_type("Công văn");
  header->set_notation("4/UBND");
  v1::PartSpec* part = header->add_parts();
  part->set_name("sai.pdf");
  part->set_media_type("application/pdf");
  part->set_size(main.size());
  part->set_sha256(signer::Sha256(main));
  part->set_main(true);
  header->add_leader_signatures(ReadTestFile(file + ".p7s"));
  auto send = [&](const std::vector<v1::SendRequest>& requests) {
    auto context = Context();
    v1::SendResponse response;
    auto writer = v1::ClerkService::NewStub(PeopleChannel(*cluster_, "clerk-honggai"))->Send(context.get(), &response);
    for (const v1::SendRequest& r : requests) {
      if (!writer->Write(r)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  };
  auto chunk = [](const std::string& data) {
    v1::SendRequest r;
    r.mutable_chunk()->set_part(0);
    r.mutable_chunk()->set_data(data);
    return r;
  };
  std::string altered = main;
  altered.back() ^= 1;
  EXPECT_THAT(send({chunk(main), first}), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "must begin with the document's header"));
  EXPECT_THAT(send({first, chunk(altered)}), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "does not match the SHA-256"));
  EXPECT_THAT(send({first, chunk(main.substr(0, 5))}), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "stream ended before"));
  EXPECT_THAT(send({first, chunk(main), first}), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, "second header"));
  // The same header streamed right is issued under the register's next
  // number: 2, after the suite's one document (the refused took none).
  v1::SendRequest ok = first;
  auto context = Context();
  v1::SendResponse response;
  auto writer = v1::ClerkService::NewStub(PeopleChannel(*cluster_, "clerk-honggai"))->Send(context.get(), &response);
  ASSERT_TRUE(writer->Write(ok));
  ASSERT_TRUE(writer->Write(chunk(main)));
  writer->WritesDone();
  const grpc::Status sent = writer->Finish();
  ASSERT_TRUE(sent.ok()) << sent.error_message();
  EXPECT_EQ(response.number(), 2u);
}

// A person with a certificate of the agency whom the node's operator did not
// configure (removed from node.toml's [[people]]).
TEST(ClerkBadInput, APersonTheNodeDoesNotConfigureIsRefused) {
  Cluster cluster;
  const std::string path = cluster.NodeConfig(kHongGai);
  const std::string text = ReadTestFile(path);
  const size_t at = text.find("login = \"auditor-honggai\"");
  ASSERT_NE(at, std::string::npos) << text;
  const size_t begin = text.rfind("[[people]]", at);
  const size_t end = text.find("\n\n", at);
  ASSERT_NE(begin, std::string::npos);
  WriteTestFile(path, text.substr(0, begin) + text.substr(end + 2));
  cluster.Start(kHongGai);
  EXPECT_THAT(Inbox(PeopleChannel(cluster, "auditor-honggai")),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "is not configured at this node"));
  EXPECT_THAT(TreeHead(PeopleChannel(cluster, "auditor-honggai"), 0),
              GrpcIs(grpc::StatusCode::PERMISSION_DENIED, "is not configured at this node"));
  EXPECT_TRUE(Inbox(PeopleChannel(cluster, "clerk-honggai")).ok());
}

}  // namespace
}  // namespace congvan::node
