// ClerkService.Watch on real congvand processes: the sender's clerk sees
// each answer to its documents as it is stored, without polling Track; a
// role that may not read them is refused; a stopping node ends the watch at
// once.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "congvan/config/profile.h"
#include "congvan/node/tls.h"
#include "congvan/v1/node.grpc.pb.h"
#include "testing/cluster.h"

namespace congvan::node {
namespace {

using ::congvan::testing::Cluster;
using ::congvan::testing::RunResult;
using ::congvan::testing::WaitFor;
using ::congvan::testing::WriteTestFile;

constexpr char kHaLong[] = "000.00.01.H49";   // the sender (its leader has a key file)
constexpr char kBaiChay[] = "000.02.01.H49";  // a commune under it

// A Watch call of `login` on their own node, read on a thread of its own.
class Watcher {
 public:
  Watcher(const Cluster& cluster, const std::string& login) {
    auto profile = config::LoadProfile(cluster.Profile(login));
    EXPECT_TRUE(profile.ok()) << profile.status();
    auto credentials =
        MakeChannelCredentials({profile->tls.cert_file, profile->tls.key_file, profile->trust.anchor_files});
    EXPECT_TRUE(credentials.ok()) << credentials.status();
    stub_ = v1::ClerkService::NewStub(grpc::CreateChannel(profile->node.ToString(), *credentials));
    reader_ = stub_->Watch(&context_, v1::WatchRequest());
    reader_->WaitForInitialMetadata();
    thread_ = std::thread([this] {
      v1::AnswerEvent event;
      while (reader_->Read(&event)) {
        absl::MutexLock lock(&mu_);
        events_.push_back(event);
      }
      grpc::Status status = reader_->Finish();
      absl::MutexLock lock(&mu_);
      status_ = status;
      ended_ = std::chrono::steady_clock::now();
      done_ = true;
    });
  }
  ~Watcher() {
    context_.TryCancel();
    thread_.join();
  }
  std::vector<v1::AnswerEvent> Events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  bool Done() {
    absl::MutexLock lock(&mu_);
    return done_;
  }
  grpc::Status Status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  std::chrono::steady_clock::time_point Ended() {
    absl::MutexLock lock(&mu_);
    return ended_;
  }

 private:
  std::unique_ptr<v1::ClerkService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::AnswerEvent>> reader_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<v1::AnswerEvent> events_;
  grpc::Status status_;
  std::chrono::steady_clock::time_point ended_;
  bool done_ = false;
};

bool HasAnswer(const std::vector<v1::AnswerEvent>& events, const std::string& id, v1::StatusCode code) {
  for (const v1::AnswerEvent& e : events) {
    if (e.message_id() == id && e.agency() == kBaiChay && e.answer().code() == code &&
        !e.answer().signed_().seal_signature().empty()) {
      return true;
    }
  }
  return false;
}

TEST(Watch, TheSendersClerkSeesTheReceiptAndTheStatusAsTheyArrive) {
  Cluster cluster;
  cluster.Start(kHaLong);
  cluster.Start(kBaiChay);
  Watcher watch(cluster, "clerk-halong");

  WriteTestFile(cluster.File("cv.pdf"), "%PDF-1.7 Công văn về lịch tiếp dân\n");
  const std::string leader = cluster.Person("leader-halong");
  ASSERT_EQ(cluster.Congvan("", {"sign", "--cert", leader + "/sign.pem", "--key", leader + "/sign.key", "--in",
                                 cluster.File("cv.pdf"), "--out", cluster.File("cv.p7s")})
                .exit_code,
            0);
  RunResult sent = cluster.Congvan("clerk-halong", {"send", "--to", kBaiChay, "--subject", "Lịch tiếp dân", "--type",
                                                    "Công văn", "--notation", "12/UBND-VP", "--file",
                                                    cluster.File("cv.pdf"), "--leader-sig", cluster.File("cv.p7s"),
                                                    "--json"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  const std::string id = nlohmann::json::parse(sent.out)["message_id"];

  ASSERT_TRUE(WaitFor([&] { return HasAnswer(watch.Events(), id, v1::STATUS_CODE_ARRIVED); }))
      << cluster.Log(kHaLong);
  ASSERT_EQ(cluster.Congvan("clerk-baichay", {"set-status", id, "--code", "03"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return HasAnswer(watch.Events(), id, v1::STATUS_CODE_ACCEPTED); }))
      << cluster.Log(kHaLong);
  // Each answer once, in the order they were stored.
  const std::vector<v1::AnswerEvent> events = watch.Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].answer().code(), v1::STATUS_CODE_ARRIVED);
  EXPECT_EQ(events[1].answer().code(), v1::STATUS_CODE_ACCEPTED);

  // The node stops: the watch ends with UNAVAILABLE now, not after the
  // server's shutdown grace.
  const auto stopped = std::chrono::steady_clock::now();
  cluster.Stop(kHaLong);
  ASSERT_TRUE(WaitFor([&] { return watch.Done(); }, 10));
  EXPECT_EQ(watch.Status().error_code(), grpc::StatusCode::UNAVAILABLE) << watch.Status().error_message();
  EXPECT_LT(watch.Ended() - stopped, std::chrono::seconds(3));
}

TEST(Watch, AnOperatorMayNotWatchTheAnswers) {
  Cluster cluster;
  cluster.Start("000.00.00.G12");
  Watcher watch(cluster, "operator-g12");
  ASSERT_TRUE(WaitFor([&] { return watch.Done(); }, 10));
  EXPECT_EQ(watch.Status().error_code(), grpc::StatusCode::PERMISSION_DENIED) << watch.Status().error_message();
}

}  // namespace
}  // namespace congvan::node
