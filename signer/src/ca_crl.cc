// CRLs for the dev CA (ca.h): v2, crlNumber, authorityKeyIdentifier, one
// entry per revoked serial with its reason code.
#include <openssl/pem.h>

#include <array>
#include <utility>

#include "ca_internal.h"
#include "congvan/signer/ca.h"
#include "congvan/signer/status_macros.h"
#include "openssl_util.h"

namespace congvan::signer {
namespace {

using internal::OpenSslError;
using AuthorityKeyIdPtr = internal::Owned<AUTHORITY_KEYID, AUTHORITY_KEYID_free>;
using RevokedPtr = internal::Owned<X509_REVOKED, X509_REVOKED_free>;
using EnumeratedPtr = internal::Owned<ASN1_ENUMERATED, ASN1_ENUMERATED_free>;

// The RFC 5280 5.3.1 CRLReason values that ca.h accepts (removeFromCRL is
// for delta CRLs, privilegeWithdrawn and aACompromise for attribute
// certificates: congvan makes neither).
constexpr std::array<std::pair<std::string_view, int>, 7> kReasons = {{
    {"unspecified", 0},
    {"keyCompromise", 1},
    {"cACompromise", 2},
    {"affiliationChanged", 3},
    {"superseded", 4},
    {"cessationOfOperation", 5},
    {"certificateHold", 6},
}};

absl::StatusOr<int> ReasonCode(const std::string& name) {
  for (const auto& [reason, code] : kReasons) {
    if (reason == name) return code;
  }
  return absl::InvalidArgumentError("unknown revocation reason '" + name +
                                    "' (use an RFC 5280 name such as keyCompromise or superseded)");
}

absl::Status AddRevoked(X509_CRL* crl, const Revocation& revocation) {
  ASSIGN_OR_RETURN(int reason, ReasonCode(revocation.reason));
  BIGNUM* bn = nullptr;
  if (revocation.serial_hex.empty() || BN_hex2bn(&bn, revocation.serial_hex.c_str()) !=
                                           static_cast<int>(revocation.serial_hex.size())) {
    BN_free(bn);
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("serial '" + revocation.serial_hex + "' is not a hex number");
  }
  internal::BignumPtr serial_bn(bn);
  internal::Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(serial_bn.get(), nullptr));
  internal::Asn1TimePtr when = internal::ToAsn1Time(revocation.revoked_at);
  RevokedPtr entry(X509_REVOKED_new());
  if (serial == nullptr || when == nullptr || entry == nullptr ||
      X509_REVOKED_set_serialNumber(entry.get(), serial.get()) != 1 ||
      X509_REVOKED_set_revocationDate(entry.get(), when.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot build a CRL entry");
  }
  // RFC 5280 5.3.1: the reason code "unspecified" SHOULD be absent.
  if (reason != 0) {
    EnumeratedPtr code(ASN1_ENUMERATED_new());
    if (code == nullptr || ASN1_ENUMERATED_set(code.get(), reason) != 1 ||
        X509_REVOKED_add1_ext_i2d(entry.get(), NID_crl_reason, code.get(), 0, 0) != 1) {
      return OpenSslError(absl::StatusCode::kInternal, "cannot add a CRL reason code");
    }
  }
  if (X509_CRL_add0_revoked(crl, entry.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot add a CRL entry");
  }
  entry.release();  // now owned by the CRL
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> CertificateAuthority::MakeCrl(const std::vector<Revocation>& revoked,
                                                          int64_t crl_number, absl::Time this_update,
                                                          absl::Time next_update) {
  if (crl_number < 0) return absl::InvalidArgumentError("a CRL number cannot be negative");
  if (next_update <= this_update) {
    return absl::InvalidArgumentError("a CRL's next update must be later than its this update");
  }
  X509* issuer = certificate_.native();
  internal::X509CrlPtr crl(X509_CRL_new());
  internal::Asn1TimePtr last = internal::ToAsn1Time(this_update);
  internal::Asn1TimePtr next = internal::ToAsn1Time(next_update);
  if (crl == nullptr || last == nullptr || next == nullptr ||
      X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot build the CRL");
  }
  for (const Revocation& r : revoked) RETURN_IF_ERROR(AddRevoked(crl.get(), r));

  internal::Asn1IntegerPtr number(ASN1_INTEGER_new());
  AuthorityKeyIdPtr aki(AUTHORITY_KEYID_new());
  const std::string key_id = internal::KeyIdentifier(issuer);
  if (number == nullptr || aki == nullptr || ASN1_INTEGER_set_int64(number.get(), crl_number) != 1 ||
      (aki->keyid = ASN1_OCTET_STRING_new()) == nullptr ||
      ASN1_OCTET_STRING_set(aki->keyid, reinterpret_cast<const unsigned char*>(key_id.data()),
                            static_cast<int>(key_id.size())) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, X509V3_ADD_DEFAULT) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_authority_key_identifier, aki.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot add the CRL extensions");
  }
  if (X509_CRL_sort(crl.get()) != 1 ||
      X509_CRL_sign(crl.get(), static_cast<EVP_PKEY*>(key_.get()), EVP_sha256()) <= 0) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot sign the CRL");
  }
  internal::BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot encode the CRL");
  }
  return internal::BioContents(bio.get());
}

}  // namespace congvan::signer
