#include "congvan/signer/cms.h"

#include <openssl/ess.h>

#include <algorithm>
#include <cstring>

#include "congvan/signer/status_macros.h"
#include "congvan/signer/verify_error.h"
#include "cms_certificates.h"
#include "openssl_util.h"

namespace congvan::signer {
namespace {

using internal::CmsPtr;
using internal::X509StackPtr;

constexpr size_t kSha256Size = 32;

// DER length octets.
std::string DerLength(size_t len) {
  if (len < 0x80) return std::string(1, static_cast<char>(len));
  std::string bytes;
  for (size_t l = len; l > 0; l >>= 8) bytes.insert(bytes.begin(), static_cast<char>(l & 0xff));
  return std::string(1, static_cast<char>(0x80 | bytes.size())) + bytes;
}

// The DER encoding of the signed attributes as RFC 5652 §5.4 says they are
// signed: an explicit SET OF, elements in DER order (sorted by encoding).
// OpenSSL writes the [0] IMPLICIT field in that same order.
std::string SignedAttributesDer(CMS_SignerInfo* si) {
  std::vector<std::string> encoded;
  for (int i = 0; i < CMS_signed_get_attr_count(si); ++i) {
    encoded.push_back(internal::ToDer<X509_ATTRIBUTE, i2d_X509_ATTRIBUTE>(CMS_signed_get_attr(si, i)));
  }
  std::sort(encoded.begin(), encoded.end(), [](const std::string& a, const std::string& b) {
    int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
    return c != 0 ? c < 0 : a.size() < b.size();
  });
  std::string content;
  for (const std::string& e : encoded) content += e;
  return "\x31" + DerLength(content.size()) + content;
}

bool VerifyRaw(EVP_PKEY* key, std::string_view data, std::string_view signature) {
  internal::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  bool ok = EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  internal::ClearOpenSslErrors();
  return ok;
}

absl::Status Malformed(const std::string& what) {
  internal::ClearOpenSslErrors();
  return VerifyError(absl::StatusCode::kInvalidArgument, VerifyFailure::kMalformed,
                     "the signature is not a valid detached CMS signature: " + what);
}

// The single ASN1_TYPE value of signed attribute `nid`, or null.
const ASN1_TYPE* SignedAttributeValue(CMS_SignerInfo* si, int nid) {
  int index = CMS_signed_get_attr_by_NID(si, nid, -1);
  if (index < 0) return nullptr;
  X509_ATTRIBUTE* attr = CMS_signed_get_attr(si, index);
  if (X509_ATTRIBUTE_count(attr) != 1) return nullptr;
  return X509_ATTRIBUTE_get0_type(attr, 0);
}

// Checks that the ESS signingCertificateV2 attribute, when present, names
// `signer`. Returns whether it is present.
absl::StatusOr<bool> CheckSigningCertificate(CMS_SignerInfo* si, X509* signer) {
  if (CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1) < 0) return false;
  const ASN1_TYPE* value = SignedAttributeValue(si, NID_id_smime_aa_signingCertificateV2);
  if (value == nullptr || value->type != V_ASN1_SEQUENCE) {
    return Malformed("its signingCertificateV2 attribute is not a single value");
  }
  const unsigned char* p = value->value.sequence->data;
  ESS_SIGNING_CERT_V2* ss = d2i_ESS_SIGNING_CERT_V2(nullptr, &p, value->value.sequence->length);
  if (ss == nullptr) return Malformed("its signingCertificateV2 attribute cannot be read");
  X509StackPtr chain(sk_X509_new_null());
  X509_up_ref(signer);
  sk_X509_push(chain.get(), signer);
  int ok = OSSL_ESS_check_signing_certs(nullptr, ss, chain.get(), 1);
  ESS_SIGNING_CERT_V2_free(ss);
  if (ok != 1) {
    internal::ClearOpenSslErrors();
    return VerifyError(absl::StatusCode::kUnauthenticated, VerifyFailure::kBadSignature,
                       "the signingCertificateV2 attribute names another certificate than the signer's");
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> SignDigest(std::string_view content_sha256, const SignRequest& request) {
  if (content_sha256.size() != kSha256Size) return absl::InvalidArgumentError("a SHA-256 digest has 32 bytes");
  if (request.key == nullptr) return absl::InvalidArgumentError("no signing key");
  X509* cert = request.certificate.native();
  EVP_PKEY* public_key = X509_get0_pubkey(cert);

  // The signer is set up with the certificate's public key: the private key
  // may live on a token, so the signature value is made below through the
  // KeyBackend and set into the SignerInfo.
  const unsigned int flags = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY;
  CmsPtr cms(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags));
  if (!cms) return internal::OpenSslError(absl::StatusCode::kInternal, "cannot start a CMS signature");
  CMS_SignerInfo* si = CMS_add1_signer(cms.get(), cert, public_key, EVP_sha256(), flags | CMS_CADES | CMS_NOSMIMECAP);
  if (si == nullptr) return internal::OpenSslError(absl::StatusCode::kInternal, "cannot add the CMS signer");
  for (const Certificate& extra : request.chain) {
    if (CMS_add1_cert(cms.get(), extra.native()) != 1) {
      return internal::OpenSslError(absl::StatusCode::kInternal, "cannot add a chain certificate");
    }
  }
  internal::Asn1TimePtr signing_time = internal::ToAsn1Time(request.signing_time);
  if (!signing_time ||
      CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT, OBJ_nid2obj(NID_pkcs7_data), -1) != 1 ||
      CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, signing_time->type, signing_time.get(), -1) != 1 ||
      CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, content_sha256.data(),
                                  static_cast<int>(content_sha256.size())) != 1) {
    return internal::OpenSslError(absl::StatusCode::kInternal, "cannot add the signed attributes");
  }

  const std::string to_sign = SignedAttributesDer(si);
  ASSIGN_OR_RETURN(std::string signature, request.key->Sign(to_sign));
  // A faulty token or key must not produce a signature that fails later in
  // front of an auditor: check it now. A signature that verifies under the
  // certificate's key also proves that the key is the certificate's, which
  // costs OpenSSL 3.0 more to compare directly (it decodes the key again).
  if (!VerifyRaw(public_key, to_sign, signature)) {
    RETURN_IF_ERROR(CheckKeyMatchesCertificate(*request.key, request.certificate));
    return absl::InternalError("the " + request.key->Describe() + " produced a signature that does not verify");
  }
  if (ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), signature.data(), static_cast<int>(signature.size())) != 1) {
    return internal::OpenSslError(absl::StatusCode::kInternal, "cannot store the signature value");
  }
  std::string der = internal::ToDer<CMS_ContentInfo, i2d_CMS_ContentInfo>(cms.get());
  if (der.empty()) return internal::OpenSslError(absl::StatusCode::kInternal, "cannot encode the CMS signature");
  return der;
}

