// The clerk commands (send, inbox, fetch, track, set-status) as people run
// them: real `congvan` processes with a profile from `congvan pki init`.
// Their local behaviour (flags, files, the profile, an unreachable node) is
// checked on its own; their use of ClerkService against a stand-in node: a
// real gRPC server on 127.0.0.1:0 with the node's mutual-TLS credentials,
// whose answers each test sets (congvand's own end-to-end tests come with
// the daemon).
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "congvan/node/tls.h"
#include "congvan/signer/cms.h"
#include "congvan/v1/node.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "node_client.h"
#include "part_files.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace congvan::client {
namespace {

using ::congvan::testing::Bin;
using ::congvan::testing::IsOk;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::RunResult;
using ::congvan::testing::StatusIs;
using ::congvan::testing::TempDir;
using ::congvan::testing::WriteTestFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kOwnAgency[] = "000.00.00.H49";
constexpr char kMessageId[] = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

RunResult Congvan(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  args.insert(args.begin(), Bin("congvan"));
  // Never the environment's profile: each test names its own.
  env.emplace(config::kProfileEnvVar, "");
  return ::congvan::testing::Run(args, env);
}

// Deterministic bytes that are not all alike.
std::string Bytes(size_t n, char seed) {
  std::string data(n, '\0');
  uint32_t x = static_cast<unsigned char>(seed) * 2654435761u + 1;
  for (char& c : data) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return data;
}

// ------------------------------------------------------------- part names

TEST(ClerkCommandsPartName, AcceptsPlainFileNames) {
  for (const char* name : {"Quyết định 12.pdf", "báo-cáo.docx", "a", ".hidden", "leader-x.p7s", "v1.2.pdf"}) {
    EXPECT_THAT(CheckPartName(name), IsOk()) << name;
  }
}

TEST(ClerkCommandsPartName, RefusesNamesThatLeaveTheDirectoryOrCollide) {
  const std::vector<std::string> names = {"",
                                          "/etc/passwd",
                                          "../x.pdf",
                                          "a/b.pdf",
                                          "..",
                                          ".",
                                          "x..pdf",
                                          "..hidden",
                                          "a\\b.pdf",
                                          "tab\there",
                                          "nl\nhere",
                                          "header.pb",
                                          "seal.p7s",
                                          "leader-1.p7s",
                                          "leader-12.p7s",
                                          "a.pdf.partial",
                                          std::string(256, 'n')};
  for (const std::string& name : names) {
    EXPECT_THAT(CheckPartName(name), StatusIs(absl::StatusCode::kInvalidArgument)) << name;
  }
  EXPECT_THAT(CheckPartName("../x.pdf"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'../x.pdf'")));
}

// -------------------------------------------------------- NodeCallError

TEST(ClerkCommandsNodeError, UnavailableSaysUnreachable) {
  absl::Status s = NodeCallError("127.0.0.1:27401", grpc::Status(grpc::StatusCode::UNAVAILABLE, "Connection refused"));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable, "node 127.0.0.1:27401 is unreachable: Connection refused"));
}

TEST(ClerkCommandsNodeError, OtherwiseTheNodesOwnMessage) {
  EXPECT_THAT(NodeCallError("n:1", grpc::Status(grpc::StatusCode::NOT_FOUND, "no document X: check the id")),
              StatusIs(absl::StatusCode::kNotFound, "no document X: check the id"));
  EXPECT_THAT(NodeCallError("n:1", grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "")),
              StatusIs(absl::StatusCode::kPermissionDenied, "node n:1 answered PERMISSION_DENIED"));
  EXPECT_THAT(NodeCallError("n:1", grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded")),
              StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("did not answer in time")));
  EXPECT_THAT(NodeCallError("n:1", grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad\x1b[2J")),
              StatusIs(absl::StatusCode::kInvalidArgument, "bad\uFFFD[2J"));
}

// ------------------------------------------------------------ StallGuard

TEST(ClerkCommandsStallGuard, CancelsACallThatStalls) {
  grpc::ClientContext context;
  StallGuard guard(&context, absl::Milliseconds(10));
  for (int i = 0; i < 1000 && !guard.fired(); ++i) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_TRUE(guard.fired());
}

TEST(ClerkCommandsStallGuard, StopsQuietlyWithTheCall) {
  grpc::ClientContext context;
  const absl::Time start = absl::Now();
  {
    StallGuard guard(&context, absl::Hours(1));
    guard.Touch();
    EXPECT_FALSE(guard.fired());
  }
  EXPECT_LT(absl::Now() - start, absl::Minutes(1));  // the destructor did not wait for the hour
}

// ------------------------------------------------- a PKI and its profiles

// `congvan pki init` on the sample topology, and profiles of clerk-h49
// pointing wherever a test needs.
class ClerkCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RunResult init = ::congvan::testing::Run({Bin("congvan"), "pki", "init", "--topology",
                                              std::string(CONGVAN_SOURCE_DIR) + "/deploy/topologies/sample.toml",
                                              "--out", pki(), "--key-type", "p256"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    ASSERT_TRUE(std::filesystem::exists(person() + "/profile.toml")) << "pki init wrote no profile.toml";
    WriteTestFile(File("qd.pdf"), "%PDF-1.7 Quyết định số 12/QĐ-UBND");
  }

  std::string pki() const { return dir_.File("pki"); }
  std::string person() const { return pki() + "/people/clerk-h49"; }
  std::string File(const std::string& name) const { return dir_.File(name); }

  // A copy of clerk-h49's profile with node = `address`, next to it so that
  // its relative paths still hold.
  std::string ProfileFor(const std::string& address) {
    std::string toml = ReadTestFile(person() + "/profile.toml");
    toml = std::regex_replace(toml, std::regex("node = \"[^\"]*\""), "node = \"" + address + "\"");
    const std::string path = person() + "/profile-" + std::to_string(++profiles_) + ".toml";
    WriteTestFile(path, toml);
    return path;
  }
  std::string Unreachable() { return ProfileFor("127.0.0.1:1"); }

  std::vector<std::string> SendArgs(const std::string& file) const {
    return {"send",       "--to",    "000.00.00.H29", "--subject", "Về việc tổ chức hội nghị", "--type", "Công văn",
            "--notation", "UBND-VP", "--file",        file};
  }

  TempDir dir_;
  int profiles_ = 0;
};

// ---------------------------------------------------- local behaviour

TEST_F(ClerkCommandsTest, SendWithAMissingFileIsAUsageError) {
  std::vector<std::string> args = SendArgs(File("missing.pdf"));
  args.insert(args.end(), {"--profile", Unreachable()});
  RunResult r = Congvan(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("congvan send: cannot read " + File("missing.pdf")));

  args = SendArgs(File("qd.pdf"));
  args.insert(args.end(), {"--attach", File("missing.docx"), "--json"});
  RunResult json = Congvan(args);
  EXPECT_EQ(json.exit_code, 2);
  auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_THAT(doc["error"].get<std::string>(), HasSubstr("missing.docx"));

  args = SendArgs(File("qd.pdf"));
  args.insert(args.end(), {"--leader-sig", File("qd.pdf.p7s")});
  EXPECT_EQ(Congvan(args).exit_code, 2);
}

TEST_F(ClerkCommandsTest, JsonErrorsSurviveFileNamesThatAreNotUtf8) {
  std::vector<std::string> args = SendArgs(File("bad\xff.pdf"));
  args.insert(args.end(), {"--profile", Unreachable(), "--json"});
  RunResult r = Congvan(args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_THAT(doc["error"].get<std::string>(), HasSubstr("bad\uFFFD.pdf"));
}

TEST_F(ClerkCommandsTest, SendChecksItsFlagsBeforeTheNode) {
  const std::string profile = Unreachable();
  auto run = [&](std::vector<std::string> extra, const std::vector<std::string>& base) {
    std::vector<std::string> args = base;
    args.insert(args.end(), {"--profile", profile});
    args.insert(args.end(), extra.begin(), extra.end());
    return Congvan(args);
  };
  std::vector<std::string> base = SendArgs(File("qd.pdf"));
  base[2] = "h49";
  RunResult bad_id = run({}, base);
  EXPECT_EQ(bad_id.exit_code, 2);
  EXPECT_THAT(bad_id.err, HasSubstr("--to 'h49' is not an agency ID"));

  base = SendArgs(File("qd.pdf"));
  base[2] = kOwnAgency;
  RunResult own = run({}, base);
  EXPECT_EQ(own.exit_code, 2);
  EXPECT_THAT(own.err, HasSubstr("your own agency"));

  RunResult date = run({"--date", "2026-02-30"}, SendArgs(File("qd.pdf")));
  EXPECT_EQ(date.exit_code, 2);
  EXPECT_THAT(date.err, HasSubstr("--date '2026-02-30' is not a date"));

  EXPECT_EQ(run({"--priority", "soon"}, SendArgs(File("qd.pdf"))).exit_code, 2);

  std::filesystem::create_directory(File("other"));
  WriteTestFile(File("other/qd.pdf"), "another");
  RunResult same = run({"--attach", File("other/qd.pdf")}, SendArgs(File("qd.pdf")));
  EXPECT_EQ(same.exit_code, 2);
  EXPECT_THAT(same.err, HasSubstr("two parts are named 'qd.pdf'"));

  WriteTestFile(File("header.pb"), "x");
  RunResult reserved = run({"--attach", File("header.pb")}, SendArgs(File("qd.pdf")));
  EXPECT_EQ(reserved.exit_code, 2);
  EXPECT_THAT(reserved.err, HasSubstr("rename the file"));
}

TEST_F(ClerkCommandsTest, EveryCommandWithoutAProfileNamesCongvanProfile) {
  const std::vector<std::vector<std::string>> commands = {SendArgs(File("qd.pdf")),
                                                          {"inbox"},
                                                          {"fetch", kMessageId, "--out", File("out")},
                                                          {"track", kMessageId},
                                                          {"set-status", kMessageId, "--code", "03"}};
  for (const auto& command : commands) {
    RunResult r = Congvan(command);
    EXPECT_EQ(r.exit_code, 2) << command[0] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("CONGVAN_PROFILE")) << command[0];
    EXPECT_THAT(r.err, HasSubstr("--profile")) << command[0];
  }
}

TEST_F(ClerkCommandsTest, AProfileThatDoesNotLoadIsAUsageError) {
  RunResult missing = Congvan({"inbox", "--profile", File("nowhere.toml")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("nowhere.toml"));

  WriteTestFile(File("bad.toml"), "login = \"clerk-h49\"\n");
  RunResult bad = Congvan({"track", kMessageId}, {{config::kProfileEnvVar, File("bad.toml")}});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("bad.toml"));
}

TEST_F(ClerkCommandsTest, AnUnreachableNodeFailsEveryCommandWithExitOne) {
  const std::string profile = Unreachable();
  std::vector<std::string> send = SendArgs(File("qd.pdf"));
  send.insert(send.end(), {"--profile", profile});
  RunResult r = Congvan(send);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("congvan send: node 127.0.0.1:1 is unreachable"));

  send.push_back("--json");
  RunResult json = Congvan(send);
  EXPECT_EQ(json.exit_code, 1);
  auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["code"], "UNAVAILABLE");
  EXPECT_THAT(doc["error"].get<std::string>(), HasSubstr("unreachable"));

