#include "congvan/signer/verify_error.h"

#include <array>

#include "absl/strings/cord.h"

namespace congvan::signer {
namespace {

constexpr char kPayloadUrl[] = "type.congvan.vn/congvan.VerifyFailure";

constexpr std::array<std::string_view, 12> kNames = {
    "none",       "malformed", "content-mismatch", "bad-signature",       "untrusted",    "expired",
    "not-yet-valid", "revoked", "wrong-key-usage", "signer-is-ca", "no-revocation-info", "invalid-chain",
};

}  // namespace

std::string_view VerifyFailureName(VerifyFailure failure) {
  return kNames[static_cast<size_t>(failure)];
}

absl::Status VerifyError(absl::StatusCode code, VerifyFailure failure, const std::string& message) {
  absl::Status status(code, message);
  status.SetPayload(kPayloadUrl, absl::Cord(std::string(VerifyFailureName(failure))));
  return status;
}

absl::Status WithContext(const absl::Status& status, const std::string& context) {
  if (status.ok()) return status;
  absl::Status out(status.code(), context + ": " + std::string(status.message()));
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

VerifyFailure VerifyFailureOf(const absl::Status& status) {
  auto payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return VerifyFailure::kNone;
  std::string name(*payload);
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<VerifyFailure>(i);
  }
  return VerifyFailure::kNone;
}

}  // namespace congvan::signer
