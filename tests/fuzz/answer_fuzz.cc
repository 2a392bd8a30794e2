// Fuzzes the answers a node takes from its peers: the bytes are one
// AnswerRequest as NodeService.Answer reads it (a receipt, a status or a
// relay's delivery report, and the agency it is for), checked as DoAnswer
// does before it looks at its store: node::VerifyAnswer (the seal is the
// answering agency's, the body parses and names a message) and the
// to_agency's ID. The delivery loop checks the receipts in a
// DeliverResponse with the same VerifyAnswer.
//
// Each input runs twice: as it is, and with its answer sealed anew by the
// in-memory seal of the agency its body names (fuzz_support.h), so that
// mutated bodies get past the seal.
#include <cstdint>

#include "congvan/node/node_service.h"
#include "congvan/signer/agency_id.h"
#include "congvan/signer/cms.h"
#include "congvan/v1/node.pb.h"
#include "fuzz/fuzz_support.h"

namespace congvan::fuzz {
namespace {

void Answer(const v1::AnswerRequest& request, const char* how) {
  std::string header_sha256;
  absl::StatusOr<store::Answer> answer = node::VerifyAnswer(request.answer(), Trust(), VerifyAt(), &header_sha256);
  Trace(how, answer.status());
  if (!answer.ok()) return;
  // What VerifyAnswer promises of an answer it accepts.
  FUZZ_CHECK(!answer->message_id.empty());
  FUZZ_CHECK(!answer->agency.empty());
  FUZZ_CHECK(answer->answer.signed_().SerializeAsString() == request.answer().SerializeAsString());
  const v1::MessageKind kind = request.answer().kind();
  FUZZ_CHECK(kind == v1::MESSAGE_KIND_RECEIPT || kind == v1::MESSAGE_KIND_STATUS ||
             kind == v1::MESSAGE_KIND_DELIVERY_REPORT);
  FUZZ_CHECK((kind == v1::MESSAGE_KIND_DELIVERY_REPORT) == !answer->failed_recipients.empty());
  Trace("to_agency", signer::AgencyId::Parse(request.to_agency()).status());
}

// The agency an answer's body says answers: whose seal it must carry.
std::string Answering(const v1::SignedMessage& answer) {
  switch (answer.kind()) {
    case v1::MESSAGE_KIND_RECEIPT: {
      v1::ReceiptBody body;
      return body.ParseFromString(answer.body()) ? body.recipient() : "";
    }
    case v1::MESSAGE_KIND_STATUS: {
      v1::StatusBody body;
      return body.ParseFromString(answer.body()) ? body.agency() : "";
    }
    case v1::MESSAGE_KIND_DELIVERY_REPORT: {
      v1::DeliveryReport body;
      return body.ParseFromString(answer.body()) ? body.relay() : "";
    }
    default:
      return "";
  }
}

}  // namespace
}  // namespace congvan::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace congvan;
  v1::AnswerRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  fuzz::Answer(request, "answer as sent");

  v1::AnswerRequest resealed = request;
  v1::SignedMessage* answer = resealed.mutable_answer();
  answer->set_seal_signature(fuzz::Reseal(fuzz::Answering(*answer), answer->body()));
  fuzz::Answer(resealed, "answer re-sealed");
  return 0;
}