  // The profile from the environment this time.
  const std::map<std::string, std::string> env = {{config::kProfileEnvVar, profile}};
  for (const auto& command :
       std::vector<std::vector<std::string>>{{"inbox"},
                                             {"fetch", kMessageId, "--out", File("out")},
                                             {"track", kMessageId},
                                             {"set-status", kMessageId, "--code", "02", "--reason", "thiếu phụ lục"}}) {
    RunResult each = Congvan(command, env);
    EXPECT_EQ(each.exit_code, 1) << command[0] << ": " << each.err;
    EXPECT_THAT(each.err, HasSubstr("node 127.0.0.1:1 is unreachable")) << command[0];
  }
  EXPECT_FALSE(std::filesystem::exists(File("out/header.pb")));
}

TEST_F(ClerkCommandsTest, SetStatusTakesOnlyAClerksCodes) {
  for (const char* code : {"01", "07", "13", "3"}) {
    RunResult r = Congvan({"set-status", kMessageId, "--code", code, "--profile", Unreachable()});
    EXPECT_EQ(r.exit_code, 2) << code;
  }
}

TEST_F(ClerkCommandsTest, HelpDocumentsTheJsonShapes) {
  RunResult send = Congvan({"send", "--help"});
  EXPECT_EQ(send.exit_code, 0);
  EXPECT_THAT(send.out, HasSubstr("\"message_id\""));
  EXPECT_THAT(send.out, HasSubstr("CONGVAN_PROFILE"));
  RunResult track = Congvan({"track", "--help"});
  EXPECT_THAT(track.out, HasSubstr("\"answers\": [{\"code\": \"01\""));
  RunResult inbox = Congvan({"inbox", "--help"});
  EXPECT_THAT(inbox.out, HasSubstr("\"status\": \"01\""));
  RunResult fetch = Congvan({"fetch", "--help"});
  EXPECT_THAT(fetch.out, HasSubstr("openssl cms -verify"));
}

