// Certificate issuance for the dev CA with the congvan profile
// (certs/README.md): v3, SHA-256, random 128-bit serial, C=VN/O/OU/CN in
// UTF-8, SKI, AKI, critical basicConstraints and keyUsage, extendedKeyUsage
// and subjectAltName per profile.
#include <openssl/rand.h>

#include <algorithm>

#include "ca_internal.h"
#include "congvan/signer/agency_id.h"
#include "congvan/signer/ca.h"
#include "congvan/signer/status_macros.h"
#include "openssl_util.h"

namespace congvan::signer {
namespace {

using internal::Asn1TimePtr;
using internal::BignumPtr;
using internal::EvpPkeyPtr;
using internal::OpenSslError;
using internal::X509Ptr;
using X509NamePtr = internal::Owned<X509_NAME, X509_NAME_free>;
using GeneralNamesPtr = internal::Owned<GENERAL_NAMES, GENERAL_NAMES_free>;
using OctetStringPtr = internal::Owned<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using AuthorityKeyIdPtr = internal::Owned<AUTHORITY_KEYID, AUTHORITY_KEYID_free>;

// What a profile puts in a certificate and asks of a request.
struct ProfileRules {
  const char* name;
  const char* basic_constraints;  // OpenSSL config syntax
  const char* key_usage;
  const char* extended_key_usage;  // nullptr: no extendedKeyUsage
  bool is_ca;
  bool is_person;  // needs a person login
  bool is_tls;     // may carry DNS names and IP addresses
};

ProfileRules RulesFor(CertificateProfile profile) {
  switch (profile) {
    case CertificateProfile::kRootCa:
      return {"root CA", "critical,CA:TRUE", "critical,keyCertSign,cRLSign", nullptr, true, false, false};
    case CertificateProfile::kIssuingCa:
      return {"issuing CA", "critical,CA:TRUE,pathlen:0", "critical,keyCertSign,cRLSign", nullptr, true,
              false, false};
    case CertificateProfile::kSeal:
      return {"seal", "critical,CA:FALSE", "critical,digitalSignature,nonRepudiation", nullptr, false, false,
              false};
    case CertificateProfile::kPersonSigning:
      return {"person signing", "critical,CA:FALSE", "critical,digitalSignature,nonRepudiation", nullptr,
              false, true, false};
    case CertificateProfile::kNodeTls:
      return {"node TLS", "critical,CA:FALSE", "critical,digitalSignature,keyEncipherment",
              "serverAuth,clientAuth", false, false, true};
    case CertificateProfile::kPersonTls:
      return {"person TLS", "critical,CA:FALSE", "critical,digitalSignature", "clientAuth", false, true, true};
    case CertificateProfile::kTimestamping:
      return {"timestamping", "critical,CA:FALSE", "critical,digitalSignature,nonRepudiation",
              "critical,timeStamping", false, false, false};
  }
  std::abort();  // every enumerator is handled above
}

bool IsLogin(const std::string& login) {
  return !login.empty() && login.size() <= 64 && std::all_of(login.begin(), login.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

bool IsDnsName(const std::string& name) {
  return !name.empty() && name.size() <= 253 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '*';
  });
}

absl::Status CheckRequest(const CertificateRequest& r, const ProfileRules& rules) {
  const std::string name = rules.name;
  const std::string what = (name[0] == 'i' ? "an " : "a ") + name + " certificate";
  if (r.common_name.empty()) return absl::InvalidArgumentError(what + " needs a common name");
  if (r.organization.empty()) return absl::InvalidArgumentError(what + " needs an organization");
  if (r.not_after <= r.not_before) {
    return absl::InvalidArgumentError(what + ": not_after must be later than not_before");
  }
  if (r.agency_id.empty() && !rules.is_ca) {
    return absl::InvalidArgumentError(what + " needs an agency ID");
  }
  if (!r.agency_id.empty()) {
    auto id = AgencyId::Parse(r.agency_id);
    if (!id.ok()) return absl::InvalidArgumentError(what + ": " + std::string(id.status().message()));
  }
  if (rules.is_person && r.person_login.empty()) {
    return absl::InvalidArgumentError(what + " needs a person login");
  }
  if (!rules.is_person && !r.person_login.empty()) {
    return absl::InvalidArgumentError(what + " names an agency, not a person: drop the person login");
  }
  if (!r.person_login.empty() && !IsLogin(r.person_login)) {
    return absl::InvalidArgumentError(what + ": login '" + r.person_login +
                                      "' may contain only a-z, 0-9, '.', '_' and '-' (at most 64)");
  }
  if (!rules.is_tls && (!r.dns_names.empty() || !r.ip_addresses.empty())) {
    return absl::InvalidArgumentError(what + " carries no DNS names or IP addresses");
  }
  for (const std::string& dns : r.dns_names) {
    if (!IsDnsName(dns)) return absl::InvalidArgumentError(what + ": '" + dns + "' is not a DNS name");
  }
  return absl::OkStatus();
}

// C=VN, O=..., [OU=...], CN=... with UTF-8 strings (C is a PrintableString,
// as its ASN.1 type requires).
absl::StatusOr<X509NamePtr> MakeName(const CertificateRequest& r) {
  X509NamePtr name(X509_NAME_new());
  if (name == nullptr) return OpenSslError(absl::StatusCode::kInternal, "out of memory");
  const std::pair<const char*, const std::string*> entries[] = {
      {"O", &r.organization}, {"OU", &r.organizational_unit}, {"CN", &r.common_name}};
  if (X509_NAME_add_entry_by_txt(name.get(), "C", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("VN"), -1, -1, 0) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot build the subject name");
  }
  for (const auto& [field, value] : entries) {
    if (value->empty()) continue;
    if (X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value->data()),
                                   static_cast<int>(value->size()), -1, 0) != 1) {
      return OpenSslError(absl::StatusCode::kInvalidArgument,
                          std::string("the subject ") + field + " '" + *value +
                              "' is not valid UTF-8 of at most 64 characters");
    }
  }
  return name;
}

