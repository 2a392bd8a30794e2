#include "congvan/node/node.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>

#include <spdlog/spdlog.h>

#include "congvan/node/tls.h"
#include "congvan/signer/status_macros.h"

namespace congvan::node {
namespace {

absl::Status LoadSeal(NodeContext& context) {
  ASSIGN_OR_RETURN(std::vector<signer::Certificate> certs, signer::LoadCertificates(context.config.seal.cert_file));
  ASSIGN_OR_RETURN(context.seal_key, signer::OpenKey(context.config.seal.key));
  RETURN_IF_ERROR(signer::CheckKeyMatchesCertificate(*context.seal_key, certs.front()));
  if (certs.front().AgencyId() != context.agency()) {
    return absl::FailedPreconditionError("the seal certificate " + context.config.seal.cert_file +
                                         " is not this agency's (" + context.agency() + ")");
  }
  context.seal = std::make_unique<SealCredentials>(SealCredentials{
      context.seal_key.get(), certs.front(), {certs.begin() + 1, certs.end()}, &context.signatures});
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartServer(const config::NetAddress& address,
                                                          std::shared_ptr<grpc::ServerCredentials> credentials,
                                                          const std::vector<grpc::Service*>& services,
                                                          const config::Limits& limits, int* port) {
  grpc::ServerBuilder builder;
  // A fixed 4 MiB flow-control window per stream, instead of the window
  // that bandwidth-delay probing grows: a sender that writes faster than the
  // store takes must wait, rather than have gRPC buffer the difference (it
  // buffered 60 MB of a 256 MB Send). 4 MiB still fills a 20 ms link at
  // 200 MB/s.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 4 << 20);
  // gRPC sets SO_REUSEPORT by default: a second node started on a port that
  // another one serves would bind it too, and the kernel would share the
  // connections between two agencies. A port in use must fail the start.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(address.ToString(), std::move(credentials), port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  const int max_message = static_cast<int>(limits.max_header_bytes + limits.chunk_bytes + (1 << 20));
  builder.SetMaxReceiveMessageSize(max_message);
  builder.SetMaxSendMessageSize(max_message);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *port == 0) {
    return absl::UnavailableError("cannot listen on " + address.ToString() + " (in use, or not a local address)");
  }
  return server;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Node>> Node::Start(config::NodeConfig config, NodeOptions options) {
  std::unique_ptr<Node> node(new Node());
  node->context_ = std::make_unique<NodeContext>(std::move(config));
  NodeContext& context = *node->context_;
  context.now = options.now;
  context.limits.max_message_bytes = static_cast<uint64_t>(context.config.limits.max_message_bytes);
  context.limits.max_parts = static_cast<size_t>(context.config.limits.max_parts);

  ASSIGN_OR_RETURN(context.trust,
                   TrustReloader::Create(context.config.trust.anchor_files, context.config.trust.crl_files));
  RETURN_IF_ERROR(LoadSeal(context));
  store::StoreOptions store_options;
  store_options.path = context.config.data_dir;
  store_options.chunk_size = static_cast<size_t>(context.config.limits.chunk_bytes);
  store_options.memtable_budget = size_t{16} << 20;
  store_options.now = context.now;
  ASSIGN_OR_RETURN(context.store, store::Store::Open(store_options));

  ASSIGN_OR_RETURN(pki::Topology topology, pki::Topology::Load(context.config.topology_file));
  if (topology.FindAgency(context.config.agency) == nullptr) {
    return absl::FailedPreconditionError("agency " + context.agency() + " is not in the topology " +
                                         context.config.topology_file);
  }
  context.topology = std::make_unique<pki::Topology>(std::move(topology));
  node->router_ = std::make_unique<Router>(context.config.agency, context.topology->hierarchy(), context.config.peers);
  node->clerk_service_ = std::make_unique<ClerkServiceImpl>(context, *node->router_);
  node->node_service_ = std::make_unique<NodeServiceImpl>(context, *node->router_);
  node->operator_service_ = std::make_unique<OperatorServiceImpl>(context, *node->router_);
  node->audit_service_ = std::make_unique<AuditServiceImpl>(context);
  node->witness_service_ = std::make_unique<WitnessServiceImpl>(context);
  node->delivery_ = std::make_unique<DeliveryLoop>(context, *node->router_);
  node->audit_loop_ = std::make_unique<AuditLoop>(context);
  DeliveryLoop* delivery = node->delivery_.get();
  context.wake_delivery = [delivery] { delivery->Wake(); };

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  ASSIGN_OR_RETURN(auto credentials, MakeServerCredentials({context.config.tls.cert_file, context.config.tls.key_file,
                                                            context.config.trust.anchor_files}));
  ASSIGN_OR_RETURN(node->peers_server_, StartServer(context.config.listen.peers, credentials,
                                                    {node->node_service_.get(), node->witness_service_.get()},
                                                    context.config.limits,
                                                    &node->peers_port_));
  ASSIGN_OR_RETURN(node->people_server_, StartServer(context.config.listen.people, credentials,
                                                     {node->clerk_service_.get(), node->operator_service_.get(),
                                                      node->audit_service_.get()},
                                                     context.config.limits,
                                                     &node->people_port_));
  if (context.config.listen.metrics.has_value()) {
    ASSIGN_OR_RETURN(node->metrics_server_, MetricsServer::Start(*context.config.listen.metrics, context.metrics));
  }
  if (context.config.tsa.has_value()) RETURN_IF_ERROR(node->StartTsa());
  if (!context.store->log_damage().empty()) {
    spdlog::error("audit log: ALARM: {}", context.store->log_damage().ToString());
    context.metrics.Set("congvan_audit_log_damaged", {}, 1);
  }
  node->health_ = std::make_unique<Health>(std::vector<grpc::HealthCheckServiceInterface*>{
      node->peers_server_->GetHealthCheckService(), node->people_server_->GetHealthCheckService()});
  Health* health = node->health_.get();
  node->audit_loop_->on_alarm = [health](bool alarm) { health->SetTimestampAlarm(alarm); };

  // The first self-check now: a certificate about to expire is in the log
  // before the node says it serves.
  ASSIGN_OR_RETURN(std::vector<WatchedCertificate> certificates,
                   OwnCertificates(context.config, context.seal->certificate));
  node->operations_ = std::make_unique<OperationsCheck>(
      *context.store, context.metrics, *health,
      OperationsOptions{.certificates = std::move(certificates),
                        .anchor_files = context.config.trust.anchor_files,
                        .certificate_warning = absl::Hours(24) * context.config.operations.certificate_warning_days,
                        .now = context.now});
  node->operations_->RunOnce();
  OperationsCheck* operations = node->operations_.get();
  node->delivery_->SetPeriodic(OperationsCheck::kInterval, [operations] { operations->RunOnce(); });
  node->delivery_->Start();
  node->delivery_->Wake();  // what was queued before a restart is due now
  node->audit_loop_->Start();
  return node;
}

absl::Status Node::StartTsa() {
  const config::NodeConfig& config = context_->config;
  ASSIGN_OR_RETURN(std::vector<signer::Certificate> certs, signer::LoadCertificates(config.tsa->cert_file));
  ASSIGN_OR_RETURN(tsa_, signer::TimestampAuthority::Create({.certificate = certs.front(),
                                                              .chain = {certs.begin() + 1, certs.end()},
                                                              .key_file = config.tsa->key_file,
                                                              .now = context_->now}));
  ASSIGN_OR_RETURN(tsa_server_, TsaServer::Start(config.tsa->listen,
                                                 {config.tls.cert_file, config.tls.key_file, config.trust.anchor_files},
                                                 *tsa_));
  return absl::OkStatus();
}

Node::~Node() { Shutdown(); }

void Node::Wait() {
  if (people_server_) people_server_->Wait();
}

void Node::Shutdown() {
  if (context_) context_->answers.Close();  // watchers end now, not at the server's deadline
  if (metrics_server_) metrics_server_->Stop();
  if (tsa_server_) tsa_server_->Stop();
  if (delivery_) delivery_->Stop();
  if (audit_loop_) audit_loop_->Stop();
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(5);
  if (peers_server_) peers_server_->Shutdown(deadline);
  if (people_server_) people_server_->Shutdown(deadline);
}

}  // namespace congvan::node
