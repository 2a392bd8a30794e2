#include "congvan/node/answer_feed.h"

namespace congvan::node {

void AnswerFeed::Publish(const std::vector<store::Answer>& answers) {
  if (answers.empty()) return;
  absl::MutexLock lock(&mu_);
  for (const store::Answer& answer : answers) {
    v1::AnswerEvent& event = ring_.emplace_back();
    event.set_message_id(answer.message_id);
    event.set_agency(answer.agency);
    *event.mutable_answer() = answer.answer;
  }
  while (ring_.size() > kCapacity) {
    ring_.pop_front();
    ++first_;
  }
}

uint64_t AnswerFeed::Next() const {
  absl::MutexLock lock(&mu_);
  return first_ + ring_.size();
}

AnswerFeed::Read AnswerFeed::Wait(uint64_t* cursor, absl::Duration timeout,
                                  std::vector<v1::AnswerEvent>* out) const {
  absl::MutexLock lock(&mu_);
  auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closed_ || first_ + ring_.size() > *cursor; };
  if (!mu_.AwaitWithTimeout(absl::Condition(&ready), timeout)) return Read::kTimeout;
  if (closed_) return Read::kClosed;
  if (*cursor < first_) return Read::kFellBehind;
  for (size_t i = *cursor - first_; i < ring_.size(); ++i) out->push_back(ring_[i]);
  *cursor = first_ + ring_.size();
  return Read::kEvents;
}

void AnswerFeed::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

}  // namespace congvan::node
