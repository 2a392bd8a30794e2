// congvan_chaos [--quick] [--documents N] [--kills K] [--cuts C] [--seconds S]
//               [--evidence M] [--seed S]
// Wires the run: set-up, sending under faults, settling, checks, report.
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include "absl/time/clock.h"
#include "chaos.h"
#include "faults.h"
#include "log_reader.h"
#include "report.h"


using namespace congvan::chaos;

namespace {

Options ParseFlags(int argc, char** argv) {
  Options o;
  o.seed = std::random_device()();
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "chaos: %s needs a value\n", flag.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (flag == "--quick") {
      o.quick = true;
      o.documents = 150;
      o.kills = 6;
      o.cuts = 2;
      o.send_seconds = 25;
      o.clerks = 4;
      o.evidence_sample = 10;
      o.settle_seconds = 120;
    } else if (flag == "--documents") {
      o.documents = std::stoi(value());
    } else if (flag == "--kills") {
      o.kills = std::stoi(value());
    } else if (flag == "--cuts") {
      o.cuts = std::stoi(value());
    } else if (flag == "--seconds") {
      o.send_seconds = std::stod(value());
    } else if (flag == "--evidence") {
      o.evidence_sample = std::stoi(value());
    } else if (flag == "--send-twice") {
      o.send_twice = std::stoi(value());
    } else if (flag == "--seed") {
      o.seed = std::stoull(value());
    } else {
      std::fprintf(stderr, "usage: congvan_chaos [--quick] [--documents N] [--kills K] [--cuts C] [--seconds S] "
                           "[--evidence M] [--seed S] [--send-twice K]\n");
      std::exit(2);
    }
  }
  return o;
}

template <typename T>
T Must(absl::StatusOr<T> value, const std::string& what) {
  if (!value.ok()) {
    std::fprintf(stderr, "chaos: %s: %s\n", what.c_str(), value.status().ToString().c_str());
    std::exit(2);
  }
  return *std::move(value);
}

std::vector<Document*> Select(Run& run, const std::function<bool(const Document&)>& which) {
  std::vector<Document*> out;
  for (Document& d : run.documents) {
    if (which(d)) out.push_back(&d);
  }
  return out;
}

}  // namespace

// --send-twice: the same leader-signed documents sent again. Today's node
// issues each again, under a new message id and number.
void SendTwice(Run& run) {
  int done = 0;
  for (Document& d : run.documents) {
    if (done == run.options.send_twice) break;
    if (d.state != Document::State::kIssued) continue;
    const congvan::testing::Annex* annex = d.annex_bytes == 0 ? nullptr : &run.annexes.at(d.annex_bytes);
    absl::StatusOr<std::string> again = run.clerks.at(d.sender)->Send(d.recipients, d.prepared, annex);
    std::printf("chaos: document #%d (%s) sent a second time on purpose: %s\n", d.index, d.message_id.c_str(),
                again.ok() ? ("issued again as " + *again).c_str() : again.status().ToString().c_str());
    if (again.ok()) d.second_ids.push_back(*again);
    ++done;
  }
}

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const auto wall = Clock::now();
  Run run;
  run.options = ParseFlags(argc, argv);
  std::printf("chaos: %d documents over %.0f s, %d kills, %d link cuts, seed %llu\n", run.options.documents,
              run.options.send_seconds, run.options.kills, run.options.cuts,
              static_cast<unsigned long long>(run.options.seed));

  congvan::testing::TempDir dir;
  run.agencies = WriteTopology(dir.File("topology.toml"));
  congvan::testing::Cluster cluster({.topology = dir.File("topology.toml")});
  run.cluster = &cluster;
  auto proxies = InterposeProxies(cluster, run.agencies);
  // Leaders sign before anything runs (a token's module wants its
  // environment set before other threads start).
  run.documents = PlanDocuments(run.options, cluster, run.agencies);
  for (const Document& d : run.documents) {
    if (d.annex_bytes != 0 && run.annexes.count(d.annex_bytes) == 0) {
      run.annexes[d.annex_bytes] = congvan::testing::MakeAnnex(d.annex_bytes);
    }
  }
  run.trust = std::make_unique<congvan::signer::TrustStore>(
      Must(congvan::signer::TrustStore::Load({cluster.Root()}, {cluster.Crl()}), "trust anchors"));
  std::vector<std::string> ids;
  for (const Agency& a : run.agencies) ids.push_back(a.id);
  if (::testing::AssertionResult started = cluster.StartAll(ids); !started) {
    std::fprintf(stderr, "chaos: the nodes did not start: %s\n", started.message());
    return 2;
  }
  for (const Agency& a : run.agencies) {
    run.clerks[a.id] = Must(congvan::testing::ClerkChannel::Open(cluster.Profile(a.clerk)), "clerk of " + a.id);
    run.auditors[a.id] = Must(congvan::testing::ClerkChannel::Open(cluster.Profile(a.auditor)), "auditor of " + a.id);
    run.logs[a.id] = std::make_unique<LogReader>(*run.auditors[a.id], *run.trust);
  }
  PrintPlan(run);

  // Sending under faults.
  std::atomic<bool> sent{false};
  std::thread sender([&] {
    SendAll(run, Select(run, [](const Document&) { return true; }), run.options.clerks, run.options.send_seconds);
    sent = true;
  });
  RunFaults(run, proxies, [&] { return sent.load(); });
  sender.join();
  const auto chaos_end = Clock::now();
  std::printf("chaos: sending and faults done at %.1f s; every node up, every link restored\n", Since(wall));

  // What the failed Sends did; what was not issued is sent again, now that
  // nothing fails (a few rounds, should a Send fail again).
  absl::Time last_send = absl::Now() - absl::Seconds(Since(chaos_end));
  for (int round = 0; round < 3; ++round) {
    ResolveAmbiguous(run, last_send);
    auto again = Select(run, [](const Document& d) {
      return d.state == Document::State::kNotIssued && d.ambiguous_sends > 0 && d.message_id.empty();
    });
    if (again.empty()) break;
    std::printf("chaos: %zu documents were not issued by their failed Send: sending them again\n", again.size());
    run.report.resent += static_cast<int>(again.size());
    SendAll(run, again, run.options.clerks, 0);
    last_send = absl::Now();
  }
  std::printf("chaos: the outcome of every Send known %.1f s after the faults\n", Since(chaos_end));
  SendTwice(run);
  const bool settled = AwaitReceipts(run);
  run.report.converge_s = Since(chaos_end);
  std::printf("chaos: %s after %.1f s\n", settled ? "every receipt is back" : "NOT settled", run.report.converge_s);

  for (const Agency& a : run.agencies) {
    int status = 0;
    if (waitpid(cluster.Pid(a.id), &status, WNOHANG) == cluster.Pid(a.id)) {
      run.report.Fail("crash", a.id + " exited by itself (status " + std::to_string(status) + ")");
    }
  }
  CheckInboxes(run);
  CheckReceipts(run);
  CheckLogs(run);
  CheckEvidence(run);
  for (const Document& d : run.documents) {
    if (d.state == Document::State::kIssued) ++run.report.sent;
    if (d.ambiguous_sends > 0) ++run.report.ambiguous;
  }
  KeepLogs(run);
  PrintReport(run, Since(wall));
  return run.report.failures.empty() ? 0 : 1;
}
