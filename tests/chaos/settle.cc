// After the chaos: what the ambiguous Sends did, and the wait until every
// receipt is back at its sender.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <optional>
#include <set>
#include <thread>

#include "absl/time/clock.h"
#include "chaos.h"
#include "common.h"
#include "log_reader.h"

namespace congvan::chaos {

void ResolveAmbiguous(Run& run, absl::Time chaos_end) {
  std::set<std::string> senders;
  for (const Document& d : run.documents) {
    if (d.state == Document::State::kAmbiguous) senders.insert(d.sender);
  }
  std::map<std::string, Document*> by_id;
  for (Document& d : run.documents) {
    if (!d.message_id.empty()) by_id[d.message_id] = &d;
  }
  for (const std::string& sender : senders) {
    // Whatever a Send committed before it failed is an ISSUED event in the
    // sender's log, logged in the same write. The node integrates its
    // pending events into the tree every second (tree_head_interval) and
    // then seals a head: a head sealed 2 s after the last Send covers every
    // commit of the sending. A log whose size stays the same for 3 s (three
    // rounds) had nothing pending either: a pending event makes a new head
    // within a round. 20 s at most.
    LogReader& log = *run.logs.at(sender);
    const auto waited = Clock::now();
    uint64_t quiet_size = 0;
    auto quiet_since = Clock::now();
    while (true) {
      if (absl::Status s = log.Update(); !s.ok()) {
        run.report.Fail("log", sender + ": " + s.ToString());
        break;
      }
      absl::Time sealed;
      std::string error;
      if (absl::ParseTime(absl::RFC3339_full, log.head().time(), &sealed, &error) &&
          sealed >= chaos_end + absl::Seconds(2)) {
        break;
      }
      if (log.head().tree_size() != quiet_size) {
        quiet_size = log.head().tree_size();
        quiet_since = Clock::now();
      } else if (Since(quiet_since) >= 3 && absl::Now() >= chaos_end + absl::Seconds(3)) {
        break;
      }
      if (Since(waited) > 20) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    for (const v1::AuditEvent& event : log.events()) {
      if (event.kind() != v1::AUDIT_EVENT_ISSUED || by_id.count(event.message_id()) != 0) continue;
      // Issued, and not known to the clerk: which document is it?
      absl::StatusOr<v1::FetchedDocument> fetched = FetchDocument(*run.clerks.at(sender), event.message_id());
      v1::DocumentHeader header;
      if (!fetched.ok() || !header.ParseFromString(fetched->document().body())) {
        run.report.Fail("resolve", sender + " cannot show " + event.message_id() + ": " +
                                       (fetched.ok() ? "an unreadable header" : fetched.status().ToString()));
        continue;
      }
      const int index = IndexInSubject(header.subject());
      Document* d = index >= 0 && index < static_cast<int>(run.documents.size())
                        ? &run.documents[static_cast<size_t>(index)]
                        : nullptr;
      if (d == nullptr || d->sender != sender || header.parts_size() == 0 ||
          header.parts(0).sha256() != d->prepared.main_sha256) {
        run.report.Fail("resolve", sender + " issued " + event.message_id() + " (\"" + header.subject() +
                                       "\"), which is none of the documents its clerks sent");
        continue;
      }
      if (d->state != Document::State::kAmbiguous) {
        run.report.Fail("resolve", "document #" + std::to_string(index) + " was issued twice by " + sender + ": " +
                                       d->message_id + " and " + event.message_id());
        continue;
      }
      d->state = Document::State::kIssued;
      d->message_id = event.message_id();
      by_id[d->message_id] = d;
      ++run.report.resolved_issued;
    }
  }
  for (Document& d : run.documents) {
    if (d.state == Document::State::kAmbiguous) d.state = Document::State::kNotIssued;
  }
}

bool AwaitReceipts(Run& run) {
  // (document, message id): the documents issued, and what --send-twice issued again.
  std::vector<std::pair<Document*, std::string>> pending;
  for (Document& d : run.documents) {
    if (d.state == Document::State::kIssued) pending.push_back({&d, d.message_id});
    for (const std::string& id : d.second_ids) pending.push_back({&d, id});
  }
  const auto start = Clock::now();
  while (true) {
    std::vector<std::optional<v1::TrackResponse>> answers(pending.size());
    ParallelFor(pending.size(), 4, [&](size_t i) {
      const Document& d = *pending[i].first;
      absl::StatusOr<v1::TrackResponse> track = TrackAt(*run.clerks.at(d.sender), pending[i].second);
      if (track.ok() && MissingReceipts(d, *track).empty()) answers[i] = *std::move(track);
    });
    std::vector<std::pair<Document*, std::string>> still;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (!answers[i].has_value()) {
        still.push_back(pending[i]);
      }
    }
    pending = std::move(still);
    if (pending.empty()) return true;
    if (Since(start) > run.options.settle_seconds) {
      run.report.Fail("settle", std::to_string(pending.size()) + " documents still miss receipts after " +
                                    std::to_string(static_cast<int>(run.options.settle_seconds)) +
                                    " s, e.g. #" + std::to_string(pending.front().first->index) + " " +
                                    pending.front().second + " from " + pending.front().first->sender);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace congvan::chaos
