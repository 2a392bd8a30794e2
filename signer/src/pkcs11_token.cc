// ProvisionToken: initialise a token, set its PINs, generate a key pair on it.
#include "congvan/signer/pkcs11_token.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "congvan/signer/status_macros.h"
#include "pkcs11_module.h"
#include "pkcs11_public_key.h"

namespace congvan::signer {
namespace {

using internal::MakeAttribute;
using internal::Pkcs11Error;
using internal::Pkcs11Module;
using internal::Pkcs11Session;

constexpr size_t kMaxTokenLabelBytes = 32;
constexpr CK_BBOOL kTrue = CK_TRUE;
constexpr CK_BBOOL kFalse = CK_FALSE;
// DER OID prime256v1 (1.2.840.10045.3.1.7), the CKA_EC_PARAMS of P-256.
const std::string kP256Params("\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", 10);
const std::string kRsaPublicExponent("\x01\x00\x01", 3);  // 65537

absl::Status ValidateRequest(const TokenProvisioning& request) {
  if (request.module.empty()) return absl::InvalidArgumentError("no PKCS#11 module given");
  if (request.token_label.empty() || request.token_label.size() > kMaxTokenLabelBytes) {
    return absl::InvalidArgumentError("a token label must have 1 to 32 bytes, not " +
                                      std::to_string(request.token_label.size()));
  }
  if (request.key_label.empty()) return absl::InvalidArgumentError("no key label given");
  if (request.so_pin.empty() || request.user_pin.empty()) {
    return absl::InvalidArgumentError("both the SO PIN and the user PIN must be set");
  }
  return absl::OkStatus();
}

// PIN lengths the token accepts, checked before anything is written to it.
absl::Status CheckPinLength(const std::string& pin, const char* which, const CK_TOKEN_INFO& info) {
  // Some modules leave the bounds at 0 when they have none.
  const bool too_short = pin.size() < info.ulMinPinLen;
  const bool too_long = info.ulMaxPinLen != 0 && pin.size() > info.ulMaxPinLen;
  if (too_short || too_long) {
    return absl::InvalidArgumentError(std::string("the ") + which + " must have " +
                                      std::to_string(info.ulMinPinLen) + " to " +
                                      std::to_string(info.ulMaxPinLen) + " characters");
  }
  return absl::OkStatus();
}

// The first slot with an uninitialised token, its info, or ALREADY_EXISTS /
// RESOURCE_EXHAUSTED.
absl::StatusOr<std::pair<CK_SLOT_ID, CK_TOKEN_INFO>> FindFreeSlot(const Pkcs11Module& module,
                                                                   const std::string& label) {
  ASSIGN_OR_RETURN(std::vector<CK_SLOT_ID> slots, module.Slots(/*present_only=*/true));
  std::optional<std::pair<CK_SLOT_ID, CK_TOKEN_INFO>> free;
  for (CK_SLOT_ID slot : slots) {
    CK_TOKEN_INFO info{};
    const CK_RV rv = module.fn().C_GetTokenInfo(slot, &info);
    if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_SLOT_ID_INVALID) continue;
    if (rv != CKR_OK) return Pkcs11Error(rv, "reading the tokens of '" + module.path() + "'");
    if ((info.flags & CKF_TOKEN_INITIALIZED) == 0) {
      if (!free.has_value()) free.emplace(slot, info);
    } else if (internal::TokenLabel(info) == label) {
      return absl::AlreadyExistsError("a token labelled '" + label + "' already exists in '" +
                                      module.path() + "'");
    }
  }
  if (!free.has_value()) {
    return absl::ResourceExhaustedError("no uninitialised token left in '" + module.path() + "'");
  }
  return *free;
}

absl::Status SetUserPin(Pkcs11Session& session, const TokenProvisioning& request) {
  RETURN_IF_ERROR(session.Login(CKU_SO, request.so_pin));
  auto* pin = reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(request.user_pin.data()));
  const CK_RV rv = session.fn().C_InitPIN(session.handle(), pin, request.user_pin.size());
  session.Logout();
  if (rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_INVALID) {
    return absl::InvalidArgumentError("token '" + request.token_label +
                                      "' does not accept that user PIN");
  }
  if (rv != CKR_OK) return Pkcs11Error(rv, "setting the user PIN of '" + request.token_label + "'");
  return absl::OkStatus();
}

