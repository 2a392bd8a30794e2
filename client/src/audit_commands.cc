// congvan audit tree-head / prove / consistency: an auditor asks the own
// node about its tamper-evident log and checks every answer
// cryptographically against the profile's trust anchors and CRLs: the tree
// head's seal and timestamp, each inclusion proof, the consistency of two
// heads (audit/README.md, "The log").
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clerk_output.h"
#include "cli_util.h"
#include "commands.h"
#include "congvan/audit/tree_head.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/status_macros.h"
#include "congvan/signer/timestamp.h"
#include "congvan/signer/trust.h"
#include "node_client.h"
#include "table.h"

namespace congvan::client {
namespace {

struct AuditSession {
  NodeSession node;
  signer::TrustStore trust;
};

// The profile, its node and its trust store: every error is the auditor's
// own setup (exit 2).
absl::StatusOr<AuditSession> OpenAuditSession(const std::string& profile_flag) {
  ASSIGN_OR_RETURN(NodeSession node, OpenNodeSession(profile_flag));
  ASSIGN_OR_RETURN(signer::TrustStore trust,
                   signer::TrustStore::Load(node.profile.trust.anchor_files, node.profile.trust.crl_files));
  return AuditSession{std::move(node), std::move(trust)};
}

// A tree head as checked: its seal at the timestamp's genTime (or now, when
// the authority has not answered yet), the token over it when there is one.
struct CheckedHead {
  v1::TreeHead body;
  signer::VerifiedSignature seal;
  std::optional<signer::VerifiedTimestamp> token;
};

// UNAUTHENTICATED / PERMISSION_DENIED / INVALID_ARGUMENT, saying what of the
// node's answer does not verify.
absl::StatusOr<CheckedHead> CheckHead(const v1::LoggedTreeHead& logged, const AuditSession& session) {
  auto wrong = [](const std::string& what, const absl::Status& s) {
    return absl::Status(s.code(), "the node's tree head " + what + ": " + std::string(s.message()));
  };
  absl::StatusOr<v1::TreeHead> parsed = audit::ParseTreeHead(logged.head());
  if (!parsed.ok()) return wrong("is unreadable", parsed.status());
  std::optional<signer::VerifiedTimestamp> token;
  absl::Time at = absl::Now();
  if (!logged.timestamp_token().empty()) {
    absl::StatusOr<signer::VerifiedTimestamp> verified_token =
        signer::VerifyTimestampToken(logged.timestamp_token(), signer::Sha256(logged.head().body()), session.trust);
    if (!verified_token.ok()) return wrong("has a timestamp that does not verify", verified_token.status());
    at = verified_token->gen_time;
    token = *std::move(verified_token);
  }
  absl::StatusOr<audit::VerifiedTreeHead> verified = audit::VerifyTreeHead(logged.head(), session.trust, at);
  if (!verified.ok()) return wrong("has a seal that does not verify", verified.status());
  const std::string own = session.node.profile.agency.str();
  if (verified->body.agency() != own) {
    return absl::PermissionDeniedError("the node answered with the tree head of " + Printable(verified->body.agency()) +
                                       ", not of your agency " + own);
  }
  return CheckedHead{std::move(verified->body), std::move(verified->seal), std::move(token)};
}

// The head sealed at `size` events (0: the latest), checked.
absl::StatusOr<CheckedHead> FetchHead(const AuditSession& session, uint64_t size) {
  NodeClient& client = *session.node.client;
  v1::TreeHeadRequest request;
  request.set_tree_size(size);
  v1::LoggedTreeHead logged;
  const grpc::Status status = client.audit().GetTreeHead(client.UnaryContext().get(), request, &logged);
  if (!status.ok()) return client.CallError(status);
  ASSIGN_OR_RETURN(CheckedHead head, CheckHead(logged, session));
  if (size != 0 && head.body.tree_size() != size) {
    return absl::InvalidArgumentError(
        absl::StrCat("asked for the tree head at ", size, " events, the node sent one at ", head.body.tree_size()));
  }
  return head;
}

nlohmann::json HeadJson(const CheckedHead& head) {
  nlohmann::json doc = {{"agency", head.body.agency()},
                        {"tree_size", head.body.tree_size()},
                        {"root", signer::HexEncode(head.body.root_hash())},
                        {"time", head.body.time()},
                        {"sealed_by", head.seal.signer.CommonName()},
                        {"timestamp", nullptr}};
  if (head.token.has_value()) {
    doc["timestamp"] = {{"time", FormatRfc3339(head.token->gen_time)},
                        {"tsa", head.token->tsa.CommonName()},
                        {"serial", head.token->serial_hex}};
  }
  return doc;
}

std::string HeadText(const CheckedHead& head) {
  std::string text = absl::StrCat("✓ tree head of ", Printable(head.body.agency()), ": ", head.body.tree_size(),
                                  " events\n", "  root:       ", signer::HexEncode(head.body.root_hash()), "\n",
                                  "  sealed:     ", Printable(head.body.time()), " by ",
                                  Printable(head.seal.signer.CommonName()), " (seal verified)\n");
  if (head.token.has_value()) {
    absl::StrAppend(&text, "  timestamp:  ", FormatRfc3339(head.token->gen_time), " by ",
                    Printable(head.token->tsa.CommonName()), " (RFC 3161, verified)\n");
  } else {
    absl::StrAppend(&text, "  timestamp:  none yet (the authority has not answered for this head; seal checked now)\n");
  }
  return text;
}

std::string KindName(v1::AuditEventKind kind) {
  switch (kind) {
    case v1::AUDIT_EVENT_ISSUED:
      return "issued";
    case v1::AUDIT_EVENT_RECEIVED:
      return "received";
    case v1::AUDIT_EVENT_FORWARDED:
      return "forwarded";
    case v1::AUDIT_EVENT_ANSWER:
      return "answer";
    case v1::AUDIT_EVENT_REJECTED:
      return "rejected";
    case v1::AUDIT_EVENT_DELIVERY_FAILED:
      return "delivery failed";
    case v1::AUDIT_EVENT_WITNESSED:
      return "witnessed";
    case v1::AUDIT_EVENT_WITNESS_FAILED:
      return "witness failed";
    default:
      return absl::StrCat("kind ", static_cast<int>(kind));
  }
}

// Runs `body` with the session, mapping its failures onto exit codes: a
// usage error opening the session is 2, anything else 1.
template <typename Body>
void RunAudit(const std::string& command, const std::string& profile, bool json, int& exit_code, Body body) {
  auto session = OpenAuditSession(profile);
  if (!session.ok()) {
    PrintClerkError(command, session.status(), json);
    exit_code = kExitUsage;
    return;
  }
  absl::Status status = body(*session);
  if (!status.ok()) {
    PrintClerkError(command, status, json);
    exit_code = kExitInvalid;
    return;
  }
  exit_code = kExitOk;
}

void RegisterTreeHead(CLI::App* audit, int& exit_code) {
  struct Flags {
    std::string profile;
    uint64_t size = 0;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd =
      audit->add_subcommand("tree-head", "Show and verify your node's latest sealed tree head, or one at SIZE");
  AddProfileFlag(cmd, flags->profile);
  cmd->add_option("SIZE", flags->size, "the tree size at which a head was sealed (default: the latest)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->footer(
      "Checks the head's seal (the node's agency seal) and its RFC 3161 timestamp when the authority has\n"
      "answered, against your profile's trust anchors and CRLs; the seal at the timestamp's time.\n"
      "--json: {\"ok\": true, \"agency\", \"tree_size\", \"root\" (hex), \"time\", \"sealed_by\",\n"
      "  \"timestamp\": {\"time\", \"tsa\", \"serial\"} or null}\n"
      "Exit: 0 verified; 1 the node refused (e.g. no head at SIZE, not an auditor), could not be reached,\n"
      "or its head does not verify; 2 usage (the profile).");
  cmd->callback([flags, &exit_code] {
    RunAudit("audit tree-head", flags->profile, flags->json, exit_code, [&](const AuditSession& session) {
      ASSIGN_OR_RETURN(CheckedHead head, FetchHead(session, flags->size));
      if (flags->json) {
        nlohmann::json doc = HeadJson(head);
        doc["ok"] = true;
        PrintJsonLine(doc);
      } else {
        std::cout << HeadText(head);
      }
      return absl::OkStatus();
    });
  });
}

void RegisterProve(CLI::App* audit, int& exit_code) {
  struct Flags {
    std::string profile;
    std::string message_id;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = audit->add_subcommand("prove", "List a document's events in your node's log, each proven");
  AddProfileFlag(cmd, flags->profile);
  cmd->add_option("MSG", flags->message_id, "the message id")->required();
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->footer(
      "Verifies the tree head the node proves the events under (as tree-head does), then each event's\n"
      "RFC 9162 inclusion proof up to that head's root. Prints the head, then a table: INDEX (the leaf),\n"
      "KIND (issued, received, forwarded, answer, rejected, delivery failed), AGENCY, TIME.\n"
      "--json: {\"ok\": true, \"message_id\", \"head\": {as tree-head}, \"events\": [{\"index\", \"kind\",\n"
      "  \"agency\", \"time\", \"body_sha256\" (hex), \"detail\"}]}\n"
      "Exit: 0 every proof verified; 1 the node refused (e.g. no event of MSG yet), could not be reached,\n"
      "or a proof does not verify; 2 usage (the profile).");
  cmd->callback([flags, &exit_code] {
    RunAudit("audit prove", flags->profile, flags->json, exit_code, [&](const AuditSession& session) {
      NodeClient& client = *session.node.client;
      v1::MessageEventsRequest request;
      request.set_message_id(flags->message_id);
      v1::MessageEventsResponse response;
      const grpc::Status status = client.audit().GetMessageEvents(client.UnaryContext().get(), request, &response);
      if (!status.ok()) return client.CallError(status);
      ASSIGN_OR_RETURN(CheckedHead head, CheckHead(response.head(), session));
      if (response.events().empty()) return absl::DataLossError("the node proved no event of " + flags->message_id);
      nlohmann::json events = nlohmann::json::array();
      Table table({{"INDEX", Align::kRight}, {"KIND"}, {"AGENCY"}, {"TIME"}});
      for (const v1::InclusionProof& proof : response.events()) {
        if (absl::Status s = audit::VerifyEventInclusion(proof, head.body); !s.ok()) {
          return absl::Status(s.code(), absl::StrCat("event ", proof.index(), " is not proven in the log under its ",
                                                     "tree head: ", s.message()));
        }
        v1::AuditEvent event;
        if (!event.ParseFromString(proof.event())) {
          return absl::DataLossError(absl::StrCat("event ", proof.index(), " of the log is not an AuditEvent"));
        }
        if (event.message_id() != flags->message_id) {
          return absl::DataLossError(absl::StrCat("event ", proof.index(), " is about message ",
                                                  Printable(event.message_id()), ", not ", flags->message_id));
        }
        events.push_back({{"index", proof.index()},
                          {"kind", KindName(event.kind())},
                          {"agency", event.agency()},
                          {"time", event.time()},
                          {"body_sha256", signer::HexEncode(event.body_sha256())},
                          {"detail", event.detail()}});
        table.AddRow({absl::StrCat(proof.index()), KindName(event.kind()), event.agency(), event.time()});
      }
      if (flags->json) {
        PrintJsonLine({{"ok", true}, {"message_id", flags->message_id}, {"head", HeadJson(head)}, {"events", events}});
      } else {
        std::cout << HeadText(head)
                  << absl::StrCat("✓ ", response.events_size(), " events of message ", flags->message_id,
                                  ", each proven under this head\n")
                  << table.Render();
      }
      return absl::OkStatus();
    });
  });
}

void RegisterConsistency(CLI::App* audit, int& exit_code) {
  struct Flags {
    std::string profile;
    uint64_t old_size = 0;
    uint64_t new_size = 0;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = audit->add_subcommand("consistency", "Prove that your node's log at NEW extends it at OLD");
  AddProfileFlag(cmd, flags->profile);
  cmd->add_option("OLD", flags->old_size, "the size of an earlier sealed tree head")
      ->required()
      ->check(CLI::PositiveNumber);
  cmd->add_option("NEW", flags->new_size, "the size of a later sealed tree head")
      ->required()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--json", flags->json, "print the result as JSON");
  cmd->footer(
      "Fetches the heads sealed at OLD and NEW events and verifies both (as tree-head does), then the\n"
      "node's RFC 9162 consistency proof between them: that nothing of the log at OLD was changed or\n"
      "removed since. A proof that fails means the log was rewritten.\n"
      "--json: {\"ok\": true, \"consistent\": true, \"old\": {as tree-head}, \"new\": {as tree-head}}\n"
      "Exit: 0 consistent; 1 the log was rewritten, a head does not verify, the node refused (e.g. no head\n"
      "at OLD or NEW) or could not be reached; 2 usage (OLD > NEW, the profile).");
  cmd->callback([flags, &exit_code] {
    if (flags->old_size > flags->new_size) {
      PrintClerkError("audit consistency",
                      absl::InvalidArgumentError(
                          absl::StrCat("OLD (", flags->old_size, ") is larger than NEW (", flags->new_size, ")")),
                      flags->json);
      exit_code = kExitUsage;
      return;
    }
    RunAudit("audit consistency", flags->profile, flags->json, exit_code, [&](const AuditSession& session) {
      ASSIGN_OR_RETURN(CheckedHead older, FetchHead(session, flags->old_size));
      ASSIGN_OR_RETURN(CheckedHead newer, FetchHead(session, flags->new_size));
      NodeClient& client = *session.node.client;
      v1::ConsistencyProofRequest request;
      request.set_old_size(flags->old_size);
      request.set_new_size(flags->new_size);
      v1::ConsistencyProof proof;
      const grpc::Status status = client.audit().GetConsistencyProof(client.UnaryContext().get(), request, &proof);
      if (!status.ok()) return client.CallError(status);
      if (absl::Status s = audit::VerifyHeadConsistency(older.body, newer.body, proof); !s.ok()) {
        if (s.code() == absl::StatusCode::kUnauthenticated) {
          return absl::Status(s.code(), "the log was rewritten: " + std::string(s.message()));
        }
        return absl::Status(s.code(),
                            "the node's proof does not show that its log at NEW extends it at OLD (it may "
                            "have been rewritten): " +
                                std::string(s.message()));
      }
      if (flags->json) {
        PrintJsonLine({{"ok", true}, {"consistent", true}, {"old", HeadJson(older)}, {"new", HeadJson(newer)}});
      } else {
        std::cout << absl::StrCat("✓ the log of ", Printable(newer.body.agency()), " at ", newer.body.tree_size(),
                                  " events (sealed ", Printable(newer.body.time()), ") extends its log at ",
                                  older.body.tree_size(), " events (sealed ", Printable(older.body.time()),
                                  "): nothing of it was changed\n")
                  << "  old root:  " << signer::HexEncode(older.body.root_hash()) << "\n"
                  << "  new root:  " << signer::HexEncode(newer.body.root_hash()) << "\n";
      }
      return absl::OkStatus();
    });
  });
}

}  // namespace

void RegisterAuditCommands(CLI::App& app, int& exit_code) {
  CLI::App* audit = app.add_subcommand("audit", "Check your node's tamper-evident log (auditor)");
  audit->require_subcommand(1);
  RegisterTreeHead(audit, exit_code);
  RegisterProve(audit, exit_code);
  RegisterConsistency(audit, exit_code);
}

}  // namespace congvan::client
