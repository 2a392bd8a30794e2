#include "congvan/node/delivery.h"

#include <grpcpp/create_channel.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "absl/random/random.h"
#include "congvan/node/node_service.h"
#include "congvan/node/tls.h"
#include "congvan/signer/status_macros.h"
#include "congvan/v1/node.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace congvan::node {
namespace {

// Entries listed per pass, and handed to one worker at a time: a hop with a
// long backlog cannot hide the others' due entries from the listing.
constexpr size_t kListLimit = 1024;
constexpr size_t kPeerBatch = 64;
constexpr int kMaxReconnectBackoffMs = 5'000;
// How long the first attempt of an entry (new, or queued again) waits for a
// connection that is not up yet.
constexpr auto kConnectWindow = std::chrono::seconds(5);
constexpr absl::Duration kIdlePoll = absl::Milliseconds(500);
// With every stream taken, how long a pass may wait for one to free before
// new entries (perhaps to an idle hop) are looked at anyway. Each pass
// walks the due index past what waits, and past the tombstones of what was
// delivered since the last flush: under load, thousands of keys. Without
// the pause every Send started such a pass.
constexpr absl::Duration kSaturatedPause = absl::Milliseconds(20);

absl::Status FromGrpc(const grpc::Status& status, const std::string& peer) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      "node " + peer + " answered: " + status.error_message());
}

}  // namespace

class DeliveryLoop::TrackedContext {
 public:
  explicit TrackedContext(DeliveryLoop& loop) : loop_(loop) {
    absl::MutexLock lock(&loop_.contexts_mu_);
    if (loop_.cancelled_) context_.TryCancel();
    loop_.contexts_.insert(&context_);
  }
  ~TrackedContext() {
    absl::MutexLock lock(&loop_.contexts_mu_);
    loop_.contexts_.erase(&context_);
  }
  grpc::ClientContext* get() { return &context_; }
  grpc::ClientContext* operator->() { return &context_; }

 private:
  DeliveryLoop& loop_;
  grpc::ClientContext context_;
};

void DeliveryLoop::Start() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = false;
  }
  {
    absl::MutexLock lock(&work_mu_);
    workers_stop_ = false;
  }
  {
    absl::MutexLock lock(&contexts_mu_);
    cancelled_ = false;
  }
  next_periodic_ = periodic_ ? node_.now() + periodic_interval_ : absl::InfiniteFuture();
  for (int i = 0; i < kWorkers; ++i) workers_.emplace_back([this] { Work(); });
  thread_ = std::thread([this] { Loop(); });
}

void DeliveryLoop::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  {
    // What is in flight ends now; its entries stay due and go after a restart.
    absl::MutexLock lock(&contexts_mu_);
    cancelled_ = true;
    for (grpc::ClientContext* context : contexts_) context->TryCancel();
  }
  {
    absl::MutexLock lock(&work_mu_);
    workers_stop_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

void DeliveryLoop::Wake() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
}

void DeliveryLoop::StreamFreed() {
  absl::MutexLock lock(&mu_);
  woken_ = true;
  stream_freed_ = true;
}

void DeliveryLoop::SetPeriodic(absl::Duration interval, std::function<void()> task) {
  periodic_interval_ = interval;
  periodic_ = std::move(task);
}

