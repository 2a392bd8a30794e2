#include "congvan/node/node_service.h"

#include "congvan/node/access.h"
#include "congvan/node/grpc_status.h"
#include "congvan/signer/status_macros.h"
#include "part_stream.h"

namespace congvan::node {
namespace {

// Counts a Deliver call when it ends, however it ends: by the calling peer
// ("unknown" until it is identified as one) and result ("rejected" unless
// it was stored or a duplicate), and the part bytes stored.
class ReceivedCount {
 public:
  explicit ReceivedCount(Metrics& metrics) : metrics_(metrics) {}
  ~ReceivedCount() { metrics_.Add("congvan_received_total", {{"peer", peer}, {"result", result}}); }
  void Stored(const std::vector<internal::ExpectedPart>& parts) {
    result = "stored";
    uint64_t bytes = 0;
    for (const internal::ExpectedPart& part : parts) bytes += part.size;
    metrics_.Add("congvan_received_bytes_total", {{"peer", peer}}, static_cast<double>(bytes));
  }

  std::string peer = "unknown";
  const char* result = "rejected";

 private:
  Metrics& metrics_;
};

}  // namespace

absl::StatusOr<store::Answer> VerifyAnswer(const v1::SignedMessage& answer, const signer::TrustStore& trust,
                                           absl::Time at) {
  ASSIGN_OR_RETURN(VerifiedSeal seal, VerifySeal(answer, trust, at));
  store::Answer out;
  if (answer.kind() == v1::MESSAGE_KIND_RECEIPT) {
    v1::ReceiptBody body;
    if (!body.ParseFromString(answer.body())) return absl::InvalidArgumentError("the receipt cannot be parsed");
    if (body.recipient() != seal.agency) {
      return absl::PermissionDeniedError("a receipt for " + body.recipient() + " is sealed by " + seal.agency);
    }
    out.message_id = body.message_id();
    out.answer.set_code(body.code());
    out.answer.set_time(body.time());
    out.answer.set_reason(body.reason());
  } else if (answer.kind() == v1::MESSAGE_KIND_STATUS) {
    v1::StatusBody body;
    if (!body.ParseFromString(answer.body())) return absl::InvalidArgumentError("the status cannot be parsed");
    if (body.agency() != seal.agency) {
      return absl::PermissionDeniedError("a status of " + body.agency() + " is sealed by " + seal.agency);
    }
    out.message_id = body.message_id();
    out.answer.set_code(body.code());
    out.answer.set_time(body.time());
    out.answer.set_reason(body.reason());
  } else {
    return absl::InvalidArgumentError("an answer must be a receipt or a status");
  }
  if (out.message_id.empty()) return absl::InvalidArgumentError("the answer names no message");
  out.agency = seal.agency;
  *out.answer.mutable_signed_() = answer;
  return out;
}

grpc::Status NodeServiceImpl::Deliver(grpc::ServerContext* context, grpc::ServerReader<v1::DeliverRequest>* reader,
                                      v1::DeliverResponse* response) {
  return ToGrpcStatus(DoDeliver(context, reader, response));
}

absl::Status NodeServiceImpl::DoDeliver(grpc::ServerContext* context, grpc::ServerReader<v1::DeliverRequest>* reader,
                                        v1::DeliverResponse* response) {
  ReceivedCount count(node_.metrics);
  ASSIGN_OR_RETURN(Caller peer, AuthorizePeer(*context, node_));
  count.peer = peer.agency;
  v1::DeliverRequest first;
  if (!reader->Read(&first) || !first.has_envelope()) {
    return absl::InvalidArgumentError("a Deliver stream must begin with the envelope");
  }
  const v1::Envelope& envelope = first.envelope();
  const absl::Time now = node_.now();
  ASSIGN_OR_RETURN(v1::DocumentHeader header, VerifyEnvelope(envelope, *node_.trust->Current(), now, node_.limits));
  if (envelope.serve().empty()) return absl::InvalidArgumentError("the envelope asks to serve no recipient");

  // At-least-once on the wire, exactly-once in effect.
  ASSIGN_OR_RETURN(auto known, node_.store->KnownReceipts(header.message_id()));
  if (known.has_value()) {
    for (v1::SignedMessage& receipt : *known) *response->add_receipts() = std::move(receipt);
    count.result = "duplicate";
    return absl::OkStatus();
  }

  std::vector<internal::ExpectedPart> parts;
  for (const v1::PartInfo& part : header.parts()) parts.push_back({part.name(), part.size(), part.sha256()});
  ASSIGN_OR_RETURN(std::unique_ptr<store::Upload> upload, node_.store->BeginUpload());
  RETURN_IF_ERROR(internal::ReceiveParts(reader, *upload, parts));
  if (context->IsCancelled()) return absl::CancelledError("the delivery was cancelled: nothing was stored");

  store::ReceiveRequest request;
  request.document.mutable_document()->CopyFrom(envelope.document());
  *request.document.mutable_leader_signatures() = envelope.leader_signatures();
  *request.document.mutable_trace() = envelope.trace();
  v1::TraceEntry* hop = request.document.add_trace();
  hop->set_agency(node_.agency());
  hop->set_time(FormatRfc3339(now));
  request.upload = upload.get();
  request.received_at = now;
  request.served.assign(envelope.serve().begin(), envelope.serve().end());
  ASSIGN_OR_RETURN(auto hops, router_.Split(request.served));
  for (const auto& [next, recipients] : hops) {
    if (next.empty()) {
      for (const std::string& recipient : recipients) {
        ASSIGN_OR_RETURN(v1::SignedMessage receipt,
                         MakeReceipt(header, envelope.document().body(), recipient, v1::STATUS_CODE_ARRIVED, "",
                                     *node_.seal, now));
        store::LocalDelivery local;
        local.recipient = recipient;
        local.receipt.set_code(v1::STATUS_CODE_ARRIVED);
        local.receipt.set_time(FormatRfc3339(now));
        *local.receipt.mutable_signed_() = std::move(receipt);
        request.local.push_back(std::move(local));
      }
      continue;
    }
    if (next == peer.agency) {
      return absl::InvalidArgumentError("recipients " + recipients.front() + "... route back to the sender " +
                                        peer.agency + ": refusing a loop");
    }
    store::NewOutboxEntry entry;
    entry.peer = next;
    entry.message_id = header.message_id();
    entry.recipients = recipients;
    entry.deadline = now + node_.config.retry.delivery_deadline;
    request.forward.push_back(std::move(entry));
  }
  ASSIGN_OR_RETURN(store::ReceiveResult result, node_.store->Receive(request));
  count.Stored(parts);
  if (!request.forward.empty()) node_.wake_delivery();
  for (v1::SignedMessage& receipt : result.receipts) *response->add_receipts() = std::move(receipt);
  return absl::OkStatus();
}

grpc::Status NodeServiceImpl::Answer(grpc::ServerContext* context, const v1::AnswerRequest* request,
                                     v1::AnswerResponse*) {
  return ToGrpcStatus(DoAnswer(context, *request));
}

absl::Status NodeServiceImpl::DoAnswer(grpc::ServerContext* context, const v1::AnswerRequest& request) {
  ASSIGN_OR_RETURN(Caller peer, AuthorizePeer(*context, node_));
  const absl::Time now = node_.now();
  ASSIGN_OR_RETURN(store::Answer answer, VerifyAnswer(request.answer(), *node_.trust->Current(), now));
  ASSIGN_OR_RETURN(signer::AgencyId to, signer::AgencyId::Parse(request.to_agency()));
  ASSIGN_OR_RETURN(std::string hop, router_.NextHop(to));
  if (hop.empty()) {
    ASSIGN_OR_RETURN(bool known, node_.store->HasMessage(answer.message_id));
    if (!known) return absl::NotFoundError("no document " + answer.message_id + " was issued here");
    ASSIGN_OR_RETURN(store::StoredMessage message, node_.store->GetMessage(answer.message_id));
    const auto& recipients = message.header.recipients();
    if (!message.issued_here ||
        std::find(recipients.begin(), recipients.end(), answer.agency) == recipients.end()) {
      return absl::PermissionDeniedError(answer.agency + " is not a recipient of " + answer.message_id);
    }
    return node_.store->AddAnswer(answer).status();
  }
  if (hop == peer.agency) return absl::InvalidArgumentError("the answer would route back to its sender");
  store::NewOutboxEntry entry;
  entry.peer = hop;
  entry.message_id = answer.message_id;
  entry.answer = request;
  entry.deadline = now + node_.config.retry.delivery_deadline;
  RETURN_IF_ERROR(node_.store->Enqueue({entry}));
  node_.wake_delivery();
  return absl::OkStatus();
}

}  // namespace congvan::node
