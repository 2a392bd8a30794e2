#include "congvan/node/metrics_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>

namespace congvan::node {
namespace {

constexpr size_t kAnsweringThreads = 2;  // a scrape every few seconds needs no more
constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace

MetricsServer::MetricsServer() : server_(std::make_unique<httplib::Server>()) {}

MetricsServer::~MetricsServer() { Stop(); }

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const config::NetAddress& address,
                                                                    const Metrics& metrics) {
  std::unique_ptr<MetricsServer> out(new MetricsServer());
  httplib::Server& server = *out->server_;
  server.new_task_queue = [] { return new httplib::ThreadPool(kAnsweringThreads); };
  // httplib's default sets SO_REUSEPORT, with which a second process (or a
  // gRPC server, which sets it too) could bind the same port and silently
  // take half the scrapes. SO_REUSEADDR only: a taken port is an error, a
  // port in TIME_WAIT after a restart is not.
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Everything but GET (or HEAD) /metrics is 404, before httplib reads a body.
  server.set_pre_routing_handler([](const httplib::Request& request, httplib::Response& response) {
    if ((request.method == "GET" || request.method == "HEAD") && request.path == "/metrics") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    response.status = 404;
    return httplib::Server::HandlerResponse::Handled;
  });
  server.Get("/metrics", [&metrics](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics.Render(), kContentType);
  });
  const bool bound = address.port == 0
                         ? (out->port_ = server.bind_to_any_port(address.host)) > 0
                         : server.bind_to_port(address.host, address.port);
  if (!bound) {
    return absl::UnavailableError("cannot serve metrics on " + address.ToString() +
                                  " (listen.metrics): the port is in use, or the host is not a local address");
  }
  if (address.port != 0) out->port_ = address.port;
  MetricsServer* self = out.get();
  self->thread_ = std::thread([self] {
    self->server_->listen_after_bind();
    self->returned_ = true;
  });
  // A Stop() before the accepting loop runs would not wake it.
  while (!server.is_running() && !self->returned_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return out;
}

void MetricsServer::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace congvan::node
