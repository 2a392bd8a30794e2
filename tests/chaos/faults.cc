// The faults: SIGKILLs at random moments, each node restarted after a
// while, and links of the tree cut for a while. Runs on the thread that
// started the nodes (their PR_SET_PDEATHSIG follows that thread).
#include <algorithm>
#include <cstdio>
#include <random>
#include <thread>

#include "faults.h"

namespace congvan::chaos {
namespace {

std::vector<double> Moments(std::mt19937_64& random, int count, double from, double to) {
  std::vector<double> t;
  for (int i = 0; i < count; ++i) t.push_back(std::uniform_real_distribution<double>(from, to)(random));
  std::sort(t.begin(), t.end());
  return t;
}

}  // namespace

void RunFaults(Run& run, std::map<std::string, std::unique_ptr<LinkProxy>>& proxies,
               const std::function<bool()>& sending_done) {
  std::mt19937_64 random(run.options.seed * 7 + 1);
  auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(random); };
  const double span = run.options.send_seconds;
  std::vector<double> kills = Moments(random, run.options.kills, 1.0, span * 0.95);
  std::vector<double> cuts = Moments(random, run.options.cuts, 1.0, span * 0.9);
  std::vector<std::string> links;  // "child|parent"
  for (const Agency& a : run.agencies) {
    if (!a.parent.empty()) links.push_back(a.id + "|" + a.parent);
  }
  std::map<std::string, double> down;  // agency -> when it restarts
  std::map<std::string, double> cut;   // link -> when it is restored
  auto set_link = [&](const std::string& link, bool on) {
    const std::string child = link.substr(0, link.find('|')), parent = link.substr(link.find('|') + 1);
    for (const std::string& name : {child + ">" + parent, parent + ">" + child}) {
      if (on) {
        proxies.at(name)->Restore();
      } else {
        proxies.at(name)->Cut();
      }
    }
  };
  const auto start = Clock::now();
  size_t next_kill = 0, next_cut = 0;
  while (true) {
    const double now = Since(start);
    for (auto it = down.begin(); it != down.end();) {
      if (it->second > now) {
        ++it;
        continue;
      }
      run.cluster->Start(it->first);  // aborts, with the node's log, when it does not come back
      std::printf("  %6.1f s  restarted %s\n", Since(start), it->first.c_str());
      it = down.erase(it);
    }
    for (auto it = cut.begin(); it != cut.end();) {
      if (it->second > now) {
        ++it;
        continue;
      }
      set_link(it->first, true);
      std::printf("  %6.1f s  restored the link %s\n", now, it->first.c_str());
      it = cut.erase(it);
    }
    if (next_kill < kills.size() && kills[next_kill] <= now) {
      // At most two nodes down at once, so that something still flows.
      std::vector<std::string> up;
      for (const Agency& a : run.agencies) {
        if (down.count(a.id) == 0) up.push_back(a.id);
      }
      if (down.size() < 2) {
        const std::string victim = up[std::uniform_int_distribution<size_t>(0, up.size() - 1)(random)];
        run.cluster->Kill(victim);
        const double back = now + uniform(0.3, 3.0);
        down[victim] = back;
        ++run.report.kills;
        std::printf("  %6.1f s  kill -9 %s (back at %.1f s)\n", now, victim.c_str(), back);
        ++next_kill;
      } else {
        kills[next_kill] = now + 0.5;
      }
    }
    if (next_cut < cuts.size() && cuts[next_cut] <= now) {
      std::vector<std::string> whole;
      for (const std::string& l : links) {
        if (cut.count(l) == 0) whole.push_back(l);
      }
      if (whole.empty()) {
        cuts[next_cut] = now + 0.5;
      } else {
        const std::string link = whole[std::uniform_int_distribution<size_t>(0, whole.size() - 1)(random)];
        set_link(link, false);
        const double back = now + uniform(2.0, run.options.quick ? 5.0 : 10.0);
        cut[link] = back;
        ++run.report.link_cuts;
        std::printf("  %6.1f s  cut the link %s (until %.1f s)\n", now, link.c_str(), back);
        ++next_cut;
      }
    }
    if (next_kill == kills.size() && next_cut == cuts.size() && down.empty() && cut.empty() && sending_done()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace congvan::chaos
