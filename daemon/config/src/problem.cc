#include "congvan/config/problem.h"

#include "absl/strings/str_cat.h"

namespace congvan::config {

std::string ConfigProblem::ToString() const { return key.empty() ? message : key + ": " + message; }

absl::Status ProblemsToStatus(const std::string& file, const std::vector<ConfigProblem>& problems) {
  if (problems.empty()) return absl::OkStatus();
  std::string message = file + ": " + problems.front().ToString();
  if (problems.size() > 1) {
    absl::StrAppend(&message, " (and ", problems.size() - 1, problems.size() == 2 ? " more problem)" : " more problems)");
  }
  return absl::Status(problems.front().code, message);
}

}  // namespace congvan::config
