#include "congvan/node/node_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "congvan/node/access.h"
#include "congvan/node/grpc_status.h"
#include "congvan/node/rejections.h"
#include "congvan/node/trace.h"
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
                                           absl::Time at, std::string* header_sha256, SignatureCounter* counter) {
  ASSIGN_OR_RETURN(VerifiedSeal seal, VerifySeal(answer, trust, at, counter));
  store::Answer out;
  std::string digest;
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
    digest = body.header_sha256();
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
    digest = body.header_sha256();
  } else if (answer.kind() == v1::MESSAGE_KIND_DELIVERY_REPORT) {
    v1::DeliveryReport body;
    if (!body.ParseFromString(answer.body())) return absl::InvalidArgumentError("the delivery report cannot be parsed");
    if (body.relay() != seal.agency) {
      return absl::PermissionDeniedError("a delivery report of " + body.relay() + " is sealed by " + seal.agency);
    }
    if (body.recipients().empty()) return absl::InvalidArgumentError("the delivery report names no recipient");
    out.message_id = body.message_id();
    out.answer.set_time(body.time());
    out.answer.set_reason("relay " + body.relay() + " could not deliver to " + body.next_hop() + ": " + body.reason());
    out.failed_recipients.assign(body.recipients().begin(), body.recipients().end());
    digest = body.header_sha256();
  } else {
    return absl::InvalidArgumentError("an answer must be a receipt, a status or a delivery report");
  }
  if (out.message_id.empty()) return absl::InvalidArgumentError("the answer names no message");
  out.agency = seal.agency;
  *out.answer.mutable_signed_() = answer;
  if (header_sha256 != nullptr) *header_sha256 = std::move(digest);
  return out;
}

absl::StatusOr<v1::SignedMessage> MakeDeliveryReport(const store::StoredMessage& message, const std::string& relay,
                                                     const std::vector<std::string>& recipients,
                                                     const std::string& next_hop, const std::string& reason,
                                                     const SealCredentials& seal, absl::Time now) {
  v1::DeliveryReport body;
  body.set_message_id(message.header.message_id());
  body.set_header_sha256(signer::Sha256(message.document.document().body()));
  body.set_relay(relay);
  for (const std::string& recipient : recipients) body.add_recipients(recipient);
  body.set_next_hop(next_hop);
  body.set_reason(reason);
  body.set_time(FormatRfc3339(now));
  return Seal(v1::MESSAGE_KIND_DELIVERY_REPORT, body.SerializeAsString(), seal, now);
}

grpc::Status NodeServiceImpl::Deliver(grpc::ServerContext* context, grpc::ServerReader<v1::DeliverRequest>* reader,
                                      v1::DeliverResponse* response) {
  return AnswerOrReject(node_, *context, "NodeService.Deliver", DoDeliver(context, reader, response));
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
  ASSIGN_OR_RETURN(v1::DocumentHeader header,
                   VerifyEnvelope(envelope, *node_.trust->Current(), now, node_.limits, &node_.signatures));
  if (envelope.serve().empty()) return absl::InvalidArgumentError("the envelope asks to serve no recipient");
  RETURN_IF_ERROR(VerifyTrace(envelope.trace(), header, envelope.document().body(), peer.agency, node_.agency(),
                              *node_.trust->Current(), now, &node_.signatures));

  // At-least-once on the wire, exactly-once in effect.
  ASSIGN_OR_RETURN(auto known, node_.store->KnownReceipts(header.message_id()));
  if (known.has_value()) {
    for (v1::SignedMessage& receipt : *known) *response->add_receipts() = std::move(receipt);
    count.result = "duplicate";
    return absl::OkStatus();
  }

  // Where each served recipient goes from here, checked before any part
  // streams: a recipient this node cannot reach is refused now, not lost later.
  ASSIGN_OR_RETURN(auto hops, router_.Split({envelope.serve().begin(), envelope.serve().end()}));
  for (const auto& [next, recipients] : hops) {
    if (next == peer.agency) {
      return absl::InvalidArgumentError("recipient " + recipients.front() + " routes back to the sender " +
                                        peer.agency + ": refusing a loop");
    }
  }

  std::vector<internal::ExpectedPart> parts;
  for (const v1::PartInfo& part : header.parts()) parts.push_back({part.name(), part.size(), part.sha256()});
  ASSIGN_OR_RETURN(std::unique_ptr<store::Upload> upload, node_.store->BeginUpload());
  RETURN_IF_ERROR(internal::ReceiveParts(reader, *upload, parts));
  if (context->IsCancelled()) return absl::CancelledError("the delivery was cancelled: nothing was stored");

  // This node's hop of the trace: sealed when it relays the document further.
  const bool relays = std::any_of(hops.begin(), hops.end(), [](const auto& hop) { return !hop.first.empty(); });
  ASSIGN_OR_RETURN(v1::TraceEntry own_hop, MakeTraceEntry(envelope.trace(), header, envelope.document().body(),
                                                          node_.agency(), peer.agency, relays, *node_.seal, now));
  std::vector<v1::TraceEntry> path(envelope.trace().begin(), envelope.trace().end());
  path.push_back(own_hop);

  store::ReceiveRequest request;
  request.upload = upload.get();
  request.received_at = now;
  request.from = peer.agency;
  request.served.assign(envelope.serve().begin(), envelope.serve().end());
  for (const auto& [next, recipients] : hops) {
    if (next.empty()) {
      for (const std::string& recipient : recipients) {
        ASSIGN_OR_RETURN(v1::SignedMessage receipt,
                         MakeReceipt(header, envelope.document().body(), recipient, v1::STATUS_CODE_ARRIVED, "",
                                     *node_.seal, now, path));
        store::LocalDelivery local;
        local.recipient = recipient;
        local.receipt.set_code(v1::STATUS_CODE_ARRIVED);
        local.receipt.set_time(FormatRfc3339(now));
        *local.receipt.mutable_signed_() = std::move(receipt);
        request.local.push_back(std::move(local));
      }
      continue;
    }
    store::NewOutboxEntry entry;
    entry.peer = next;
    entry.message_id = header.message_id();
    entry.recipients = recipients;
    entry.deadline = now + node_.config.retry.delivery_deadline;
    request.forward.push_back(std::move(entry));
  }
  request.document.mutable_document()->CopyFrom(envelope.document());
  *request.document.mutable_leader_signatures() = envelope.leader_signatures();
  *request.document.mutable_trace() = envelope.trace();
  *request.document.add_trace() = std::move(own_hop);
  ASSIGN_OR_RETURN(store::ReceiveResult result, node_.store->Receive(request));
  count.Stored(parts);
  spdlog::info("message={} peer={} recipients_here={} next_hops={} document stored", header.message_id(), peer.agency,
               request.local.size(), request.forward.size());
  if (!request.forward.empty()) node_.wake_delivery();
  for (v1::SignedMessage& receipt : result.receipts) *response->add_receipts() = std::move(receipt);
  return absl::OkStatus();
}

