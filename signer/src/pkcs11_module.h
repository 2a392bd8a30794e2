// Private PKCS#11 plumbing for signer: loading a module once per process,
// sessions on its tokens, object search and attributes, and the conversion of
// CK_RV codes into absl::Status.
//
// Debian's Botan 2.19 is built without its PKCS#11 module, so congvan speaks
// the PKCS#11 C API directly (declarations from p11-kit's free pkcs11.h) and
// loads the module with dlopen.
#ifndef CONGVAN_SIGNER_SRC_PKCS11_MODULE_H_
#define CONGVAN_SIGNER_SRC_PKCS11_MODULE_H_

#include <p11-kit/pkcs11.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace congvan::signer::internal {

// A loaded, initialised PKCS#11 module. C_Initialize may run only once per
// process (and SoftHSM2 reads SOFTHSM2_CONF only then), so a module stays
// loaded until the process exits. The module is initialised with
// CKF_OS_LOCKING_OK, so its functions may be called from any thread; one
// session must still be used by one thread at a time.
class Pkcs11Module {
 public:
  Pkcs11Module(const Pkcs11Module&) = delete;
  Pkcs11Module& operator=(const Pkcs11Module&) = delete;

  // The module's functions.
  const CK_FUNCTION_LIST& fn() const { return *functions_; }
  // The path it was loaded from.
  const std::string& path() const { return path_; }

  // The slots that hold a token (present_only) or all slots. Re-enumerates
  // each time: SoftHSM2 moves a newly initialised token to a new slot id.
  [[nodiscard]] absl::StatusOr<std::vector<CK_SLOT_ID>> Slots(bool present_only) const;

  // The slot holding the initialised token labelled `label`, or nullopt.
  [[nodiscard]] absl::StatusOr<std::optional<CK_SLOT_ID>> FindToken(std::string_view label) const;

 private:
  friend absl::StatusOr<std::shared_ptr<Pkcs11Module>> LoadPkcs11Module(const std::string& path);
  Pkcs11Module(std::string path, void* library, CK_FUNCTION_LIST* functions)
      : path_(std::move(path)), library_(library), functions_(functions) {}

  std::string path_;
  void* library_;                // dlopen handle, never closed
  CK_FUNCTION_LIST* functions_;  // owned by the module
};

// Returns the module at `path`, loading it and calling C_Initialize the first
// time a process asks for that path. Thread-safe; the registry of loaded
// modules is process-wide. UNAVAILABLE naming the path when the file is
// missing, is not a PKCS#11 module, or fails to initialise.
[[nodiscard]] absl::StatusOr<std::shared_ptr<Pkcs11Module>> LoadPkcs11Module(
    const std::string& path);

// "CKR_PIN_INCORRECT" etc., or "CKR 0x...".
std::string Pkcs11ReturnName(CK_RV rv);

// "<what>: <CKR name>" with a code that fits `rv`: UNAVAILABLE when the
// token, session or device is gone, PERMISSION_DENIED for PIN and login
// failures, INTERNAL otherwise.
absl::Status Pkcs11Error(CK_RV rv, std::string_view what);

// A token label as PKCS#11 stores it: exactly 32 bytes, padded with spaces.
// The label must be at most 32 bytes.
std::string PadTokenLabel(std::string_view label);
// The label of a CK_TOKEN_INFO without its padding.
std::string TokenLabel(const CK_TOKEN_INFO& info);

// One session on a token, closed on destruction. Not thread-safe: the owner
// serialises calls. Closing the session does not log out, so other sessions
// of this process on the same token stay logged in.
class Pkcs11Session {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Pkcs11Session>> Open(
      std::shared_ptr<Pkcs11Module> module, CK_SLOT_ID slot, bool read_write,
      std::string token_label);
  ~Pkcs11Session();
  Pkcs11Session(const Pkcs11Session&) = delete;
  Pkcs11Session& operator=(const Pkcs11Session&) = delete;

  CK_SESSION_HANDLE handle() const { return handle_; }
  const CK_FUNCTION_LIST& fn() const { return module_->fn(); }
  const std::string& token_label() const { return token_label_; }

  // Logs in as `user` (CKU_USER or CKU_SO). Already logged in counts as
  // success. PERMISSION_DENIED "wrong PIN for token 'X'" / "PIN locked for
  // token 'X'"; the PIN never appears in a message.
  [[nodiscard]] absl::Status Login(CK_USER_TYPE user, const std::string& pin);
  // Logs out; errors are ignored (the session may already be logged out).
  void Logout();

  // Handles of the objects matching `attributes` (C_FindObjects*).
  [[nodiscard]] absl::StatusOr<std::vector<CK_OBJECT_HANDLE>> Find(
      std::vector<CK_ATTRIBUTE> attributes);

  // The value of one attribute. NOT_FOUND when the object has no such
  // attribute or its value cannot be revealed (sensitive).
  [[nodiscard]] absl::StatusOr<std::string> Attribute(CK_OBJECT_HANDLE object,
                                                      CK_ATTRIBUTE_TYPE type);
  [[nodiscard]] absl::StatusOr<CK_ULONG> UlongAttribute(CK_OBJECT_HANDLE object,
                                                        CK_ATTRIBUTE_TYPE type);

 private:
  Pkcs11Session(std::shared_ptr<Pkcs11Module> module, CK_SESSION_HANDLE handle,
                std::string token_label)
      : module_(std::move(module)), handle_(handle), token_label_(std::move(token_label)) {}

  std::shared_ptr<Pkcs11Module> module_;
  CK_SESSION_HANDLE handle_;
  std::string token_label_;
};

// An attribute for a template, pointing at `value` (which must outlive it).
template <typename T>
CK_ATTRIBUTE MakeAttribute(CK_ATTRIBUTE_TYPE type, const T& value) {
  return CK_ATTRIBUTE{type, const_cast<T*>(&value), sizeof(T)};
}
inline CK_ATTRIBUTE MakeAttribute(CK_ATTRIBUTE_TYPE type, const std::string& value) {
  return CK_ATTRIBUTE{type, const_cast<char*>(value.data()), value.size()};
}

}  // namespace congvan::signer::internal

#endif  // CONGVAN_SIGNER_SRC_PKCS11_MODULE_H_
