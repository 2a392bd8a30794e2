// Private helpers for OpenSSL inside signer: RAII owners for its handles and
// the conversion of its error queue into absl::Status.
#ifndef CONGVAN_SIGNER_SRC_OPENSSL_UTIL_H_
#define CONGVAN_SIGNER_SRC_OPENSSL_UTIL_H_

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace congvan::signer::internal {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

inline void FreeBio(BIO* b) { BIO_free_all(b); }
inline void FreeX509Stack(STACK_OF(X509)* s) { sk_X509_pop_free(s, X509_free); }
inline void FreeCrlStack(STACK_OF(X509_CRL)* s) { sk_X509_CRL_pop_free(s, X509_CRL_free); }
inline void FreeOpenSslString(char* s) { OPENSSL_free(s); }
inline void FreeUchar(unsigned char* s) { OPENSSL_free(s); }

using BioPtr = Owned<BIO, FreeBio>;
using X509Ptr = Owned<X509, X509_free>;
using X509CrlPtr = Owned<X509_CRL, X509_CRL_free>;
using EvpPkeyPtr = Owned<EVP_PKEY, EVP_PKEY_free>;
using EvpPkeyCtxPtr = Owned<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using EvpMdCtxPtr = Owned<EVP_MD_CTX, EVP_MD_CTX_free>;
using CmsPtr = Owned<CMS_ContentInfo, CMS_ContentInfo_free>;
using X509StorePtr = Owned<X509_STORE, X509_STORE_free>;
using X509StoreCtxPtr = Owned<X509_STORE_CTX, X509_STORE_CTX_free>;
using X509StackPtr = Owned<STACK_OF(X509), FreeX509Stack>;
using CrlStackPtr = Owned<STACK_OF(X509_CRL), FreeCrlStack>;
using Asn1TimePtr = Owned<ASN1_TIME, ASN1_TIME_free>;
using Asn1IntegerPtr = Owned<ASN1_INTEGER, ASN1_INTEGER_free>;
using BignumPtr = Owned<BIGNUM, BN_free>;
using Pkcs12Ptr = Owned<PKCS12, PKCS12_free>;
using OpenSslString = Owned<char, FreeOpenSslString>;
using OpenSslBytes = Owned<unsigned char, FreeUchar>;

// Drains OpenSSL's error queue into one status with `code`: "<what>: <the
// OpenSSL reasons>". Clears the queue.
absl::Status OpenSslError(absl::StatusCode code, std::string_view what);
// Clears OpenSSL's error queue (after an expected failure).
void ClearOpenSslErrors();

// A read-only memory BIO over `data` (which must outlive it).
BioPtr MemoryBio(std::string_view data);
// Everything written to a memory BIO.
std::string BioContents(BIO* bio);

// ASN1_TIME <-> absl::Time.
absl::Time FromAsn1Time(const ASN1_TIME* t);
Asn1TimePtr ToAsn1Time(absl::Time t);

// DER encoding of an object with an i2d function.
template <typename T, int (*I2d)(const T*, unsigned char**)>
std::string ToDer(const T* obj) {
  int len = I2d(obj, nullptr);
  if (len <= 0) return {};
  std::string out(static_cast<size_t>(len), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(out.data());
  I2d(obj, &p);
  return out;
}

// EVP_PKEY from a DER SubjectPublicKeyInfo.
EvpPkeyPtr PublicKeyFromDer(std::string_view der);
// DER SubjectPublicKeyInfo of a key.
std::string PublicKeyToDer(const EVP_PKEY* key);

}  // namespace congvan::signer::internal

#endif  // CONGVAN_SIGNER_SRC_OPENSSL_UTIL_H_
