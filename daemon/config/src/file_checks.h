// Checks of the files a configuration names: existence, modes, what the
// certificates say, keys against certificates. Each adds its problems under
// the key it is given and returns whether the check passed.
#ifndef CONGVAN_DAEMON_CONFIG_SRC_FILE_CHECKS_H_
#define CONGVAN_DAEMON_CONFIG_SRC_FILE_CHECKS_H_

#include <optional>
#include <string>
#include <vector>

#include "congvan/signer/agency_id.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/secret.h"
#include "congvan/signer/trust.h"
#include "toml_reader.h"

namespace congvan::config::internal {

// NOT_FOUND unless `path` is an existing regular file this process can read.
bool CheckReadableFile(const std::string& key, const std::string& path, Problems* problems);

// FAILED_PRECONDITION when a private file (a key, a PIN, a passphrase) can
// be read or written by group or others.
bool CheckPrivateMode(const std::string& key, const std::string& path, Problems* problems);

// A secret's file or environment variable is there (and the file private).
bool CheckSecretSource(const std::string& key, const signer::SecretSource& source, Problems* problems);

// The certificates in `path` (leaf first); nullopt with a problem if the
// file is missing or holds none.
std::optional<std::vector<signer::Certificate>> LoadCertificateFile(const std::string& key, const std::string& path,
                                                                    Problems* problems);

// Every anchor file's certificates; problems under key[i].
std::vector<signer::Certificate> LoadAnchors(const std::string& key, const std::vector<std::string>& paths,
                                             Problems* problems);

// Every CRL file parses; problems under key[i].
void CheckCrls(const std::string& key, const std::vector<std::string>& paths, Problems* problems);

// The certificate names `agency` (and `login`, when given) in its
// subjectAltName URIs.
bool CheckIdentity(const std::string& key, const signer::Certificate& cert, const signer::AgencyId& agency,
                   const std::optional<std::string>& login, Problems* problems);

// `chain` (leaf first) leads to one of `anchors` and the leaf may be used
// for every one of `purposes`. Checked at the leaf's notBefore, without
// CRLs: this is about the files fitting together, not about today's date.
bool CheckChain(const std::string& key, const std::vector<signer::Certificate>& chain,
                const std::vector<signer::Certificate>& anchors, const std::vector<signer::KeyPurpose>& purposes,
                const std::string& anchors_key, Problems* problems);

// The key file opens (with its passphrase) and belongs to `cert`.
bool CheckKeyFile(const std::string& key, const std::string& path, const signer::SecretSource& passphrase,
                  const signer::Certificate& cert, const std::string& cert_key, Problems* problems);

}  // namespace congvan::config::internal

#endif  // CONGVAN_DAEMON_CONFIG_SRC_FILE_CHECKS_H_
