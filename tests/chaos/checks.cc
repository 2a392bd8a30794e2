// The checks of issue #8 once everything has settled, each through what
// its people can see: the clerks' inboxes and tracks, the auditors' logs
// and exports, `congvan verify`.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "chaos.h"
#include "common.h"
#include "congvan/audit/tree_head.h"
#include "congvan/signer/cms.h"
#include "log_reader.h"

namespace congvan::chaos {
namespace {

std::string Doc(const Document& d) { return "#" + std::to_string(d.index) + " (" + d.message_id + ")"; }

// Reads every node's log again, in parallel.
void UpdateLogs(Run& run) {
  absl::Mutex mu;
  std::vector<std::string> ids;
  for (const Agency& a : run.agencies) ids.push_back(a.id);
  ParallelFor(ids.size(), static_cast<int>(ids.size()), [&](size_t i) {
    absl::Status s = run.logs.at(ids[i])->Update();
    if (!s.ok()) {
      absl::MutexLock lock(&mu);
      run.report.Fail("log", ids[i] + ": " + s.ToString());
    }
  });
}

// The WITNESSED events of `child` in its parent's log, in order.
std::vector<const v1::AuditEvent*> Witnessed(Run& run, const Agency& child) {
  std::vector<const v1::AuditEvent*> out;
  for (const v1::AuditEvent& e : run.logs.at(child.parent)->events()) {
    if (e.kind() == v1::AUDIT_EVENT_WITNESSED && e.agency() == child.id) out.push_back(&e);
  }
  return out;
}

}  // namespace

void CheckInboxes(Run& run) {
  // (document, agency) -> the message ids filed there for it.
  std::map<std::pair<int, std::string>, std::vector<std::string>> filed;
  for (const Agency& a : run.agencies) {
    client::NodeClient& client = run.clerks.at(a.id)->client();
    v1::InboxResponse inbox;
    const grpc::Status status = client.clerk().Inbox(client.UnaryContext().get(), v1::InboxRequest(), &inbox);
    if (!status.ok()) {
      run.report.Fail("inbox", a.id + ": " + status.error_message());
      continue;
    }
    // ListInbox answers at most 1,000 entries and Inbox has no cursor: a
    // full page would hide older entries from this check.
    if (inbox.entries_size() >= 1000) {
      run.report.Fail("inbox", a.id + " lists " + std::to_string(inbox.entries_size()) +
                                   " entries, the most Inbox shows: older ones cannot be checked");
    }
    for (const v1::InboxEntry& e : inbox.entries()) {
      const int index = IndexInSubject(e.subject());
      if (index < 0 || index >= static_cast<int>(run.documents.size())) {
        run.report.Fail("inbox", a.id + " holds " + e.message_id() + " \"" + e.subject() + "\", not sent by this run");
        continue;
      }
      filed[{index, a.id}].push_back(e.message_id());
    }
  }
  for (const Document& d : run.documents) {
    const bool issued = d.state == Document::State::kIssued;
    for (const std::string& r : d.recipients) {
      auto it = filed.find({d.index, r});
      const size_t copies = it == filed.end() ? 0 : it->second.size();
      if (!issued) {
        if (copies > 0) {
          run.report.duplicates += static_cast<int>(copies);
          run.report.Fail("inbox", "#" + std::to_string(d.index) + ", which " + d.sender +
                                       "'s log does not show issued, is in the inbox of " + r);
        }
        continue;
      }
      ++run.report.expected_deliveries;
      if (copies == 0) {
        ++run.report.lost;
        run.report.Fail("inbox", Doc(d) + " from " + d.sender + " is not in the inbox of " + r);
        continue;
      }
      ++run.report.delivered;
      if (copies > 1) {
        run.report.duplicates += static_cast<int>(copies - 1);
        run.report.Fail("inbox", Doc(d) + " is " + std::to_string(copies) + " times in the inbox of " + r);
      }
      if (it->second.front() != d.message_id) {
        run.report.Fail("inbox", Doc(d) + " is in the inbox of " + r + " as " + it->second.front());
      }
      filed.erase(it);
    }
  }
  for (const auto& [key, ids] : filed) {
    const Document& d = run.documents[static_cast<size_t>(key.first)];
    if (std::find(d.recipients.begin(), d.recipients.end(), key.second) != d.recipients.end()) continue;
    run.report.Fail("inbox", Doc(d) + " is in the inbox of " + key.second + ", which it was not sent to");
  }
}

void CheckReceipts(Run& run) {
  absl::Mutex mu;
  std::vector<const Document*> issued;
  for (const Document& d : run.documents) {
    if (d.state == Document::State::kIssued) issued.push_back(&d);
  }
  ParallelFor(issued.size(), 4, [&](size_t i) {
    const Document& d = *issued[i];
    std::vector<std::string> failures;
    absl::StatusOr<v1::TrackResponse> track = TrackAt(*run.clerks.at(d.sender), d.message_id);
    if (!track.ok()) failures.push_back(Doc(d) + ": " + track.status().ToString());
    int checked = 0;
    for (const std::string& recipient : d.recipients) {
      if (!track.ok()) break;
      const v1::RecipientTrack* found = nullptr;
      for (const v1::RecipientTrack& r : track->recipients()) {
        if (r.agency() == recipient) found = &r;
      }
      const v1::TrackedAnswer* receipt = nullptr;
      for (int a = 0; found != nullptr && a < found->answers_size(); ++a) {
        if (found->answers(a).code() == v1::STATUS_CODE_ARRIVED) receipt = &found->answers(a);
      }
      if (receipt == nullptr) {
        failures.push_back(Doc(d) + ": no 01 receipt of " + recipient + " at " + d.sender);
        continue;
      }
      if (found->state() != v1::DELIVERY_STATE_DELIVERED) {
        failures.push_back(Doc(d) + ": " + recipient + " has a receipt but is not DELIVERED at " + d.sender);
      }
      // The receipt as the recipient sealed it: its seal, its agency, its body.
      const v1::SignedMessage& signed_receipt = receipt->signed_();
      absl::StatusOr<signer::VerifiedSignature> seal =
          signer::VerifyDetached(signed_receipt.body(), signed_receipt.seal_signature(), *run.trust, absl::Now());
      v1::ReceiptBody body;
      if (!seal.ok()) {
        failures.push_back(Doc(d) + ": the receipt of " + recipient + " does not verify: " + seal.status().ToString());
      } else if (seal->signer.AgencyId() != recipient) {
        failures.push_back(Doc(d) + ": the receipt of " + recipient + " is sealed by " +
                           seal->signer.AgencyId().value_or("no agency"));
      } else if (signed_receipt.kind() != v1::MESSAGE_KIND_RECEIPT || !body.ParseFromString(signed_receipt.body()) ||
                 body.message_id() != d.message_id || body.recipient() != recipient ||
                 body.code() != v1::STATUS_CODE_ARRIVED) {
        failures.push_back(Doc(d) + ": the receipt of " + recipient + " is not a 01 receipt of this document");
      } else {
        ++checked;
      }
    }
    absl::MutexLock lock(&mu);
    run.report.receipts_checked += checked;
    for (const std::string& f : failures) run.report.Fail("receipt", f);
  });
}

void CheckLogs(Run& run) {
  UpdateLogs(run);
  // Each parent witnesses its child's latest head within a round or two;
  // witnessing makes the parent's own log grow, up to the root.
  const auto start = Clock::now();
  while (true) {
    std::string behind;
    for (const Agency& a : run.agencies) {
      if (a.parent.empty()) continue;
      const auto witnessed = Witnessed(run, a);
      const uint64_t size = run.logs.at(a.id)->head().tree_size();
      if (witnessed.empty() || witnessed.back()->tree_size() != size) behind = a.id;
    }
    if (behind.empty()) break;
    if (Since(start) > 60) {
      run.report.Fail("witness", "the parent of " + behind + " has not witnessed its latest head after 60 s");
      break;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    UpdateLogs(run);
  }

  std::map<std::string, const Document*> by_id;
  for (const Document& d : run.documents) {
    if (d.state == Document::State::kIssued) by_id[d.message_id] = &d;
  }
  for (const Agency& a : run.agencies) {
    LogReader& log = *run.logs.at(a.id);
    run.report.log_events += static_cast<int>(log.events().size());
    // The register: every number of the year's outgoing register once, 1..n.
    std::map<uint32_t, std::vector<uint64_t>> numbers;
    int issued_here = 0;
    for (const v1::AuditEvent& e : log.events()) {
      if (e.kind() == v1::AUDIT_EVENT_WITNESS_FAILED) {
        run.report.Fail("witness", a.id + " found its child " + e.agency() + "'s log inconsistent: " + e.detail());
      }
      if (e.kind() == v1::AUDIT_EVENT_DELIVERY_FAILED) {
        run.report.Fail("delivery", a.id + " gave up delivering " + e.message_id() + " to " + e.agency() + ": " +
                                        e.detail());
      }
      if (e.kind() != v1::AUDIT_EVENT_ISSUED) continue;
      ++issued_here;
      auto it = by_id.find(e.message_id());
      if (it == by_id.end() || it->second->sender != a.id) {
        run.report.Fail("register", a.id + " issued " + e.message_id() + ", which no clerk of this run knows of");
      }
      absl::StatusOr<v1::TrackResponse> track = TrackAt(*run.clerks.at(a.id), e.message_id());
      if (!track.ok()) {
        run.report.Fail("register", a.id + ": " + track.status().ToString());
        continue;
      }
      absl::StatusOr<v1::FetchedDocument> fetched = FetchDocument(*run.clerks.at(a.id), e.message_id());
      v1::DocumentHeader header;
      if (!fetched.ok() || !header.ParseFromString(fetched->document().body())) {
        run.report.Fail("register", a.id + " cannot show the header of " + e.message_id());
        continue;
      }
      if (header.registration().number() != track->number()) {
        run.report.Fail("register", a.id + ": " + e.message_id() + " is number " +
                                        std::to_string(header.registration().number()) + " but Track says " +
                                        std::to_string(track->number()));
      }
      numbers[header.registration().year()].push_back(header.registration().number());
    }
    const int sent_here = static_cast<int>(std::count_if(run.documents.begin(), run.documents.end(), [&](const Document& d) {
      return d.sender == a.id && d.state == Document::State::kIssued;
    }));
    if (issued_here != sent_here) {
      run.report.Fail("register", a.id + "'s log shows " + std::to_string(issued_here) + " documents issued, its clerks " +
                                      std::to_string(sent_here));
    }
    for (auto& [year, list] : numbers) {
      std::sort(list.begin(), list.end());
      for (size_t i = 0; i < list.size(); ++i) {
        if (list[i] != i + 1) {
          run.report.Fail("register", a.id + "'s register of " + std::to_string(year) + " has " +
                                          std::to_string(list.size()) + " documents but number " +
                                          std::to_string(list[i]) + " at position " + std::to_string(i + 1));
          break;
        }
      }
    }

    // The child's log against every head of it its parent witnessed.
    if (a.parent.empty()) continue;
    for (const v1::AuditEvent* e : Witnessed(run, a)) {
      absl::StatusOr<v1::LoggedTreeHead> head = log.HeadAt(e->tree_size());
      if (!head.ok()) {
        run.report.Fail("witness", a.id + " has no sealed head at " + std::to_string(e->tree_size()) +
                                       ", which " + a.parent + " witnessed: " + head.status().ToString());
        continue;
      }
      if (signer::Sha256(head->head().body()) != e->body_sha256()) {
        run.report.Fail("witness", a.id + "'s head at " + std::to_string(e->tree_size()) + " is not the one " +
                                       a.parent + " witnessed");
        continue;
      }
      absl::StatusOr<v1::TreeHead> body = audit::ParseTreeHead(head->head());
      absl::Status extends = body.ok() ? log.CheckExtends(*body) : body.status();
      if (!extends.ok()) {
        run.report.Fail("witness", a.id + "'s log does not extend the head " + a.parent + " witnessed at " +
                                       std::to_string(e->tree_size()) + ": " + extends.ToString());
        continue;
      }
      ++run.report.witnessed_heads;
    }
  }
}

void CheckEvidence(Run& run) {
  std::vector<const Document*> issued;
  for (const Document& d : run.documents) {
    if (d.state == Document::State::kIssued) issued.push_back(&d);
  }
  std::mt19937_64 random(run.options.seed ^ 0x5eed);
  std::shuffle(issued.begin(), issued.end(), random);
  if (static_cast<int>(issued.size()) > run.options.evidence_sample) {
    issued.resize(static_cast<size_t>(run.options.evidence_sample));
  }
  absl::Mutex mu;
  ParallelFor(issued.size(), 2, [&](size_t i) {
    const Document& d = *issued[i];
    const std::string zip = run.cluster->File("evidence-" + std::to_string(d.index) + ".zip");
    testing::RunResult exported =
        run.cluster->Congvan(run.AgencyOf(d.sender).auditor, {"export", d.message_id, "--out", zip});
    testing::RunResult verified;
    if (exported.exit_code == 0) {
      verified = run.cluster->Congvan("", {"verify", zip, "--trust", run.cluster->Root(), "--crl", run.cluster->Crl()});
    }
    std::remove(zip.c_str());
    absl::MutexLock lock(&mu);
    if (exported.exit_code != 0) {
      run.report.Fail("evidence", "export of " + Doc(d) + " at " + d.sender + " failed: " + exported.err);
    } else if (verified.exit_code != 0) {
      run.report.Fail("evidence", Doc(d) + " does not verify: " + verified.out + verified.err);
    } else {
      ++run.report.evidence_verified;
    }
  });
}

}  // namespace congvan::chaos
