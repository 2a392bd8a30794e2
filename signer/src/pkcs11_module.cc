#include "pkcs11_module.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace congvan::signer::internal {
namespace {

constexpr size_t kTokenLabelSize = 32;  // CK_TOKEN_INFO::label

// Every module this process has loaded, by path. Leaked on purpose: a module
// cannot be initialised twice in one process, so it must outlive every user,
// including static destructors that might still close sessions.
class ModuleRegistry {
 public:
  static ModuleRegistry& Get() {
    static ModuleRegistry* registry = new ModuleRegistry;
    return *registry;
  }

  absl::Mutex mu;
  std::map<std::string, std::shared_ptr<Pkcs11Module>> modules ABSL_GUARDED_BY(mu);
};

// The registry key: the canonical file name when `path` names a file, so two
// spellings of one module share one initialisation.
std::string RegistryKey(const std::string& path) {
  if (path.find('/') == std::string::npos) return path;  // left to dlopen's search
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::canonical(path, ec);
  return ec ? path : canonical.string();
}

}  // namespace

absl::StatusOr<std::shared_ptr<Pkcs11Module>> LoadPkcs11Module(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("no PKCS#11 module path given");
  const std::string key = RegistryKey(path);
  ModuleRegistry& registry = ModuleRegistry::Get();
  absl::MutexLock lock(&registry.mu);
  if (auto it = registry.modules.find(key); it != registry.modules.end()) return it->second;

  if (key.find('/') != std::string::npos) {
    std::error_code ec;
    if (!std::filesystem::exists(key, ec)) {
      return absl::UnavailableError("PKCS#11 module '" + path + "' does not exist");
    }
  }
  void* library = dlopen(key.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* reason = dlerror();
    return absl::UnavailableError("cannot load PKCS#11 module '" + path +
                                  "': " + (reason != nullptr ? reason : "unknown error"));
  }
  auto get_function_list =
      reinterpret_cast<CK_C_GetFunctionList>(dlsym(library, "C_GetFunctionList"));
  CK_FUNCTION_LIST* functions = nullptr;
  if (get_function_list == nullptr || get_function_list(&functions) != CKR_OK ||
      functions == nullptr) {
    dlclose(library);
    return absl::UnavailableError("'" + path + "' is not a PKCS#11 module");
  }
  CK_C_INITIALIZE_ARGS args{};
  args.flags = CKF_OS_LOCKING_OK;
  const CK_RV rv = functions->C_Initialize(&args);
  // Someone else in this process (another library) may have initialised the
  // module already; it is usable all the same.
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    dlclose(library);
    return absl::UnavailableError("PKCS#11 module '" + path +
                                  "' failed to initialise: " + Pkcs11ReturnName(rv));
  }
  std::shared_ptr<Pkcs11Module> module(new Pkcs11Module(path, library, functions));
  registry.modules.emplace(key, module);
  return module;
}

absl::StatusOr<std::vector<CK_SLOT_ID>> Pkcs11Module::Slots(bool present_only) const {
  // The slot count may change between the two calls (a token appears).
  for (int attempt = 0; attempt < 3; ++attempt) {
    CK_ULONG count = 0;
    CK_RV rv = functions_->C_GetSlotList(present_only ? CK_TRUE : CK_FALSE, nullptr, &count);
    if (rv != CKR_OK) return Pkcs11Error(rv, "listing the slots of '" + path_ + "'");
    std::vector<CK_SLOT_ID> slots(count);
    rv = functions_->C_GetSlotList(present_only ? CK_TRUE : CK_FALSE, slots.data(), &count);
    if (rv == CKR_BUFFER_TOO_SMALL) continue;
    if (rv != CKR_OK) return Pkcs11Error(rv, "listing the slots of '" + path_ + "'");
    slots.resize(count);
    return slots;
  }
  return absl::UnavailableError("the slots of '" + path_ + "' keep changing");
}

