#include "common.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/time/clock.h"

namespace congvan::chaos {

void Report::Fail(const std::string& check, const std::string& what) { failures.push_back(check + ": " + what); }

const Agency& Run::AgencyOf(const std::string& id) const {
  for (const Agency& a : agencies) {
    if (a.id == id) return a;
  }
  std::fprintf(stderr, "chaos: no agency %s\n", id.c_str());
  std::abort();
}

void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
    });
  }
  for (std::thread& t : pool) t.join();
}

int IndexInSubject(const std::string& subject) {
  const size_t hash = subject.rfind('#');
  if (hash == std::string::npos || hash + 1 >= subject.size()) return -1;
  int n = 0;
  for (size_t i = hash + 1; i < subject.size(); ++i) {
    if (subject[i] < '0' || subject[i] > '9' || n > 100'000'000) return -1;
    n = n * 10 + (subject[i] - '0');
  }
  return n;
}

absl::StatusOr<v1::FetchedDocument> FetchDocument(testing::ClerkChannel& clerk, const std::string& message_id) {
  client::NodeClient& client = clerk.client();
  std::unique_ptr<grpc::ClientContext> context = client.UnaryContext();
  v1::FetchRequest request;
  request.set_message_id(message_id);
  auto reader = client.clerk().Fetch(context.get(), request);
  v1::FetchResponse first;
  const bool read = reader->Read(&first);
  context->TryCancel();
  const grpc::Status status = reader->Finish();
  if (!read || !first.has_document()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        "Fetch " + message_id + ": " + status.error_message());
  }
  return first.document();
}

absl::StatusOr<v1::TrackResponse> TrackAt(testing::ClerkChannel& clerk, const std::string& message_id) {
  client::NodeClient& client = clerk.client();
  v1::TrackRequest request;
  request.set_message_id(message_id);
  v1::TrackResponse response;
  const grpc::Status status = client.clerk().Track(client.UnaryContext().get(), request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        "Track " + message_id + ": " + status.error_message());
  }
  return response;
}

std::vector<std::string> MissingReceipts(const Document& d, const v1::TrackResponse& track) {
  std::vector<std::string> missing;
  for (const std::string& recipient : d.recipients) {
    bool found = false;
    for (const v1::RecipientTrack& r : track.recipients()) {
      if (r.agency() != recipient) continue;
      for (const v1::TrackedAnswer& a : r.answers()) {
        found = found || (a.code() == v1::STATUS_CODE_ARRIVED && a.signed_().kind() == v1::MESSAGE_KIND_RECEIPT);
      }
    }
    if (!found) missing.push_back(recipient);
  }
  return missing;
}

}  // namespace congvan::chaos
