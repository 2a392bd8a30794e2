// Secrets (PINs, passphrases) come from a file or an environment variable,
// never from a command line. A secret is never logged or put in an error.
#ifndef CONGVAN_SIGNER_SECRET_H_
#define CONGVAN_SIGNER_SECRET_H_

#include <string>

#include "absl/status/statusor.h"

namespace congvan::signer {

// Where a secret comes from. Exactly one of `file` and `env` is set.
struct SecretSource {
  std::string file;  // path of a file whose first line is the secret
  std::string env;   // name of an environment variable holding the secret

  bool empty() const { return file.empty() && env.empty(); }
  // "file PATH" / "environment variable NAME", for error messages.
  std::string Describe() const;
};

// Reads the secret. The first line of the file counts; a trailing "\n" or
// "\r\n" is dropped. NOT_FOUND when the file or variable does not exist,
// FAILED_PRECONDITION when the file is readable by group or others (a secret
// file must be mode 0600 or stricter), INVALID_ARGUMENT when both or neither
// source is set or the secret is empty.
[[nodiscard]] absl::StatusOr<std::string> ReadSecret(const SecretSource& source);

}  // namespace congvan::signer

#endif  // CONGVAN_SIGNER_SECRET_H_