absl::StatusOr<std::optional<CK_SLOT_ID>> Pkcs11Module::FindToken(std::string_view label) const {
  absl::StatusOr<std::vector<CK_SLOT_ID>> slots = Slots(/*present_only=*/true);
  if (!slots.ok()) return slots.status();
  for (CK_SLOT_ID slot : *slots) {
    CK_TOKEN_INFO info{};
    const CK_RV rv = functions_->C_GetTokenInfo(slot, &info);
    // A token removed since the listing is simply not the one we want.
    if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_SLOT_ID_INVALID) continue;
    if (rv != CKR_OK) return Pkcs11Error(rv, "reading the token info of '" + path_ + "'");
    if ((info.flags & CKF_TOKEN_INITIALIZED) != 0 && TokenLabel(info) == label) return slot;
  }
  return std::nullopt;
}

std::string Pkcs11ReturnName(CK_RV rv) {
  switch (rv) {
#define CONGVAN_CKR_CASE(name) \
  case name:                   \
    return #name;
    CONGVAN_CKR_CASE(CKR_OK)
    CONGVAN_CKR_CASE(CKR_CANCEL)
    CONGVAN_CKR_CASE(CKR_HOST_MEMORY)
    CONGVAN_CKR_CASE(CKR_SLOT_ID_INVALID)
    CONGVAN_CKR_CASE(CKR_GENERAL_ERROR)
    CONGVAN_CKR_CASE(CKR_FUNCTION_FAILED)
    CONGVAN_CKR_CASE(CKR_ARGUMENTS_BAD)
    CONGVAN_CKR_CASE(CKR_ATTRIBUTE_READ_ONLY)
    CONGVAN_CKR_CASE(CKR_ATTRIBUTE_SENSITIVE)
    CONGVAN_CKR_CASE(CKR_ATTRIBUTE_TYPE_INVALID)
    CONGVAN_CKR_CASE(CKR_ATTRIBUTE_VALUE_INVALID)
    CONGVAN_CKR_CASE(CKR_DATA_INVALID)
    CONGVAN_CKR_CASE(CKR_DATA_LEN_RANGE)
    CONGVAN_CKR_CASE(CKR_DEVICE_ERROR)
    CONGVAN_CKR_CASE(CKR_DEVICE_MEMORY)
    CONGVAN_CKR_CASE(CKR_DEVICE_REMOVED)
    CONGVAN_CKR_CASE(CKR_FUNCTION_CANCELED)
    CONGVAN_CKR_CASE(CKR_FUNCTION_NOT_SUPPORTED)
    CONGVAN_CKR_CASE(CKR_KEY_HANDLE_INVALID)
    CONGVAN_CKR_CASE(CKR_KEY_SIZE_RANGE)
    CONGVAN_CKR_CASE(CKR_KEY_TYPE_INCONSISTENT)
    CONGVAN_CKR_CASE(CKR_KEY_FUNCTION_NOT_PERMITTED)
    CONGVAN_CKR_CASE(CKR_MECHANISM_INVALID)
    CONGVAN_CKR_CASE(CKR_MECHANISM_PARAM_INVALID)
    CONGVAN_CKR_CASE(CKR_OBJECT_HANDLE_INVALID)
    CONGVAN_CKR_CASE(CKR_OPERATION_ACTIVE)
    CONGVAN_CKR_CASE(CKR_OPERATION_NOT_INITIALIZED)
    CONGVAN_CKR_CASE(CKR_PIN_INCORRECT)
    CONGVAN_CKR_CASE(CKR_PIN_INVALID)
    CONGVAN_CKR_CASE(CKR_PIN_LEN_RANGE)
    CONGVAN_CKR_CASE(CKR_PIN_EXPIRED)
    CONGVAN_CKR_CASE(CKR_PIN_LOCKED)
    CONGVAN_CKR_CASE(CKR_SESSION_CLOSED)
    CONGVAN_CKR_CASE(CKR_SESSION_COUNT)
    CONGVAN_CKR_CASE(CKR_SESSION_HANDLE_INVALID)
    CONGVAN_CKR_CASE(CKR_SESSION_READ_ONLY)
    CONGVAN_CKR_CASE(CKR_SESSION_EXISTS)
    CONGVAN_CKR_CASE(CKR_SESSION_READ_WRITE_SO_EXISTS)
    CONGVAN_CKR_CASE(CKR_TEMPLATE_INCOMPLETE)
    CONGVAN_CKR_CASE(CKR_TEMPLATE_INCONSISTENT)
    CONGVAN_CKR_CASE(CKR_TOKEN_NOT_PRESENT)
    CONGVAN_CKR_CASE(CKR_TOKEN_NOT_RECOGNIZED)
    CONGVAN_CKR_CASE(CKR_TOKEN_WRITE_PROTECTED)
    CONGVAN_CKR_CASE(CKR_USER_ALREADY_LOGGED_IN)
    CONGVAN_CKR_CASE(CKR_USER_NOT_LOGGED_IN)
    CONGVAN_CKR_CASE(CKR_USER_PIN_NOT_INITIALIZED)
    CONGVAN_CKR_CASE(CKR_USER_TYPE_INVALID)
    CONGVAN_CKR_CASE(CKR_USER_ANOTHER_ALREADY_LOGGED_IN)
    CONGVAN_CKR_CASE(CKR_USER_TOO_MANY_TYPES)
    CONGVAN_CKR_CASE(CKR_DOMAIN_PARAMS_INVALID)
    CONGVAN_CKR_CASE(CKR_CURVE_NOT_SUPPORTED)
    CONGVAN_CKR_CASE(CKR_BUFFER_TOO_SMALL)
    CONGVAN_CKR_CASE(CKR_CRYPTOKI_NOT_INITIALIZED)
    CONGVAN_CKR_CASE(CKR_CRYPTOKI_ALREADY_INITIALIZED)
#undef CONGVAN_CKR_CASE
    default: {
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "CKR 0x%lx", static_cast<unsigned long>(rv));
      return buffer;
    }
  }
}

