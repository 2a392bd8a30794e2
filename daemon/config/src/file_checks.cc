#include "file_checks.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "congvan/signer/key_backend.h"

namespace congvan::config::internal {
namespace {

using absl::StatusCode;

std::string Octal(unsigned mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", mode & 07777);
  return text;
}

std::string PurposeName(signer::KeyPurpose purpose) {
  switch (purpose) {
    case signer::KeyPurpose::kDocumentSigning: return "signing";
    case signer::KeyPurpose::kTlsServer: return "a TLS server";
    case signer::KeyPurpose::kTlsClient: return "a TLS client";
    case signer::KeyPurpose::kTimestamping: return "timestamping";
    case signer::KeyPurpose::kAny: break;
  }
  return "any purpose";
}

}  // namespace

bool CheckReadableFile(const std::string& key, const std::string& path, Problems* problems) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      problems->Add(StatusCode::kNotFound, key, "file " + path + " does not exist");
    } else {
      problems->Add(StatusCode::kFailedPrecondition, key, "cannot inspect " + path + ": " + std::strerror(errno));
    }
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    problems->Add(StatusCode::kFailedPrecondition, key, path + " is not a regular file");
    return false;
  }
  if (access(path.c_str(), R_OK) != 0) {
    problems->Add(StatusCode::kFailedPrecondition, key,
                  "cannot read " + path + ": " + std::strerror(errno) + " (congvand needs to read it)");
    return false;
  }
  return true;
}

bool CheckPrivateMode(const std::string& key, const std::string& path, Problems* problems) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return false;  // CheckReadableFile reports it
  if ((st.st_mode & 077) != 0) {
    problems->Add(StatusCode::kFailedPrecondition, key,
                  "file " + path + " is accessible by group or others (mode " + Octal(st.st_mode) +
                      "); a private file must be mode 0600 or stricter: run chmod 600 " + path);
    return false;
  }
  return true;
}

bool CheckSecretSource(const std::string& key, const signer::SecretSource& source, Problems* problems) {
  if (!source.file.empty()) {
    return CheckReadableFile(key, source.file, problems) && CheckPrivateMode(key, source.file, problems);
  }
  if (!source.env.empty()) {
    const char* value = std::getenv(source.env.c_str());
    if (value == nullptr || *value == '\0') {
      problems->Add(StatusCode::kNotFound, key,
                    "environment variable " + source.env + " is not set (set it in the node's environment)");
      return false;
    }
  }
  return true;
}

std::optional<std::vector<signer::Certificate>> LoadCertificateFile(const std::string& key, const std::string& path,
                                                                    Problems* problems) {
  if (!CheckReadableFile(key, path, problems)) return std::nullopt;
  auto certs = signer::LoadCertificates(path);
  if (!certs.ok() || certs->empty()) {
    problems->Add(StatusCode::kInvalidArgument, key,
                  path + " holds no certificate" +
                      (certs.ok() ? std::string() : ": " + std::string(certs.status().message())));
    return std::nullopt;
  }
  return *std::move(certs);
}

std::vector<signer::Certificate> LoadAnchors(const std::string& key, const std::vector<std::string>& paths,
                                             Problems* problems) {
  std::vector<signer::Certificate> anchors;
  for (size_t i = 0; i < paths.size(); ++i) {
    auto certs = LoadCertificateFile(absl::StrCat(key, "[", i + 1, "]"), paths[i], problems);
    if (certs.has_value()) anchors.insert(anchors.end(), certs->begin(), certs->end());
  }
  return anchors;
}

void CheckCrls(const std::string& key, const std::vector<std::string>& paths, Problems* problems) {
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string item_key = absl::StrCat(key, "[", i + 1, "]");
    if (!CheckReadableFile(item_key, paths[i], problems)) continue;
    auto crls = signer::Crl::Load(paths[i]);
    if (!crls.ok() || crls->empty()) {
      problems->Add(StatusCode::kInvalidArgument, item_key,
                    paths[i] + " holds no CRL" +
                        (crls.ok() ? std::string() : ": " + std::string(crls.status().message())));
    }
  }
}

bool CheckIdentity(const std::string& key, const signer::Certificate& cert, const signer::AgencyId& agency,
                   const std::optional<std::string>& login, Problems* problems) {
  bool ok = true;
  const std::optional<std::string> cert_agency = cert.AgencyId();
  if (cert_agency != agency.str()) {
    problems->Add(StatusCode::kFailedPrecondition, key,
                  "the certificate (" + cert.Subject() + ") is issued to " +
                      (cert_agency.has_value() ? "agency " + *cert_agency : "no agency") + ", not to " +
                      agency.str() + "; give this agency's certificate");
    ok = false;
  }
  if (login.has_value() && cert.PersonLogin() != *login) {
    const std::optional<std::string> cert_login = cert.PersonLogin();
    problems->Add(StatusCode::kFailedPrecondition, key,
                  "the certificate (" + cert.Subject() + ") is issued to " +
                      (cert_login.has_value() ? "person '" + *cert_login + "'" : "no person") + ", not to '" +
                      *login + "'");
    ok = false;
  }
  return ok;
}

bool CheckChain(const std::string& key, const std::vector<signer::Certificate>& chain,
                const std::vector<signer::Certificate>& anchors, const std::vector<signer::KeyPurpose>& purposes,
                const std::string& anchors_key, Problems* problems) {
  if (anchors.empty() || chain.empty()) return false;  // reported where they were loaded
  auto store = signer::TrustStore::Create(anchors);
  if (!store.ok()) {
    problems->Add(StatusCode::kInvalidArgument, anchors_key, std::string(store.status().message()));
    return false;
  }
  const std::vector<signer::Certificate> untrusted(chain.begin() + 1, chain.end());
  for (signer::KeyPurpose purpose : purposes) {
    auto validated = store->Validate(chain.front(), untrusted, purpose, chain.front().NotBefore());
    if (!validated.ok()) {
      problems->Add(StatusCode::kFailedPrecondition, key,
                    "the certificate (" + chain.front().Subject() + ") is not valid for " + PurposeName(purpose) +
                        " under " + anchors_key + ": " + std::string(validated.status().message()));
      return false;
    }
  }
  return true;
}

bool CheckKeyFile(const std::string& key, const std::string& path, const signer::SecretSource& passphrase,
                  const signer::Certificate& cert, const std::string& cert_key, Problems* problems) {
  auto backend = signer::LoadKeyFile(path, passphrase);
  if (!backend.ok()) {
    problems->Add(backend.status().code() == StatusCode::kNotFound ? StatusCode::kNotFound
                  : backend.status().code() == StatusCode::kInvalidArgument ? StatusCode::kInvalidArgument
                                                                              : StatusCode::kFailedPrecondition,
                  key, std::string(backend.status().message()));
    return false;
  }
  if (!signer::CheckKeyMatchesCertificate(**backend, cert).ok()) {
    problems->Add(StatusCode::kFailedPrecondition, key,
                  "the key in " + path + " does not belong to the certificate in " + cert_key + " (" +
                      cert.Subject() + ")");
    return false;
  }
  return true;
}

}  // namespace congvan::config::internal
