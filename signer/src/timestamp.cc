// RFC 3161 on the client side: requests, responses, and the offline
// verification of tokens. The authority is in timestamp_authority.cc.
#include "congvan/signer/timestamp.h"

#include <openssl/cms.h>
#include <openssl/ess.h>
#include <openssl/ts.h>

#include "congvan/signer/status_macros.h"
#include "congvan/signer/verify_error.h"
#include "openssl_util.h"

namespace congvan::signer {
namespace {

using internal::Asn1IntegerPtr;
using internal::CmsPtr;
using internal::X509StackPtr;

using TsReqPtr = internal::Owned<TS_REQ, TS_REQ_free>;
using TsRespPtr = internal::Owned<TS_RESP, TS_RESP_free>;
using TsMsgImprintPtr = internal::Owned<TS_MSG_IMPRINT, TS_MSG_IMPRINT_free>;
using TsTstInfoPtr = internal::Owned<TS_TST_INFO, TS_TST_INFO_free>;
using X509AlgorPtr = internal::Owned<X509_ALGOR, X509_ALGOR_free>;
using EssSigningCertPtr = internal::Owned<ESS_SIGNING_CERT, ESS_SIGNING_CERT_free>;
using EssSigningCertV2Ptr = internal::Owned<ESS_SIGNING_CERT_V2, ESS_SIGNING_CERT_V2_free>;

constexpr size_t kSha256Size = 32;

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
const unsigned char* End(std::string_view s) { return Bytes(s) + s.size(); }

absl::Status Malformed(const std::string& what) {
  internal::ClearOpenSslErrors();
  return VerifyError(absl::StatusCode::kInvalidArgument, VerifyFailure::kMalformed,
                     "the timestamp token cannot be read: " + what);
}

Asn1IntegerPtr NonceInteger(uint64_t nonce) {
  Asn1IntegerPtr value(ASN1_INTEGER_new());
  if (value && ASN1_INTEGER_set_uint64(value.get(), nonce) != 1) value.reset();
  return value;
}

std::string StatusName(long status) {
  switch (status) {
    case TS_STATUS_GRANTED: return "granted";
    case TS_STATUS_GRANTED_WITH_MODS: return "grantedWithMods";
    case TS_STATUS_REJECTION: return "rejection";
    case TS_STATUS_WAITING: return "waiting";
    case TS_STATUS_REVOCATION_WARNING: return "revocationWarning";
    case TS_STATUS_REVOCATION_NOTIFICATION: return "revocationNotification";
  }
  return "status " + std::to_string(status);
}

// "badAlg, badDataFormat" from a PKIFailureInfo.
std::string FailureNames(const ASN1_BIT_STRING* failure) {
  static constexpr std::pair<int, const char*> kNames[] = {
      {TS_INFO_BAD_ALG, "badAlg"},
      {TS_INFO_BAD_REQUEST, "badRequest"},
      {TS_INFO_BAD_DATA_FORMAT, "badDataFormat"},
      {TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable"},
      {TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy"},
      {TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension"},
      {TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable"},
      {TS_INFO_SYSTEM_FAILURE, "systemFailure"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (failure == nullptr || ASN1_BIT_STRING_get_bit(failure, bit) != 1) continue;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// The TSA's refusal as one line: "rejection (badAlg): <its text>".
std::string DescribeStatus(const TS_STATUS_INFO* info) {
  std::string out = StatusName(ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(info)));
  const std::string failure = FailureNames(TS_STATUS_INFO_get0_failure_info(info));
  if (!failure.empty()) out += " (" + failure + ")";
  const STACK_OF(ASN1_UTF8STRING)* text = TS_STATUS_INFO_get0_text(info);
  for (int i = 0; i < sk_ASN1_UTF8STRING_num(text); ++i) {
    const ASN1_UTF8STRING* s = sk_ASN1_UTF8STRING_value(text, i);
    out += i == 0 ? ": " : " ";
    out.append(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
  }
  return out;
}

// The imprint of `tst` is SHA-256 and equal to `sha256`.
absl::Status CheckImprint(TS_TST_INFO* tst, std::string_view sha256) {
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(tst);
  const ASN1_OBJECT* algorithm = nullptr;
  X509_ALGOR_get0(&algorithm, nullptr, nullptr, TS_MSG_IMPRINT_get_algo(imprint));
  if (OBJ_obj2nid(algorithm) != NID_sha256) {
    char name[80] = "";
    OBJ_obj2txt(name, sizeof name, algorithm, 0);
    return VerifyError(absl::StatusCode::kUnauthenticated, VerifyFailure::kContentMismatch,
                       "the timestamp is over a " + std::string(name) + " digest, not a SHA-256 digest");
  }
  const ASN1_OCTET_STRING* digest = TS_MSG_IMPRINT_get_msg(imprint);
  if (std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(digest)),
                       static_cast<size_t>(ASN1_STRING_length(digest))) != sha256) {
    return VerifyError(absl::StatusCode::kUnauthenticated, VerifyFailure::kContentMismatch,
                       "the timestamp is over another digest than the one given (the data changed, or it is "
                       "another data's timestamp)");
  }
  return absl::OkStatus();
}

struct ParsedToken {
  CmsPtr cms;
  TsTstInfoPtr tst;
};

// A TimeStampToken: a CMS SignedData whose encapsulated content is a TSTInfo.
absl::StatusOr<ParsedToken> ParseToken(std::string_view der) {
  const unsigned char* p = Bytes(der);
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  if (!cms || p != End(der)) return Malformed("it is not a DER CMS ContentInfo");
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) return Malformed("it is not a SignedData");
  if (OBJ_obj2nid(CMS_get0_eContentType(cms.get())) != NID_id_smime_ct_TSTInfo) {
    return Malformed("its content is not a TSTInfo");
  }
  ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
  if (content == nullptr || *content == nullptr) return Malformed("it has no TSTInfo");
  const unsigned char* q = ASN1_STRING_get0_data(*content);
  const unsigned char* end = q + ASN1_STRING_length(*content);
  TsTstInfoPtr tst(d2i_TS_TST_INFO(nullptr, &q, end - q));
  if (!tst || q != end) return Malformed("its TSTInfo cannot be decoded");
  return ParsedToken{std::move(cms), std::move(tst)};
}

absl::StatusOr<absl::Time> GenTime(TS_TST_INFO* tst) {
  const absl::Time t = internal::FromAsn1Time(TS_TST_INFO_get_time(tst));
  if (t == absl::InfinitePast()) return Malformed("its genTime is not a valid time");
  return t;
}

// The single value of signed attribute `nid`, a SEQUENCE, as its DER; empty
// when the attribute is absent.
absl::StatusOr<std::string> SignedAttributeSequence(CMS_SignerInfo* si, int nid) {
  const int index = CMS_signed_get_attr_by_NID(si, nid, -1);
  if (index < 0) return std::string();
  X509_ATTRIBUTE* attr = CMS_signed_get_attr(si, index);
  const ASN1_TYPE* value = X509_ATTRIBUTE_count(attr) == 1 ? X509_ATTRIBUTE_get0_type(attr, 0) : nullptr;
  if (value == nullptr || value->type != V_ASN1_SEQUENCE) {
    return Malformed(std::string(OBJ_nid2sn(nid)) + " is not a single SEQUENCE");
  }
  return std::string(reinterpret_cast<const char*>(value->value.sequence->data),
                     static_cast<size_t>(value->value.sequence->length));
}

// The ESS signingCertificate (RFC 2634) or signingCertificateV2 (RFC 5816)
// attribute, which RFC 3161 requires, names `chain` (the validated chain,
// signer first): it binds the signature to the TSA's certificate.
absl::Status CheckSigningCertificate(CMS_SignerInfo* si, const std::vector<Certificate>& chain) {
  ASSIGN_OR_RETURN(std::string v1_der, SignedAttributeSequence(si, NID_id_smime_aa_signingCertificate));
  ASSIGN_OR_RETURN(std::string v2_der, SignedAttributeSequence(si, NID_id_smime_aa_signingCertificateV2));
  if (v1_der.empty() && v2_der.empty()) {
    return VerifyError(absl::StatusCode::kUnauthenticated, VerifyFailure::kBadSignature,
                       "the timestamp token has no ESS signingCertificate(V2) attribute naming its TSA");
  }
  EssSigningCertPtr v1;
  EssSigningCertV2Ptr v2;
  if (!v1_der.empty()) {
    const unsigned char* p = Bytes(v1_der);
    v1.reset(d2i_ESS_SIGNING_CERT(nullptr, &p, static_cast<long>(v1_der.size())));
    if (!v1) return Malformed("its signingCertificate attribute cannot be decoded");
  }
  if (!v2_der.empty()) {
    const unsigned char* p = Bytes(v2_der);
    v2.reset(d2i_ESS_SIGNING_CERT_V2(nullptr, &p, static_cast<long>(v2_der.size())));
    if (!v2) return Malformed("its signingCertificateV2 attribute cannot be decoded");
  }
  X509StackPtr certs(sk_X509_new_null());
  for (const Certificate& cert : chain) {
    X509_up_ref(cert.native());
    sk_X509_push(certs.get(), cert.native());
  }
  if (OSSL_ESS_check_signing_certs(v1.get(), v2.get(), certs.get(), 1) != 1) {
    internal::ClearOpenSslErrors();
    return VerifyError(absl::StatusCode::kUnauthenticated, VerifyFailure::kBadSignature,
                       "the timestamp token's signingCertificate attribute names another certificate than its "
                       "signer's");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> MakeTimestampRequest(std::string_view sha256, uint64_t nonce) {
  if (sha256.size() != kSha256Size) return absl::InvalidArgumentError("a SHA-256 digest has 32 bytes");
  X509AlgorPtr algorithm(X509_ALGOR_new());
  TsMsgImprintPtr imprint(TS_MSG_IMPRINT_new());
  TsReqPtr request(TS_REQ_new());
  Asn1IntegerPtr nonce_value = NonceInteger(nonce);
  // The parameters NULL, as `openssl ts -query` writes them.
  if (!algorithm || !imprint || !request || !nonce_value ||
      X509_ALGOR_set0(algorithm.get(), OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr) != 1 ||
      TS_MSG_IMPRINT_set_algo(imprint.get(), algorithm.get()) != 1 ||
      TS_MSG_IMPRINT_set_msg(imprint.get(), const_cast<unsigned char*>(Bytes(sha256)),
                             static_cast<int>(sha256.size())) != 1 ||
      TS_REQ_set_version(request.get(), 1) != 1 || TS_REQ_set_msg_imprint(request.get(), imprint.get()) != 1 ||
      TS_REQ_set_nonce(request.get(), nonce_value.get()) != 1 || TS_REQ_set_cert_req(request.get(), 1) != 1) {
    return internal::OpenSslError(absl::StatusCode::kInternal, "cannot build a timestamp request");
  }
  std::string der = internal::ToDer<TS_REQ, i2d_TS_REQ>(request.get());
  if (der.empty()) return internal::OpenSslError(absl::StatusCode::kInternal, "cannot encode a timestamp request");
  return der;
}

absl::StatusOr<std::string> TokenFromResponse(std::string_view response_der, std::string_view sha256,
                                              uint64_t nonce) {
  if (sha256.size() != kSha256Size) return absl::InvalidArgumentError("a SHA-256 digest has 32 bytes");
  const unsigned char* p = Bytes(response_der);
  // d2i_TS_RESP also decodes the token's TSTInfo, and refuses a granted
  // response without a token or a rejection with one.
  TsRespPtr response(d2i_TS_RESP(nullptr, &p, static_cast<long>(response_der.size())));
  if (!response || p != End(response_der)) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("the TSA's answer is not a DER TimeStampResp");
  }
  const TS_STATUS_INFO* info = TS_RESP_get_status_info(response.get());
  const long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(info));
  if (status != TS_STATUS_GRANTED && status != TS_STATUS_GRANTED_WITH_MODS) {
    return absl::FailedPreconditionError("the TSA did not grant the timestamp: " + DescribeStatus(info));
  }
  TS_TST_INFO* tst = TS_RESP_get_tst_info(response.get());
  PKCS7* token = TS_RESP_get_token(response.get());
  if (tst == nullptr || token == nullptr) return absl::InvalidArgumentError("the TSA's answer carries no token");
  RETURN_IF_ERROR(CheckImprint(tst, sha256));
  Asn1IntegerPtr expected = NonceInteger(nonce);
  const ASN1_INTEGER* got = TS_TST_INFO_get_nonce(tst);
  if (!expected) return internal::OpenSslError(absl::StatusCode::kInternal, "out of memory");
  if (got == nullptr || ASN1_INTEGER_cmp(got, expected.get()) != 0) {
    return absl::UnauthenticatedError(
        "the timestamp token carries another nonce than the request's: a replayed or misrouted answer");
  }
  std::string der = internal::ToDer<PKCS7, i2d_PKCS7>(token);
  if (der.empty()) return internal::OpenSslError(absl::StatusCode::kInternal, "cannot encode the timestamp token");
  return der;
}

absl::StatusOr<VerifiedTimestamp> VerifyTimestampToken(std::string_view token_der, std::string_view sha256,
                                                       const TrustStore& trust) {
  if (sha256.size() != kSha256Size) {
    return VerifyError(absl::StatusCode::kInvalidArgument, VerifyFailure::kMalformed, "a SHA-256 digest has 32 bytes");
  }
  ASSIGN_OR_RETURN(ParsedToken token, ParseToken(token_der));
  CMS_ContentInfo* cms = token.cms.get();
  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms);
  if (sk_CMS_SignerInfo_num(signers) != 1) {
    return Malformed("it has " + std::to_string(sk_CMS_SignerInfo_num(signers)) +
                     " signers; a timestamp token has exactly one");
  }
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(signers, 0);
  X509StackPtr carried(CMS_get1_certs(cms));  // null when the token carries none
  X509* signer = nullptr;
  std::vector<Certificate> untrusted;
  for (int i = 0; carried && i < sk_X509_num(carried.get()); ++i) {
    X509* cert = sk_X509_value(carried.get(), i);
    if (signer == nullptr && CMS_SignerInfo_cert_cmp(si, cert) == 0) signer = cert;
    untrusted.push_back(Certificate::FromNative(cert));
  }
  if (signer == nullptr) {
    return VerifyError(absl::StatusCode::kUnauthenticated, VerifyFailure::kUntrusted,
                       "the timestamp token does not carry its TSA's certificate (request tokens with certReq)");
  }
  // The signature over the signed attributes, and their messageDigest over
  // the TSTInfo; the certificate is validated below, at genTime.
  if (CMS_verify(cms, carried.get(), nullptr, nullptr, nullptr, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) != 1) {
    internal::ClearOpenSslErrors();
    return VerifyError(absl::StatusCode::kUnauthenticated, VerifyFailure::kBadSignature,
                       "the timestamp token's signature does not verify (the token was altered)");
  }
  RETURN_IF_ERROR(CheckImprint(token.tst.get(), sha256));
  ASSIGN_OR_RETURN(absl::Time gen_time, GenTime(token.tst.get()));
  const Certificate tsa = Certificate::FromNative(signer);
  auto chain = trust.Validate(tsa, untrusted, KeyPurpose::kTimestamping, gen_time);
  if (!chain.ok()) return WithContext(chain.status(), "the timestamp's TSA certificate");
  RETURN_IF_ERROR(CheckSigningCertificate(si, chain->chain));

  internal::BignumPtr serial(ASN1_INTEGER_to_BN(TS_TST_INFO_get_serial(token.tst.get()), nullptr));
  internal::OpenSslString serial_hex(serial ? BN_bn2hex(serial.get()) : nullptr);
  char policy[128] = "";
  OBJ_obj2txt(policy, sizeof policy, TS_TST_INFO_get_policy_id(token.tst.get()), /*no_name=*/1);
  return VerifiedTimestamp{gen_time, tsa, std::move(chain->chain), serial_hex ? serial_hex.get() : "", policy,
                           chain->revocation_checked};
}

absl::StatusOr<absl::Time> TimestampTokenTime(std::string_view token_der) {
  ASSIGN_OR_RETURN(ParsedToken token, ParseToken(token_der));
  return GenTime(token.tst.get());
}

}  // namespace congvan::signer