absl::Status Pkcs11Error(CK_RV rv, std::string_view what) {
  std::string message = std::string(what) + ": " + Pkcs11ReturnName(rv);
  switch (rv) {
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_MEMORY:
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_TOKEN_NOT_RECOGNIZED:
    case CKR_SLOT_ID_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_SESSION_COUNT:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_CRYPTOKI_NOT_INITIALIZED:
      return absl::UnavailableError(std::move(message));
    case CKR_PIN_INCORRECT:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
    case CKR_PIN_EXPIRED:
    case CKR_PIN_LOCKED:
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_USER_PIN_NOT_INITIALIZED:
      return absl::PermissionDeniedError(std::move(message));
    default:
      return absl::InternalError(std::move(message));
  }
}

std::string PadTokenLabel(std::string_view label) {
  std::string padded(label.substr(0, kTokenLabelSize));
  padded.resize(kTokenLabelSize, ' ');
  return padded;
}

std::string TokenLabel(const CK_TOKEN_INFO& info) {
  std::string label(reinterpret_cast<const char*>(info.label), sizeof info.label);
  // Trailing spaces are padding; some modules pad with NULs instead.
  while (!label.empty() && (label.back() == ' ' || label.back() == '\0')) label.pop_back();
  return label;
}

absl::StatusOr<std::unique_ptr<Pkcs11Session>> Pkcs11Session::Open(
    std::shared_ptr<Pkcs11Module> module, CK_SLOT_ID slot, bool read_write,
    std::string token_label) {
  CK_FLAGS flags = CKF_SERIAL_SESSION | (read_write ? CKF_RW_SESSION : 0);
  CK_SESSION_HANDLE handle = CK_INVALID_HANDLE;
  const CK_RV rv = module->fn().C_OpenSession(slot, flags, nullptr, nullptr, &handle);
  if (rv != CKR_OK) {
    return Pkcs11Error(rv, "opening a session on token '" + token_label + "'");
  }
  return std::unique_ptr<Pkcs11Session>(
      new Pkcs11Session(std::move(module), handle, std::move(token_label)));
}

