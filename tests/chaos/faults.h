// The faults of a run (faults.cc).
#ifndef CONGVAN_TESTS_CHAOS_FAULTS_H_
#define CONGVAN_TESTS_CHAOS_FAULTS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "chaos.h"

namespace congvan::chaos {

// options.kills SIGKILLs and options.cuts link cuts at random moments over
// options.send_seconds, each node back after 0.3 to 3 s, each link after 2
// to 10 s (5 with --quick); returns once they are all done, every node is
// up again, every link restored, and `sending_done()`. Counts into
// run.report.kills and link_cuts.
void RunFaults(Run& run, std::map<std::string, std::unique_ptr<LinkProxy>>& proxies,
               const std::function<bool()>& sending_done);

}  // namespace congvan::chaos

#endif  // CONGVAN_TESTS_CHAOS_FAULTS_H_