absl::Status AddConfExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, ctx, nid, value.c_str());
  if (ext == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        std::string("invalid ") + OBJ_nid2sn(nid) + " value '" + value + "'");
  }
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return OpenSslError(absl::StatusCode::kInternal, "cannot add an extension");
  return absl::OkStatus();
}

absl::Status AddI2dExtension(X509* cert, int nid, void* value, int critical) {
  if (X509_add1_ext_i2d(cert, nid, value, critical, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslError(absl::StatusCode::kInternal,
                        std::string("cannot add the ") + OBJ_nid2sn(nid) + " extension");
  }
  return absl::OkStatus();
}

// SHA-1 of the subjectPublicKey of a certificate being built.
std::string PublicKeyId(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_pubkey_digest(cert, EVP_sha1(), md, &len) != 1) return {};
  return std::string(reinterpret_cast<char*>(md), len);
}

absl::Status AddKeyIdentifiers(X509* cert, const std::string& subject_key_id,
                               const std::string& authority_key_id) {
  if (subject_key_id.empty() || authority_key_id.empty()) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot compute key identifiers");
  }
  OctetStringPtr ski(ASN1_OCTET_STRING_new());
  AuthorityKeyIdPtr aki(AUTHORITY_KEYID_new());
  if (ski == nullptr || aki == nullptr || (aki->keyid = ASN1_OCTET_STRING_new()) == nullptr) {
    return OpenSslError(absl::StatusCode::kInternal, "out of memory");
  }
  ASN1_OCTET_STRING_set(ski.get(), reinterpret_cast<const unsigned char*>(subject_key_id.data()),
                        static_cast<int>(subject_key_id.size()));
  ASN1_OCTET_STRING_set(aki->keyid, reinterpret_cast<const unsigned char*>(authority_key_id.data()),
                        static_cast<int>(authority_key_id.size()));
  RETURN_IF_ERROR(AddI2dExtension(cert, NID_subject_key_identifier, ski.get(), 0));
  return AddI2dExtension(cert, NID_authority_key_identifier, aki.get(), 0);
}

absl::Status AddGeneralName(GENERAL_NAMES* names, int type, const std::string& value) {
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (name == nullptr) return OpenSslError(absl::StatusCode::kInternal, "out of memory");
  ASN1_STRING* s = nullptr;
  if (type == GEN_IPADD) {
    s = a2i_IPADDRESS(value.c_str());
    if (s == nullptr) {
      GENERAL_NAME_free(name);
      internal::ClearOpenSslErrors();
      return absl::InvalidArgumentError("'" + value + "' is not an IP address");
    }
  } else {
    s = ASN1_IA5STRING_new();
    if (s == nullptr || ASN1_STRING_set(s, value.data(), static_cast<int>(value.size())) != 1) {
      ASN1_STRING_free(s);
      GENERAL_NAME_free(name);
      return OpenSslError(absl::StatusCode::kInternal, "out of memory");
    }
  }
  GENERAL_NAME_set0_value(name, type, s);
  if (sk_GENERAL_NAME_push(names, name) == 0) {
    GENERAL_NAME_free(name);
    return OpenSslError(absl::StatusCode::kInternal, "out of memory");
  }
  return absl::OkStatus();
}

absl::Status AddSubjectAltName(X509* cert, const CertificateRequest& r) {
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (names == nullptr) return OpenSslError(absl::StatusCode::kInternal, "out of memory");
  if (!r.agency_id.empty()) RETURN_IF_ERROR(AddGeneralName(names.get(), GEN_URI, "urn:congvan:agency:" + r.agency_id));
  if (!r.person_login.empty()) {
    RETURN_IF_ERROR(AddGeneralName(names.get(), GEN_URI, "urn:congvan:person:" + r.person_login));
  }
  for (const std::string& dns : r.dns_names) RETURN_IF_ERROR(AddGeneralName(names.get(), GEN_DNS, dns));
  for (const std::string& ip : r.ip_addresses) RETURN_IF_ERROR(AddGeneralName(names.get(), GEN_IPADD, ip));
  if (sk_GENERAL_NAME_num(names.get()) == 0) return absl::OkStatus();
  return AddI2dExtension(cert, NID_subject_alt_name, names.get(), 0);
}

