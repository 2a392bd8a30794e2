#include "congvan/audit/evidence_layout.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace congvan::audit::evidence {

std::string LeaderSignature(int n) { return absl::StrCat("document/leader-", n, ".p7s"); }
std::string TraceHop(int n) { return absl::StrCat("document/trace/hop-", n, ".pb"); }
std::string TraceHopSeal(int n) { return absl::StrCat("document/trace/hop-", n, ".p7s"); }

std::string AnswerBody(int n, const std::string& agency, const std::string& code) {
  return absl::StrFormat("answers/%02d-%s-%s.pb", n, agency, code);
}

std::string AnswerSeal(int n, const std::string& agency, const std::string& code) {
  return absl::StrFormat("answers/%02d-%s-%s.p7s", n, agency, code);
}

std::string Event(uint64_t index) { return absl::StrCat(kEventsDir, index, ".pb"); }
std::string Proof(uint64_t index) { return absl::StrCat(kProofsDir, index, ".pb"); }
std::string Part(const std::string& name) { return kPartsDir + name; }

std::string MediaType(const std::string& name) {
  if (absl::EndsWith(name, ".p7s")) return "application/pkcs7-signature";
  if (absl::EndsWith(name, ".tst")) return "application/vnd.etsi.timestamp-token";
  if (absl::EndsWith(name, ".pem")) return "application/x-pem-file";
  if (absl::EndsWith(name, ".txt")) return "text/plain";
  if (absl::EndsWith(name, ".pb")) return "application/x-protobuf";
  return "application/octet-stream";
}

}  // namespace congvan::audit::evidence
