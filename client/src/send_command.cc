// congvan send: a clerk hands a signed document to the own node, which
// checks the leaders' signatures, registers it under the next outgoing
// number, seals it and delivers it. Parts are hashed in one pass, then
// streamed in 1 MiB chunks: memory does not grow with the document.
#include <grpcpp/client_context.h>
#include <openssl/rand.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "clerk_output.h"
#include "cli_util.h"
#include "commands.h"
#include "congvan/signer/agency_id.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/status_macros.h"
#include "node_client.h"
#include "part_files.h"
#include "progress.h"

namespace congvan::client {
namespace {

// Part data per stream message: the node's default limits.chunk_bytes.
constexpr size_t kChunkBytes = size_t{1} << 20;
// A leader's detached CMS signature is a few KiB; anything this large is
// the wrong file.
constexpr uintmax_t kMaxLeaderSignatureBytes = uintmax_t{1} << 20;
// A send whose answer was lost (the call reached the node, then failed) is
// sent again with the same request id, this often in all, waiting 1 s, 2 s,
// 4 s between attempts: the node answers an issue it already made instead
// of issuing twice.
constexpr int kSendAttempts = 4;

struct SendFlags {
  std::string profile;
  std::vector<std::string> to;
  std::string subject;
  std::string type;
  std::string notation;
  std::string file;
  std::vector<std::string> attach;
  std::vector<std::string> leader_sigs;
  std::string date;
  std::string priority = "normal";
  std::string due;
  std::string replaces;
  std::string updates;
  std::string request_id;  // empty: a new one
  bool json = false;
};

struct LocalPart {
  std::string path;
  v1::PartSpec spec;  // name, media type, main; size and digest once hashed
};

struct Outgoing {
  v1::SendHeader header;  // parts filled in once hashed
  std::vector<LocalPart> parts;
  uint64_t total_bytes = 0;
};

absl::Status CheckDate(const std::string& flag, const std::string& text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &err) ||
      absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()) != text) {
    return absl::InvalidArgumentError(flag + " '" + text + "' is not a date such as 2026-11-22");
  }
  return absl::OkStatus();
}

absl::StatusOr<LocalPart> LocalFile(const std::string& path, bool main) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) return absl::NotFoundError("cannot read " + path + ": no such file");
  if (!std::filesystem::is_regular_file(status)) return absl::InvalidArgumentError(path + " is not a regular file");
  LocalPart part;
  part.path = path;
  const std::string name = std::filesystem::path(path).filename().string();
  if (absl::Status s = CheckPartName(name); !s.ok()) {
    return absl::InvalidArgumentError(path + ": " + std::string(s.message()) + "; rename the file");
  }
  part.spec.set_name(name);
  part.spec.set_media_type(MediaTypeOf(name));
  part.spec.set_main(main);
  return part;
}

// A new request id: 32 hex digits of a random 128-bit value.
absl::StatusOr<std::string> NewRequestId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return absl::InternalError("no random bytes for the request id");
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

// Everything that can be checked without the node and without reading the
// files' contents. Errors are usage errors.
absl::StatusOr<Outgoing> Prepare(const SendFlags& flags) {
  Outgoing out;
  v1::SendHeader& h = out.header;
  std::set<std::string> seen;
  for (const std::string& item : flags.to) {
    const std::string id(absl::StripAsciiWhitespace(item));
    if (id.empty()) continue;
    auto parsed = signer::AgencyId::Parse(id);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError("--to '" + id +
                                        "' is not an agency ID: " + std::string(parsed.status().message()));
    }
    if (seen.insert(id).second) h.add_recipients(id);
  }
  if (h.recipients().empty()) return absl::InvalidArgumentError("--to names no recipient");
  h.set_subject(flags.subject);
  h.set_document_type(flags.type);
  h.set_notation(flags.notation);
  // Without --date the node dates the document today, in Vietnam's time,
  // as it numbers it in that year's register.
  if (!flags.date.empty()) {
    RETURN_IF_ERROR(CheckDate("--date", flags.date));
    h.set_document_date(flags.date);
  }
  if (!flags.due.empty()) {
    RETURN_IF_ERROR(CheckDate("--due", flags.due));
    h.set_due_date(flags.due);
  }
  h.set_priority(ParsePriority(flags.priority));
  if (!flags.request_id.empty()) {
    if (absl::Status s = node::CheckRequestId(flags.request_id); !s.ok()) {
      return absl::InvalidArgumentError("--request-id '" + flags.request_id + "': " + std::string(s.message()) +
                                        " (give the one an earlier attempt printed)");
    }
    h.set_request_id(flags.request_id);
  } else {
    ASSIGN_OR_RETURN(std::string id, NewRequestId());
    h.set_request_id(std::move(id));
  }
  if (!flags.replaces.empty()) {
    h.set_action(v1::BUSINESS_ACTION_REPLACE);
    h.set_reference_message_id(flags.replaces);
  } else if (!flags.updates.empty()) {
    h.set_action(v1::BUSINESS_ACTION_UPDATE);
    h.set_reference_message_id(flags.updates);
  } else {
    h.set_action(v1::BUSINESS_ACTION_NEW);
  }

  ASSIGN_OR_RETURN(LocalPart main, LocalFile(flags.file, true));
  out.parts.push_back(std::move(main));
  for (const std::string& path : flags.attach) {
    ASSIGN_OR_RETURN(LocalPart part, LocalFile(path, false));
    out.parts.push_back(std::move(part));
  }
  std::set<std::string> names;
  for (const LocalPart& part : out.parts) {
    if (!names.insert(part.spec.name()).second) {
      return absl::InvalidArgumentError("two parts are named '" + part.spec.name() +
                                        "': every file of a document needs its own name");
    }
  }
  for (const std::string& path : flags.leader_sigs) {
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(path, ec);
    if (ec) return absl::NotFoundError("cannot read --leader-sig " + path + ": " + ec.message());
    if (size > kMaxLeaderSignatureBytes) {
      return absl::InvalidArgumentError("--leader-sig " + path + " is too large to be a signature (.p7s)");
    }
    ASSIGN_OR_RETURN(std::string signature, signer::ReadFile(path));
    h.add_leader_signatures(std::move(signature));
  }
  return out;
}

