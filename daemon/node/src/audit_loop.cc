#include "congvan/node/audit_loop.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "congvan/audit/tree_head.h"
#include "congvan/node/documents.h"
#include "congvan/node/tls.h"
#include "congvan/node/tsa_server.h"
#include "congvan/signer/status_macros.h"
#include "congvan/signer/timestamp.h"
#include "congvan/v1/audit.grpc.pb.h"

namespace congvan::node {
namespace {

// Heads stamped per round at most: after an outage, the backlog drains
// without one round holding the loop for long.
constexpr size_t kStampsPerRound = 16;
constexpr auto kWitnessTimeout = std::chrono::seconds(10);

absl::StatusOr<absl::Time> HeadTime(const v1::LoggedTreeHead& head) {
  ASSIGN_OR_RETURN(v1::TreeHead body, audit::ParseTreeHead(head.head()));
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, body.time(), &t, &error)) {
    return absl::DataLossError("a tree head with an unreadable time: " + error);
  }
  return t;
}

}  // namespace

void AuditLoop::FailureLog::Report(const absl::Status& status, const std::string& what, absl::Time now) {
  if (status.ok()) {
    if (failing) spdlog::info("audit log: {}: works again", what);
    failing = false;
    return;
  }
  if (!failing || now - last_warned >= absl::Minutes(1)) {
    spdlog::warn("audit log: {}: {}", what, std::string(status.message()));
    last_warned = now;
  }
  failing = true;
}

void AuditLoop::Start() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] {
    while (true) {
      RunOnce();
      absl::MutexLock lock(&mu_);
      auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping), node_.config.audit.tree_head_interval)) return;
    }
  });
}

void AuditLoop::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void AuditLoop::RunOnce() {
  // Each step goes on without the others: a failed timestamp must not
  // keep the head from its parent, nor a parent that is down the tokens.
  while (true) {
    absl::StatusOr<size_t> integrated = node_.store->IntegrateLog();
    if (!integrated.ok()) {
      spdlog::error("audit log: cannot append the pending events: {}", std::string(integrated.status().message()));
      break;
    }
    if (*integrated == 0) break;
  }
  node_.metrics.Set("congvan_audit_log_events", {}, static_cast<double>(node_.store->LogSize()));
  // A seal that cannot sign (its token pulled out) fails every round until
  // it is back: said when it starts, once a minute, and when it works again.
  seal_log_.Report(SealHead(), "sealing a tree head with the node's seal", node_.now());
  if (!node_.config.audit.tsa_url.empty()) {
    timestamp_log_.Report(StampHeads(), "timestamps from " + node_.config.audit.tsa_url, node_.now());
    CheckAlarm();
  }
  if (node_.config.peers.parent.has_value()) {
    witness_log_.Report(Witness(), "witnessing by the parent " + node_.config.peers.parent->agency.str(),
                        node_.now());
  }
}

absl::Status AuditLoop::SealHead() {
  const uint64_t size = node_.store->LogSize();
  if (size == 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::optional<v1::LoggedTreeHead> latest, node_.store->GetTreeHead(0));
  if (latest.has_value()) {
    ASSIGN_OR_RETURN(v1::TreeHead body, audit::ParseTreeHead(latest->head()));
    if (body.tree_size() >= size) return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::string root, node_.store->LogRoot(size));
  const absl::Time now = node_.now();
  v1::TreeHead body;
  body.set_agency(node_.agency());
  body.set_tree_size(size);
  body.set_root_hash(root);
  body.set_time(FormatRfc3339(now));
  v1::LoggedTreeHead head;
  ASSIGN_OR_RETURN(*head.mutable_head(), Seal(v1::MESSAGE_KIND_TREE_HEAD, body.SerializeAsString(), *node_.seal, now));
  RETURN_IF_ERROR(node_.store->PutTreeHead(head));
  node_.metrics.Add("congvan_audit_tree_heads_total");
  return absl::OkStatus();
}

absl::Status AuditLoop::StampHeads() {
  ASSIGN_OR_RETURN(std::vector<v1::LoggedTreeHead> waiting, node_.store->HeadsWithoutTimestamp(kStampsPerRound));
  // The newest first: it covers every event of the older ones.
  for (auto it = waiting.rbegin(); it != waiting.rend(); ++it) {
    absl::Status s = StampHead(std::move(*it));
    node_.metrics.Add("congvan_audit_timestamps_total", {{"result", s.ok() ? "granted" : "failed"}});
    RETURN_IF_ERROR(s);
  }
  return absl::OkStatus();
}