absl::StatusOr<std::string> SignDetached(std::string_view content, const SignRequest& request) {
  return SignDigest(Sha256(content), request);
}

absl::StatusOr<std::vector<Certificate>> CertificatesInCms(std::string_view cms_der) {
  const auto* p = reinterpret_cast<const unsigned char*>(cms_der.data());
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(cms_der.size())));
  if (!cms || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("not a DER-encoded CMS SignedData");
  }
  X509StackPtr certs(CMS_get1_certs(cms.get()));
  std::vector<Certificate> out;
  for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) out.push_back(Certificate::FromNative(sk_X509_value(certs.get(), i)));
  return out;
}

absl::StatusOr<VerifiedSignature> VerifyDigest(std::string_view content_sha256, std::string_view cms_der,
                                               const TrustStore& trust, absl::Time at) {
  if (content_sha256.size() != kSha256Size) return absl::InvalidArgumentError("a SHA-256 digest has 32 bytes");
  // The certificates, when the input has the usual shape, come from the
  // process's cache instead of OpenSSL's parse (cms_certificates.h).
  const std::optional<internal::SplitSignedData> split = internal::SplitCertificates(cms_der);
  const std::string_view parsed = split.has_value() ? std::string_view(split->without_certificates) : cms_der;
  const auto* p = reinterpret_cast<const unsigned char*>(parsed.data());
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(parsed.size())));
  if (!cms) return Malformed("it is not DER-encoded CMS (truncated or garbage input)");
  if (p != reinterpret_cast<const unsigned char*>(parsed.data()) + parsed.size()) {
    return Malformed("there are extra bytes after the CMS structure");
  }
  if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) return Malformed("it is not SignedData");
  ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
  if (content == nullptr || *content != nullptr) return Malformed("it is not detached (it embeds its content)");
  if (OBJ_obj2nid(CMS_get0_eContentType(cms.get())) != NID_pkcs7_data) return Malformed("its content type is not id-data");

  STACK_OF(CMS_SignerInfo)* signers = CMS_get0_SignerInfos(cms.get());
  if (sk_CMS_SignerInfo_num(signers) != 1) return Malformed("it must have exactly one signer");
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(signers, 0);

  std::vector<Certificate> included;
  if (split.has_value()) {
    for (std::string_view der : split->certificates) {
      absl::StatusOr<Certificate> cert = internal::CachedCertificate(der);
      // OpenSSL's own parse of the whole input would have failed here.
      if (!cert.ok()) return Malformed("it is not DER-encoded CMS (truncated or garbage input)");
      included.push_back(*std::move(cert));
    }
  } else {
    X509StackPtr certs(CMS_get1_certs(cms.get()));
    for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) {
      included.push_back(Certificate::FromNative(sk_X509_value(certs.get(), i)));
    }
  }
  X509* signer = nullptr;
  std::vector<Certificate> others;
  for (const Certificate& cert : included) {
    if (signer == nullptr && CMS_SignerInfo_cert_cmp(si, cert.native()) == 0) {
      signer = cert.native();
    } else {
      others.push_back(cert);
    }
  }
  if (signer == nullptr) return Malformed("the signer's certificate is not included");
  CMS_SignerInfo_set1_signer_cert(si, signer);

  X509_ALGOR* digest_alg = nullptr;
  CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &digest_alg, nullptr);
  const ASN1_OBJECT* digest_oid = nullptr;
  X509_ALGOR_get0(&digest_oid, nullptr, nullptr, digest_alg);
  if (OBJ_obj2nid(digest_oid) != NID_sha256) return Malformed("its digest algorithm is not SHA-256");

  if (CMS_signed_get_attr_count(si) <= 0) return Malformed("it has no signed attributes");
  const ASN1_TYPE* content_type = SignedAttributeValue(si, NID_pkcs9_contentType);
  if (content_type == nullptr || content_type->type != V_ASN1_OBJECT ||
      OBJ_obj2nid(content_type->value.object) != NID_pkcs7_data) {
    return Malformed("its contentType attribute is missing or not id-data");
  }
  const ASN1_TYPE* signing_time = SignedAttributeValue(si, NID_pkcs9_signingTime);
  if (signing_time == nullptr ||
      (signing_time->type != V_ASN1_UTCTIME && signing_time->type != V_ASN1_GENERALIZEDTIME)) {
    return Malformed("its signingTime attribute is missing");
  }
  const ASN1_TYPE* digest = SignedAttributeValue(si, NID_pkcs9_messageDigest);
  if (digest == nullptr || digest->type != V_ASN1_OCTET_STRING) return Malformed("its messageDigest attribute is missing");

  const ASN1_OCTET_STRING* signed_digest = digest->value.octet_string;
  if (static_cast<size_t>(ASN1_STRING_length(signed_digest)) != kSha256Size ||
      std::memcmp(ASN1_STRING_get0_data(signed_digest), content_sha256.data(), kSha256Size) != 0) {
    return VerifyError(absl::StatusCode::kUnauthenticated, VerifyFailure::kContentMismatch,
                       "the content does not match the signature: it was changed after signing, or it is "
                       "another file");
  }
  if (CMS_SignerInfo_verify(si) != 1) {
    internal::ClearOpenSslErrors();
    return VerifyError(absl::StatusCode::kUnauthenticated, VerifyFailure::kBadSignature,
                       "the signature value does not verify with the signer's certificate: the signature was "
                       "altered or made with another key");
  }
  ASSIGN_OR_RETURN(bool cades_bes, CheckSigningCertificate(si, signer));

  Certificate signer_cert = Certificate::FromNative(signer);
  ASSIGN_OR_RETURN(ValidatedChain chain, trust.Validate(signer_cert, others, KeyPurpose::kDocumentSigning, at));
  VerifiedSignature result{signer_cert, std::move(chain.chain),
                           internal::FromAsn1Time(signing_time->value.utctime), chain.revocation_checked,
                           cades_bes};
  return result;
}

absl::StatusOr<VerifiedSignature> VerifyDetached(std::string_view content, std::string_view cms_der,
                                                 const TrustStore& trust, absl::Time at) {
  return VerifyDigest(Sha256(content), cms_der, trust, at);
}

}  // namespace congvan::signer