void DeliveryLoop::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return woken_ || stopping_; };
      mu_.AwaitWithTimeout(absl::Condition(&ready), kIdlePoll);
      if (saturated_) {
        auto freed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stream_freed_ || stopping_; };
        mu_.AwaitWithTimeout(absl::Condition(&freed), kSaturatedPause);
      }
      if (stopping_) return;
      woken_ = false;
      stream_freed_ = false;
    }
    if (auto reloaded = node_.trust->ReloadIfChanged(); !reloaded.ok()) {
      // The last good anchors and CRLs stay in force until the files are fixed.
      spdlog::warn("trust files not reloaded, keeping the previous ones: {}", std::string(reloaded.status().message()));
    } else if (*reloaded) {
      spdlog::info("trust anchors and CRLs reloaded");
    }
    bool saturated = false;
    auto listed = Dispatch(&saturated);
    if (!listed.ok()) {
      spdlog::warn("cannot list the due deliveries: {}", std::string(listed.status().message()));
    }
    {
      absl::MutexLock lock(&mu_);
      saturated_ = saturated;
    }
    if (node_.now() >= next_probe_) {
      ProbeFailed();
      next_probe_ = node_.now() + node_.config.retry.probe_interval;
    }
    if (node_.now() >= next_periodic_) {
      periodic_();
      next_periodic_ = node_.now() + periodic_interval_;
    }
  }
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> DeliveryLoop::ConnectedChannelTo(const std::string& agency,
                                                                               bool first_attempt) {
  ASSIGN_OR_RETURN(auto channel, ChannelTo(agency));
  if (first_attempt && channel->GetState(/*try_to_connect=*/true) != GRPC_CHANNEL_READY) {
    // Whatever back-off the channel is in from earlier failures, try now.
    grpc::experimental::ChannelResetConnectionBackoff(channel.get());
    channel->WaitForConnected(std::chrono::system_clock::now() + kConnectWindow);
  }
  return channel;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> DeliveryLoop::ChannelTo(const std::string& agency) {
  absl::MutexLock lock(&channels_mu_);
  if (auto it = channels_.find(agency); it != channels_.end()) return it->second;
  ASSIGN_OR_RETURN(signer::AgencyId id, signer::AgencyId::Parse(agency));
  const config::Peer* peer = node_.config.peers.Find(id);
  if (peer == nullptr) return absl::FailedPreconditionError(agency + " is not a configured peer of this node");
  ASSIGN_OR_RETURN(auto credentials, MakeChannelCredentials({node_.config.tls.cert_file, node_.config.tls.key_file,
                                                             node_.config.trust.anchor_files}));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(node_.config.limits.max_header_bytes + (8 << 20)));
  args.SetMaxSendMessageSize(static_cast<int>(node_.config.limits.max_header_bytes + (8 << 20)));
  // gRPC's own reconnect back-off stays short (our retry policy decides when
  // to try again): a hop that comes back is reached within seconds, not
  // after the two minutes gRPC would otherwise wait.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
  auto channel = grpc::CreateCustomChannel(peer->address.ToString(), credentials, args);
  channels_[agency] = channel;
  return channel;
}

absl::Status DeliveryLoop::DeliverDocument(const store::OutboxEntry& entry, std::vector<store::Answer>* receipts,
                                           std::vector<store::NewOutboxEntry>* forward) {
  const auto started = std::chrono::steady_clock::now();  // the node's clock may be a test's fake
  ASSIGN_OR_RETURN(store::StoredMessage message, node_.store->GetMessage(entry.message_id));
  ASSIGN_OR_RETURN(auto channel, ConnectedChannelTo(entry.peer, entry.attempts == 0));
  auto stub = v1::NodeService::NewStub(channel);
  TrackedContext context(*this);
  uint64_t total = 0;
  for (const auto& part : message.parts) total += part.size;
  // A minute, plus a second per 10 MB: a slow link may take long, a dead one must not hold a worker.
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60 + total / 10'000'000));
  v1::DeliverResponse response;
  auto writer = stub->Deliver(context.get(), &response);

  v1::DeliverRequest first;
  v1::Envelope* envelope = first.mutable_envelope();
  *envelope->mutable_document() = message.document.document();
  *envelope->mutable_leader_signatures() = message.document.leader_signatures();
  *envelope->mutable_trace() = message.document.trace();
  for (const std::string& recipient : entry.recipients) envelope->add_serve(recipient);
  bool open = writer->Write(first);
  for (uint32_t part = 0; open && part < message.parts.size(); ++part) {
    absl::Status read = node_.store->ReadPart(entry.message_id, part, [&](std::string_view data) -> absl::Status {
      v1::DeliverRequest chunk;
      chunk.mutable_chunk()->set_part(part);
      chunk.mutable_chunk()->set_data(std::string(data));
      if (!writer->Write(chunk)) {
        open = false;
        return absl::CancelledError("stream closed");
      }
      return absl::OkStatus();
    });
    if (!read.ok() && open) return read;  // a local read error, not the peer's
  }
  if (open) writer->WritesDone();
  RETURN_IF_ERROR(FromGrpc(writer->Finish(), entry.peer));

  // The receipts must be the served recipients' own, for this document.
  const std::string header_sha256 = signer::Sha256(message.document.document().body());
  for (const v1::SignedMessage& receipt : response.receipts()) {
    ASSIGN_OR_RETURN(store::Answer answer,
                     VerifyAnswer(receipt, *node_.trust->Current(), node_.now(), nullptr, &node_.signatures));
    v1::ReceiptBody body;
    body.ParseFromString(receipt.body());
    const bool served = std::find(entry.recipients.begin(), entry.recipients.end(), answer.agency) !=
                        entry.recipients.end();
    if (receipt.kind() != v1::MESSAGE_KIND_RECEIPT || !served || answer.message_id != entry.message_id ||
        body.header_sha256() != header_sha256) {
      return absl::DataLossError("node " + entry.peer + " returned a receipt that does not match the delivery");
    }
    receipts->push_back(std::move(answer));
  }
  // A relay carries the receipts on towards the node that issued the document.
  if (!message.issued_here && !receipts->empty()) {
    ASSIGN_OR_RETURN(signer::AgencyId sender, signer::AgencyId::Parse(message.header.from_agency()));
    ASSIGN_OR_RETURN(std::string hop, router_.NextHop(sender));
    for (const v1::SignedMessage& receipt : response.receipts()) {
      store::NewOutboxEntry carry;
      carry.peer = hop;
      carry.message_id = entry.message_id;
      v1::AnswerRequest answer;
      *answer.mutable_answer() = receipt;
      answer.set_to_agency(sender.str());
      carry.answer = std::move(answer);
      carry.deadline = node_.now() + node_.config.retry.delivery_deadline;
      forward->push_back(std::move(carry));
    }
  }
  node_.metrics.Add("congvan_delivery_bytes_total", {{"peer", entry.peer}}, static_cast<double>(total));
  node_.metrics.Observe("congvan_delivery_seconds", {},
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return absl::OkStatus();
}

