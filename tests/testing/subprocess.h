// Runs a program for a test and captures what it prints.
#ifndef CONGVAN_TESTS_TESTING_SUBPROCESS_H_
#define CONGVAN_TESTS_TESTING_SUBPROCESS_H_

#include <map>
#include <string>
#include <vector>

namespace congvan::testing {

struct RunResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;     // standard output
  std::string err;     // standard error
};

// Runs argv[0] (looked up in PATH) with `argv`, extra environment variables
// `env` added to this process's, and `input` on standard input.
RunResult Run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
              const std::string& input = "");

// Path of a congvan binary in the build tree, e.g. Bin("congvan").
std::string Bin(const std::string& name);

}  // namespace congvan::testing

#endif  // CONGVAN_TESTS_TESTING_SUBPROCESS_H_
