// The answers to documents issued here, as the node stores them, for
// ClerkService.Watch: a bounded ring of the latest answers, numbered, that
// any number of watchers read at their own pace.
#ifndef CONGVAN_NODE_ANSWER_FEED_H_
#define CONGVAN_NODE_ANSWER_FEED_H_

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "congvan/store/store.h"
#include "congvan/v1/node.pb.h"

namespace congvan::node {

class AnswerFeed {
 public:
  // How many answers the feed keeps for watchers that lag behind.
  static constexpr size_t kCapacity = 4096;

  enum class Read { kEvents, kTimeout, kFellBehind, kClosed };

  // After the store has made the answers durable.
  void Publish(const std::vector<store::Answer>& answers);
  // The number the next published answer gets: where a new watcher starts.
  uint64_t Next() const;
  // Waits up to `timeout` for answers numbered `*cursor` and later, appends
  // them to `out` and moves `*cursor` past them. kFellBehind when some of
  // them have already left the ring; kClosed once Close() was called.
  Read Wait(uint64_t* cursor, absl::Duration timeout, std::vector<v1::AnswerEvent>* out) const;
  // Ends every Wait, now and later: the node is stopping.
  void Close();

 private:
  mutable absl::Mutex mu_;
  std::deque<v1::AnswerEvent> ring_ ABSL_GUARDED_BY(mu_);
  uint64_t first_ ABSL_GUARDED_BY(mu_) = 0;  // the number of ring_.front()
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace congvan::node

#endif  // CONGVAN_NODE_ANSWER_FEED_H_
