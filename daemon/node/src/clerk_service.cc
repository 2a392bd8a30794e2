#include "congvan/node/clerk_service.h"

#include <spdlog/spdlog.h>

#include "absl/random/random.h"
#include "congvan/node/access.h"
#include "congvan/node/grpc_status.h"
#include "congvan/node/rejections.h"
#include "congvan/node/trace.h"
#include "congvan/signer/status_macros.h"
#include "congvan/store/lifecycle.h"
#include "part_stream.h"

namespace congvan::node {
namespace {

using config::Role;

// Registers and document dates follow Vietnamese time (UTC+7, no DST).
absl::TimeZone VietnamTime() { return absl::FixedTimeZone(7 * 3600); }

std::vector<internal::ExpectedPart> ExpectedParts(const v1::SendHeader& header) {
  std::vector<internal::ExpectedPart> parts;
  for (const v1::PartSpec& spec : header.parts()) parts.push_back({spec.name(), spec.size(), spec.sha256()});
  return parts;
}

std::set<std::string> Leaders(const config::NodeConfig& config) {
  std::set<std::string> leaders;
  for (const config::PersonConfig& person : config.people) {
    if (person.HasRole(Role::kLeader)) leaders.insert(person.login);
  }
  return leaders;
}

bool IsBusinessStatus(v1::StatusCode code) {
  return code == v1::STATUS_CODE_REJECTED || code == v1::STATUS_CODE_ACCEPTED || code == v1::STATUS_CODE_ASSIGNED ||
         code == v1::STATUS_CODE_PROCESSING || code == v1::STATUS_CODE_COMPLETED ||
         code == v1::STATUS_CODE_RECALL_ACCEPTED || code == v1::STATUS_CODE_RECALL_REFUSED;
}

}  // namespace

absl::StatusOr<store::StoredMessage> ClerkServiceImpl::IssuedHere(const std::string& message_id) const {
  const absl::Status not_ours = absl::NotFoundError("no document " + message_id + " was issued by " +
                                                    node_.agency() + ": check the id in `congvan track`");
  if (message_id.empty()) return absl::InvalidArgumentError("name the message by its id");
  ASSIGN_OR_RETURN(bool known, node_.store->HasMessage(message_id));
  if (!known) return not_ours;
  ASSIGN_OR_RETURN(store::StoredMessage message, node_.store->GetMessage(message_id));
  if (!message.issued_here || message.header.from_agency() != node_.agency()) return not_ours;
  return message;
}

absl::StatusOr<store::StoredMessage> ClerkServiceImpl::ReadableHere(const std::string& message_id) const {
  ASSIGN_OR_RETURN(bool known, node_.store->HasMessage(message_id));
  const absl::Status not_here = absl::NotFoundError("no document " + message_id + " at " + node_.agency() +
                                                    ": check the id in `congvan inbox` or `congvan track`");
  if (!known) return not_here;
  ASSIGN_OR_RETURN(store::StoredMessage message, node_.store->GetMessage(message_id));
  const auto& recipients = message.header.recipients();
  const bool addressed_here =
      std::find(recipients.begin(), recipients.end(), node_.agency()) != recipients.end();
  if (!message.issued_here && !addressed_here) return not_here;  // a relayed document is not ours to read
  return message;
}

absl::StatusOr<std::optional<v1::Reference>> ClerkServiceImpl::ReferenceOf(const v1::SendHeader& request) const {
  if (request.reference_message_id().empty()) return std::nullopt;
  ASSIGN_OR_RETURN(store::StoredMessage earlier, IssuedHere(request.reference_message_id()));
  v1::Reference reference;
  reference.set_message_id(earlier.header.message_id());
  reference.set_number(earlier.header.registration().number());
  reference.set_notation(earlier.header.registration().notation());
  return reference;
}

grpc::Status ClerkServiceImpl::Send(grpc::ServerContext* context, grpc::ServerReader<v1::SendRequest>* reader,
                                    v1::SendResponse* response) {
  return AnswerOrReject(node_, *context, "ClerkService.Send", DoSend(context, reader, response));
}

absl::Status ClerkServiceImpl::DoSend(grpc::ServerContext* context, grpc::ServerReader<v1::SendRequest>* reader,
                                      v1::SendResponse* response) {
  RETURN_IF_ERROR(AuthorizePerson(*context, node_, {Role::kClerk}).status());
  v1::SendRequest first;
  if (!reader->Read(&first) || !first.has_header()) {
    return absl::InvalidArgumentError("a Send stream must begin with the document's header");
  }
  const v1::SendHeader& request = first.header();
  RETURN_IF_ERROR(ValidateSendHeader(request, node_.agency(), node_.limits));
  auto answer = [&](const store::IssueResult& issued) {
    response->set_message_id(issued.message_id);
    response->set_year(issued.year);
    response->set_number(issued.number);
    response->set_notation(request.notation());
    response->set_replayed(issued.replayed);
    if (issued.replayed) {
      node_.metrics.Add("congvan_sends_replayed_total");
      spdlog::info("message={} request={} document {}/{} {} was issued before: answered again, nothing issued",
                   issued.message_id, request.request_id(), issued.number, issued.year, request.notation());
    }
    return absl::OkStatus();
  };
  // A repeated request id is answered before anything is checked or
  // streamed: what it asks was checked when it was issued. SendHeader has
  // no map field, so the same header serializes to the same bytes.
  const std::string fingerprint = request.request_id().empty() ? "" : signer::Sha256(request.SerializeAsString());
  if (!request.request_id().empty()) {
    ASSIGN_OR_RETURN(std::optional<store::IssueResult> earlier,
                     node_.store->FindIssuedRequest(node_.agency(), request.request_id(), fingerprint));
    if (earlier.has_value()) return answer(*earlier);
  }
  const absl::Time now = node_.now();
  for (const std::string& recipient : request.recipients()) {
    ASSIGN_OR_RETURN(signer::AgencyId id, signer::AgencyId::Parse(recipient));
    if (node_.topology->FindAgency(id) == nullptr) {
      return absl::NotFoundError("recipient " + recipient + " is not a known agency: check its identifier");
    }
  }
  ASSIGN_OR_RETURN(auto hops, router_.Split({request.recipients().begin(), request.recipients().end()}));
  ASSIGN_OR_RETURN(std::optional<v1::Reference> reference, ReferenceOf(request));

  std::string main_sha256;
  for (const v1::PartSpec& spec : request.parts()) {
    if (spec.main()) main_sha256 = spec.sha256();
  }
  ASSIGN_OR_RETURN(std::vector<v1::SignerInfo> signers,
                   CheckLeaderSignatures({request.leader_signatures().begin(), request.leader_signatures().end()},
                                         main_sha256, *node_.trust->Current(), now,
                                         {node_.agency(), Leaders(node_.config)}, &node_.signatures));

  ASSIGN_OR_RETURN(std::unique_ptr<store::Upload> upload, node_.store->BeginUpload());
  const absl::Status received = internal::ReceiveParts(reader, *upload, ExpectedParts(request));
  // Read() also ends on a cancelled call: a clerk who cancelled gets nothing
  // issued, and the stream cut short is no input the node refused (it is not
  // logged as a rejection).
  if (context->IsCancelled()) return absl::CancelledError("the send was cancelled: nothing was issued");
  RETURN_IF_ERROR(received);

  thread_local absl::BitGen random;
  const std::string message_id = NewMessageId(now, random);
  const uint32_t year = static_cast<uint32_t>(absl::ToCivilYear(now, VietnamTime()).year());
  auto build = [&](uint64_t number) -> absl::StatusOr<store::IssuedDocument> {
    Issuance issuance{message_id, node_.agency(), node_.config.agency_name, {}, signers};
    issuance.registration.set_year(year);
    issuance.registration.set_number(number);
    issuance.registration.set_notation(request.notation());
    issuance.registration.set_issued_at(FormatRfc3339(now));
    v1::DocumentHeader header = BuildHeader(request, issuance);
    if (reference.has_value()) *header.mutable_reference() = *reference;
    if (header.document_date().empty()) {
      header.set_document_date(absl::FormatTime("%Y-%m-%d", now, VietnamTime()));
    }
    ASSIGN_OR_RETURN(v1::SignedMessage sealed, Seal(v1::MESSAGE_KIND_DOCUMENT, header.SerializeAsString(),
                                                    *node_.seal, now));
    store::IssuedDocument issued;
    *issued.document.mutable_document() = std::move(sealed);
    *issued.document.mutable_leader_signatures() = request.leader_signatures();
    *issued.document.add_trace() = SenderTraceEntry(header);
    for (const auto& [peer, recipients] : hops) {
      store::NewOutboxEntry entry;
      entry.peer = peer;
      entry.message_id = message_id;
      entry.recipients = recipients;
      entry.deadline = now + node_.config.retry.delivery_deadline;
      issued.deliveries.push_back(std::move(entry));
    }
    return issued;
  };
  ASSIGN_OR_RETURN(store::IssueResult issued,
                   node_.store->Issue({node_.agency(), year, upload.get(), now, request.request_id(), fingerprint},
                                      build));
  if (issued.replayed) return answer(issued);  // an earlier attempt ended while this one streamed
  node_.wake_delivery();
  node_.metrics.Add("congvan_documents_issued_total");
  spdlog::info("message={} recipients={} document {}/{} {} issued", issued.message_id, request.recipients_size(),
               issued.number, issued.year, request.notation());
  return answer(issued);
}

grpc::Status ClerkServiceImpl::Inbox(grpc::ServerContext* context, const v1::InboxRequest*,
                                     v1::InboxResponse* response) {
  auto caller = AuthorizePerson(*context, node_, {Role::kClerk, Role::kLeader, Role::kAuditor});
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto items = node_.store->ListInbox({node_.agency()});
  if (!items.ok()) return ToGrpcStatus(items.status());
  for (const store::InboxItem& item : *items) *response->add_entries() = item.entry;
  return grpc::Status::OK;
}

grpc::Status ClerkServiceImpl::Fetch(grpc::ServerContext* context, const v1::FetchRequest* request,
                                     grpc::ServerWriter<v1::FetchResponse>* writer) {
  return ToGrpcStatus(DoFetch(context, *request, writer));
}

absl::Status ClerkServiceImpl::DoFetch(grpc::ServerContext* context, const v1::FetchRequest& request,
                                       grpc::ServerWriter<v1::FetchResponse>* writer) {
  RETURN_IF_ERROR(AuthorizePerson(*context, node_, {Role::kClerk, Role::kLeader, Role::kAuditor}).status());
  ASSIGN_OR_RETURN(store::StoredMessage message, ReadableHere(request.message_id()));

  v1::FetchResponse first;
  *first.mutable_document() = message.document;
  if (!writer->Write(first)) return absl::CancelledError("the client went away");
  for (uint32_t part = 0; part < message.parts.size(); ++part) {
    RETURN_IF_ERROR(node_.store->ReadPart(request.message_id(), part, [&](std::string_view data) -> absl::Status {
      v1::FetchResponse chunk;
      chunk.mutable_chunk()->set_part(part);
      chunk.mutable_chunk()->set_data(std::string(data));
      if (!writer->Write(chunk)) return absl::CancelledError("the client went away");
      return absl::OkStatus();
    }));
  }
  return absl::OkStatus();
}

grpc::Status ClerkServiceImpl::Track(grpc::ServerContext* context, const v1::TrackRequest* request,
                                     v1::TrackResponse* response) {
  auto caller = AuthorizePerson(*context, node_, {Role::kClerk, Role::kLeader, Role::kAuditor});
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  // A relay carries other agencies' documents: their recipients, receipts
  // and reasons are not its clerks' to read.
  if (auto readable = ReadableHere(request->message_id()); !readable.ok()) return ToGrpcStatus(readable.status());
  auto tracked = node_.store->Track(request->message_id());
  if (!tracked.ok()) return ToGrpcStatus(tracked.status());
  *response = *std::move(tracked);
  // The path each recipient's receipt names (the receipt was verified when it arrived).
  for (v1::RecipientTrack& recipient : *response->mutable_recipients()) {
    for (const v1::TrackedAnswer& answer : recipient.answers()) {
      v1::ReceiptBody body;
      if (answer.signed_().kind() == v1::MESSAGE_KIND_RECEIPT && body.ParseFromString(answer.signed_().body())) {
        *recipient.mutable_path() = body.trace();
        break;
      }
    }
  }
  return grpc::Status::OK;
}

grpc::Status ClerkServiceImpl::SetStatus(grpc::ServerContext* context, const v1::SetStatusRequest* request,
                                         v1::SetStatusResponse* response) {
  return AnswerOrReject(node_, *context, "ClerkService.SetStatus", DoSetStatus(context, *request, response));
}

absl::Status ClerkServiceImpl::DoSetStatus(grpc::ServerContext* context, const v1::SetStatusRequest& request,
                                           v1::SetStatusResponse* response) {
  ASSIGN_OR_RETURN(Caller caller, AuthorizePerson(*context, node_, {Role::kClerk}));
  if (!IsBusinessStatus(request.code())) {
    return absl::InvalidArgumentError("a clerk answers with 02 rejected, 03 accepted, 04 assigned, 05 processing, "
                                      "06 completed, or 15 / 16 to accept / refuse a recall, update or replacement "
                                      "(a recall itself is asked with `congvan recall`)");
  }
  if (request.reason().size() > node_.limits.max_text_bytes) {
    return absl::InvalidArgumentError("the reason is longer than " + std::to_string(node_.limits.max_text_bytes) +
                                      " bytes");
  }
  if (request.code() == v1::STATUS_CODE_REJECTED && request.reason().empty()) {
    return absl::InvalidArgumentError("a rejection (02) needs a reason the sender can act on");
  }
  // Only a document in this agency's inbox can be answered, and only as its
  // life allows (lifecycle.h).
  ASSIGN_OR_RETURN(store::InboxItem item, node_.store->GetInboxItem(node_.agency(), request.message_id()));
  RETURN_IF_ERROR(store::CheckStatusAllowed(item.entry, request.code()));
  ASSIGN_OR_RETURN(store::StoredMessage message, node_.store->GetMessage(request.message_id()));
  const absl::Time now = node_.now();

  v1::StatusBody body;
  body.set_message_id(request.message_id());
  body.set_header_sha256(signer::Sha256(message.document.document().body()));
  body.set_agency(node_.agency());
  body.set_code(request.code());
  body.set_reason(request.reason());
  body.set_time(FormatRfc3339(now));
  body.set_person_login(caller.login);
  ASSIGN_OR_RETURN(v1::SignedMessage sealed, Seal(v1::MESSAGE_KIND_STATUS, body.SerializeAsString(), *node_.seal, now));

  ASSIGN_OR_RETURN(signer::AgencyId sender, signer::AgencyId::Parse(message.header.from_agency()));
  ASSIGN_OR_RETURN(std::string hop, router_.NextHop(sender));
  store::Answer answer;
  answer.message_id = request.message_id();
  answer.agency = node_.agency();
  answer.answer.set_code(request.code());
  answer.answer.set_time(body.time());
  answer.answer.set_reason(request.reason());
  *answer.answer.mutable_signed_() = sealed;
  store::NewOutboxEntry entry;
  entry.peer = hop;
  entry.message_id = request.message_id();
  v1::AnswerRequest carried;
  *carried.mutable_answer() = sealed;
  carried.set_to_agency(sender.str());
  entry.answer = std::move(carried);
  entry.deadline = now + node_.config.retry.delivery_deadline;
  RETURN_IF_ERROR(node_.store->SetInboxStatus(answer, {entry}));
  node_.wake_delivery();
  *response->mutable_status() = std::move(sealed);
  return absl::OkStatus();
}

grpc::Status ClerkServiceImpl::Recall(grpc::ServerContext* context, const v1::RecallRequest* request,
                                      v1::RecallResponse* response) {
  return AnswerOrReject(node_, *context, "ClerkService.Recall", DoRecall(context, *request, response));
}

absl::Status ClerkServiceImpl::DoRecall(grpc::ServerContext* context, const v1::RecallRequest& request,
                                        v1::RecallResponse* response) {
  ASSIGN_OR_RETURN(Caller caller, AuthorizePerson(*context, node_, {Role::kClerk}));
  if (request.reason().empty()) {
    return absl::InvalidArgumentError("a recall needs a reason the recipients' clerks can read (--reason)");
  }
  if (request.reason().size() > node_.limits.max_text_bytes) {
    return absl::InvalidArgumentError("the reason is longer than " + std::to_string(node_.limits.max_text_bytes) +
                                      " bytes");
  }
  ASSIGN_OR_RETURN(store::StoredMessage message, IssuedHere(request.message_id()));
  const absl::Time now = node_.now();
  v1::StatusBody body;
  body.set_message_id(request.message_id());
  body.set_header_sha256(signer::Sha256(message.document.document().body()));
  body.set_agency(node_.agency());
  body.set_code(v1::STATUS_CODE_RECALL_REQUESTED);
  body.set_reason(request.reason());
  body.set_time(FormatRfc3339(now));
  body.set_person_login(caller.login);
  ASSIGN_OR_RETURN(v1::SignedMessage sealed, Seal(v1::MESSAGE_KIND_STATUS, body.SerializeAsString(), *node_.seal, now));

  // One request per recipient, each routed to its node like a document.
  std::vector<store::NewOutboxEntry> entries;
  for (const std::string& recipient : message.header.recipients()) {
    ASSIGN_OR_RETURN(signer::AgencyId id, signer::AgencyId::Parse(recipient));
    ASSIGN_OR_RETURN(std::string hop, router_.NextHop(id));
    store::NewOutboxEntry entry;
    entry.peer = hop;
    entry.message_id = request.message_id();
    v1::AnswerRequest carried;
    *carried.mutable_answer() = sealed;
    carried.set_to_agency(recipient);
    entry.answer = std::move(carried);
    entry.deadline = now + node_.config.retry.delivery_deadline;
    entries.push_back(std::move(entry));
  }
  store::Answer own;
  own.message_id = request.message_id();
  own.agency = node_.agency();
  own.answer.set_code(v1::STATUS_CODE_RECALL_REQUESTED);
  own.answer.set_time(body.time());
  own.answer.set_reason(request.reason());
  *own.answer.mutable_signed_() = sealed;
  RETURN_IF_ERROR(node_.store->AddAnswer(own, entries).status());
  node_.wake_delivery();
  *response->mutable_status() = std::move(sealed);
  return absl::OkStatus();
}

grpc::Status ClerkServiceImpl::Retry(grpc::ServerContext* context, const v1::RetryRequest* request,
                                     v1::RetryResponse* response) {
  return ToGrpcStatus(DoRetry(context, *request, response));
}

absl::Status ClerkServiceImpl::DoRetry(grpc::ServerContext* context, const v1::RetryRequest& request,
                                       v1::RetryResponse* response) {
  RETURN_IF_ERROR(AuthorizePerson(*context, node_, {Role::kClerk}).status());
  RETURN_IF_ERROR(IssuedHere(request.message_id()).status());
  ASSIGN_OR_RETURN(std::vector<store::OutboxEntry> entries, node_.store->ListOutbox(request.message_id()));
  const absl::Time now = node_.now();
  for (const store::OutboxEntry& entry : entries) {
    if (entry.state != store::OutboxState::kFailed) continue;
    RETURN_IF_ERROR(node_.store->Rearm(entry.id, now, now + node_.config.retry.delivery_deadline));
    response->add_peers(entry.peer);
  }
  if (response->peers().empty()) {
    return absl::FailedPreconditionError("no delivery of " + request.message_id() +
                                         " has failed at this node: nothing to retry here (a relay that reported "
                                         "a failure keeps trying by itself; see `congvan track`)");
  }
  node_.wake_delivery();
  return absl::OkStatus();
}

grpc::Status ClerkServiceImpl::Watch(grpc::ServerContext* context, const v1::WatchRequest*,
                                     grpc::ServerWriter<v1::AnswerEvent>* writer) {
  return ToGrpcStatus(DoWatch(context, writer));
}

absl::Status ClerkServiceImpl::DoWatch(grpc::ServerContext* context, grpc::ServerWriter<v1::AnswerEvent>* writer) {
  RETURN_IF_ERROR(AuthorizePerson(*context, node_, {Role::kClerk, Role::kLeader, Role::kAuditor}).status());
  // How often a quiet watch looks whether its caller went away.
  constexpr absl::Duration kCheckCancelled = absl::Milliseconds(250);
  uint64_t cursor = node_.answers.Next();
  // Headers go out now: the caller knows the watch has started.
  writer->SendInitialMetadata();
  std::vector<v1::AnswerEvent> events;
  while (!context->IsCancelled()) {
    events.clear();
    switch (node_.answers.Wait(&cursor, kCheckCancelled, &events)) {
      case AnswerFeed::Read::kTimeout:
        continue;
      case AnswerFeed::Read::kClosed:
        return absl::UnavailableError("node " + node_.agency() + " is stopping: watch again once it is back");
      case AnswerFeed::Read::kFellBehind:
        return absl::ResourceExhaustedError("this watch fell more than " + std::to_string(AnswerFeed::kCapacity) +
                                            " answers behind: Track the documents, then watch again");
      case AnswerFeed::Read::kEvents:
        break;
    }
    for (const v1::AnswerEvent& event : events) {
      if (!writer->Write(event)) return absl::CancelledError("the client went away");
    }
  }
  return absl::CancelledError("the client went away");
}

}  // namespace congvan::node