// ------------------------------------------------------ a stand-in node

// ClerkService as the tests script it. Records what the CLI sent.
class FakeClerk final : public v1::ClerkService::Service {
 public:
  struct Recorded {
    bool peer_authenticated = false;
    v1::SendHeader header;
    std::vector<std::string> parts;
    size_t largest_chunk = 0;
    size_t chunks = 0;
    v1::SetStatusRequest set_status;
    std::vector<std::string> request_ids;  // of every Send, in order
  };

  // Answers to give.
  void SetError(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    error_ = std::move(status);
  }
  void SetSendResponse(v1::SendResponse r) {
    absl::MutexLock lock(&mu_);
    send_ = std::move(r);
  }
  // The next `n` Sends read everything, then fail with `status`: a node
  // whose answer was lost on the way back.
  void LoseSendAnswers(int n, grpc::Status status) {
    absl::MutexLock lock(&mu_);
    lost_answers_ = n;
    lost_status_ = std::move(status);
  }
  // The document Fetch streams, with the part bytes it sends (which may
  // differ from what the header says) in chunks of `chunk` bytes.
  void SetFetch(v1::FetchedDocument document, std::vector<std::string> parts, size_t chunk) {
    absl::MutexLock lock(&mu_);
    fetch_ = std::move(document);
    fetch_parts_ = std::move(parts);
    fetch_chunk_ = chunk;
  }
  void SetTrack(v1::TrackResponse r) {
    absl::MutexLock lock(&mu_);
    track_ = std::move(r);
  }
  Recorded recorded() {
    absl::MutexLock lock(&mu_);
    return recorded_;
  }

