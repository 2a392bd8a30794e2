// A Watch whose caller reads too slowly to keep up with the answers
// (tests/SECURITY.md, "Watch: a watcher too slow to keep up"): once more
// than AnswerFeed::kCapacity answers arrived that it has not read, the watch
// ends with RESOURCE_EXHAUSTED; the node and the other watchers go on. The
// answers are statuses from a recipient, played with the recipient's TLS
// identity and seal, to a document a real node issued.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "congvan/config/node_config.h"
#include "congvan/config/profile.h"
#include "congvan/node/answer_feed.h"
#include "congvan/node/documents.h"
#include "congvan/node/tls.h"
#include "congvan/signer/cms.h"
#include "congvan/v1/node.grpc.pb.h"
#include "testing/cluster.h"
#include "testing/status_matchers.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::RunResult;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

constexpr char kHaLong[] = "000.00.01.H49";   // the node under test, the sender
constexpr char kBaiChay[] = "000.02.01.H49";  // the recipient, played by the test

TEST(WatchBadInput, AWatcherThatFallsMoreThanTheFeedBehindIsResourceExhausted) {
  Cluster cluster;
  cluster.Start(kHaLong);
  // A document to Bãi Cháy (whose node is down: it waits in the outbox).
  const std::string file = cluster.File("cv.pdf");
  WriteTestFile(file, "%PDF-1.7 công văn được trả lời nhiều lần");
  const std::string leader = cluster.Person("leader-halong");
  ASSERT_EQ(cluster.Congvan("", {"sign", "--cert", leader + "/sign.pem", "--key", leader + "/sign.key", "--in", file,
                                 "--out", file + ".p7s"})
                .exit_code,
            0);
  RunResult sent = cluster.Congvan("clerk-halong", {"send", "--to", kBaiChay, "--subject", "Về việc theo dõi",
                                                    "--type", "Công văn", "--notation", "12/UBND", "--file", file,
                                                    "--leader-sig", file + ".p7s", "--json"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  const std::string id = nlohmann::json::parse(sent.out).value("message_id", "");
  ASSERT_EQ(cluster.Congvan("clerk-halong", {"fetch", id, "--out", cluster.File("cv")}).exit_code, 0);
  const std::string header_sha256 = signer::Sha256(ReadTestFile(cluster.File("cv/header.pb")));

  // The watcher: a clerk's Watch that reads nothing for now. Without BDP
  // probing its stream window stays at 64 KiB, so the node's writes block
  // after a few dozen answers instead of filling the client's memory.
  auto profile = config::LoadProfile(cluster.Profile("clerk-halong"));
  ASSERT_OK(profile);
  auto people = MakeChannelCredentials({profile->tls.cert_file, profile->tls.key_file, profile->trust.anchor_files});
  ASSERT_OK(people);
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  auto watch_channel = grpc::CreateCustomChannel(profile->node.ToString(), *people, args);
  grpc::ClientContext watching;
  watching.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(240));
  auto watch = v1::ClerkService::NewStub(watch_channel)->Watch(&watching, v1::WatchRequest());
  watch->WaitForInitialMetadata();  // the node has started the watch

  // Bãi Cháy answers with distinct statuses (05, each its own reason),
  // more than the feed keeps, on a few parallel calls.
  const std::string dir = cluster.dir() + "/agencies/" + kBaiChay;
  auto key = signer::LoadKeyFile(dir + "/seal.key");
  auto certs = signer::LoadCertificates(dir + "/seal.pem");
  ASSERT_OK(key);
  ASSERT_OK(certs);
  auto peer = MakeChannelCredentials({dir + "/tls.pem", dir + "/tls.key", {cluster.Root()}});
  ASSERT_OK(peer);
  auto node = config::LoadNodeConfig(cluster.NodeConfig(kHaLong));
  ASSERT_OK(node);
  auto peer_channel = grpc::CreateChannel(node->listen.peers.ToString(), *peer);
  const int total = static_cast<int>(AnswerFeed::kCapacity) + 500;
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> answering;
  for (int t = 0; t < 8; ++t) {
    answering.emplace_back([&] {
      auto stub = v1::NodeService::NewStub(peer_channel);
      for (int i = next++; i < total; i = next++) {
        v1::StatusBody body;
        body.set_message_id(id);
        body.set_header_sha256(header_sha256);
        body.set_agency(kBaiChay);
        body.set_code(v1::STATUS_CODE_PROCESSING);
        body.set_reason("đang xử lý, bước " + std::to_string(i));
        body.set_time(FormatRfc3339(absl::Now()));
        auto sealed = Seal(v1::MESSAGE_KIND_STATUS, body.SerializeAsString(),
                           {key->get(), certs->front(), {certs->begin() + 1, certs->end()}}, absl::Now());
        if (!sealed.ok()) {
          ++failed;
          continue;
        }
        v1::AnswerRequest request;
        *request.mutable_answer() = *std::move(sealed);
        request.set_to_agency(kHaLong);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        v1::AnswerResponse response;
        if (!stub->Answer(&context, request, &response).ok()) ++failed;
      }
    });
  }
  for (std::thread& t : answering) t.join();
  ASSERT_EQ(failed.load(), 0);

  // Now the watcher reads: what the node had written, then the end.
  v1::AnswerEvent event;
  int read = 0;
  while (watch->Read(&event)) ++read;
  const grpc::Status ended = watch->Finish();
  EXPECT_EQ(ended.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << ended.error_message();
  EXPECT_THAT(ended.error_message(),
              HasSubstr("this watch fell more than " + std::to_string(AnswerFeed::kCapacity) + " answers behind"));
  EXPECT_THAT(ended.error_message(), HasSubstr("Track the documents, then watch again"));
  EXPECT_LT(read, total);

  // The node goes on, and a new watch starts afresh.
  EXPECT_TRUE(cluster.Running(kHaLong));
  grpc::ClientContext again;
  again.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  auto fresh = v1::ClerkService::NewStub(watch_channel)->Watch(&again, v1::WatchRequest());
  EXPECT_FALSE(fresh->Read(&event));  // nothing new: it waits, until its deadline
  EXPECT_EQ(fresh->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

}  // namespace
}  // namespace congvan::node
