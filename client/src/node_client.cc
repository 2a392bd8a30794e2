#include "node_client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>

#include <cstdlib>

#include "absl/time/clock.h"
#include "congvan/node/tls.h"
#include "congvan/signer/status_macros.h"
#include "table.h"

namespace congvan::client {

void AddProfileFlag(CLI::App* cmd, std::string& profile) {
  cmd->add_option("--profile", profile,
                  std::string("your profile.toml (how to reach your node); default: $") + config::kProfileEnvVar);
}

absl::StatusOr<config::Profile> LoadClerkProfile(const std::string& flag) {
  ASSIGN_OR_RETURN(std::string path, config::ChooseProfilePath(flag, std::getenv(config::kProfileEnvVar)));
  return config::LoadProfile(path);
}

absl::StatusOr<std::unique_ptr<NodeClient>> NodeClient::Create(const config::Profile& profile,
                                                               const NodeClientOptions& options) {
  node::TlsFiles files{
      .cert_chain = profile.tls.cert_file, .private_key = profile.tls.key_file, .anchors = profile.trust.anchor_files};
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials, node::MakeChannelCredentials(files));
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(options.max_send_message_bytes);
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  const std::string target = profile.node.ToString();
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(target, credentials, args);
  return std::unique_ptr<NodeClient>(new NodeClient(target, std::move(channel), options));
}

NodeClient::NodeClient(std::string target, std::shared_ptr<grpc::Channel> channel, const NodeClientOptions& options)
    : target_(std::move(target)),
      options_(options),
      channel_(std::move(channel)),
      stub_(v1::ClerkService::NewStub(channel_)),
      operator_stub_(v1::OperatorService::NewStub(channel_)),
      audit_stub_(v1::AuditService::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> NodeClient::UnaryContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.call_timeout));
  return context;
}

absl::Status NodeClient::CallError(const grpc::Status& status) const { return NodeCallError(target_, status); }

absl::StatusOr<NodeSession> OpenNodeSession(const std::string& profile_flag, const NodeClientOptions& options) {
  ASSIGN_OR_RETURN(config::Profile profile, LoadClerkProfile(profile_flag));
  ASSIGN_OR_RETURN(std::unique_ptr<NodeClient> client, NodeClient::Create(profile, options));
  return NodeSession{std::move(profile), std::move(client)};
}

absl::Status NodeCallError(const std::string& target, const grpc::Status& status) {
  // gRPC's codes are Abseil's codes, value for value.
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  const std::string detail = Printable(status.error_message());
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return absl::OkStatus();
    case grpc::StatusCode::UNAVAILABLE:
      return absl::Status(code, "node " + target + " is unreachable: " + (detail.empty() ? "no connection" : detail));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::Status(code, "node " + target + " did not answer in time");
    default:
      if (detail.empty()) {
        return absl::Status(code, "node " + target + " answered " + absl::StatusCodeToString(code));
      }
      return absl::Status(code, detail);
  }
}

StallGuard::StallGuard(grpc::ClientContext* context, absl::Duration idle)
    : context_(context), idle_(idle), last_(absl::Now()) {
  thread_ = std::thread([this] { Watch(); });
}

StallGuard::~StallGuard() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void StallGuard::Touch() {
  absl::MutexLock lock(&mu_);
  last_ = absl::Now();
}

bool StallGuard::fired() const {
  absl::MutexLock lock(&mu_);
  return fired_;
}

void StallGuard::Watch() {
  absl::MutexLock lock(&mu_);
  while (!stop_) {
    const absl::Time deadline = last_ + idle_;
    if (absl::Now() >= deadline) {
      fired_ = true;
      context_->TryCancel();
      return;
    }
    // Wakes for stop_ at once; otherwise re-checks at the deadline, which
    // Touch may have moved on meanwhile.
    mu_.AwaitWithDeadline(absl::Condition(&stop_), deadline);
  }
}

absl::Status StreamCallError(const NodeClient& client, const StallGuard& guard, const grpc::Status& status) {
  if (guard.fired() && status.error_code() == grpc::StatusCode::CANCELLED) {
    return absl::DeadlineExceededError("node " + client.target() + " stopped answering for " +
                                       absl::FormatDuration(client.options().stream_idle_timeout));
  }
  return client.CallError(status);
}

}  // namespace congvan::client
