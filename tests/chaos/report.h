// What a run prints: the plan, then the figures and every failure, and last
// one JSON line (report.cc).
#ifndef CONGVAN_TESTS_CHAOS_REPORT_H_
#define CONGVAN_TESTS_CHAOS_REPORT_H_

#include "chaos.h"

namespace congvan::chaos {

void PrintPlan(const Run& run);
void PrintReport(const Run& run, double wall_s);
// With $CHAOS_LOG_DIR set and a failure found: every node's log there.
void KeepLogs(const Run& run);

}  // namespace congvan::chaos

#endif  // CONGVAN_TESTS_CHAOS_REPORT_H_
