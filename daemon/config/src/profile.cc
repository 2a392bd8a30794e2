// LoadProfile and CheckProfile: a person's profile.toml (reference in
// daemon/README.md).
#include "congvan/config/profile.h"

#include "file_checks.h"
#include "node_parts.h"
#include "toml_reader.h"

namespace congvan::config {
namespace {

using internal::Problems;
using internal::TableReader;

struct ProfileParts {
  std::optional<std::string> login;
  std::optional<signer::AgencyId> agency;
  NetAddress node;
  TlsConfig tls;
  TrustConfig trust;
};

void ReadProfileToml(const internal::TomlFile& file, ProfileParts* parts, Problems* problems) {
  const TableReader top(file.table, "", file.dir, problems);
  top.CheckKeys({"login", "agency", "node", "tls", "trust"});
  parts->login = top.String("login", true, "the person's login, as in their TLS certificate");
  if (parts->login.has_value() && !internal::IsLogin(*parts->login)) {
    top.Invalid("login", "'" + *parts->login + "' must be 1 to 32 characters from a-z, 0-9, '.', '_' and '-'");
    parts->login.reset();
  }
  parts->agency = top.Agency("agency", true);
  if (auto a = top.Address("node", true, false, "the own node's listen.people address, e.g. \"127.0.0.1:27401\"")) {
    parts->node = *a;
  }
  if (const toml::table* tls = top.Table("tls", true, "a [tls] table with cert = \"tls.pem\" and key = \"tls.key\"")) {
    TableReader r(*tls, "tls", file.dir, problems);
    r.CheckKeys({"cert", "key"});
    parts->tls.cert_file = r.Path("cert", true, "the person's TLS client certificate (PEM)").value_or("");
    parts->tls.key_file = r.Path("key", true, "its key, unencrypted PEM, mode 0600").value_or("");
  }
  if (const toml::table* trust = top.Table("trust", true, "a [trust] table with anchors = [\"root.pem\"]")) {
    TableReader r(*trust, "trust", file.dir, problems);
    r.CheckKeys({"anchors", "crls"});
    parts->trust.anchor_files = r.PathList("anchors", true, "what the node's certificate is checked against")
                                    .value_or(std::vector<std::string>());
    parts->trust.crl_files = r.PathList("crls", false).value_or(std::vector<std::string>());
  }
}

void CheckProfileParts(const ProfileParts& parts, Problems* problems) {
  const std::vector<signer::Certificate> anchors =
      internal::LoadAnchors("trust.anchors", parts.trust.anchor_files, problems);
  internal::CheckCrls("trust.crls", parts.trust.crl_files, problems);
  std::optional<std::vector<signer::Certificate>> certs;
  if (!parts.tls.cert_file.empty()) {
    certs = internal::LoadCertificateFile("tls.cert", parts.tls.cert_file, problems);
    if (certs.has_value()) {
      if (parts.agency.has_value()) {
        internal::CheckIdentity("tls.cert", certs->front(), *parts.agency, parts.login, problems);
      }
      internal::CheckChain("tls.cert", *certs, anchors, {signer::KeyPurpose::kTlsClient}, "trust.anchors", problems);
    }
  }
  if (!parts.tls.key_file.empty() && internal::CheckReadableFile("tls.key", parts.tls.key_file, problems) &&
      internal::CheckPrivateMode("tls.key", parts.tls.key_file, problems) && certs.has_value()) {
    internal::CheckKeyFile("tls.key", parts.tls.key_file, {}, certs->front(), "tls.cert", problems);
  }
}

struct Analysis {
  std::string file;
  std::optional<Profile> profile;
  std::vector<ConfigProblem> problems;
};

Analysis Analyze(const std::string& path) {
  Analysis result{path, std::nullopt, {}};
  Problems problems;
  std::optional<internal::TomlFile> file = internal::ParseTomlFile(path, &problems);
  if (file.has_value()) {
    result.file = file->path;
    ProfileParts parts;
    ReadProfileToml(*file, &parts, &problems);
    CheckProfileParts(parts, &problems);
    if (problems.empty()) {
      result.profile = Profile{.login = *std::move(parts.login),
                               .agency = *std::move(parts.agency),
                               .node = std::move(parts.node),
                               .tls = std::move(parts.tls),
                               .trust = std::move(parts.trust),
                               .source_file = file->path};
    }
  }
  result.problems = problems.Take();
  return result;
}

}  // namespace

absl::StatusOr<Profile> LoadProfile(const std::string& path) {
  Analysis analysis = Analyze(path);
  if (!analysis.problems.empty()) return ProblemsToStatus(analysis.file, analysis.problems);
  return *std::move(analysis.profile);
}

std::vector<ConfigProblem> CheckProfile(const std::string& path) { return Analyze(path).problems; }

absl::StatusOr<std::string> ChooseProfilePath(const std::string& flag, const char* env_value) {
  if (!flag.empty()) return flag;
  if (env_value != nullptr && *env_value != '\0') return std::string(env_value);
  return absl::FailedPreconditionError(std::string("no profile: give --profile FILE or set ") + kProfileEnvVar +
                                       " (congvan pki init writes people/<login>/profile.toml)");
}

}  // namespace congvan::config
