// One problem in a configuration file, as CheckNodeConfig and CheckProfile
// report them: the key it is about and what to do.
#ifndef CONGVAN_CONFIG_PROBLEM_H_
#define CONGVAN_CONFIG_PROBLEM_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace congvan::config {

struct ConfigProblem {
  // INVALID_ARGUMENT: the file's text (syntax, types, values, unknown keys).
  // NOT_FOUND: the configuration file or a file it names does not exist.
  // FAILED_PRECONDITION: a file it names is unusable: a key readable by
  // others, a certificate for another agency, a key that does not belong to
  // its certificate, a certificate that does not chain to the anchors.
  // RESOURCE_EXHAUSTED: the configuration file is larger than 1 MiB.
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
  // The dotted key path, entries of a list counted from 1:
  // "seal.cert", "peers.children[2].address". Empty for the file as a whole.
  std::string key;
  // What is wrong, for an operator: "file /x/seal.pem does not exist".
  std::string message;

  // "seal.cert: file /x/seal.pem does not exist" (just the message when key
  // is empty).
  std::string ToString() const;
};

// `problems` as one status: OK when empty, else the first problem's code
// and "<file>: <first problem>" (plus "(and N more problems)").
[[nodiscard]] absl::Status ProblemsToStatus(const std::string& file, const std::vector<ConfigProblem>& problems);

}  // namespace congvan::config

#endif  // CONGVAN_CONFIG_PROBLEM_H_