// Hashes every part in one pass over its file and fills in the header.
absl::Status HashParts(Outgoing& out) {
  for (LocalPart& part : out.parts) {
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(part.path, ec);
    if (ec) return absl::NotFoundError("cannot read " + part.path + ": " + ec.message());
    ASSIGN_OR_RETURN(std::string digest, signer::Sha256File(part.path));
    part.spec.set_size(size);
    part.spec.set_sha256(digest);
    out.total_bytes += size;
    *out.header.add_parts() = part.spec;
  }
  return absl::OkStatus();
}

using SendWriter = grpc::ClientWriter<v1::SendRequest>;

// Streams one part's chunks. Returns a local failure (a file that changed
// since it was hashed, a read error); sets `*open` to false when the node
// closed the stream, whose status Finish then tells.
absl::Status StreamPart(SendWriter& writer, uint32_t index, const LocalPart& part, StallGuard& guard, ProgressBar& bar,
                        bool* open) {
  std::ifstream in(part.path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + part.path);
  bar.SetLabel(part.spec.name());
  const auto changed = [&part] {
    return absl::FailedPreconditionError(part.path +
                                         " changed while it was being sent; the send was cancelled: send it again");
  };
  v1::SendRequest request;
  v1::PartChunk* chunk = request.mutable_chunk();
  chunk->set_part(index);
  std::string* data = chunk->mutable_data();  // the one buffer, reused
  signer::Sha256Stream hash;
  uint64_t sent = 0;
  while (true) {
    data->resize(kChunkBytes);
    in.read(data->data(), static_cast<std::streamsize>(data->size()));
    const auto n = static_cast<size_t>(in.gcount());
    if (n == 0) break;
    data->resize(n);
    if (sent + n > part.spec.size()) return changed();
    hash.Update(*data);
    if (!writer.Write(request)) {
      *open = false;
      return absl::OkStatus();
    }
    guard.Touch();
    sent += n;
    bar.Add(n);
  }
  if (in.bad()) return absl::DataLossError("error while reading " + part.path);
  if (sent != part.spec.size() || hash.Finish() != part.spec.sha256()) return changed();
  return absl::OkStatus();
}

// One attempt. `*reached`: the node took the header, so it may have issued
// the document even if the call then failed.
absl::StatusOr<v1::SendResponse> Stream(NodeClient& client, const Outgoing& out, bool json, bool* reached) {
  grpc::ClientContext context;
  StallGuard guard(&context, client.options().stream_idle_timeout);
  ProgressBar bar = ProgressBar::ForStderr("send", out.total_bytes, json);
  v1::SendResponse response;
  std::unique_ptr<SendWriter> writer = client.clerk().Send(&context, &response);

  v1::SendRequest first;
  *first.mutable_header() = out.header;
  bool open = writer->Write(first);
  *reached = open;
  guard.Touch();
  absl::Status local;
  for (size_t i = 0; i < out.parts.size() && open && local.ok(); ++i) {
    local = StreamPart(*writer, static_cast<uint32_t>(i), out.parts[i], guard, bar, &open);
  }
  if (!local.ok()) {
    // Cancelled before the end of the stream: the node issues nothing.
    context.TryCancel();
    (void)writer->Finish();
    return local;
  }
  if (open) open = writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (!status.ok()) return StreamCallError(client, guard, status);
  // A node that knows the request id answers before the parts arrive.
  if (!open && !response.replayed()) {
    return absl::UnknownError("node " + client.target() + " closed the stream before every part was sent");
  }
  bar.Finish();
  return response;
}

