// A clerk's side of a node for the programs that drive real nodes (the
// benchmarks, the chaos run): documents signed ahead by a leader, Send
// streams with an annex made on the fly, and the Watch of answers, over the
// same NodeClient the CLI uses.
#ifndef CONGVAN_TESTS_CLERK_CLERK_H_
#define CONGVAN_TESTS_CLERK_CLERK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/v1/node.grpc.pb.h"
#include "node_client.h"

namespace congvan::testing {

// A document ready to send: a main part of its own bytes, with a leader's
// signature over it made before the clock starts (leaders sign on their
// own machines; the node only verifies).
struct PreparedDocument {
  std::string main;
  std::string main_sha256;
  std::string leader_signature;
  std::string subject;  // Default (empty): a fixed subject
};

// A leader's signing key, opened once: people/<login>/ of a PKI directory
// (`person`), with its sign.pem and either sign.key or, for a leader whose
// key is on a token, token.toml. Opening a token sets the module's
// environment (setenv): open keys before starting threads.
class LeaderKey {
 public:
  static absl::StatusOr<std::unique_ptr<LeaderKey>> Open(const std::string& person);
  ~LeaderKey();
  // `main` signed (CAdES-BES over its SHA-256), as a document with `subject`.
  absl::StatusOr<PreparedDocument> Prepare(std::string main, std::string subject = "");

 private:
  struct Impl;
  explicit LeaderKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `count` documents of `bytes` each, of distinct contents, signed with the
// leader's key (LeaderKey::Open of `person`).
absl::StatusOr<std::vector<PreparedDocument>> PrepareDocuments(const std::string& person, size_t count, size_t bytes);

// An annex streamed from a generator instead of a file: `size` bytes of a
// fixed pseudo-random pattern, whose SHA-256 MakeAnnex() computes first.
struct Annex {
  uint64_t size = 0;
  std::string sha256;
};
Annex MakeAnnex(uint64_t size);

// A clerk's channel to their node (the profile's mutual-TLS client).
class ClerkChannel {
 public:
  static absl::StatusOr<std::unique_ptr<ClerkChannel>> Open(const std::string& profile_file);
  ~ClerkChannel();

  // Sends one document to `recipients`; returns its message id. An error
  // says only that the call failed: whether the node issued the document
  // before it failed is not known from it.
  absl::StatusOr<std::string> Send(const std::vector<std::string>& recipients, const PreparedDocument& document,
                                   const Annex* annex = nullptr);

  // Whether Send's connection to the node is up, waiting up to `window`
  // for it: false means that a Send now would send nothing.
  bool WaitConnected(absl::Duration window);

  // Watches the node's answers (ClerkService.Watch) on a thread of its own,
  // calling `on_answer` for each; returns once the watch has started.
  absl::Status StartWatch(std::function<void(const v1::AnswerEvent&)> on_answer);
  void StopWatch();

  // The stubs (ClerkService, AuditService, ...) for other calls.
  client::NodeClient& client();

 private:
  struct Impl;
  explicit ClerkChannel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace congvan::testing

#endif  // CONGVAN_TESTS_CLERK_CLERK_H_
