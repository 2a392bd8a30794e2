// congvan export and congvan verify: an auditor takes the evidence of one
// document away from the own node as an ASiC-E container, and anyone checks
// it offline, years later, against the root alone (audit/README.md).
#include <grpcpp/client_context.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clerk_output.h"
#include "cli_util.h"
#include "commands.h"
#include "congvan/audit/container.h"
#include "congvan/audit/evidence.h"
#include "congvan/audit/evidence_layout.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/status_macros.h"
#include "congvan/v1/audit.pb.h"
#include "node_client.h"
#include "progress.h"
#include "table.h"

namespace congvan::client {
namespace {

namespace fs = std::filesystem;
namespace layout = audit::evidence;

// ------------------------------------------------------------------ export

struct ExportFlags {
  std::string profile;
  std::string message_id;
  std::string out;
  bool json = false;
};

struct Exported {
  std::string path;
  size_t files = 0;  // without mimetype, which the writer adds
  uint64_t bytes = 0;
  v1::TreeHead head;  // empty if the container has none that parses
  bool has_token = false;
};

// A directory beside the container that the files are streamed into,
// removed with its contents however the export ends.
class StagingDir {
 public:
  static absl::StatusOr<StagingDir> Create(const std::string& container) {
    fs::path parent = fs::path(container).parent_path();
    if (parent.empty()) parent = ".";
    std::string name = (parent / ("." + fs::path(container).filename().string() + ".export-XXXXXX")).string();
    if (mkdtemp(name.data()) == nullptr) {
      return absl::FailedPreconditionError("cannot create a directory beside " + container +
                                           " to download into: " + std::strerror(errno));
    }
    return StagingDir(name);
  }
  StagingDir(StagingDir&& other) noexcept : path_(std::exchange(other.path_, "")) {}
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  ~StagingDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  explicit StagingDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// The files of the stream, each in a numbered file of the staging directory
// (never under the name the node sent), in the order received.
struct Staged {
  std::vector<std::pair<std::string, std::string>> files;  // name, staged path
  uint64_t bytes = 0;
};

absl::Status ReceiveFiles(NodeClient& client, const ExportFlags& flags, const std::string& dir, Staged& staged) {
  grpc::ClientContext context;
  StallGuard guard(&context, client.options().stream_idle_timeout);
  v1::ExportRequest request;
  request.set_message_id(flags.message_id);
  std::unique_ptr<grpc::ClientReader<v1::ExportChunk>> reader = client.audit().Export(&context, request);
  auto abandon = [&](absl::Status status) {
    context.TryCancel();
    (void)reader->Finish();
    return status;
  };
  std::set<std::string> names;
  std::ofstream current;
  auto close_current = [&]() -> absl::Status {
    if (!current.is_open()) return absl::OkStatus();
    current.close();
    if (current.fail()) return absl::UnavailableError("cannot write into " + dir + " (is the disk full?)");
    return absl::OkStatus();
  };
  v1::ExportChunk chunk;
  while (reader->Read(&chunk)) {
    guard.Touch();
    if (!chunk.name().empty()) {
      if (absl::Status s = audit::CheckEntryName(chunk.name()); !s.ok()) {
        return abandon(absl::DataLossError("the node sent a file name that cannot be in a container: " +
                                           std::string(s.message()) + "; nothing was written"));
      }
      if (!names.insert(chunk.name()).second) {
        return abandon(absl::DataLossError("the node sent " + Printable(chunk.name()) + " twice; nothing was written"));
      }
      if (absl::Status s = close_current(); !s.ok()) return abandon(s);
      const std::string path = absl::StrCat(dir, "/", staged.files.size());
      current.open(path, std::ios::binary | std::ios::trunc);
      if (!current) return abandon(absl::UnavailableError("cannot create " + path));
      staged.files.emplace_back(chunk.name(), path);
    } else if (!current.is_open()) {
      return abandon(absl::DataLossError("the node sent file data before naming a file; nothing was written"));
    }
    current.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
    if (!current) return abandon(absl::UnavailableError("cannot write into " + dir + " (is the disk full?)"));
    staged.bytes += chunk.data().size();
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return StreamCallError(client, guard, status);
  RETURN_IF_ERROR(close_current());
  const size_t n = staged.files.size();
  if (n < 2 || staged.files[n - 2].first != audit::kManifestName ||
      staged.files[n - 1].first != audit::kManifestSignatureName) {
    return absl::DataLossError("the node's export ended without the manifest and its seal; nothing was written");
  }
  return absl::OkStatus();
}

// A small staged file's bytes, or nothing.
std::optional<std::string> ReadStaged(const Staged& staged, const std::string& name) {
  for (const auto& [n, path] : staged.files) {
    if (n != name) continue;
    std::error_code ec;
    if (fs::file_size(path, ec) > (uint64_t{16} << 20) || ec) return std::nullopt;
    absl::StatusOr<std::string> bytes = signer::ReadFile(path);
    if (bytes.ok()) return *std::move(bytes);
  }
  return std::nullopt;
}

absl::StatusOr<Exported> Export(NodeClient& client, audit::ContainerWriter& writer, const ExportFlags& flags) {
  ASSIGN_OR_RETURN(StagingDir dir, StagingDir::Create(flags.out));
  Staged staged;
  RETURN_IF_ERROR(ReceiveFiles(client, flags, dir.path(), staged));
  // The node was asked for one document: a container of another is refused.
  v1::DocumentHeader header;
  std::optional<std::string> header_bytes = ReadStaged(staged, layout::kHeader);
  if (!header_bytes.has_value() || !header.ParseFromString(*header_bytes) || header.message_id() != flags.message_id) {
    return absl::DataLossError("the node's container is not the evidence of message " + flags.message_id +
                               "; nothing was written");
  }
  Exported exported;
  exported.path = flags.out;
  exported.files = staged.files.size();
  exported.bytes = staged.bytes;
  if (std::optional<std::string> bytes = ReadStaged(staged, layout::kTreeHead)) {
    v1::TreeHead head;
    if (head.ParseFromString(*bytes)) exported.head = std::move(head);
  }
  for (const auto& [name, path] : staged.files) {
    if (name == layout::kTreeHeadToken) exported.has_token = true;
    RETURN_IF_ERROR(writer.AddFile(name, path));
  }
  RETURN_IF_ERROR(writer.Close());  // reads the staged files: before `dir` goes
  return exported;
}

nlohmann::json ExportJson(const std::string& message_id, const Exported& e) {
  return {{"ok", true},
          {"message_id", message_id},
          {"file", e.path},
          {"files", e.files},
          {"bytes", e.bytes},
          {"tree_size", e.head.tree_size()},
          {"tree_head_time", e.head.time()},
          {"timestamp", e.has_token}};
}

std::string ExportText(const std::string& message_id, const Exported& e) {
  std::string text =
      absl::StrCat("Wrote ", e.path, ": the evidence of message ", message_id, "\n", "  files:      ", e.files, " (",
                   FormatBytes(e.bytes), "), signed by your node's seal in META-INF/signature.p7s\n",
                   "  tree head:  ", e.head.tree_size(), " events, sealed ", Printable(e.head.time()), "\n");
  if (e.has_token) {
    absl::StrAppend(&text, "  timestamp:  yes (log/tree-head.tst, RFC 3161)\n");
  } else {
    absl::StrAppend(&text,
                    "  timestamp:  none: the authority had not answered for this tree head yet; `congvan verify` "
                    "fails \"no timestamp\" (export again later)\n");
  }
  absl::StrAppend(&text, "Check it offline: congvan verify ", e.path, " --trust ROOT.pem\n");
  return text;
}

// ------------------------------------------------------------------ verify

struct VerifyFlags {
  std::string container;
  std::vector<std::string> trust;
  std::vector<std::string> crls;
  std::string at;
  bool json = false;
};

nlohmann::json VerifyJson(const audit::EvidenceReport& report) {
  nlohmann::json checks = nlohmann::json::array();
  for (const audit::EvidenceCheck& c : report.checks) {
    checks.push_back({{"ok", c.ok}, {"what", c.what}, {"file", c.file}, {"detail", c.detail}});
  }
  return {{"ok", report.ok()},
          {"message_id", report.message_id},
          {"proven_time", report.proven_time.has_value() ? nlohmann::json(FormatRfc3339(*report.proven_time))
                                                         : nlohmann::json(nullptr)},
          {"checked_at", FormatRfc3339(report.checked_at)},
          {"checks", std::move(checks)}};
}

std::string VerifyText(const audit::EvidenceReport& report) {
  std::string text;
  size_t failed = 0;
  for (const audit::EvidenceCheck& c : report.checks) {
    if (c.ok) {
      absl::StrAppend(&text, "✓ ", Printable(c.what), " — ", Printable(c.file), "\n");
    } else {
      ++failed;
      absl::StrAppend(&text, "✗ ", Printable(c.what), " — ", Printable(c.file), ": ", Printable(c.detail), "\n");
    }
  }
  const std::string when =
      report.proven_time.has_value()
          ? "proven time " + FormatRfc3339(*report.proven_time) + " (the timestamp over the tree head)"
          : "checked at " + FormatRfc3339(report.checked_at) + " (no timestamp)";
  if (report.ok()) {
    absl::StrAppend(&text, "VALID evidence of message ", Printable(report.message_id), ": all ", report.checks.size(),
                    " checks passed; ", when, "\n");
  } else {
    absl::StrAppend(&text, "INVALID evidence", report.message_id.empty() ? "" : " of message ",
                    Printable(report.message_id), ": ", failed, " of ", report.checks.size(), " checks failed; ", when,
                    "\n");
  }
  return text;
}

}  // namespace

void RegisterExportCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* cmd = app.add_subcommand("export", "Write the evidence of a document as an ASiC-E container (auditor)");
  AddProfileFlag(cmd, flags->profile);
  cmd->add_option("MSG", flags->message_id, "the message id of a document your node holds")->required();
  cmd->add_option("--out", flags->out, "the container to write, e.g. evidence.zip (replaced if it exists)")->required();
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->footer(
      "Asks your node for the evidence of one document and writes FILE: the header, the sender's seal,\n"
      "the leaders' signatures, the parts, the relays' statements, every receipt and status with its\n"
      "seal, the node's log entries about it with their inclusion proofs, the sealed tree head and its\n"
      "RFC 3161 timestamp, the certificates and CRLs, and the ASiC manifest sealed by your node.\n"
      "README.txt inside says how to check each piece with openssl. Nothing is left at FILE unless the\n"
      "whole container was received and written.\n"
      "--json: {\"ok\": true, \"message_id\", \"file\", \"files\", \"bytes\", \"tree_size\", \"tree_head_time\",\n"
      "  \"timestamp\": true|false}\n"
      "Exit: 0 written; 1 the node refused (e.g. an unknown message, not an auditor, events not yet\n"
      "under a sealed tree head), could not be reached, or sent something wrong; 2 usage (FILE's\n"
      "directory, the profile).");
  cmd->callback([flags, &exit_code] {
    auto fail = [&](const absl::Status& status, int code) {
      PrintClerkError("export", status, flags->json);
      exit_code = code;
    };
    auto writer = audit::ContainerWriter::Create(flags->out);
    if (!writer.ok()) return fail(writer.status(), kExitUsage);
    auto session = OpenNodeSession(flags->profile);
    if (!session.ok()) return fail(session.status(), kExitUsage);
    auto exported = Export(*session->client, **writer, *flags);
    if (!exported.ok()) return fail(exported.status(), kExitInvalid);
    if (flags->json) {
      PrintJsonLine(ExportJson(flags->message_id, *exported));
    } else {
      std::cout << ExportText(flags->message_id, *exported);
    }
    exit_code = kExitOk;
  });
}

void RegisterVerifyEvidenceCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* cmd = app.add_subcommand("verify", "Check an evidence container offline (anyone)");
  cmd->add_option("FILE", flags->container, "the container, from congvan export")->required();
  cmd->add_option("--trust", flags->trust, "trust anchor certificates (PEM), e.g. ca/root.pem; repeatable")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--crl", flags->crls, "a CRL file (PEM or DER) besides the container's certs/crls.pem; repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--at", flags->at,
                  "without a timestamp in the container, check certificates at this RFC 3339 time (default: now)");
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->footer(
      "Needs no profile and no network. Checks, one line each (\"✓ what — file\" or\n"
      "\"✗ what — file: why\"): the container; every file against the manifest; the manifest's seal\n"
      "(at its own signingTime); the timestamp over the tree head; the tree head's seal; each event's\n"
      "inclusion proof; the header and the sender's seal; each part; each leader signature; each relay\n"
      "statement; each answer. Every signature is checked with its certificates valid and unrevoked at\n"
      "the proven time, the timestamp's genTime: a certificate that expired or was revoked later does\n"
      "not break the evidence. Without a timestamp the check \"no timestamp\" fails and certificates are\n"
      "checked at --at.\n"
      "--json: {\"ok\", \"message_id\", \"proven_time\" (null without a timestamp), \"checked_at\",\n"
      "  \"checks\": [{\"ok\", \"what\", \"file\", \"detail\"}]}\n"
      "Exit: 0 every check passed; 1 a check failed; 2 usage (a --trust or --crl file, --at).");
  cmd->callback([flags, &exit_code] {
    std::error_code ec;
    if (!fs::is_regular_file(flags->container, ec)) {
      PrintClerkError("verify", absl::InvalidArgumentError("no such file: " + flags->container), flags->json);
      exit_code = kExitUsage;
      return;
    }
    audit::VerifyEvidenceOptions options;
    options.trust_files = flags->trust;
    options.crl_files = flags->crls;
    if (!flags->at.empty()) {
      auto at = ParseRfc3339(flags->at);
      if (!at.ok()) {
        PrintClerkError("verify", at.status(), flags->json);
        exit_code = kExitUsage;
        return;
      }
      options.at = *at;
    }
    auto report = audit::VerifyEvidence(flags->container, options);
    if (!report.ok()) {
      PrintClerkError("verify", report.status(), flags->json);
      exit_code = kExitUsage;
      return;
    }
    if (flags->json) {
      PrintJsonLine(VerifyJson(*report));
    } else {
      std::cout << VerifyText(*report);
    }
    exit_code = report->ok() ? kExitOk : kExitInvalid;
  });
}

}  // namespace congvan::client
