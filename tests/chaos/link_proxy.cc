#include "link_proxy.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace congvan::chaos {

namespace {

// Both sockets of one forwarded connection; closed when both pumps are done.
struct Connection {
  int client = -1;
  int server = -1;
  ~Connection() {
    close(client);
    close(server);
  }
  void Drop() const {
    shutdown(client, SHUT_RDWR);
    shutdown(server, SHUT_RDWR);
  }
};

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t w = send(fd, data, size, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    size -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

struct LinkProxy::State : std::enable_shared_from_this<LinkProxy::State> {
  int listener = -1;
  int target_port = 0;
  int port = 0;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> forwarded{0};
  std::atomic<uint64_t> refused{0};
  std::thread acceptor;
  absl::Mutex mu;
  bool cut ABSL_GUARDED_BY(mu) = false;
  std::set<std::shared_ptr<Connection>> live ABSL_GUARDED_BY(mu);

  void Accept();
  void Forward(int client);
};

void LinkProxy::State::Accept() {
  while (!stopping.load()) {
    pollfd p{listener, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const int client = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    bool refuse;
    {
      absl::MutexLock lock(&mu);
      refuse = cut;
    }
    if (refuse) {
      refused.fetch_add(1);
      close(client);
      continue;
    }
    Forward(client);
  }
}

void LinkProxy::State::Forward(int client) {
  const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_in addr = Loopback(target_port);
  if (server < 0 || connect(server, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    // The node is down: the caller sees its connection closed, as a refusal.
    if (server >= 0) close(server);
    close(client);
    return;
  }
  const int one = 1;
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto connection = std::make_shared<Connection>();
  connection->client = client;
  connection->server = server;
  {
    absl::MutexLock lock(&mu);
    if (cut) {
      refused.fetch_add(1);
      return;  // the connection closes both sockets
    }
    live.insert(connection);
  }
  forwarded.fetch_add(1);
  // One pump per direction. Either one ending (EOF, error, a cut) drops the
  // whole connection, which ends the other; the last one out forgets it.
  auto done = std::make_shared<std::atomic<int>>(0);
  for (const bool upstream : {true, false}) {
    std::thread([self = shared_from_this(), connection, done, upstream] {
      const int from = upstream ? connection->client : connection->server;
      const int to = upstream ? connection->server : connection->client;
      char buffer[64 * 1024];
      while (true) {
        const ssize_t r = recv(from, buffer, sizeof buffer, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0 || !WriteAll(to, buffer, static_cast<size_t>(r))) break;
      }
      connection->Drop();
      if (done->fetch_add(1) == 1) {
        absl::MutexLock lock(&self->mu);
        self->live.erase(connection);
      }
    }).detach();
  }
}

LinkProxy::LinkProxy(std::shared_ptr<State> state) : state_(std::move(state)) {}

absl::StatusOr<std::unique_ptr<LinkProxy>> LinkProxy::Start(int target_port) {
  auto state = std::make_shared<State>();
  state->target_port = target_port;
  state->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(0);
  socklen_t length = sizeof addr;
  if (state->listener < 0 || bind(state->listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(state->listener, 64) != 0 ||
      getsockname(state->listener, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    const std::string error = std::strerror(errno);
    if (state->listener >= 0) close(state->listener);
    return absl::UnavailableError("cannot listen on 127.0.0.1 for a link proxy: " + error);
  }
  state->port = ntohs(addr.sin_port);
  // The acceptor is joined by the destructor; the pumps share the state.
  State* raw = state.get();
  state->acceptor = std::thread([raw] { raw->Accept(); });
  return std::unique_ptr<LinkProxy>(new LinkProxy(std::move(state)));
}

LinkProxy::~LinkProxy() {
  state_->stopping.store(true);
  state_->acceptor.join();
  close(state_->listener);
  Cut();  // the pumps end, and forget their connections, by themselves
}

int LinkProxy::port() const { return state_->port; }

void LinkProxy::Cut() {
  absl::MutexLock lock(&state_->mu);
  state_->cut = true;
  for (const auto& connection : state_->live) connection->Drop();
}

void LinkProxy::Restore() {
  absl::MutexLock lock(&state_->mu);
  state_->cut = false;
}

uint64_t LinkProxy::forwarded() const { return state_->forwarded.load(); }
uint64_t LinkProxy::refused() const { return state_->refused.load(); }

}  // namespace congvan::chaos
