// Real congvand processes on 127.0.0.1 for end-to-end tests: a dev PKI from
// `congvan pki init` on the sample topology, and nodes started, killed
// (SIGKILL) and restarted from its node.toml files.
#ifndef CONGVAN_TESTS_TESTING_CLUSTER_H_
#define CONGVAN_TESTS_TESTING_CLUSTER_H_

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

class Cluster {
 public:
  // Runs `congvan pki init --key-type p256` on the sample topology with a
  // base port whose 2 x agencies ports are free now.
  Cluster();
  ~Cluster();  // kills every node still running

  const std::string& dir() const { return pki_dir_; }
  std::string NodeConfig(const std::string& agency) const { return pki_dir_ + "/nodes/" + agency + "/node.toml"; }
  std::string Profile(const std::string& login) const { return pki_dir_ + "/people/" + login + "/profile.toml"; }
  std::string Person(const std::string& login) const { return pki_dir_ + "/people/" + login; }
  std::string Root() const { return pki_dir_ + "/ca/root.pem"; }
  std::string Crl() const { return pki_dir_ + "/ca/crl.pem"; }
  std::string File(const std::string& name) const { return tmp_.File(name); }

  // Starts the node of `agency` and waits until it serves (or fails the test).
  void Start(const std::string& agency);
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

 private:
  TempDir tmp_;
  std::string pki_dir_;
  std::map<std::string, pid_t> nodes_;
};

}  // namespace congvan::testing

#endif  // CONGVAN_TESTS_TESTING_CLUSTER_H_
