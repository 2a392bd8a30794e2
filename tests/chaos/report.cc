#include "report.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "testing/temp_dir.h"

namespace congvan::chaos {

void PrintPlan(const Run& run) {
  std::map<std::string, int> inbox;
  int single = 0, several = 0, broadcast = 0, annexes = 0;
  uint64_t annex_bytes = 0;
  for (const Document& d : run.documents) {
    const size_t n = d.recipients.size();
    (n == 1 ? single : n <= 4 ? several : broadcast)++;
    if (d.annex_bytes != 0) {
      ++annexes;
      annex_bytes += d.annex_bytes;
    }
    for (const std::string& r : d.recipients) ++inbox[r];
  }
  int most = 0;
  for (const auto& [agency, count] : inbox) most = std::max(most, count);
  std::printf("plan: %zu documents: %d to one agency, %d to 2-4, %d broadcasts to 7-11; %d with an annex "
              "(%.0f MiB in all); the fullest inbox gets %d\n",
              run.documents.size(), single, several, broadcast, annexes, static_cast<double>(annex_bytes) / (1 << 20),
              most);
}

void PrintReport(const Run& run, double wall_s) {
  const Report& r = run.report;
  std::printf("\n%-28s %10s\n", "figure", "value");
  auto row = [](const char* name, double value) { std::printf("%-28s %10.6g\n", name, value); };
  row("documents planned", static_cast<double>(run.documents.size()));
  row("sent (issued)", r.sent);
  row("  Sends failed mid-call", r.ambiguous);
  row("  ... issued after all", r.resolved_issued);
  row("  ... not issued, resent", r.resent);
  row("expected deliveries", r.expected_deliveries);
  row("delivered", r.delivered);
  row("duplicates", r.duplicates);
  row("lost", r.lost);
  row("signed 01 receipts checked", r.receipts_checked);
  row("kills (SIGKILL)", r.kills);
  row("link cuts", r.link_cuts);
  row("converge_s", r.converge_s);
  row("log events verified", r.log_events);
  row("witnessed heads checked", r.witnessed_heads);
  row("evidence verified", r.evidence_verified);
  row("wall_s", wall_s);
  if (r.failures.empty()) {
    std::printf("\nchaos: every check passed\n");
  } else {
    std::printf("\nchaos: %zu FAILURES\n", r.failures.size());
    for (size_t i = 0; i < r.failures.size() && i < 100; ++i) std::printf("  FAIL %s\n", r.failures[i].c_str());
    if (r.failures.size() > 100) std::printf("  ... and %zu more\n", r.failures.size() - 100);
  }
  nlohmann::json j = {{"sent", r.sent},
                      {"expected_deliveries", r.expected_deliveries},
                      {"delivered", r.delivered},
                      {"duplicates", r.duplicates},
                      {"lost", r.lost},
                      {"kills", r.kills},
                      {"converge_s", r.converge_s},
                      {"link_cuts", r.link_cuts},
                      {"ambiguous_sends", r.ambiguous},
                      {"resent", r.resent},
                      {"receipts_checked", r.receipts_checked},
                      {"evidence_verified", r.evidence_verified},
                      {"failures", r.failures.size()},
                      {"wall_s", wall_s},
                      {"seed", run.options.seed}};
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

void KeepLogs(const Run& run) {
  const char* dir = std::getenv("CHAOS_LOG_DIR");
  if (dir == nullptr || run.report.failures.empty()) return;
  mkdir(dir, 0755);
  for (const Agency& a : run.agencies) {
    testing::WriteTestFile(std::string(dir) + "/node-" + a.id + ".log", run.cluster->Log(a.id));
  }
  std::printf("chaos: the nodes' logs are in %s\n", dir);
}

}  // namespace congvan::chaos
