#include "clerk/clerk.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "congvan/config/profile.h"
#include "congvan/node/tls.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/key_backend.h"
#include "congvan/signer/status_macros.h"
#include "node_client.h"

namespace congvan::testing {
namespace {

constexpr size_t kChunkBytes = size_t{1} << 20;

// The annex's bytes from `offset`: a pattern that compresses nowhere and
// costs nothing to make.
void FillAnnex(uint64_t offset, std::string& out) {
  std::mt19937_64 random(offset / kChunkBytes);
  for (size_t i = 0; i + 8 <= out.size(); i += 8) {
    const uint64_t word = random();
    std::memcpy(out.data() + i, &word, 8);
  }
}

}  // namespace

struct LeaderKey::Impl {
  std::vector<signer::Certificate> certs;
  std::unique_ptr<signer::KeyBackend> key;
};

LeaderKey::LeaderKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LeaderKey::~LeaderKey() = default;

absl::StatusOr<std::unique_ptr<LeaderKey>> LeaderKey::Open(const std::string& person) {
  auto impl = std::make_unique<Impl>();
  ASSIGN_OR_RETURN(impl->certs, signer::LoadCertificates(person + "/sign.pem"));
  signer::KeyConfig config;
  struct stat st {};
  if (stat((person + "/sign.key").c_str(), &st) == 0) {
    config.key_file = person + "/sign.key";
  } else {
    ASSIGN_OR_RETURN(config.token, signer::LoadTokenConfig(person + "/token.toml"));
  }
  ASSIGN_OR_RETURN(impl->key, signer::OpenKey(config));
  return std::unique_ptr<LeaderKey>(new LeaderKey(std::move(impl)));
}

absl::StatusOr<PreparedDocument> LeaderKey::Prepare(std::string main, std::string subject) {
  signer::SignRequest request{impl_->key.get(), impl_->certs.front(),
                              {impl_->certs.begin() + 1, impl_->certs.end()}, absl::Now()};
  PreparedDocument d;
  d.main = std::move(main);
  d.subject = std::move(subject);
  d.main_sha256 = signer::Sha256(d.main);
  ASSIGN_OR_RETURN(d.leader_signature, signer::SignDigest(d.main_sha256, request));
  return d;
}

absl::StatusOr<std::vector<PreparedDocument>> PrepareDocuments(const std::string& person, size_t count,
                                                               size_t bytes) {
  ASSIGN_OR_RETURN(std::unique_ptr<LeaderKey> key, LeaderKey::Open(person));
  std::vector<PreparedDocument> documents;
  for (size_t i = 0; i < count; ++i) {
    std::string main = "Công văn số " + std::to_string(i) + " về việc đo hiệu năng.\n";
    main.resize(bytes, static_cast<char>('a' + i % 26));
    ASSIGN_OR_RETURN(PreparedDocument d, key->Prepare(std::move(main)));
    documents.push_back(std::move(d));
  }
  return documents;
}

Annex MakeAnnex(uint64_t size) {
  Annex annex{size, ""};
  signer::Sha256Stream hash;
  std::string chunk;
  for (uint64_t offset = 0; offset < size; offset += kChunkBytes) {
    chunk.resize(static_cast<size_t>(std::min<uint64_t>(kChunkBytes, size - offset)));
    FillAnnex(offset, chunk);
    hash.Update(chunk);
  }
  annex.sha256 = hash.Finish();
  return annex;
}

struct ClerkChannel::Impl {
  std::unique_ptr<client::NodeClient> client;
  // Send's own channel, whose reconnect back-off stays short (gRPC's default
  // grows to two minutes): a node that comes back is reached within a second.
  std::shared_ptr<grpc::Channel> send_channel;
  std::unique_ptr<v1::ClerkService::Stub> send_stub;
  grpc::ClientContext watch_context;
  std::thread watcher;
};

ClerkChannel::ClerkChannel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClerkChannel::~ClerkChannel() { StopWatch(); }

absl::StatusOr<std::unique_ptr<ClerkChannel>> ClerkChannel::Open(const std::string& profile_file) {
  ASSIGN_OR_RETURN(config::Profile profile, config::LoadProfile(profile_file));
  auto impl = std::make_unique<Impl>();
  ASSIGN_OR_RETURN(impl->client, client::NodeClient::Create(profile));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                   node::MakeChannelCredentials({.cert_chain = profile.tls.cert_file,
                                                 .private_key = profile.tls.key_file,
                                                 .anchors = profile.trust.anchor_files}));
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(impl->client->options().max_send_message_bytes);
  args.SetMaxReceiveMessageSize(impl->client->options().max_receive_message_bytes);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  impl->send_channel = grpc::CreateCustomChannel(profile.node.ToString(), credentials, args);
  impl->send_stub = v1::ClerkService::NewStub(impl->send_channel);
  return std::unique_ptr<ClerkChannel>(new ClerkChannel(std::move(impl)));
}

