// Small calls the steps of the run share.
#ifndef CONGVAN_TESTS_CHAOS_COMMON_H_
#define CONGVAN_TESTS_CHAOS_COMMON_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "chaos.h"

namespace congvan::chaos {

// Calls fn(0..n-1) on `threads` threads.
void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn);
// The document number in a subject "... #N"; -1 when there is none.
int IndexInSubject(const std::string& subject);
// ClerkService.Fetch's first message only (the sealed header and its
// signatures), the parts left unread.
absl::StatusOr<v1::FetchedDocument> FetchDocument(testing::ClerkChannel& clerk, const std::string& message_id);
absl::StatusOr<v1::TrackResponse> TrackAt(testing::ClerkChannel& clerk, const std::string& message_id);
// The recipients of `d` for which `track` holds no 01 receipt.
std::vector<std::string> MissingReceipts(const Document& d, const v1::TrackResponse& track);

}  // namespace congvan::chaos

#endif  // CONGVAN_TESTS_CHAOS_COMMON_H_
