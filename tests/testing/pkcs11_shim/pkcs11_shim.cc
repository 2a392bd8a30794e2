// A PKCS#11 module for tests whose token can be pulled out: it forwards
// every call to a real module (SoftHSM2 by default), except while the file
// named by CONGVAN_PKCS11_SHIM_REMOVED exists. Then the token is "removed":
// calls on a slot fail with CKR_TOKEN_NOT_PRESENT, calls on a session with
// CKR_DEVICE_REMOVED, and the slot lists no token. As with a USB token, the
// removal closes every session (the real module's C_CloseAllSessions), so
// that a caller must open a session and log in again once the file is gone.
//
//   CONGVAN_PKCS11_SHIM_MODULE   the real module. Default: SoftHSM2's.
//   CONGVAN_PKCS11_SHIM_REMOVED  the control file.
//
// A node or the CLI set both through a token.toml's [environment].
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <sys/stat.h>

#include <cstdlib>
#include <mutex>
#include <vector>

namespace {

CK_FUNCTION_LIST* real = nullptr;
CK_FUNCTION_LIST shim;
std::mutex mu;
bool was_removed = false;

bool Removed() {
  const char* control = std::getenv("CONGVAN_PKCS11_SHIM_REMOVED");
  struct stat st {};
  const bool removed = control != nullptr && stat(control, &st) == 0;
  std::lock_guard<std::mutex> lock(mu);
  if (removed && !was_removed) {
    // Pulled out: the device forgets its sessions and its logins.
    CK_ULONG count = 0;
    if (real->C_GetSlotList(CK_TRUE, nullptr, &count) == CKR_OK && count > 0) {
      std::vector<CK_SLOT_ID> slots(count);
      if (real->C_GetSlotList(CK_TRUE, slots.data(), &count) == CKR_OK) {
        for (CK_ULONG i = 0; i < count; ++i) real->C_CloseAllSessions(slots[i]);
      }
    }
  }
  was_removed = removed;
  return removed;
}

// Forwards `Member` of the real list, or fails with `kGone` while removed.
template <auto Member, CK_RV kGone, typename... Args>
CK_RV Forward(Args... args) {
  if (Removed()) return kGone;
  return (real->*Member)(args...);
}

CK_RV GetSlotList(CK_BBOOL token_present, CK_SLOT_ID_PTR slots, CK_ULONG_PTR count) {
  if (token_present == CK_TRUE && Removed()) {
    *count = 0;
    return CKR_OK;
  }
  return real->C_GetSlotList(token_present, slots, count);
}

CK_RV Load() {
  const char* path = std::getenv("CONGVAN_PKCS11_SHIM_MODULE");
  void* library = dlopen(path != nullptr ? path : "/usr/lib/softhsm/libsofthsm2.so", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) return CKR_GENERAL_ERROR;
  auto get = reinterpret_cast<CK_C_GetFunctionList>(dlsym(library, "C_GetFunctionList"));
  if (get == nullptr || get(&real) != CKR_OK || real == nullptr) return CKR_GENERAL_ERROR;
  shim = *real;
  shim.C_GetSlotList = &GetSlotList;
  shim.C_GetTokenInfo = &Forward<&CK_FUNCTION_LIST::C_GetTokenInfo, CKR_TOKEN_NOT_PRESENT>;
  shim.C_GetMechanismList = &Forward<&CK_FUNCTION_LIST::C_GetMechanismList, CKR_TOKEN_NOT_PRESENT>;
  shim.C_GetMechanismInfo = &Forward<&CK_FUNCTION_LIST::C_GetMechanismInfo, CKR_TOKEN_NOT_PRESENT>;
  shim.C_OpenSession = &Forward<&CK_FUNCTION_LIST::C_OpenSession, CKR_TOKEN_NOT_PRESENT>;
  shim.C_GetSessionInfo = &Forward<&CK_FUNCTION_LIST::C_GetSessionInfo, CKR_DEVICE_REMOVED>;
  shim.C_Login = &Forward<&CK_FUNCTION_LIST::C_Login, CKR_DEVICE_REMOVED>;
  shim.C_FindObjectsInit = &Forward<&CK_FUNCTION_LIST::C_FindObjectsInit, CKR_DEVICE_REMOVED>;
  shim.C_FindObjects = &Forward<&CK_FUNCTION_LIST::C_FindObjects, CKR_DEVICE_REMOVED>;
  shim.C_FindObjectsFinal = &Forward<&CK_FUNCTION_LIST::C_FindObjectsFinal, CKR_DEVICE_REMOVED>;
  shim.C_GetAttributeValue = &Forward<&CK_FUNCTION_LIST::C_GetAttributeValue, CKR_DEVICE_REMOVED>;
  shim.C_SignInit = &Forward<&CK_FUNCTION_LIST::C_SignInit, CKR_DEVICE_REMOVED>;
  shim.C_Sign = &Forward<&CK_FUNCTION_LIST::C_Sign, CKR_DEVICE_REMOVED>;
  shim.C_SignUpdate = &Forward<&CK_FUNCTION_LIST::C_SignUpdate, CKR_DEVICE_REMOVED>;
  shim.C_SignFinal = &Forward<&CK_FUNCTION_LIST::C_SignFinal, CKR_DEVICE_REMOVED>;
  return CKR_OK;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
  static const CK_RV loaded = Load();
  if (loaded != CKR_OK) return loaded;
  *list = &shim;
  return CKR_OK;
}