// Stream, again with the same request id while the answer is lost.
absl::StatusOr<v1::SendResponse> SendWithRetries(NodeClient& client, const Outgoing& out, bool json) {
  absl::Duration wait = absl::Seconds(1);
  for (int attempt = 1;; ++attempt) {
    bool reached = false;
    absl::StatusOr<v1::SendResponse> response = Stream(client, out, json, &reached);
    const absl::StatusCode code = response.status().code();
    const bool lost = reached && (code == absl::StatusCode::kUnavailable ||
                                  code == absl::StatusCode::kDeadlineExceeded || code == absl::StatusCode::kAborted);
    if (!lost) return response;
    if (attempt == kSendAttempts) {
      return absl::Status(code, std::string(response.status().message()) +
                                    "; the node may have issued it before its answer was lost: send again with "
                                    "--request-id " + out.header.request_id() +
                                    ", and the node answers with that issue instead of issuing it twice");
    }
    std::cerr << "congvan send: " << response.status().message() << "; sending again in "
              << absl::FormatDuration(wait) << " with the same request id (attempt " << attempt + 1 << " of "
              << kSendAttempts << ")\n";
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(wait));
    wait *= 2;
  }
}

}  // namespace

void RegisterSendCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<SendFlags>();
  CLI::App* cmd = app.add_subcommand("send", "Send a signed document through your node (clerk)");
  AddProfileFlag(cmd, flags->profile);
  cmd->add_option("--to", flags->to, "recipient agency IDs, comma-separated or repeated (e.g. 000.00.00.H29)")
      ->required()
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--subject", flags->subject, "the subject (trích yếu)")->required();
  cmd->add_option("--type", flags->type, "the document type (loại văn bản), e.g. \"Công văn\"")->required();
  cmd->add_option("--notation", flags->notation, "the notation (ký hiệu), e.g. \"UBND-VP\"")->required();
  cmd->add_option("--file", flags->file, "the main part, the file the leaders signed")->required();
  cmd->add_option("--attach", flags->attach, "an attachment; repeatable")->allow_extra_args(false);
  cmd->add_option("--leader-sig", flags->leader_sigs,
                  "a leader's detached signature over the main part (.p7s from congvan sign); repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--date", flags->date,
                  "the document date YYYY-MM-DD (ngày ban hành); default: today at the node (Vietnam time)");
  cmd->add_option("--priority", flags->priority, "normal, urgent (khẩn), very-urgent (thượng khẩn), flash (hỏa tốc)")
      ->check(CLI::IsMember({"normal", "urgent", "very-urgent", "flash"}));
  cmd->add_option("--due", flags->due, "the due date YYYY-MM-DD (hạn xử lý)");
  auto* replaces = cmd->add_option("--replaces", flags->replaces,
                                   "the id of a document you sent that this one replaces (thay thế)");
  cmd->add_option("--updates", flags->updates, "the id of a document you sent that this one updates (cập nhật)")
      ->excludes(replaces);
  cmd->add_option("--request-id", flags->request_id,
                  "the request id an earlier attempt printed when its answer was lost: the node answers with the "
                  "issue it made then, or issues it now, never twice; default: a new one");
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->footer(
      "Part names are the files' names; media types come from their extensions.\n"
      "Prints the message id and the number the node registered it under:\n"
      "  message_id:  0190...\n  number:      12\n  year:        2026\n  notation:    UBND-VP\n"
      "--json: {\"ok\": true, \"message_id\": \"0190...\", \"number\": 12, \"year\": 2026, \"notation\": \"UBND-VP\",\n"
      "         \"replayed\": false}\n"
      "A call that reached the node and then lost its answer is sent again, up to 4 times in all, with the same\n"
      "request id: the node answers with what it already issued (replayed: yes) instead of a second number.\n"
      "Exit: 0 issued; 1 the node refused it or could not be reached; 2 usage (a file, a flag, the profile).");
  cmd->callback([flags, &exit_code] {
    auto fail = [&](const absl::Status& status, int code) {
      PrintClerkError("send", status, flags->json);
      exit_code = code;
    };
    auto outgoing = Prepare(*flags);
    if (!outgoing.ok()) return fail(outgoing.status(), kExitUsage);
    auto session = OpenNodeSession(flags->profile);
    if (!session.ok()) return fail(session.status(), kExitUsage);
    for (const std::string& to : outgoing->header.recipients()) {
      if (to == session->profile.agency.str()) {
        return fail(absl::InvalidArgumentError("--to " + to + " is your own agency"), kExitUsage);
      }
    }
    if (absl::Status hashed = HashParts(*outgoing); !hashed.ok()) return fail(hashed, kExitUsage);
    auto response = SendWithRetries(*session->client, *outgoing, flags->json);
    if (!response.ok()) return fail(response.status(), kExitInvalid);
    if (flags->json) {
      PrintJsonLine(SendJson(*response));
    } else {
      std::cout << SendText(*response);
    }
    exit_code = kExitOk;
  });
}

}  // namespace congvan::client
