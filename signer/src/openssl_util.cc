#include "openssl_util.h"

#include <openssl/err.h>

#include <ctime>

namespace congvan::signer::internal {

absl::Status OpenSslError(absl::StatusCode code, std::string_view what) {
  std::string message(what);
  std::string reasons;
  unsigned long err;
  while ((err = ERR_get_error()) != 0) {
    const char* reason = ERR_reason_error_string(err);
    if (reason == nullptr) continue;
    if (!reasons.empty()) reasons += "; ";
    reasons += reason;
  }
  if (!reasons.empty()) message += ": " + reasons;
  return absl::Status(code, message);
}

void ClearOpenSslErrors() { ERR_clear_error(); }

BioPtr MemoryBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

absl::Time FromAsn1Time(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return absl::InfinitePast();
  return absl::FromTimeT(timegm(&tm));
}

Asn1TimePtr ToAsn1Time(absl::Time t) {
  // ASN1_TIME_set picks UTCTime for 1950-2049 and GeneralizedTime otherwise,
  // as RFC 5280 requires.
  return Asn1TimePtr(ASN1_TIME_set(nullptr, absl::ToTimeT(t)));
}

EvpPkeyPtr PublicKeyFromDer(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  return EvpPkeyPtr(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
}

std::string PublicKeyToDer(const EVP_PKEY* key) { return ToDer<EVP_PKEY, i2d_PUBKEY>(key); }

}  // namespace congvan::signer::internal