std::vector<store::NewOutboxEntry> DeliveryLoop::ReportToSender(const store::OutboxEntry& entry,
                                                                const std::string& reason) {
  if (entry.answer.has_value()) return {};  // an answer's own node is the one out of reach
  auto message = node_.store->GetMessage(entry.message_id);
  if (!message.ok() || message->issued_here) return {};  // the sender's own track shows it
  const absl::Time now = node_.now();
  auto report = MakeDeliveryReport(*message, node_.agency(), entry.recipients, entry.peer, reason, *node_.seal, now);
  auto sender = signer::AgencyId::Parse(message->header.from_agency());
  absl::StatusOr<std::string> hop = sender.ok() ? router_.NextHop(*sender) : sender.status();
  if (!report.ok() || !hop.ok()) {
    spdlog::warn("message={} peer={} cannot report the failed delivery to the sender {}: {}", entry.message_id,
                 entry.peer, message->header.from_agency(),
                 std::string((report.ok() ? hop.status() : report.status()).message()));
    return {};
  }
  store::NewOutboxEntry carry;
  carry.peer = *hop;
  carry.message_id = entry.message_id;
  v1::AnswerRequest answer;
  *answer.mutable_answer() = *std::move(report);
  answer.set_to_agency(sender->str());
  carry.answer = std::move(answer);
  carry.deadline = now + node_.config.retry.delivery_deadline;
  return {std::move(carry)};
}

absl::Status DeliveryLoop::DeliverAnswer(const store::OutboxEntry& entry) {
  ASSIGN_OR_RETURN(auto channel, ConnectedChannelTo(entry.peer, entry.attempts == 0));
  auto stub = v1::NodeService::NewStub(channel);
  TrackedContext context(*this);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::AnswerResponse response;
  return FromGrpc(stub->Answer(context.get(), *entry.answer, &response), entry.peer);
}