Pkcs11Session::~Pkcs11Session() {
  // Nothing useful can be done when closing fails: the token is gone.
  (void)fn().C_CloseSession(handle_);
}

absl::Status Pkcs11Session::Login(CK_USER_TYPE user, const std::string& pin) {
  // PKCS#11 declares the PIN non-const but never writes to it.
  auto* pin_bytes = reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(pin.data()));
  const CK_RV rv = fn().C_Login(handle_, user, pin_bytes, pin.size());
  const std::string who = user == CKU_SO ? "SO PIN" : "PIN";
  switch (rv) {
    case CKR_OK:
    case CKR_USER_ALREADY_LOGGED_IN:
      return absl::OkStatus();
    case CKR_PIN_INCORRECT:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
      return absl::PermissionDeniedError("wrong " + who + " for token '" + token_label_ + "'");
    case CKR_PIN_LOCKED:
      return absl::PermissionDeniedError(who + " locked for token '" + token_label_ + "'");
    default:
      return Pkcs11Error(rv, "logging in to token '" + token_label_ + "'");
  }
}

void Pkcs11Session::Logout() { (void)fn().C_Logout(handle_); }

absl::StatusOr<std::vector<CK_OBJECT_HANDLE>> Pkcs11Session::Find(
    std::vector<CK_ATTRIBUTE> attributes) {
  const std::string what = "searching token '" + token_label_ + "'";
  CK_RV rv = fn().C_FindObjectsInit(handle_, attributes.data(), attributes.size());
  if (rv != CKR_OK) return Pkcs11Error(rv, what);
  std::vector<CK_OBJECT_HANDLE> found;
  CK_OBJECT_HANDLE batch[16];
  while (true) {
    CK_ULONG count = 0;
    rv = fn().C_FindObjects(handle_, batch, std::size(batch), &count);
    if (rv != CKR_OK || count == 0) break;
    found.insert(found.end(), batch, batch + count);
  }
  const CK_RV final_rv = fn().C_FindObjectsFinal(handle_);
  if (rv != CKR_OK) return Pkcs11Error(rv, what);
  if (final_rv != CKR_OK) return Pkcs11Error(final_rv, what);
  return found;
}

absl::StatusOr<std::string> Pkcs11Session::Attribute(CK_OBJECT_HANDLE object,
                                                     CK_ATTRIBUTE_TYPE type) {
  char name[32];
  std::snprintf(name, sizeof name, "attribute 0x%lx", static_cast<unsigned long>(type));
  const std::string what = std::string("reading ") + name + " on token '" + token_label_ + "'";
  CK_ATTRIBUTE attribute{type, nullptr, 0};
  CK_RV rv = fn().C_GetAttributeValue(handle_, object, &attribute, 1);
  if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE ||
      attribute.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
    return absl::NotFoundError(what + ": not available");
  }
  if (rv != CKR_OK) return Pkcs11Error(rv, what);
  std::string value(attribute.ulValueLen, '\0');
  attribute.pValue = value.data();
  rv = fn().C_GetAttributeValue(handle_, object, &attribute, 1);
  if (rv != CKR_OK) return Pkcs11Error(rv, what);
  value.resize(attribute.ulValueLen);
  return value;
}

absl::StatusOr<CK_ULONG> Pkcs11Session::UlongAttribute(CK_OBJECT_HANDLE object,
                                                       CK_ATTRIBUTE_TYPE type) {
  absl::StatusOr<std::string> bytes = Attribute(object, type);
  if (!bytes.ok()) return bytes.status();
  CK_ULONG value = 0;
  if (bytes->size() != sizeof value) {
    return absl::InternalError("token '" + token_label_ + "' returned a malformed attribute");
  }
  std::memcpy(&value, bytes->data(), sizeof value);
  return value;
}

}  // namespace congvan::signer::internal
