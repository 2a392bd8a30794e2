// Real congvand processes on 127.0.0.1 for end-to-end tests: a dev PKI from
// `congvan pki init` on a topology (the sample by default), and nodes
// started, killed (SIGKILL) and restarted from its node.toml files, and
// their Prometheus metrics scraped over HTTP.
#ifndef CONGVAN_TESTS_TESTING_CLUSTER_H_
#define CONGVAN_TESTS_TESTING_CLUSTER_H_

#include <gtest/gtest.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace congvan::testing {

// Polls `done` every 100 ms for up to `seconds`; returns its last answer.
bool WaitFor(const std::function<bool()>& done, int seconds = 20);

struct ClusterOptions {
  // The topology file for `pki init` (format in certs/README.md).
  // Default: deploy/topologies/sample.toml.
  std::string topology;
  // `pki init --key-type`: every key of the PKI. P-256 by default, whose
  // keys take no time to make.
  std::string key_type = "p256";
};

class Cluster {
 public:
  // Runs `congvan pki init --key-type KEY_TYPE` on the topology with a base
  // port whose 3 x agencies ports (peers, people, metrics) are free now and
  // reserved against the other clusters of this machine's tests (a lock per
  // port, held until the cluster is gone).
  explicit Cluster(ClusterOptions options = {});
  ~Cluster();  // kills every node still running
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  const std::string& dir() const { return pki_dir_; }
  // The topology's agency IDs, in file order.
  const std::vector<std::string>& agencies() const { return agencies_; }
  std::string NodeConfig(const std::string& agency) const { return pki_dir_ + "/nodes/" + agency + "/node.toml"; }
  std::string Profile(const std::string& login) const { return pki_dir_ + "/people/" + login + "/profile.toml"; }
  std::string Person(const std::string& login) const { return pki_dir_ + "/people/" + login; }
  std::string Root() const { return pki_dir_ + "/ca/root.pem"; }
  std::string Crl() const { return pki_dir_ + "/ca/crl.pem"; }
  std::string File(const std::string& name) const { return tmp_.File(name); }

  // Starts the node of `agency` and waits until it serves (or aborts the test).
  void Start(const std::string& agency);
  // Starts every node of `agencies` at once, then waits until all serve:
  // for big clusters. Fails, with the log of the first node that exited or
  // did not start in time, after 60 s + 1 s per node.
  ::testing::AssertionResult StartAll(const std::vector<std::string>& agencies);
  // SIGKILL, no goodbye.
  void Kill(const std::string& agency);
  // SIGTERM and wait.
  void Stop(const std::string& agency);
  bool Running(const std::string& agency) const;
  pid_t Pid(const std::string& agency) const;
  // Resident set size of the node's process now, and its peak, in MiB.
  double RssMiB(const std::string& agency) const;
  double PeakRssMiB(const std::string& agency) const;
  std::string Log(const std::string& agency) const;

  // `congvan ARGS...` with CONGVAN_PROFILE set to `login`'s profile (when
  // not empty).
  RunResult Congvan(const std::string& login, std::vector<std::string> args) const;

  // The node's GET /metrics (Prometheus text), fetched with curl from the
  // listen.metrics address in its node.toml; "" (and a test failure) when
  // it does not answer.
  std::string Metrics(const std::string& agency) const;

 private:
  // Forks congvand for `agency`, its output appended to its log.
  pid_t Spawn(const std::string& agency);
  // How many times the log says the node started serving.
  size_t Servings(const std::string& agency) const;

  TempDir tmp_;
  std::string pki_dir_;
  std::vector<std::string> agencies_;
  std::vector<int> port_locks_;  // open lock files, one per reserved port
  std::map<std::string, pid_t> nodes_;
};

// The value of one series in Prometheus text, e.g.
// `congvan_deliveries_total{peer="000.00.00.H49",result="delivered"}`
// (labels as the node renders them: in the order of their definition); 0
// when the series is absent.
double MetricValue(const std::string& text, const std::string& series);

// Every series of `family` in Prometheus text (the name exactly: histograms'
// _bucket, _sum and _count are families of their own here), by its series
// text as above.
std::map<std::string, double> MetricSeries(const std::string& text, const std::string& family);

}  // namespace congvan::testing

#endif  // CONGVAN_TESTS_TESTING_CLUSTER_H_