  grpc::Status Send(grpc::ServerContext* context, grpc::ServerReader<v1::SendRequest>* reader,
                    v1::SendResponse* response) override {
    absl::MutexLock lock(&mu_);
    recorded_.peer_authenticated = context->auth_context()->IsPeerAuthenticated();
    v1::SendRequest request;
    if (!reader->Read(&request) || !request.has_header()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "header first");
    }
    recorded_.header = request.header();
    recorded_.request_ids.push_back(request.header().request_id());
    recorded_.parts.assign(recorded_.header.parts_size(), "");
    while (reader->Read(&request)) {
      const v1::PartChunk& chunk = request.chunk();
      if (chunk.part() >= recorded_.parts.size()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "part");
      recorded_.parts[chunk.part()] += chunk.data();
      recorded_.largest_chunk = std::max(recorded_.largest_chunk, chunk.data().size());
      ++recorded_.chunks;
    }
    if (!error_.ok()) return error_;
    if (lost_answers_ > 0) {
      --lost_answers_;
      return lost_status_;
    }
    *response = send_;
    return grpc::Status::OK;
  }

  grpc::Status Inbox(grpc::ServerContext*, const v1::InboxRequest*, v1::InboxResponse* response) override {
    absl::MutexLock lock(&mu_);
    if (!error_.ok()) return error_;
    v1::InboxEntry* e = response->add_entries();
    e->set_message_id(kMessageId);
    e->set_from_agency("000.00.00.H29");
    e->set_from_name("UBND thành phố Hà Nội");
    e->set_subject("Về việc tổ chức hội nghị");
    e->set_number(7);
    e->set_status(v1::STATUS_CODE_ARRIVED);
    return grpc::Status::OK;
  }

  grpc::Status Fetch(grpc::ServerContext*, const v1::FetchRequest* request,
                     grpc::ServerWriter<v1::FetchResponse>* writer) override {
    absl::MutexLock lock(&mu_);
    if (!error_.ok()) return error_;
    if (request->message_id() != kMessageId) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such document");
    v1::FetchResponse first;
    *first.mutable_document() = fetch_;
    writer->Write(first);
    for (uint32_t p = 0; p < fetch_parts_.size(); ++p) {
      for (size_t at = 0; at < fetch_parts_[p].size(); at += fetch_chunk_) {
        v1::FetchResponse chunk;
        chunk.mutable_chunk()->set_part(p);
        chunk.mutable_chunk()->set_data(fetch_parts_[p].substr(at, fetch_chunk_));
        if (!writer->Write(chunk)) return grpc::Status::CANCELLED;
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status Track(grpc::ServerContext*, const v1::TrackRequest* request, v1::TrackResponse* response) override {
    absl::MutexLock lock(&mu_);
    if (!error_.ok()) return error_;
    *response = track_;
    response->set_message_id(request->message_id());
    return grpc::Status::OK;
  }

  grpc::Status SetStatus(grpc::ServerContext*, const v1::SetStatusRequest* request,
                         v1::SetStatusResponse* response) override {
    absl::MutexLock lock(&mu_);
    if (!error_.ok()) return error_;
    recorded_.set_status = *request;
    v1::StatusBody body;
    body.set_message_id(request->message_id());
    body.set_agency(kOwnAgency);
    body.set_code(request->code());
    body.set_reason(request->reason());
    body.set_time("2026-11-22T05:00:00Z");
    response->mutable_status()->set_kind(v1::MESSAGE_KIND_STATUS);
    response->mutable_status()->set_body(body.SerializeAsString());
    return grpc::Status::OK;
  }

 private:
  absl::Mutex mu_;
  grpc::Status error_ ABSL_GUARDED_BY(mu_);
  int lost_answers_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::Status lost_status_ ABSL_GUARDED_BY(mu_);
  v1::SendResponse send_ ABSL_GUARDED_BY(mu_);
  v1::FetchedDocument fetch_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> fetch_parts_ ABSL_GUARDED_BY(mu_);
  size_t fetch_chunk_ ABSL_GUARDED_BY(mu_) = 1;
  v1::TrackResponse track_ ABSL_GUARDED_BY(mu_);
  Recorded recorded_ ABSL_GUARDED_BY(mu_);
};

// The fake, served over mutual TLS with the H49 node's certificate.
class ClerkCommandsNodeTest : public ClerkCommandsTest {
 protected:
  void SetUp() override {
    ClerkCommandsTest::SetUp();
    if (HasFatalFailure()) return;
    const std::string agency = pki() + "/agencies/" + kOwnAgency;
    auto credentials =
        node::MakeServerCredentials({agency + "/tls.pem", agency + "/tls.key", {pki() + "/ca/root.pem"}});
    ASSERT_THAT(credentials, IsOk());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port);
    builder.RegisterService(&fake_);
    builder.SetMaxReceiveMessageSize(8 << 20);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port, 0);
    profile_ = ProfileFor("127.0.0.1:" + std::to_string(port));
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  RunResult Clerk(std::vector<std::string> args) {
    args.insert(args.end(), {"--profile", profile_});
    return Congvan(args);
  }

  // A fetched document whose header describes `parts` (name → bytes).
  static v1::FetchedDocument Document(const std::vector<std::pair<std::string, std::string>>& parts) {
    v1::DocumentHeader header;
    header.set_message_id(kMessageId);
    header.set_from_agency("000.00.00.H29");
    header.set_from_name("UBND thành phố Hà Nội");
    header.set_subject("Về việc tổ chức hội nghị");
    header.mutable_registration()->set_number(7);
    header.mutable_registration()->set_year(2026);
    for (size_t i = 0; i < parts.size(); ++i) {
      v1::PartInfo* part = header.add_parts();
      part->set_name(parts[i].first);
      part->set_media_type(MediaTypeOf(parts[i].first));
      part->set_size(parts[i].second.size());
      part->set_sha256(signer::Sha256(parts[i].second));
      part->set_main(i == 0);
    }
    v1::FetchedDocument document;
    document.mutable_document()->set_kind(v1::MESSAGE_KIND_DOCUMENT);
    document.mutable_document()->set_body(header.SerializeAsString());
    document.mutable_document()->set_seal_signature("SEAL-CMS");
    document.add_leader_signatures("LEADER-CMS-1");
    document.add_leader_signatures("LEADER-CMS-2");
    return document;
  }

  FakeClerk fake_;
  std::unique_ptr<grpc::Server> server_;
  std::string profile_;
};

TEST_F(ClerkCommandsNodeTest, SendStreamsTheHeaderThenThePartsInChunksOfAtMostOneMiB) {
  const std::string main = Bytes((5 << 19) + 123, 'm');  // 2.5 MiB and a bit
  const std::string annex = "Phụ lục: danh sách đại biểu";
  WriteTestFile(File("Quyết định 12.pdf"), main);
  WriteTestFile(File("Phụ lục.docx"), annex);
  WriteTestFile(File("empty.txt"), "");
  WriteTestFile(File("qd.p7s"), "LEADER-1");
  WriteTestFile(File("qd2.p7s"), "LEADER-2");
  v1::SendResponse response;
  response.set_message_id(kMessageId);
  response.set_number(12);
  response.set_year(2026);
  response.set_notation("UBND-VP");
  fake_.SetSendResponse(response);

  RunResult r = Clerk({"send",
                       "--to",
                       "000.00.00.H29, 000.00.00.G12",
                       "--to",
                       "000.00.00.H29",
                       "--subject",
                       "Về việc tổ chức hội nghị",
                       "--type",
                       "Công văn",
                       "--notation",
                       "UBND-VP",
                       "--file",
                       File("Quyết định 12.pdf"),
                       "--attach",
                       File("Phụ lục.docx"),
                       "--attach",
                       File("empty.txt"),
                       "--leader-sig",
                       File("qd.p7s"),
                       "--leader-sig",
                       File("qd2.p7s"),
                       "--priority",
                       "flash",
                       "--date",
                       "2026-11-20",
                       "--due",
                       "2026-12-01",
                       "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::parse(std::string(R"({"ok": true, "message_id": ")") +
                                                                kMessageId + R"(", "number": 12, "year": 2026,
                                                                "notation": "UBND-VP", "replayed": false})"));
  EXPECT_EQ(r.err, "");  // no progress bar without a terminal

  const FakeClerk::Recorded sent = fake_.recorded();
  EXPECT_TRUE(sent.peer_authenticated);
  const v1::SendHeader& h = sent.header;
  EXPECT_THAT(h.recipients(), ElementsAre("000.00.00.H29", "000.00.00.G12"));
  EXPECT_EQ(h.subject(), "Về việc tổ chức hội nghị");
  EXPECT_EQ(h.document_type(), "Công văn");
  EXPECT_EQ(h.notation(), "UBND-VP");
  EXPECT_EQ(h.document_date(), "2026-11-20");
  EXPECT_EQ(h.due_date(), "2026-12-01");
  EXPECT_EQ(h.priority(), v1::PRIORITY_FLASH);
  EXPECT_EQ(h.action(), v1::BUSINESS_ACTION_NEW);
  EXPECT_THAT(h.request_id(), ::testing::MatchesRegex("[0-9a-f]{32}"));
  EXPECT_THAT(h.leader_signatures(), ElementsAre("LEADER-1", "LEADER-2"));
  ASSERT_EQ(h.parts_size(), 3);
  EXPECT_EQ(h.parts(0).name(), "Quyết định 12.pdf");
  EXPECT_EQ(h.parts(0).media_type(), "application/pdf");
  EXPECT_TRUE(h.parts(0).main());
  EXPECT_EQ(h.parts(0).size(), main.size());
  EXPECT_EQ(h.parts(0).sha256(), signer::Sha256(main));
  EXPECT_EQ(h.parts(1).name(), "Phụ lục.docx");
  EXPECT_FALSE(h.parts(1).main());
  EXPECT_EQ(h.parts(1).sha256(), signer::Sha256(annex));
  EXPECT_EQ(h.parts(2).media_type(), "text/plain");
  EXPECT_EQ(h.parts(2).size(), 0u);
  EXPECT_THAT(sent.parts, ElementsAre(main, annex, ""));
  EXPECT_EQ(sent.largest_chunk, size_t{1} << 20);
  EXPECT_EQ(sent.chunks, 4u);  // 1 + 1 + 0.5 MiB of the main part, one for the annex, none for the empty file
}

TEST_F(ClerkCommandsNodeTest, SendTextLeavesTheDateToTheNode) {
  v1::SendResponse response;
  response.set_message_id(kMessageId);
  response.set_number(3);
  response.set_year(2026);
  fake_.SetSendResponse(response);
  RunResult r = Clerk(SendArgs(File("qd.pdf")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(std::string("message_id:  ") + kMessageId + "\n"));
  EXPECT_THAT(r.out, HasSubstr("number:      3\n"));
  EXPECT_EQ(fake_.recorded().header.document_date(), "");
  EXPECT_EQ(fake_.recorded().header.priority(), v1::PRIORITY_NORMAL);
}

// The node took the document and the answer was lost: the client sends it
// again with the same request id, which the node answers from its register.
TEST_F(ClerkCommandsNodeTest, SendWhoseAnswerWasLostIsSentAgainWithTheSameRequestId) {
  v1::SendResponse response;
  response.set_message_id(kMessageId);
  response.set_number(3);
  response.set_year(2026);
  response.set_replayed(true);
  fake_.SetSendResponse(response);
  fake_.LoseSendAnswers(1, grpc::Status(grpc::StatusCode::UNAVAILABLE, "Socket closed"));
  RunResult r = Clerk(SendArgs(File("qd.pdf")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("is unreachable: Socket closed; sending again in 1s with the same request id "
                               "(attempt 2 of 4)"));
  EXPECT_THAT(r.out, HasSubstr("number:      3\n"));
  EXPECT_THAT(r.out, HasSubstr("replayed:    yes: an earlier attempt of this send issued it"));
  const std::vector<std::string> ids = fake_.recorded().request_ids;
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], ids[1]);
  EXPECT_THAT(ids[0], ::testing::MatchesRegex("[0-9a-f]{32}"));

  // Every attempt lost: the clerk is told the id to send again with.
  fake_.LoseSendAnswers(4, grpc::Status(grpc::StatusCode::UNAVAILABLE, "Socket closed"));
  std::vector<std::string> args = SendArgs(File("qd.pdf"));
  args.insert(args.end(), {"--request-id", "clerk-retry-7"});
  RunResult lost = Clerk(args);
  EXPECT_EQ(lost.exit_code, 1);
  EXPECT_THAT(lost.err, HasSubstr("the node may have issued it before its answer was lost: send again with "
                                  "--request-id clerk-retry-7"));
  EXPECT_EQ(fake_.recorded().request_ids.size(), 6u);
  EXPECT_EQ(fake_.recorded().request_ids.back(), "clerk-retry-7");
}

TEST_F(ClerkCommandsNodeTest, SendShowsTheNodesRefusal) {
  fake_.SetError(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                              "leader-h29 may not sign for 000.00.00.H49: ask a leader of your agency"));
  RunResult r = Clerk(SendArgs(File("qd.pdf")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "congvan send: leader-h29 may not sign for 000.00.00.H49: ask a leader of your agency\n");
}

TEST_F(ClerkCommandsNodeTest, FetchWritesCheckedPartsAndTheEvidence) {
  const std::string main = Bytes(1500000, 'f');
  const std::string annex = "Phụ lục";
  fake_.SetFetch(Document({{"Quyết định 7.pdf", main}, {"trống.txt", ""}, {"Phụ lục.txt", annex}}), {main, "", annex},
                 256 * 1024);
  const std::string out = File("nested/out");
  RunResult r = Clerk({"fetch", kMessageId, "--out", out, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  EXPECT_EQ(ReadTestFile(out + "/Quyết định 7.pdf"), main);
  EXPECT_EQ(ReadTestFile(out + "/trống.txt"), "");
  EXPECT_EQ(ReadTestFile(out + "/Phụ lục.txt"), annex);
  EXPECT_EQ(ReadTestFile(out + "/header.pb"),
            Document({{"Quyết định 7.pdf", main}, {"trống.txt", ""}, {"Phụ lục.txt", annex}}).document().body());
  EXPECT_EQ(ReadTestFile(out + "/seal.p7s"), "SEAL-CMS");
  EXPECT_EQ(ReadTestFile(out + "/leader-1.p7s"), "LEADER-CMS-1");
  EXPECT_EQ(ReadTestFile(out + "/leader-2.p7s"), "LEADER-CMS-2");
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    EXPECT_THAT(entry.path().string(), Not(HasSubstr(".partial")));
  }
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["message_id"], kMessageId);
  EXPECT_EQ(doc["from"], "000.00.00.H29");
  EXPECT_EQ(doc["number"], 7);
  EXPECT_EQ(doc["seal"], out + "/seal.p7s");
  ASSERT_EQ(doc["parts"].size(), 3u);
  EXPECT_EQ(doc["parts"][0]["sha256"], signer::HexEncode(signer::Sha256(main)));
  EXPECT_EQ(doc["parts"][0]["path"], out + "/Quyết định 7.pdf");
  EXPECT_EQ(doc["parts"][0]["main"], true);

  RunResult text = Clerk({"fetch", kMessageId, "--out", out});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr(out + "/Quyết định 7.pdf (main)"));
}

TEST_F(ClerkCommandsNodeTest, FetchRefusesAPartThatDoesNotMatchTheHeader) {
  const std::string annex = "Phụ lục gốc";
  std::string altered = annex;
  altered[0] = 'X';
  fake_.SetFetch(Document({{"qd.pdf", "main part"}, {"phu-luc.txt", annex}}), {"main part", altered}, 4);
  const std::string out = File("out");
  RunResult r = Clerk({"fetch", kMessageId, "--out", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("part 'phu-luc.txt': its SHA-256 is"));
  EXPECT_FALSE(std::filesystem::exists(out + "/phu-luc.txt"));
  EXPECT_FALSE(std::filesystem::exists(out + "/phu-luc.txt.partial"));
  EXPECT_EQ(ReadTestFile(out + "/qd.pdf"), "main part");  // checked before the bad one arrived

  fake_.SetFetch(Document({{"qd.pdf", "main part"}}), {"main part and more"}, 1024);
  RunResult longer = Clerk({"fetch", kMessageId, "--out", File("out2"), "--json"});
  EXPECT_EQ(longer.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(longer.out)["code"], "DATA_LOSS");
  EXPECT_FALSE(std::filesystem::exists(File("out2/qd.pdf")));
}

TEST_F(ClerkCommandsNodeTest, FetchRefusesPartNamesThatLeaveTheDirectory) {
  fake_.SetFetch(Document({{"../evil.pdf", "x"}}), {"x"}, 1024);
  const std::string out = File("out");
  RunResult r = Clerk({"fetch", kMessageId, "--out", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("part name '../evil.pdf'"));
  EXPECT_FALSE(std::filesystem::exists(File("evil.pdf")));
  EXPECT_TRUE(std::filesystem::is_empty(out));
}

TEST_F(ClerkCommandsNodeTest, FetchPassesOnNotFound) {
  fake_.SetError(grpc::Status(grpc::StatusCode::NOT_FOUND, "no document 0190 at 000.00.00.H49: check the id"));
  RunResult r = Clerk({"fetch", "0190", "--out", File("out")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "congvan fetch: no document 0190 at 000.00.00.H49: check the id\n");
}

TEST_F(ClerkCommandsNodeTest, InboxListsWhatTheNodeHolds) {
  RunResult json = Clerk({"inbox", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto doc = nlohmann::json::parse(json.out);
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["message_id"], kMessageId);
  EXPECT_EQ(doc[0]["from"], "000.00.00.H29");
  EXPECT_EQ(doc[0]["subject"], "Về việc tổ chức hội nghị");
  EXPECT_EQ(doc[0]["number"], 7);
  EXPECT_EQ(doc[0]["status"], "01");

  RunResult text = Clerk({"inbox"});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_THAT(text.out, HasSubstr("01 arrived"));
  EXPECT_THAT(text.out, HasSubstr("UBND thành phố Hà Nội"));
}

TEST_F(ClerkCommandsNodeTest, TrackPrintsTwoDigitCodes) {
  v1::TrackResponse track;
  track.set_number(12);
  v1::RecipientTrack* h29 = track.add_recipients();
  h29->set_agency("000.00.00.H29");
  h29->set_state(v1::DELIVERY_STATE_DELIVERED);
  v1::TrackedAnswer* answer = h29->add_answers();
  answer->set_code(v1::STATUS_CODE_ARRIVED);
  answer->set_time("2026-11-22T03:00:01Z");
  v1::RecipientTrack* g12 = track.add_recipients();
  g12->set_agency("000.00.00.G12");
  g12->set_state(v1::DELIVERY_STATE_QUEUED);
  fake_.SetTrack(track);

  RunResult json = Clerk({"track", kMessageId, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["message_id"], kMessageId);
  EXPECT_EQ(doc["recipients"][0]["state"], "delivered");
  EXPECT_EQ(doc["recipients"][0]["answers"][0]["code"], "01");
  EXPECT_EQ(doc["recipients"][1]["state"], "queued");
  EXPECT_EQ(doc["recipients"][1]["answers"], nlohmann::json::array());

  RunResult text = Clerk({"track", kMessageId});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_THAT(text.out, HasSubstr("01 arrived"));
  EXPECT_THAT(text.out, HasSubstr("queued"));
}

TEST_F(ClerkCommandsNodeTest, SetStatusSendsTheCodeAndPrintsWhatTheNodeSealed) {
  RunResult r = Clerk({"set-status", kMessageId, "--code", "02", "--reason", "thiếu phụ lục", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fake_.recorded().set_status.code(), v1::STATUS_CODE_REJECTED);
  EXPECT_EQ(fake_.recorded().set_status.reason(), "thiếu phụ lục");
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["code"], "02");
  EXPECT_EQ(doc["agency"], kOwnAgency);
  EXPECT_EQ(doc["reason"], "thiếu phụ lục");

  RunResult text = Clerk({"set-status", kMessageId, "--code", "06"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("06 completed"));
}

}  // namespace
}  // namespace congvan::client