absl::StatusOr<CK_OBJECT_HANDLE> GenerateKeyPair(Pkcs11Session& session,
                                                 const TokenProvisioning& request) {
  const std::string& label = request.key_label;
  // The signing key never leaves the token and signs nothing but signatures.
  std::vector<CK_ATTRIBUTE> private_template = {
      MakeAttribute(CKA_TOKEN, kTrue),       MakeAttribute(CKA_PRIVATE, kTrue),
      MakeAttribute(CKA_SENSITIVE, kTrue),   MakeAttribute(CKA_EXTRACTABLE, kFalse),
      MakeAttribute(CKA_SIGN, kTrue),        MakeAttribute(CKA_DECRYPT, kFalse),
      MakeAttribute(CKA_UNWRAP, kFalse),     MakeAttribute(CKA_DERIVE, kFalse),
      MakeAttribute(CKA_LABEL, label),       MakeAttribute(CKA_ID, label),
  };
  // The public key stays readable without login, for certificates.
  std::vector<CK_ATTRIBUTE> public_template = {
      MakeAttribute(CKA_TOKEN, kTrue),   MakeAttribute(CKA_PRIVATE, kFalse),
      MakeAttribute(CKA_VERIFY, kTrue),  MakeAttribute(CKA_ENCRYPT, kFalse),
      MakeAttribute(CKA_WRAP, kFalse),   MakeAttribute(CKA_DERIVE, kFalse),
      MakeAttribute(CKA_LABEL, label),   MakeAttribute(CKA_ID, label),
  };
  CK_MECHANISM mechanism{CKM_RSA_PKCS_KEY_PAIR_GEN, nullptr, 0};
  CK_ULONG modulus_bits = 0;
  switch (request.key_type) {
    case KeyType::kRsa2048:
    case KeyType::kRsa3072:
      modulus_bits = request.key_type == KeyType::kRsa2048 ? 2048 : 3072;
      public_template.push_back(MakeAttribute(CKA_MODULUS_BITS, modulus_bits));
      public_template.push_back(MakeAttribute(CKA_PUBLIC_EXPONENT, kRsaPublicExponent));
      break;
    case KeyType::kP256:
      mechanism.mechanism = CKM_EC_KEY_PAIR_GEN;
      public_template.push_back(MakeAttribute(CKA_EC_PARAMS, kP256Params));
      break;
  }
  CK_OBJECT_HANDLE public_key = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE private_key = CK_INVALID_HANDLE;
  const CK_RV rv = session.fn().C_GenerateKeyPair(
      session.handle(), &mechanism, public_template.data(), public_template.size(),
      private_template.data(), private_template.size(), &public_key, &private_key);
  if (rv != CKR_OK) {
    return Pkcs11Error(rv, "generating a " + std::string(KeyTypeName(request.key_type)) +
                               " key pair on token '" + request.token_label + "'");
  }
  return private_key;
}

}  // namespace

absl::StatusOr<std::string> ProvisionToken(const TokenProvisioning& request) {
  RETURN_IF_ERROR(ValidateRequest(request));
  ASSIGN_OR_RETURN(std::shared_ptr<Pkcs11Module> module,
                   internal::LoadPkcs11Module(request.module));
  ASSIGN_OR_RETURN(auto free_slot, FindFreeSlot(*module, request.token_label));
  const auto& [slot, info] = free_slot;
  RETURN_IF_ERROR(CheckPinLength(request.so_pin, "SO PIN", info));
  RETURN_IF_ERROR(CheckPinLength(request.user_pin, "user PIN", info));

  std::string padded_label = internal::PadTokenLabel(request.token_label);
  auto* so_pin = reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(request.so_pin.data()));
  const CK_RV rv = module->fn().C_InitToken(slot, so_pin, request.so_pin.size(),
                                            reinterpret_cast<CK_UTF8CHAR*>(padded_label.data()));
  if (rv != CKR_OK) {
    return Pkcs11Error(rv, "initialising token '" + request.token_label + "' in '" +
                               request.module + "'");
  }

  // SoftHSM2 gives the initialised token a new slot id: look it up again.
  ASSIGN_OR_RETURN(std::optional<CK_SLOT_ID> token_slot, module->FindToken(request.token_label));
  if (!token_slot.has_value()) {
    return absl::UnavailableError("token '" + request.token_label +
                                  "' vanished after initialisation in '" + request.module + "'");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Pkcs11Session> session,
                   Pkcs11Session::Open(module, *token_slot, /*read_write=*/true,
                                       request.token_label));
  RETURN_IF_ERROR(SetUserPin(*session, request));
  RETURN_IF_ERROR(session->Login(CKU_USER, request.user_pin));
  absl::StatusOr<CK_OBJECT_HANDLE> private_key = GenerateKeyPair(*session, request);
  absl::StatusOr<internal::Pkcs11KeyPair> pair =
      private_key.ok() ? internal::ReadKeyPair(*session, *private_key)
                       : absl::StatusOr<internal::Pkcs11KeyPair>(private_key.status());
  session->Logout();
  if (!pair.ok()) return pair.status();
  return std::move(pair->public_key_der);
}

}  // namespace congvan::signer
