// congvan_bench [--quick] [--only SECTION,...]: every section of
// tests/bench/README.md, a readable table on stdout as it goes, and last
// one JSON document on a line of its own.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "bench.h"
#include "pair.h"

namespace congvan::bench {

void Row(const std::string& section, const std::string& figure, double value, const std::string& unit,
         const std::string& note) {
  std::printf("%-16s %-24s %12.1f %-8s %s\n", section.c_str(), figure.c_str(), value, unit.c_str(), note.c_str());
  std::fflush(stdout);
}

double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  // Fields after the command (which may hold spaces): state is field 3,
  // utime and stime are fields 14 and 15.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string Fixed(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

double Since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

bool Await(const std::function<bool()>& done, double seconds) {
  const Clock::time_point start = Clock::now();
  while (!done()) {
    if (Since(start) > seconds) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

double AwaitQuiet(const std::function<double()>& cpu, double cores, double limit) {
  const Clock::time_point start = Clock::now();
  double before = cpu();
  while (Since(start) < limit) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const double now = cpu();
    if (now - before < cores) break;
    before = now;
  }
  return Since(start);
}

double Quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t i = std::min(values.size() - 1, static_cast<size_t>(q * static_cast<double>(values.size())));
  return values[i];
}

namespace {

// The targets on the 2-core reference machine; reported, never asserted.
json Targets(const json& r) {
  auto e2e = [&](const char* key, const char* field) { return r["e2e"].contains(key) ? r["e2e"][key].value(field, 0.0) : 0.0; };
  json t;
  if (r.contains("e2e")) {
    t["rsa2048_docs_per_s>=1500"] = e2e("rsa2048", "docs_per_s") >= 1500;
    t["p256_docs_per_s>=3000"] = e2e("p256", "docs_per_s") >= 3000;
    t["ratio_to_ceiling>=0.5"] = e2e("rsa2048", "ratio_to_ceiling") >= 0.5 && e2e("p256", "ratio_to_ceiling") >= 0.5;
    t["p99_ms<50"] = e2e("rsa2048", "p99_ms") < 50 && e2e("p256", "p99_ms") < 50;
  }
  if (r.contains("large")) {
    t["large_mb_per_s>=250"] = r["large"].value("mb_per_s", 0.0) >= 250;
    t["large_rss_mb<128"] = r["large"]["peak_rss_mb"].value("sender", 1e9) < 128 &&
                            r["large"]["peak_rss_mb"].value("receiver", 1e9) < 128;
  }
  if (r.contains("broadcast")) t["broadcast_500_s<10"] = r["broadcast"].value("seconds", 1e9) < 10;
  if (r.contains("scale")) t["idle_rss_mb<30"] = r["scale"].value("idle_rss_mb", 1e9) < 30;
  return t;
}

int Main(int argc, char** argv) {
  BenchOptions options;
  options.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::set<std::string> only;
  std::vector<std::string> key_types{"rsa2048", "p256"};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      options.quick = true;
    } else if (std::strcmp(argv[i], "--key-type") == 0 && i + 1 < argc) {
      key_types = {argv[++i]};
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      std::stringstream list(argv[++i]);
      for (std::string s; std::getline(list, s, ',');) only.insert(s);
    } else {
      std::fprintf(stderr, "usage: congvan_bench [--quick] [--only ceilings,e2e,large,broadcast,scale] [--key-type rsa2048|p256]\n");
      return 2;
    }
  }
  auto wanted = [&](const std::string& s) { return only.empty() || only.count(s) != 0; };
  // Enough clerks to keep every stage of both nodes busy.
  const int concurrency = 32;
  const Clock::time_point start = Clock::now();
  json result;
  result["quick"] = options.quick;
  std::printf("%-16s %-24s %12s %-8s %s\n", "section", "figure", "value", "unit", "note");
  if (wanted("e2e") || wanted("ceilings")) {
    json ceilings;
    for (const std::string& key_type : key_types) {
      std::unique_ptr<Pair> pair = StartPair(key_type);
      json c = Ceilings(options, *pair, /*machine=*/!ceilings.contains("cores"), concurrency);
      for (auto& [k, v] : c.items()) {
        if (k.rfind("seal_", 0) == 0) {
          ceilings[k][key_type] = v;
        } else {
          ceilings[k] = v;
        }
      }
      if (wanted("e2e")) {
        json model = ceilings;
        model["seal_signatures_per_s"] = c["seal_signatures_per_s"];
        model["seal_verifications_per_s"] = c["seal_verifications_per_s"];
        result["e2e"][key_type] = EndToEnd(options, *pair, model, concurrency);
      }
      StopPair(std::move(pair));
    }
    result["ceilings"] = ceilings;
  }
  if (wanted("large")) result["large"] = Large(options);
  if (wanted("broadcast")) result["broadcast"] = Broadcast(options);
  if (wanted("scale")) result["scale"] = Scale(options);
  result["targets"] = Targets(result);
  result["seconds"] = Since(start);
  std::printf("%s\n", result.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace congvan::bench

int main(int argc, char** argv) { return congvan::bench::Main(argc, argv); }
