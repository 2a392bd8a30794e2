// congvan_chaos (tests/chaos/README.md): the sample topology's twelve real
// congvand processes, documents sent by their clerks while nodes are killed
// with SIGKILL and restarted and links of the tree are cut, then the checks
// of issue #8 once everything has settled.
#ifndef CONGVAN_TESTS_CHAOS_CHAOS_H_
#define CONGVAN_TESTS_CHAOS_CHAOS_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "clerk/clerk.h"
#include "congvan/signer/trust.h"
#include "link_proxy.h"
#include "testing/cluster.h"

namespace congvan::chaos {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point start);

struct Options {
  bool quick = false;
  int documents = 2000;
  int kills = 24;           // SIGKILLs during the sending, at random moments
  int cuts = 8;             // links cut for a while during the sending
  double send_seconds = 150;  // the sending is paced to last this long
  int clerks = 8;           // clerk threads sending at once
  double annex_share = 0.04;  // documents with an annex of 1 to 4 MiB
  int evidence_sample = 40;   // documents exported and verified
  double settle_seconds = 300;  // the longest wait for every receipt
  uint64_t seed = 0;
  // After the chaos, this many issued documents are sent a second time, as
  // a clerk who retried a failed Send would: the checks must find them.
  int send_twice = 0;
};

// Who is who at one agency of the topology.
struct Agency {
  std::string id;
  std::string parent;   // empty at the root
  std::string clerk;    // logins
  std::string leader;
  std::string auditor;
  int peers_port = 0;   // its listen.peers
};

// One document of the plan and what became of it.
struct Document {
  int index = 0;
  std::string sender;
  std::vector<std::string> recipients;
  uint64_t annex_bytes = 0;
  testing::PreparedDocument prepared;
  // The outcome as the driver knows it.
  enum class State { kUnsent, kIssued, kAmbiguous, kNotIssued } state = State::kUnsent;
  std::string message_id;
  int ambiguous_sends = 0;  // Sends that failed after the stream started
  std::vector<std::string> second_ids;  // --send-twice: what the second Send issued
};

// The sample topology with an auditor at every agency (Export and the log
// need one), written to `path`; its agencies with their people.
std::vector<Agency> WriteTopology(const std::string& path);
// Reads each node's listen.peers port and puts two LinkProxy on every
// parent-child link (one each way), rewriting the node.toml files so that
// each end dials its proxy. Returns the proxies by link "child>parent"
// (the child dials) and "parent>child".
std::map<std::string, std::unique_ptr<LinkProxy>> InterposeProxies(const testing::Cluster& cluster,
                                                                   std::vector<Agency>& agencies);
// N documents with senders, recipients and sizes drawn from `seed`, signed
// by each sender's leader.
std::vector<Document> PlanDocuments(const Options& options, const testing::Cluster& cluster,
                                    const std::vector<Agency>& agencies);

// Everything the run found, printed as the summary and the JSON line.
struct Report {
  int sent = 0;
  int expected_deliveries = 0;
  int delivered = 0;
  int duplicates = 0;
  int lost = 0;
  int kills = 0;
  int link_cuts = 0;
  double converge_s = -1;
  int ambiguous = 0;       // documents whose Send failed after it started
  int resolved_issued = 0;   // ... that the sender's log shows issued
  int resent = 0;          // ... that it shows not issued, sent again
  int receipts_checked = 0;
  int log_events = 0;
  int witnessed_heads = 0;
  int evidence_verified = 0;
  std::vector<std::string> failures;  // "check: what"
  void Fail(const std::string& check, const std::string& what);
};

// Everything a run holds: the cluster, the people's channels, the plan.
class LogReader;
struct Run {
  Options options;
  testing::Cluster* cluster = nullptr;
  std::vector<Agency> agencies;
  std::vector<Document> documents;
  std::map<uint64_t, testing::Annex> annexes;  // by size
  std::map<std::string, std::unique_ptr<testing::ClerkChannel>> clerks;    // by agency
  std::map<std::string, std::unique_ptr<testing::ClerkChannel>> auditors;  // by agency
  std::map<std::string, std::unique_ptr<LogReader>> logs;                  // by agency
  std::unique_ptr<signer::TrustStore> trust;
  Report report;
  const Agency& AgencyOf(const std::string& id) const;
};

// Sends `todo` from their senders' clerks on `threads` threads, paced over
// `seconds` (0: as fast as they go). A Send that fails after its stream
// started leaves its document kAmbiguous and is not tried again: only the
// sender's log can tell whether it was issued. Blocks until all are done.
void SendAll(Run& run, const std::vector<Document*>& todo, int threads, double seconds);

// After the chaos, every node up: which kAmbiguous documents the senders'
// logs show issued; the others become kNotIssued.
void ResolveAmbiguous(Run& run, absl::Time chaos_end);
// Waits until every issued document's sender holds a 01 receipt of each of
// its recipients; false after options.settle_seconds.
bool AwaitReceipts(Run& run);
// The checks; each adds its failures to run.report.
void CheckInboxes(Run& run);
void CheckReceipts(Run& run);
void CheckLogs(Run& run);  // registers, witnessing, alarms
void CheckEvidence(Run& run);

}  // namespace congvan::chaos

#endif  // CONGVAN_TESTS_CHAOS_CHAOS_H_
