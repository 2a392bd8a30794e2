// The clerks: documents sent through their own nodes while those nodes may
// die under them. A clerk never sends a document again unless it knows the
// first Send issued nothing, so the driver cannot make a duplicate itself.
#include <atomic>
#include <cstdio>
#include <thread>

#include "chaos.h"

namespace congvan::chaos {
namespace {

// The node answered the call itself: its handler refused the document and,
// as every such refusal, issued nothing (clerk_service.cc answers only
// after Issue has committed or not started).
bool NodeRefused(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kResourceExhausted:
      return true;
    default:  // UNAVAILABLE, CANCELLED, DEADLINE_EXCEEDED, UNKNOWN, INTERNAL, ABORTED, DATA_LOSS: the wire broke
      return false;
  }
}

}  // namespace

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void SendAll(Run& run, const std::vector<Document*>& todo, int threads, double seconds) {
  const auto start = Clock::now();
  std::atomic<size_t> next{0};
  absl::Mutex mu;
  auto clerk = [&] {
    while (true) {
      const size_t i = next.fetch_add(1);
      if (i >= todo.size()) return;
      Document& d = *todo[i];
      const auto release = start + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(seconds * static_cast<double>(i) /
                                                                     static_cast<double>(todo.size())));
      std::this_thread::sleep_until(release);
      testing::ClerkChannel& channel = *run.clerks.at(d.sender);
      const testing::Annex* annex = d.annex_bytes == 0 ? nullptr : &run.annexes.at(d.annex_bytes);
      while (true) {
        // Not connected: nothing would leave this process, so nothing can be
        // issued; wait for the node to come back.
        if (!channel.WaitConnected(absl::Seconds(2))) continue;
        absl::StatusOr<std::string> sent = channel.Send(d.recipients, d.prepared, annex);
        absl::MutexLock lock(&mu);
        if (sent.ok()) {
          d.state = Document::State::kIssued;
          d.message_id = *sent;
        } else if (NodeRefused(sent.status().code())) {
          d.state = Document::State::kNotIssued;
          run.report.Fail("send", "document #" + std::to_string(d.index) + " refused by " + d.sender + ": " +
                                      sent.status().ToString());
        } else {
          d.state = Document::State::kAmbiguous;
          ++d.ambiguous_sends;
        }
        break;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(clerk);
  for (std::thread& t : pool) t.join();
}

}  // namespace congvan::chaos