absl::Status AuditLoop::StampHead(v1::LoggedTreeHead head) {
  const std::string digest = signer::Sha256(head.head().body());
  thread_local absl::BitGen random;
  const uint64_t nonce = absl::Uniform<uint64_t>(random);
  ASSIGN_OR_RETURN(std::string request, signer::MakeTimestampRequest(digest, nonce));
  TsaClientOptions client;
  client.url = node_.config.audit.tsa_url;
  client.cert_file = node_.config.tls.cert_file;
  client.key_file = node_.config.tls.key_file;
  client.ca_file = node_.config.trust.anchor_files.front();
  ASSIGN_OR_RETURN(std::string response, PostTimestampRequest(client, request));
  ASSIGN_OR_RETURN(std::string token, signer::TokenFromResponse(response, digest, nonce));
  // Kept only once it verifies: evidence must not carry a token nobody can check.
  RETURN_IF_ERROR(signer::VerifyTimestampToken(token, digest, *node_.trust->Current()).status());
  node_.signatures.Verified();
  head.set_timestamp_token(std::move(token));
  return node_.store->PutTreeHead(head);
}

void AuditLoop::CheckAlarm() {
  absl::StatusOr<std::vector<v1::LoggedTreeHead>> oldest = node_.store->HeadsWithoutTimestamp(1);
  absl::Duration waited = absl::ZeroDuration();
  if (oldest.ok() && !oldest->empty()) {
    if (absl::StatusOr<absl::Time> t = HeadTime(oldest->front()); t.ok()) waited = node_.now() - *t;
  }
  node_.metrics.Set("congvan_audit_timestamp_pending_seconds", {}, absl::ToDoubleSeconds(waited));
  const bool alarm = waited > node_.config.audit.tsa_alarm_after;
  if (alarm == alarm_.exchange(alarm)) return;
  if (alarm) {
    spdlog::error("audit log: ALARM: a tree head has waited {} for its timestamp from {} (more than {}): the "
                  "time-stamping authority is down or refuses this node; documents still flow, but their evidence "
                  "proves no time until it answers",
                  absl::FormatDuration(absl::Trunc(waited, absl::Seconds(1))), node_.config.audit.tsa_url,
                  absl::FormatDuration(node_.config.audit.tsa_alarm_after));
  } else {
    spdlog::info("audit log: the time-stamping authority {} answers again", node_.config.audit.tsa_url);
  }
  on_alarm(alarm);
}

absl::Status AuditLoop::Witness() {
  ASSIGN_OR_RETURN(std::optional<v1::LoggedTreeHead> latest, node_.store->GetTreeHead(0));
  if (!latest.has_value() || latest->head().body() == parent_head_body_) return absl::OkStatus();
  ASSIGN_OR_RETURN(v1::TreeHead body, audit::ParseTreeHead(latest->head()));
  if (parent_ == nullptr) {
    ASSIGN_OR_RETURN(auto credentials, MakeChannelCredentials({node_.config.tls.cert_file, node_.config.tls.key_file,
                                                               node_.config.trust.anchor_files}));
    parent_ = grpc::CreateChannel(node_.config.peers.parent->address.ToString(), credentials);
  }
  auto stub = v1::WitnessService::NewStub(parent_);
  // Twice at most: the second time from the size the parent says it holds.
  for (int attempt = 0; attempt < 2; ++attempt) {
    v1::WitnessRequest request;
    *request.mutable_head() = latest->head();
    request.set_from_size(parent_size_);
    // A log smaller than the head the parent holds has lost events: no
    // proof exists, and the parent is told so by the head itself.
    if (parent_size_ <= body.tree_size()) {
      ASSIGN_OR_RETURN(v1::ConsistencyProof proof, node_.store->ProveConsistency(parent_size_, body.tree_size()));
      *request.mutable_consistency() = proof.hashes();
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kWitnessTimeout);
    v1::WitnessResponse response;
    grpc::Status status = stub->Witness(&context, request, &response);
    if (!status.ok()) {
      node_.metrics.Add("congvan_audit_witness_total", {{"role", "child"}, {"result", "failed"}});
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
    }
    if (response.recorded()) {
      parent_size_ = body.tree_size();
      parent_head_body_ = latest->head().body();
      node_.metrics.Add("congvan_audit_witness_total", {{"role", "child"}, {"result", "sent"}});
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(v1::TreeHead held, audit::ParseTreeHead(response.last_seen()));
    parent_size_ = held.tree_size();
  }
  return absl::UnavailableError("the parent keeps asking for a proof from another tree size");
}

}  // namespace congvan::node