absl::Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "no randomness for the serial number");
  }
  // BN_bin2bn reads an unsigned number, so the serial is positive; a non-zero
  // first byte keeps it 16 bytes long.
  if (bytes[0] == 0) bytes[0] = 1;
  BignumPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (bn == nullptr || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot set the serial number");
  }
  return absl::OkStatus();
}

// Builds the certificate for `r` and signs it with `issuer_key`; `issuer` is
// the issuing CA's certificate, or null for a self-signed one.
absl::StatusOr<Certificate> BuildAndSign(const CertificateRequest& r, X509* issuer, EVP_PKEY* issuer_key) {
  const ProfileRules rules = RulesFor(r.profile);
  RETURN_IF_ERROR(CheckRequest(r, rules));
  EvpPkeyPtr subject_key = internal::PublicKeyFromDer(r.public_key_der);
  if (subject_key == nullptr) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("the request's public key is not a DER SubjectPublicKeyInfo");
  }
  ASSIGN_OR_RETURN(X509NamePtr subject, MakeName(r));
  X509Ptr cert(X509_new());
  Asn1TimePtr not_before = internal::ToAsn1Time(r.not_before);
  Asn1TimePtr not_after = internal::ToAsn1Time(r.not_after);
  if (cert == nullptr || not_before == nullptr || not_after == nullptr ||
      X509_set_version(cert.get(), X509_VERSION_3) != 1 || X509_set_subject_name(cert.get(), subject.get()) != 1 ||
      X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : subject.get()) != 1 ||
      X509_set1_notBefore(cert.get(), not_before.get()) != 1 ||
      X509_set1_notAfter(cert.get(), not_after.get()) != 1 || X509_set_pubkey(cert.get(), subject_key.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot build the certificate");
  }
  RETURN_IF_ERROR(SetRandomSerial(cert.get()));

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_basic_constraints, rules.basic_constraints));
  const std::string key_usage = r.key_usage_override.empty() ? rules.key_usage : r.key_usage_override;
  RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_key_usage, key_usage));
  if (rules.extended_key_usage != nullptr) {
    RETURN_IF_ERROR(AddConfExtension(cert.get(), &ctx, NID_ext_key_usage, rules.extended_key_usage));
  }
  const std::string subject_key_id = PublicKeyId(cert.get());
  const std::string authority_key_id = issuer != nullptr ? internal::KeyIdentifier(issuer) : subject_key_id;
  RETURN_IF_ERROR(AddKeyIdentifiers(cert.get(), subject_key_id, authority_key_id));
  RETURN_IF_ERROR(AddSubjectAltName(cert.get(), r));

  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot sign the certificate");
  }
  return Certificate::FromNative(cert.get());
}

}  // namespace

namespace internal {

std::string KeyIdentifier(X509* cert) {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert);
  if (ski != nullptr) {
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(ski)),
                       static_cast<size_t>(ASN1_STRING_length(ski)));
  }
  return PublicKeyId(cert);
}

}  // namespace internal

absl::StatusOr<CertificateAuthority> CertificateAuthority::CreateRoot(const GeneratedKey& key,
                                                                      const std::string& common_name,
                                                                      const std::string& organization,
                                                                      absl::Time not_before,
                                                                      absl::Time not_after) {
  ASSIGN_OR_RETURN(std::shared_ptr<void> private_key,
                   internal::ParsePrivateKeyPem(key.private_key_pem, nullptr, "the root CA key"));
  CertificateRequest request;
  request.profile = CertificateProfile::kRootCa;
  request.public_key_der = key.public_key_der;
  request.common_name = common_name;
  request.organization = organization;
  request.not_before = not_before;
  request.not_after = not_after;
  ASSIGN_OR_RETURN(Certificate cert,
                   BuildAndSign(request, nullptr, static_cast<EVP_PKEY*>(private_key.get())));
  // A public key that is not the private key's would make a root that fails
  // every verification: catch it here.
  RETURN_IF_ERROR(internal::CheckCaKey(cert, private_key.get(), "the new root certificate"));
  return CertificateAuthority(std::move(cert), std::move(private_key));
}

absl::StatusOr<Certificate> CertificateAuthority::Issue(const CertificateRequest& request) {
  if (request.profile == CertificateProfile::kRootCa) {
    return absl::InvalidArgumentError("a root CA is self-signed: make it with CreateRoot");
  }
  return BuildAndSign(request, certificate_.native(), static_cast<EVP_PKEY*>(key_.get()));
}

}  // namespace congvan::signer
