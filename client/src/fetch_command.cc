// congvan fetch: a clerk downloads a received document from the own node.
// Each part is written under its name only once its size and SHA-256 match
// the sealed header; the header bytes, the seal and the leaders' signatures
// are written next to the parts so that anyone can check them with openssl.
#include <grpcpp/client_context.h>

#include <filesystem>
#include <iostream>

#include "clerk_output.h"
#include "cli_util.h"
#include "commands.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/status_macros.h"
#include "node_client.h"
#include "part_files.h"
#include "progress.h"
#include "table.h"

namespace congvan::client {
namespace {

struct FetchFlags {
  std::string profile;
  std::string message_id;
  std::string out;
  bool json = false;
};

struct Fetched {
  v1::DocumentHeader header;
  FetchedFiles files;
};

absl::Status MakeOutputDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InvalidArgumentError("cannot create --out " + dir + ": " + ec.message());
  if (!std::filesystem::is_directory(dir, ec))
    return absl::InvalidArgumentError("--out " + dir + " is not a directory");
  return absl::OkStatus();
}

// The header of the document the node sent first, checked to be the one
// asked for. Writes nothing.
absl::StatusOr<v1::DocumentHeader> ParseHeader(const v1::FetchedDocument& document, const std::string& message_id) {
  v1::DocumentHeader header;
  if (document.document().kind() != v1::MESSAGE_KIND_DOCUMENT || !header.ParseFromString(document.document().body())) {
    return absl::DataLossError("the node sent a document header that does not parse; nothing was written");
  }
  if (header.message_id() != message_id) {
    return absl::DataLossError("the node sent message " + Printable(header.message_id()) + " instead of " + message_id +
                               "; nothing was written");
  }
  return header;
}

// header.pb, seal.p7s and leader-<n>.p7s under `dir`.
absl::StatusOr<FetchedFiles> WriteEvidence(const v1::FetchedDocument& document, const std::string& dir) {
  FetchedFiles files;
  files.dir = dir;
  files.header = dir + "/" + kHeaderFileName;
  files.seal = dir + "/" + kSealFileName;
  files.trace.assign(document.trace().begin(), document.trace().end());
  // The header bytes exactly as sealed: never re-serialised.
  RETURN_IF_ERROR(signer::WriteFile(files.header, document.document().body()));
  RETURN_IF_ERROR(signer::WriteFile(files.seal, document.document().seal_signature()));
  for (int i = 0; i < document.leader_signatures_size(); ++i) {
    files.leader_signatures.push_back(dir + "/" + LeaderSignatureFileName(static_cast<size_t>(i)));
    RETURN_IF_ERROR(signer::WriteFile(files.leader_signatures.back(), document.leader_signatures(i)));
  }
  return files;
}

absl::StatusOr<Fetched> Fetch(NodeClient& client, const FetchFlags& flags) {
  grpc::ClientContext context;
  StallGuard guard(&context, client.options().stream_idle_timeout);
  v1::FetchRequest request;
  request.set_message_id(flags.message_id);
  std::unique_ptr<grpc::ClientReader<v1::FetchResponse>> reader = client.clerk().Fetch(&context, request);
  // A local failure: stop the stream, then report it.
  auto abandon = [&](absl::Status status) {
    context.TryCancel();
    (void)reader->Finish();
    return status;
  };

  v1::FetchResponse message;
  if (!reader->Read(&message)) {
    const grpc::Status status = reader->Finish();
    if (!status.ok()) return StreamCallError(client, guard, status);
    return absl::DataLossError("node " + client.target() + " sent nothing for message " + flags.message_id);
  }
  guard.Touch();
  if (!message.has_document()) return abandon(absl::DataLossError("the node sent part data before the document"));

  Fetched fetched;
  auto header = ParseHeader(message.document(), flags.message_id);
  if (!header.ok()) return abandon(header.status());
  fetched.header = *std::move(header);
  // Names first: nothing is written for a header naming an unsafe part.
  auto writer = PartsWriter::Create(flags.out, {fetched.header.parts().begin(), fetched.header.parts().end()});
  if (!writer.ok()) return abandon(writer.status());
  auto files = WriteEvidence(message.document(), flags.out);
  if (!files.ok()) return abandon(files.status());
  fetched.files = *std::move(files);

  uint64_t total = 0;
  for (const v1::PartInfo& part : fetched.header.parts()) total += part.size();
  ProgressBar bar = ProgressBar::ForStderr("fetch", total, flags.json);
  while (reader->Read(&message)) {
    guard.Touch();
    if (!message.has_chunk()) return abandon(absl::DataLossError("the node sent a second document in one stream"));
    if (absl::Status s = (*writer)->Accept(message.chunk()); !s.ok()) return abandon(s);
    bar.SetLabel((*writer)->current_name());
    bar.Add(message.chunk().data().size());
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return StreamCallError(client, guard, status);
  RETURN_IF_ERROR((*writer)->Finish());
  bar.Finish();
  return fetched;
}

}  // namespace

void RegisterFetchCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<FetchFlags>();
  CLI::App* cmd = app.add_subcommand("fetch", "Download a received document and check every part (clerk)");
  AddProfileFlag(cmd, flags->profile);
  cmd->add_option("MSG", flags->message_id, "the message id (from congvan inbox)")->required();
  cmd->add_option("--out", flags->out, "the directory to write into (created if missing)")->required();
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->footer(
      "Writes into DIR: every part under its name, each only after its size and SHA-256\n"
      "match the sealed header (written first as NAME.partial; a part that does not match\n"
      "leaves no file and the command exits 1); header.pb, the header bytes as sealed;\n"
      "seal.p7s, the sender's seal over them; leader-1.p7s, leader-2.p7s, ... the leaders'\n"
      "signatures over the main part. Check them with, e.g.:\n"
      "  openssl cms -verify -binary -inform DER -content DIR/header.pb -in DIR/seal.p7s -CAfile root.pem -out "
      "/dev/null\n"
      "  openssl cms -verify -binary -inform DER -content DIR/MAIN.pdf -in DIR/leader-1.p7s -CAfile root.pem -out "
      "/dev/null\n"
      "--json: {\"ok\": true, \"message_id\", \"from\", \"from_name\", \"number\", \"year\", \"notation\",\n"
      "  \"subject\", \"document_type\", \"document_date\", \"dir\", \"header\", \"seal\",\n"
      "  \"leader_signatures\": [paths], \"parts\": [{\"name\", \"media_type\", \"size\", \"sha256\", \"main\", "
      "\"path\"}]}\n"
      "Exit: 0 every part written and checked; 1 the node refused, could not be reached, or\n"
      "sent something that does not match; 2 usage (the directory, the profile).");
  cmd->callback([flags, &exit_code] {
    auto fail = [&](const absl::Status& status, int code) {
      PrintClerkError("fetch", status, flags->json);
      exit_code = code;
    };
    if (absl::Status s = MakeOutputDir(flags->out); !s.ok()) return fail(s, kExitUsage);
    auto session = OpenNodeSession(flags->profile);
    if (!session.ok()) return fail(session.status(), kExitUsage);
    auto fetched = Fetch(*session->client, *flags);
    if (!fetched.ok()) return fail(fetched.status(), kExitInvalid);
    if (flags->json) {
      PrintJsonLine(FetchJson(fetched->header, fetched->files));
    } else {
      std::cout << FetchText(fetched->header, fetched->files);
    }
    exit_code = kExitOk;
  });
}

}  // namespace congvan::client