absl::StatusOr<std::string> ClerkChannel::Send(const std::vector<std::string>& recipients,
                                               const PreparedDocument& document, const Annex* annex) {
  v1::SendRequest first;
  v1::SendHeader* header = first.mutable_header();
  for (const std::string& recipient : recipients) header->add_recipients(recipient);
  header->set_subject(document.subject.empty() ? "Về việc đo hiệu năng hệ thống" : document.subject);
  header->set_document_type("Công văn");
  header->set_notation("UBND-VP");
  header->set_action(v1::BUSINESS_ACTION_NEW);
  v1::PartSpec* main = header->add_parts();
  main->set_name("cong-van.pdf");
  main->set_media_type("application/pdf");
  main->set_size(document.main.size());
  main->set_sha256(document.main_sha256);
  main->set_main(true);
  if (annex != nullptr) {
    v1::PartSpec* spec = header->add_parts();
    spec->set_name("phu-luc.pdf");
    spec->set_media_type("application/pdf");
    spec->set_size(annex->size);
    spec->set_sha256(annex->sha256);
  }
  header->add_leader_signatures(document.leader_signature);

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  v1::SendResponse response;
  auto writer = impl_->send_stub->Send(&context, &response);
  bool open = writer->Write(first);
  v1::SendRequest chunk;
  chunk.mutable_chunk()->set_part(0);
  chunk.mutable_chunk()->set_data(document.main);
  if (open) open = writer->Write(chunk);
  if (annex != nullptr) {
    chunk.mutable_chunk()->set_part(1);
    std::string* data = chunk.mutable_chunk()->mutable_data();
    for (uint64_t offset = 0; open && offset < annex->size; offset += kChunkBytes) {
      data->resize(static_cast<size_t>(std::min<uint64_t>(kChunkBytes, annex->size - offset)));
      FillAnnex(offset, *data);
      open = writer->Write(chunk);
    }
  }
  if (open) writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (!status.ok()) return impl_->client->CallError(status);
  return response.message_id();
}

absl::Status ClerkChannel::StartWatch(std::function<void(const v1::AnswerEvent&)> on_answer) {
  auto started = std::make_shared<absl::Notification>();
  auto outcome = std::make_shared<grpc::Status>();
  impl_->watcher = std::thread([this, on_answer = std::move(on_answer), started, outcome] {
    v1::WatchRequest request;
    auto reader = impl_->client->clerk().Watch(&impl_->watch_context, request);
    // The node sends the headers once the watch is registered.
    reader->WaitForInitialMetadata();
    started->Notify();
    v1::AnswerEvent event;
    while (reader->Read(&event)) on_answer(event);
    *outcome = reader->Finish();
  });
  if (!started->WaitForNotificationWithTimeout(absl::Seconds(30))) {
    return absl::DeadlineExceededError("the node did not start the watch in 30 s");
  }
  return absl::OkStatus();
}

client::NodeClient& ClerkChannel::client() { return *impl_->client; }

bool ClerkChannel::WaitConnected(absl::Duration window) {
  if (impl_->send_channel->GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY) return true;
  return impl_->send_channel->WaitForConnected(absl::ToChronoTime(absl::Now() + window));
}

void ClerkChannel::StopWatch() {
  if (!impl_->watcher.joinable()) return;
  impl_->watch_context.TryCancel();
  impl_->watcher.join();
}

}  // namespace congvan::testing
