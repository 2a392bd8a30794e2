#include "congvan/signer/secret.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

namespace congvan::signer {

std::string SecretSource::Describe() const {
  if (!file.empty()) return "file " + file;
  if (!env.empty()) return "environment variable " + env;
  return "no secret source";
}

absl::StatusOr<std::string> ReadSecret(const SecretSource& source) {
  if (source.file.empty() == source.env.empty()) {
    return absl::InvalidArgumentError("give a secret either as a file or as an environment variable, not " +
                                      std::string(source.empty() ? "neither" : "both"));
  }
  std::string secret;
  if (!source.env.empty()) {
    const char* value = std::getenv(source.env.c_str());
    if (value == nullptr) {
      return absl::NotFoundError("environment variable " + source.env + " is not set");
    }
    secret = value;
  } else {
    struct stat st {};
    if (stat(source.file.c_str(), &st) != 0) {
      return absl::NotFoundError("cannot read secret file " + source.file);
    }
    if ((st.st_mode & 077) != 0) {
      return absl::FailedPreconditionError("secret file " + source.file +
                                           " is readable by other users; run: chmod 600 " + source.file);
    }
    std::ifstream in(source.file, std::ios::binary);
    if (!in || !std::getline(in, secret)) {
      return absl::NotFoundError("cannot read secret file " + source.file);
    }
    if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  }
  if (secret.empty()) {
    return absl::InvalidArgumentError("the secret in " + source.Describe() + " is empty");
  }
  return secret;
}

}  // namespace congvan::signer