void DeliveryLoop::Record(const store::OutboxEntry& entry, const absl::Status& outcome,
                          std::vector<store::Answer> receipts, std::vector<store::NewOutboxEntry> forward) {
  absl::Status recorded;
  const absl::Time now = node_.now();
  const char* result = outcome.ok() ? "delivered" : now >= entry.deadline ? "failed" : "retry";
  node_.metrics.Add(entry.answer.has_value() ? "congvan_answers_forwarded_total" : "congvan_deliveries_total",
                    {{"peer", entry.peer}, {"result", result}});
  if (outcome.ok()) {
    recorded = node_.store->MarkDelivered(entry.id, receipts, forward);
    if (recorded.ok() && !forward.empty()) Wake();
    // A relay carries its receipts on (in `forward`); the sender keeps them.
    if (recorded.ok() && forward.empty()) node_.answers.Publish(receipts);
  } else if (now >= entry.deadline) {
    const std::string reason = "not delivered to " + entry.peer + " before the deadline " +
                               FormatRfc3339(entry.deadline) + ": " + std::string(outcome.message());
    recorded = node_.store->MarkFailed(entry.id, reason, ReportToSender(entry, reason));
  } else {
    thread_local absl::BitGen random;
    const absl::Duration delay = store::BackoffDelay(entry.attempts + 1, node_.config.retry.initial_backoff,
                                                     node_.config.retry.max_backoff, absl::Uniform(random, 0.0, 1.0));
    recorded = node_.store->MarkRetry(entry.id, std::min(now + delay, entry.deadline), std::string(outcome.message()));
  }
  const char* what = entry.answer.has_value() ? "answer" : "document";
  if (recorded.ok()) {
    absl::MutexLock lock(&work_mu_);
    held_.erase(entry.id);
  }
  if (!recorded.ok()) {
    // The entry stays due and is tried again, after a back-off: the store
    // refusing writes (a full disk) must not turn into a delivery loop.
    {
      thread_local absl::BitGen hold_random;
      absl::MutexLock lock(&work_mu_);
      Held& held = held_[entry.id];
      ++held.failures;
      held.until = now + store::BackoffDelay(entry.attempts + held.failures, node_.config.retry.initial_backoff,
                                             node_.config.retry.max_backoff, absl::Uniform(hold_random, 0.0, 1.0));
    }
    // Nothing is lost.
    spdlog::warn("message={} peer={} cannot record the {} delivery ({}): {}", entry.message_id, entry.peer, what,
                 result, std::string(recorded.message()));
  } else if (outcome.ok()) {
    spdlog::info("message={} peer={} attempt={} {} delivered", entry.message_id, entry.peer, entry.attempts + 1,
                 what);
  } else if (now >= entry.deadline) {
    spdlog::warn("message={} peer={} attempt={} {} not delivered before the deadline {}, given up (`congvan retry` "
                 "or the peer's return queues it again): {}",
                 entry.message_id, entry.peer, entry.attempts + 1, what, FormatRfc3339(entry.deadline),
                 std::string(outcome.message()));
  } else {
    spdlog::info("message={} peer={} attempt={} {} delivery failed, retrying: {}", entry.message_id, entry.peer,
                 entry.attempts + 1, what, std::string(outcome.message()));
  }
}

