// What the node's services and its delivery loop share: the configuration,
// the store, the trust snapshot, the seal, the clock, the metrics and the
// signature counter. Owned by Node
// (node.h); the services hold a reference.
#ifndef CONGVAN_NODE_NODE_CONTEXT_H_
#define CONGVAN_NODE_NODE_CONTEXT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "congvan/config/node_config.h"
#include "congvan/node/answer_feed.h"
#include "congvan/node/documents.h"
#include "congvan/node/metrics.h"
#include "congvan/node/trust_reloader.h"
#include "congvan/pki/topology.h"
#include "congvan/store/store.h"

namespace congvan::node {

struct NodeContext {
  explicit NodeContext(config::NodeConfig node_config) : config(std::move(node_config)) {}

  config::NodeConfig config;
  std::unique_ptr<pki::Topology> topology;  // the directory of agencies and their hierarchy
  std::unique_ptr<store::Store> store;
  std::unique_ptr<TrustReloader> trust;
  std::unique_ptr<signer::KeyBackend> seal_key;
  std::unique_ptr<SealCredentials> seal;  // seal->key points at seal_key
  DocumentLimits limits;
  std::function<absl::Time()> now = [] { return absl::Now(); };
  // Tells the delivery loop that the outbox has new entries. Default: none.
  std::function<void()> wake_delivery = [] {};
  // What the node counts for Prometheus (metrics.cc has every name).
  Metrics metrics;
  // The seals made (seal->counter points here) and the signatures verified.
  SignatureCounter signatures{metrics};
  // The answers to documents issued here, for ClerkService.Watch.
  AnswerFeed answers;

  const std::string& agency() const { return config.agency.str(); }
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_NODE_CONTEXT_H_
