// How the clerk commands reach the person's own node: the profile
// (--profile FILE or $CONGVAN_PROFILE), a mutual-TLS gRPC channel to the
// node's listen.people address, call deadlines, and failed calls turned into
// messages a clerk can act on.
#ifndef CONGVAN_CLIENT_NODE_CLIENT_H_
#define CONGVAN_CLIENT_NODE_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "congvan/config/profile.h"
#include "congvan/v1/audit.grpc.pb.h"
#include "congvan/v1/node.grpc.pb.h"

namespace congvan::client {

// Adds --profile FILE to `cmd`, storing into `profile`.
void AddProfileFlag(CLI::App* cmd, std::string& profile);

// The profile named by --profile (`flag`), else by $CONGVAN_PROFILE, loaded
// and checked. FAILED_PRECONDITION naming CONGVAN_PROFILE when neither is
// given; LoadProfile's errors (with the file and key) otherwise. The
// commands treat every error here as a usage error (exit 2).
[[nodiscard]] absl::StatusOr<config::Profile> LoadClerkProfile(const std::string& flag);

struct NodeClientOptions {
  // Deadline of each unary call (Inbox, Track, SetStatus). Default: 30 s.
  absl::Duration call_timeout = absl::Seconds(30);
  // A streaming call (Send, Fetch) has no overall deadline, since moving a
  // large document takes as long as the link needs; it is cancelled when
  // no message moves either way for this long. Default: 2 min.
  absl::Duration stream_idle_timeout = absl::Minutes(2);
  // Largest gRPC message sent: a 1 MiB chunk, or a SendHeader with its
  // leader signatures, plus framing. Default: 4 MiB.
  int max_send_message_bytes = 4 << 20;
  // Largest gRPC message received: a 1 MiB chunk, a FetchedDocument (a
  // header of up to 1 MiB with its signatures), or a Track or Inbox answer,
  // which grows with recipients and entries. Default: 64 MiB.
  int max_receive_message_bytes = 64 << 20;
};

// A channel to one node's ClerkService, OperatorService and AuditService.
// Thread-safe as gRPC stubs are.
class NodeClient {
 public:
  // Reads the profile's TLS certificate, key and anchors and builds the
  // channel; does not connect yet (the first call does). Errors:
  // MakeChannelCredentials's (NOT_FOUND a file, FAILED_PRECONDITION a key
  // readable by others, INVALID_ARGUMENT no anchor).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<NodeClient>> Create(const config::Profile& profile,
                                                                          const NodeClientOptions& options = {});

  v1::ClerkService::Stub& clerk() { return *stub_; }
  v1::OperatorService::Stub& operators() { return *operator_stub_; }
  v1::AuditService::Stub& audit() { return *audit_stub_; }
  // "host:port", as dialled.
  const std::string& target() const { return target_; }
  const NodeClientOptions& options() const { return options_; }

  // A context for a unary call, with the call deadline set.
  std::unique_ptr<grpc::ClientContext> UnaryContext() const;

  // The clerk's message for a failed call (NodeCallError with this target).
  absl::Status CallError(const grpc::Status& status) const;

 private:
  NodeClient(std::string target, std::shared_ptr<grpc::Channel> channel, const NodeClientOptions& options);

  std::string target_;
  NodeClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ClerkService::Stub> stub_;
  std::unique_ptr<v1::OperatorService::Stub> operator_stub_;
  std::unique_ptr<v1::AuditService::Stub> audit_stub_;
};

// The profile (LoadClerkProfile) and a client for its node.
struct NodeSession {
  config::Profile profile;
  std::unique_ptr<NodeClient> client;
};
// Errors: LoadClerkProfile's and NodeClient::Create's; every one of them is
// about the person's own setup (exit 2).
[[nodiscard]] absl::StatusOr<NodeSession> OpenNodeSession(const std::string& profile_flag,
                                                          const NodeClientOptions& options = {});

// A failed call as a clerk should read it, with the call's code:
// UNAVAILABLE → "node <target> is unreachable: <gRPC's detail>";
// DEADLINE_EXCEEDED → "node <target> did not answer in time"; anything
// else → the node's own message (written for clerks), or
// "node <target> answered <CODE>" when it sent none. Text from the node
// passes through Printable.
absl::Status NodeCallError(const std::string& target, const grpc::Status& status);

// Cancels a streaming call that stalls: TryCancel on `context` when Touch
// has not been called for `idle` (from construction on). Used from the one
// thread that drives the call; the check runs on a thread of its own.
class StallGuard {
 public:
  StallGuard(grpc::ClientContext* context, absl::Duration idle);
  ~StallGuard();
  StallGuard(const StallGuard&) = delete;
  StallGuard& operator=(const StallGuard&) = delete;

  // Something moved: the idle time starts over.
  void Touch();
  // Whether the call was cancelled for stalling; a call that then fails
  // with CANCELLED failed for that reason.
  bool fired() const;

 private:
  void Watch();

  grpc::ClientContext* context_;
  const absl::Duration idle_;
  mutable absl::Mutex mu_;
  absl::Time last_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool fired_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// The error of a streaming call that ended with `status`, accounting for a
// stall the guard cancelled: "node <target> stopped answering for <idle>".
absl::Status StreamCallError(const NodeClient& client, const StallGuard& guard, const grpc::Status& status);

}  // namespace congvan::client

#endif  // CONGVAN_CLIENT_NODE_CLIENT_H_
