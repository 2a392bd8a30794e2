// The clerk's side of the benchmarks: documents signed ahead, Send streams
// and the Watch of answers, over the same NodeClient the CLI uses.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <random>
#include <thread>

#include "absl/synchronization/notification.h"
#include "bench.h"
#include "congvan/config/profile.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/key_backend.h"
#include "congvan/signer/status_macros.h"
#include "node_client.h"

namespace congvan::bench {
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

absl::StatusOr<std::vector<PreparedDocument>> PrepareDocuments(const std::string& person, size_t count,
                                                               size_t bytes) {
  ASSIGN_OR_RETURN(std::vector<signer::Certificate> certs, signer::LoadCertificates(person + "/sign.pem"));
  ASSIGN_OR_RETURN(std::unique_ptr<signer::KeyBackend> key, signer::OpenKey({.key_file = person + "/sign.key"}));
  signer::SignRequest request{key.get(), certs.front(), {certs.begin() + 1, certs.end()}, absl::Now()};
  std::vector<PreparedDocument> documents(count);
  for (size_t i = 0; i < count; ++i) {
    PreparedDocument& d = documents[i];
    d.main = "Công văn số " + std::to_string(i) + " về việc đo hiệu năng.\n";
    d.main.resize(bytes, static_cast<char>('a' + i % 26));
    d.main_sha256 = signer::Sha256(d.main);
    ASSIGN_OR_RETURN(d.leader_signature, signer::SignDigest(d.main_sha256, request));
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
  grpc::ClientContext watch_context;
  std::thread watcher;
};

ClerkChannel::ClerkChannel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClerkChannel::~ClerkChannel() { StopWatch(); }

absl::StatusOr<std::unique_ptr<ClerkChannel>> ClerkChannel::Open(const std::string& profile_file) {
  ASSIGN_OR_RETURN(config::Profile profile, config::LoadProfile(profile_file));
  auto impl = std::make_unique<Impl>();
  ASSIGN_OR_RETURN(impl->client, client::NodeClient::Create(profile));
  return std::unique_ptr<ClerkChannel>(new ClerkChannel(std::move(impl)));
}

absl::StatusOr<std::string> ClerkChannel::Send(const std::vector<std::string>& recipients,
                                               const PreparedDocument& document, const Annex* annex) {
  v1::SendRequest first;
  v1::SendHeader* header = first.mutable_header();
  for (const std::string& recipient : recipients) header->add_recipients(recipient);
  header->set_subject("Về việc đo hiệu năng hệ thống");
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
  auto writer = impl_->client->clerk().Send(&context, &response);
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

void ClerkChannel::StopWatch() {
  if (!impl_->watcher.joinable()) return;
  impl_->watch_context.TryCancel();
  impl_->watcher.join();
}

}  // namespace congvan::bench