void DeliveryLoop::ProbeFailed() {
  auto failed = node_.store->ListFailed(10'000);
  if (!failed.ok()) {
    spdlog::warn("cannot list the failed deliveries: {}", std::string(failed.status().message()));
    return;
  }
  // Each probe waits for a connection attempt: it runs on a worker, so that
  // dead hops never stall the loop.
  std::map<std::string, std::vector<store::OutboxEntry>> by_peer;
  for (store::OutboxEntry& entry : *failed) by_peer[entry.peer].push_back(std::move(entry));
  absl::MutexLock lock(&work_mu_);
  for (auto& [peer, entries] : by_peer) {
    if (busy_peers_.count(peer) != 0) continue;  // a delivery to it is under way: it is not down
    ++busy_peers_[peer];
    queue_.push_back({peer, std::move(entries), /*probe=*/true});
  }
}

void DeliveryLoop::Probe(const std::string& peer, const std::vector<store::OutboxEntry>& failed) {
  auto channel = ChannelTo(peer);
  if (!channel.ok()) return;
  grpc::experimental::ChannelResetConnectionBackoff(channel->get());
  TrackedContext context(*this);
  context->set_deadline(std::chrono::system_clock::now() + kConnectWindow);
  context->set_wait_for_ready(true);  // a connection attempt, not the channel's last verdict
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status checked = grpc::health::v1::Health::NewStub(*channel)->Check(context.get(), request, &response);
  if (!checked.ok() || response.status() != grpc::health::v1::HealthCheckResponse::SERVING) return;
  const absl::Time now = node_.now();
  size_t rearmed = 0;
  for (const store::OutboxEntry& entry : failed) {
    if (node_.store->Rearm(entry.id, now, now + node_.config.retry.delivery_deadline).ok()) ++rearmed;
  }
  spdlog::info("peer={} is back: {} failed deliveries queued again", peer, rearmed);
}

int DeliveryLoop::StreamsFor(const std::string& peer) {
  absl::MutexLock lock(&channels_mu_);
  auto it = channels_.find(peer);
  const bool up = it != channels_.end() && it->second->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_READY;
  return up ? kStreamsPerPeer : 1;
}

absl::StatusOr<size_t> DeliveryLoop::Dispatch(bool* saturated) {
  std::set<std::string, std::less<>> in_flight;
  std::map<std::string, int, std::less<>> busy;
  int free_workers = kWorkers;
  {
    absl::MutexLock lock(&work_mu_);
    in_flight = in_flight_;
    const absl::Time now = node_.now();
    for (const auto& [id, held] : held_) {
      if (held.until > now) in_flight.insert(id);
    }
    busy.insert(busy_peers_.begin(), busy_peers_.end());
    for (const auto& [peer, batches] : busy_peers_) free_workers -= batches;
  }
  // Every worker has a batch: what is due goes when one is done (it wakes
  // the loop). Under load this is most passes, and each would otherwise
  // read a backlog it cannot send.
  if (free_workers <= 0) return 0;
  // What is in flight is not read again, nor what no free stream could
  // carry now: each hop's free streams take up to kPeerBatch entries each.
  struct Hop {
    int streams = 0;   // StreamsFor, asked once per pass
    size_t taken = 0;  // entries listed for it in this pass
  };
  std::map<std::string, Hop, std::less<>> hops;
  const size_t capacity = std::min(kListLimit, static_cast<size_t>(free_workers) * kPeerBatch);
  size_t refused = 0;
  auto wanted = [&](std::string_view peer) {
    auto hop = hops.find(peer);
    if (hop == hops.end()) hop = hops.emplace(std::string(peer), Hop{StreamsFor(std::string(peer))}).first;
    auto busy_now = busy.find(peer);
    const int free = std::min(hop->second.streams - (busy_now == busy.end() ? 0 : busy_now->second), free_workers);
    if (free <= 0 || hop->second.taken >= static_cast<size_t>(free) * kPeerBatch) {
      ++refused;
      return false;
    }
    ++hop->second.taken;
    return true;
  };
  ASSIGN_OR_RETURN(std::vector<store::OutboxEntry> due,
                   node_.store->ListDue(node_.now(), capacity, in_flight, wanted));
  // The walk was long (a backlog waiting for streams): the next ones wait a
  // little for a stream to free. A few entries held back (one to a hop that
  // is down) cost nothing to walk past and delay nobody.
  *saturated = refused >= kPeerBatch;
  absl::MutexLock lock(&work_mu_);
  // Each hop's due entries, dealt round-robin over the streams it may
  // still open: a long backlog goes out in parallel, oldest first in each.
  std::map<std::string, std::vector<PeerBatch>> by_peer;
  for (store::OutboxEntry& entry : due) {
    if (in_flight_.count(entry.id) != 0) continue;
    auto busy = busy_peers_.find(entry.peer);
    const int free = hops[entry.peer].streams - (busy == busy_peers_.end() ? 0 : busy->second);
    if (free <= 0) continue;
    std::vector<PeerBatch>& batches = by_peer[entry.peer];
    if (batches.empty()) batches.resize(static_cast<size_t>(free), PeerBatch{entry.peer, {}});
    size_t fewest = 0;
    for (size_t i = 1; i < batches.size(); ++i) {
      if (batches[i].entries.size() < batches[fewest].entries.size()) fewest = i;
    }
    if (batches[fewest].entries.size() < kPeerBatch) {
      in_flight_.insert(entry.id);
      batches[fewest].entries.push_back(std::move(entry));
    }
  }
  for (auto& [peer, batches] : by_peer) {
    for (PeerBatch& batch : batches) {
      if (batch.entries.empty()) continue;
      ++busy_peers_[peer];
      queue_.push_back(std::move(batch));
    }
  }
  return due.size();
}

void DeliveryLoop::Work() {
  while (true) {
    PeerBatch batch;
    {
      absl::MutexLock lock(&work_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(work_mu_) { return !queue_.empty() || workers_stop_; };
      work_mu_.Await(absl::Condition(&ready));
      if (workers_stop_) return;
      batch = std::move(queue_.front());
      queue_.pop_front();
    }
    auto cancelled = [this] {
      absl::MutexLock lock(&contexts_mu_);
      return cancelled_;
    };
    if (batch.probe && !cancelled()) Probe(batch.peer, batch.entries);
    for (const store::OutboxEntry& entry : batch.entries) {
      if (batch.probe) break;
      if (!cancelled()) {
        std::vector<store::Answer> receipts;
        std::vector<store::NewOutboxEntry> forward;
        absl::Status outcome =
            entry.answer.has_value() ? DeliverAnswer(entry) : DeliverDocument(entry, &receipts, &forward);
        // A call cancelled by Stop() is no failure of the peer: nothing is recorded.
        if (!(absl::IsCancelled(outcome) && cancelled())) {
          Record(entry, outcome, std::move(receipts), std::move(forward));
        }
      }
      absl::MutexLock lock(&work_mu_);
      in_flight_.erase(entry.id);
    }
    {
      absl::MutexLock lock(&work_mu_);
      if (--busy_peers_[batch.peer] <= 0) busy_peers_.erase(batch.peer);
    }
    StreamFreed();  // its hop's further entries, if due, go now
  }
}

}  // namespace congvan::node