grpc::Status NodeServiceImpl::Answer(grpc::ServerContext* context, const v1::AnswerRequest* request,
                                     v1::AnswerResponse*) {
  return AnswerOrReject(node_, *context, "NodeService.Answer", DoAnswer(context, *request));
}

absl::Status NodeServiceImpl::DoAnswer(grpc::ServerContext* context, const v1::AnswerRequest& request) {
  ASSIGN_OR_RETURN(Caller peer, AuthorizePeer(*context, node_));
  const absl::Time now = node_.now();
  std::string header_sha256;
  ASSIGN_OR_RETURN(store::Answer answer,
                   VerifyAnswer(request.answer(), *node_.trust->Current(), now, &header_sha256, &node_.signatures));
  ASSIGN_OR_RETURN(signer::AgencyId to, signer::AgencyId::Parse(request.to_agency()));
  ASSIGN_OR_RETURN(std::string hop, router_.NextHop(to));
  if (hop.empty()) {
    ASSIGN_OR_RETURN(bool known, node_.store->HasMessage(answer.message_id));
    if (!known) return absl::NotFoundError("no document " + answer.message_id + " has been stored here (yet)");
    ASSIGN_OR_RETURN(store::StoredMessage message, node_.store->GetMessage(answer.message_id));
    if (header_sha256 != signer::Sha256(message.document.document().body())) {
      return absl::InvalidArgumentError("the answer is about another header than the document " +
                                        answer.message_id + " stored here");
    }
    if (answer.answer.code() == v1::STATUS_CODE_RECALL_REQUESTED) {
      // The sender asks this recipient to recall a document it delivered here.
      if (message.header.from_agency() != answer.agency) {
        return absl::PermissionDeniedError("only the sender " + message.header.from_agency() + " may recall " +
                                           answer.message_id + ", not " + answer.agency);
      }
      return node_.store->RequestRecall(node_.agency(), answer).status();
    }
    const auto& recipients = message.header.recipients();
    auto is_recipient = [&](const std::string& agency) {
      return std::find(recipients.begin(), recipients.end(), agency) != recipients.end();
    };
    if (!message.issued_here) {
      return absl::PermissionDeniedError("document " + answer.message_id + " was not issued here");
    }
    if (request.answer().kind() == v1::MESSAGE_KIND_DELIVERY_REPORT) {
      for (const std::string& recipient : answer.failed_recipients) {
        if (!is_recipient(recipient)) {
          return absl::InvalidArgumentError("the delivery report names " + recipient + ", not a recipient of " +
                                            answer.message_id);
        }
      }
    } else if (!is_recipient(answer.agency)) {
      return absl::PermissionDeniedError(answer.agency + " is not a recipient of " + answer.message_id);
    }
    ASSIGN_OR_RETURN(bool added, node_.store->AddAnswer(answer));
    if (added) node_.answers.Publish({answer});
    return absl::OkStatus();
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
