// The dev CA: keys, the certificate profile (checked by parsing with
// OpenSSL), CRLs, loading CAs, and the `openssl` CLI as an independent
// verifier.
#include "congvan/signer/ca.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace congvan::signer {
namespace {

using ::congvan::testing::IsOk;
using ::congvan::testing::StatusIs;
using ::congvan::testing::TempDir;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2025, 3, 1, 8, 0, 0), absl::UTCTimeZone());

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr Parse(const Certificate& cert) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(cert.der().data());
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(cert.der().size())));
}

std::string OctetString(const ASN1_OCTET_STRING* s) {
  return s == nullptr ? "" : std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
}

int Critical(X509* x, int nid) {
  const int i = X509_get_ext_by_NID(x, nid, -1);
  return i < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

// The subject entry for `nid` and whether it is a UTF8String.
std::pair<std::string, int> NameEntry(X509* x, int nid) {
  X509_NAME* name = X509_get_subject_name(x);
  const int i = X509_NAME_get_index_by_NID(name, nid, -1);
  if (i < 0) return {"", -1};
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  return {std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s)),
          ASN1_STRING_type(s)};
}

// The subjectAltName entries as "URI:...", "DNS:...", "IP:a.b.c.d".
std::vector<std::string> AltNames(X509* x) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    const auto* data = reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.ia5));
    const std::string value(data, ASN1_STRING_length(n->d.ia5));
    if (n->type == GEN_URI) out.push_back("URI:" + value);
    if (n->type == GEN_DNS) out.push_back("DNS:" + value);
    if (n->type == GEN_IPADD && value.size() == 4) {
      out.push_back(absl::StrCat("IP:", static_cast<unsigned char>(value[0]), ".", static_cast<unsigned char>(value[1]),
                                 ".", static_cast<unsigned char>(value[2]), ".", static_cast<unsigned char>(value[3])));
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

// A root, an issuing CA under it, and requests for every end-entity profile.
class CaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto root_key = GenerateKey(KeyType::kP256);
    auto issuing_key = GenerateKey(KeyType::kP256);
    auto leaf_key = GenerateKey(KeyType::kP256);
    ASSERT_OK(root_key);
    ASSERT_OK(issuing_key);
    ASSERT_OK(leaf_key);
    auto root = CertificateAuthority::CreateRoot(*root_key, "Test Root", "Bộ phận thử nghiệm", kNow,
                                                 kNow + absl::Hours(24 * 3650));
    ASSERT_OK(root);
    CertificateRequest request;
    request.profile = CertificateProfile::kIssuingCa;
    request.public_key_der = issuing_key->public_key_der;
    request.common_name = "Test Issuing CA";
    request.organization = "Bộ phận thử nghiệm";
    request.not_before = kNow;
    request.not_after = kNow + absl::Hours(24 * 1825);
    auto issuing_cert = root->Issue(request);
    ASSERT_OK(issuing_cert);
    auto issuing = CertificateAuthority::FromPem(*issuing_cert, issuing_key->private_key_pem);
    ASSERT_OK(issuing);
    root_ = new CertificateAuthority(*std::move(root));
    issuing_ = new CertificateAuthority(*std::move(issuing));
    leaf_key_ = new GeneratedKey(*std::move(leaf_key));
  }

  // What SetUpTestSuite made, so that LeakSanitizer finds no leak of ours.
  static void TearDownTestSuite() {
    delete root_;
    delete issuing_;
    delete leaf_key_;
    root_ = issuing_ = nullptr;
    leaf_key_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(issuing_, nullptr) << "SetUpTestSuite failed"; }

  static CertificateRequest Request(CertificateProfile profile) {
    CertificateRequest r;
    r.profile = profile;
    r.public_key_der = leaf_key_->public_key_der;
    r.common_name = "Nguyễn Văn An";
    r.organization = "UBND tỉnh Quảng Ninh";
    r.organizational_unit = "Chủ tịch";
    r.agency_id = "000.00.00.H49";
    const bool person = profile == CertificateProfile::kPersonSigning || profile == CertificateProfile::kPersonTls;
    if (person) r.person_login = "leader-h49";
    if (profile == CertificateProfile::kNodeTls) {
      r.dns_names = {"localhost"};
      r.ip_addresses = {"127.0.0.1"};
    }
    r.not_before = kNow;
    r.not_after = kNow + absl::Hours(24 * 730);
    return r;
  }

  static CertificateAuthority* root_;
  static CertificateAuthority* issuing_;
  static GeneratedKey* leaf_key_;
};

CertificateAuthority* CaTest::root_ = nullptr;
CertificateAuthority* CaTest::issuing_ = nullptr;
GeneratedKey* CaTest::leaf_key_ = nullptr;

TEST(CaGenerateKey, MakesPkcs8KeysOfEachType) {
  struct Case {
    KeyType type;
    const char* name;
    int bits;
  };
  for (const Case& c : {Case{KeyType::kRsa2048, "RSA", 2048}, Case{KeyType::kRsa3072, "RSA", 3072},
                        Case{KeyType::kP256, "EC", 256}}) {
    SCOPED_TRACE(c.bits);
    ASSERT_OK_AND_ASSIGN(GeneratedKey key, GenerateKey(c.type));
    EXPECT_THAT(key.private_key_pem, HasSubstr("-----BEGIN PRIVATE KEY-----"));
    BIO* bio = BIO_new_mem_buf(key.private_key_pem.data(), static_cast<int>(key.private_key_pem.size()));
    EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    ASSERT_NE(pkey, nullptr);
    EXPECT_TRUE(EVP_PKEY_is_a(pkey, c.name));
    EXPECT_EQ(EVP_PKEY_get_bits(pkey), c.bits);
    if (c.type == KeyType::kP256) {
      char group[64] = {};
      ASSERT_EQ(EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, nullptr), 1);
      EXPECT_STREQ(group, "prime256v1");
    } else {
      BIGNUM* e = nullptr;
      ASSERT_EQ(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e), 1);
      EXPECT_TRUE(BN_is_word(e, 65537));
      BN_free(e);
    }
    // The public half is the private key's.
    unsigned char* der = nullptr;
    const int len = i2d_PUBKEY(pkey, &der);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(der), len), key.public_key_der);
    OPENSSL_free(der);
    EVP_PKEY_free(pkey);
  }
}

struct ProfileCase {
  CertificateProfile profile;
  uint32_t key_usage;
  uint32_t ext_key_usage;  // UINT32_MAX: no extendedKeyUsage
  int eku_critical;        // -1: absent
  bool has_person;
};

std::string ProfileTestName(const ::testing::TestParamInfo<ProfileCase>& info) {
  static const char* const kNames[] = {"RootCa",  "IssuingCa", "Seal",        "PersonSigning",
                                       "NodeTls", "PersonTls", "Timestamping"};
  return kNames[static_cast<int>(info.param.profile)];
}

class CaProfileTest : public CaTest, public ::testing::WithParamInterface<ProfileCase> {};

TEST_P(CaProfileTest, IssuesTheProfilesExtensions) {
  const ProfileCase& c = GetParam();
  ASSERT_OK_AND_ASSIGN(Certificate cert, issuing_->Issue(Request(c.profile)));
  X509Ptr x = Parse(cert);
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(X509_get_version(x.get()), X509_VERSION_3);
  EXPECT_EQ(X509_get_signature_nid(x.get()), NID_ecdsa_with_SHA256);
  EXPECT_EQ(X509_get_key_usage(x.get()), c.key_usage);
  EXPECT_EQ(Critical(x.get(), NID_key_usage), 1);
  EXPECT_EQ(X509_get_extended_key_usage(x.get()), c.ext_key_usage);
  EXPECT_EQ(Critical(x.get(), NID_ext_key_usage), c.eku_critical);
  EXPECT_EQ(Critical(x.get(), NID_basic_constraints), 1);
  EXPECT_EQ(X509_get_extension_flags(x.get()) & EXFLAG_CA, 0u);
  EXPECT_FALSE(cert.IsCa());

  // Serial: positive, random, 128 bits.
  BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x.get()), nullptr);
  EXPECT_FALSE(BN_is_negative(serial));
  EXPECT_GT(BN_num_bits(serial), 120);
  EXPECT_LE(BN_num_bits(serial), 128);
  BN_free(serial);

  // Key identifiers chain to the issuer.
  X509Ptr issuer = Parse(issuing_->certificate());
  EXPECT_EQ(OctetString(X509_get0_authority_key_id(x.get())), OctetString(X509_get0_subject_key_id(issuer.get())));
  EXPECT_EQ(OctetString(X509_get0_subject_key_id(x.get())).size(), 20u);

  // The DN: C=VN as PrintableString, the Vietnamese names as UTF8String.
  EXPECT_EQ(NameEntry(x.get(), NID_countryName), std::make_pair(std::string("VN"), V_ASN1_PRINTABLESTRING));
  EXPECT_EQ(NameEntry(x.get(), NID_organizationName),
            std::make_pair(std::string("UBND tỉnh Quảng Ninh"), V_ASN1_UTF8STRING));
  EXPECT_EQ(NameEntry(x.get(), NID_organizationalUnitName), std::make_pair(std::string("Chủ tịch"), V_ASN1_UTF8STRING));
  EXPECT_EQ(cert.CommonName(), "Nguyễn Văn An");

  // The identity round-trips through the subjectAltName.
  EXPECT_EQ(cert.AgencyId(), "000.00.00.H49");
  EXPECT_EQ(cert.PersonLogin(), c.has_person ? std::optional<std::string>("leader-h49") : std::nullopt);
  EXPECT_EQ(X509_get_ext_by_NID(x.get(), NID_crl_distribution_points, -1), -1);
  EXPECT_EQ(cert.NotBefore(), kNow);
  EXPECT_EQ(cert.NotAfter(), kNow + absl::Hours(24 * 730));
}

INSTANTIATE_TEST_SUITE_P(
    Profiles, CaProfileTest,
    ::testing::Values(
        ProfileCase{CertificateProfile::kSeal, KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION, UINT32_MAX, -1, false},
        ProfileCase{CertificateProfile::kPersonSigning, KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION, UINT32_MAX, -1,
                    true},
        ProfileCase{CertificateProfile::kNodeTls, KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT,
                    XKU_SSL_SERVER | XKU_SSL_CLIENT, 0, false},
        ProfileCase{CertificateProfile::kPersonTls, KU_DIGITAL_SIGNATURE, XKU_SSL_CLIENT, 0, true},
        ProfileCase{CertificateProfile::kTimestamping, KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION, XKU_TIMESTAMP, 1,
                    false}),
    ProfileTestName);

TEST_F(CaTest, CaCertificatesAreCasWithPathLength) {
  X509Ptr root = Parse(root_->certificate());
  X509Ptr issuing = Parse(issuing_->certificate());
  for (X509* x : {root.get(), issuing.get()}) {
    EXPECT_NE(X509_get_extension_flags(x) & EXFLAG_CA, 0u);
    EXPECT_EQ(Critical(x, NID_basic_constraints), 1);
    EXPECT_EQ(X509_get_key_usage(x), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    EXPECT_EQ(Critical(x, NID_key_usage), 1);
    EXPECT_EQ(X509_get_extended_key_usage(x), UINT32_MAX);
  }
  EXPECT_EQ(X509_get_pathlen(root.get()), -1);
  EXPECT_EQ(X509_get_pathlen(issuing.get()), 0);
  // The root is self-signed and its AKI names its own key.
  EXPECT_EQ(root_->certificate().Subject(), root_->certificate().Issuer());
  EXPECT_EQ(OctetString(X509_get0_authority_key_id(root.get())), OctetString(X509_get0_subject_key_id(root.get())));
  EXPECT_EQ(issuing_->certificate().Issuer(), root_->certificate().Subject());
  EXPECT_FALSE(root_->certificate().AgencyId().has_value());
}

TEST_F(CaTest, NodeTlsCarriesDnsAndIp) {
  ASSERT_OK_AND_ASSIGN(Certificate cert, issuing_->Issue(Request(CertificateProfile::kNodeTls)));
  X509Ptr x = Parse(cert);
  EXPECT_THAT(AltNames(x.get()), ::testing::ElementsAre("URI:urn:congvan:agency:000.00.00.H49", "DNS:localhost",
                                                        "IP:127.0.0.1"));
}

TEST_F(CaTest, SerialsDiffer) {
  ASSERT_OK_AND_ASSIGN(Certificate a, issuing_->Issue(Request(CertificateProfile::kSeal)));
  ASSERT_OK_AND_ASSIGN(Certificate b, issuing_->Issue(Request(CertificateProfile::kSeal)));
  EXPECT_NE(a.SerialHex(), b.SerialHex());
}

TEST_F(CaTest, KeyUsageOverrideReplacesTheProfiles) {
  CertificateRequest r = Request(CertificateProfile::kSeal);
  r.key_usage_override = "critical,keyEncipherment";
  ASSERT_OK_AND_ASSIGN(Certificate cert, issuing_->Issue(r));
  EXPECT_EQ(X509_get_key_usage(Parse(cert).get()), static_cast<uint32_t>(KU_KEY_ENCIPHERMENT));
  r.key_usage_override = "critical,noSuchUsage";
  EXPECT_THAT(issuing_->Issue(r), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CaTest, RejectsRequestsThatDoNotFitTheProfile) {
  struct Case {
    const char* what;
    CertificateRequest request;
    const char* message;
  };
  std::vector<Case> cases;
  cases.push_back({"seal without agency", Request(CertificateProfile::kSeal), "agency ID"});
  cases.back().request.agency_id.clear();
  cases.push_back({"bad agency ID", Request(CertificateProfile::kSeal), "000.00.00.h49"});
  cases.back().request.agency_id = "000.00.00.h49";
  cases.push_back({"signing without login", Request(CertificateProfile::kPersonSigning), "login"});
  cases.back().request.person_login.clear();
  cases.push_back({"seal with login", Request(CertificateProfile::kSeal), "not a person"});
  cases.back().request.person_login = "leader-h49";
  cases.push_back({"bad login", Request(CertificateProfile::kPersonTls), "may contain only"});
  cases.back().request.person_login = "Leader H49";
  cases.push_back({"DNS on a seal", Request(CertificateProfile::kSeal), "DNS"});
  cases.back().request.dns_names = {"localhost"};
  cases.push_back({"bad IP", Request(CertificateProfile::kNodeTls), "not an IP address"});
  cases.back().request.ip_addresses = {"127.0.0.300"};
  cases.push_back({"no common name", Request(CertificateProfile::kSeal), "common name"});
  cases.back().request.common_name.clear();
  cases.push_back({"validity backwards", Request(CertificateProfile::kSeal), "not_after"});
  cases.back().request.not_after = kNow - absl::Hours(1);
  cases.push_back({"not a public key", Request(CertificateProfile::kSeal), "public key"});
  cases.back().request.public_key_der = "garbage";
  cases.push_back({"CN too long", Request(CertificateProfile::kSeal), "64 characters"});
  cases.back().request.common_name = std::string(65, 'a');
  cases.push_back({"root via Issue", Request(CertificateProfile::kRootCa), "CreateRoot"});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_THAT(issuing_->Issue(c.request), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST_F(CaTest, OpenSslVerifiesEveryProfileForItsPurpose) {
  TempDir dir;
  WriteTestFile(dir.File("root.pem"), root_->certificate().Pem());
  WriteTestFile(dir.File("issuing.pem"), issuing_->certificate().Pem());
  const std::pair<CertificateProfile, std::vector<const char*>> cases[] = {
      {CertificateProfile::kSeal, {"smimesign"}},
      {CertificateProfile::kPersonSigning, {"smimesign"}},
      {CertificateProfile::kNodeTls, {"sslserver", "sslclient"}},
      {CertificateProfile::kPersonTls, {"sslclient"}},
      {CertificateProfile::kTimestamping, {"timestampsign"}},
  };
  const std::string at = std::to_string(absl::ToUnixSeconds(kNow + absl::Hours(24)));
  for (const auto& [profile, purposes] : cases) {
    ASSERT_OK_AND_ASSIGN(Certificate cert, issuing_->Issue(Request(profile)));
    const std::string leaf = dir.File("leaf.pem");
    WriteTestFile(leaf, cert.Pem());
    for (const char* purpose : purposes) {
      auto result = ::congvan::testing::Run({"openssl", "verify", "-attime", at, "-purpose", purpose, "-CAfile", dir.File("root.pem"),
                         "-untrusted", dir.File("issuing.pem"), leaf});
      EXPECT_EQ(result.exit_code, 0) << purpose << ": " << result.out << result.err;
    }
  }
  // A person's TLS certificate is not a server certificate.
  ASSERT_OK_AND_ASSIGN(Certificate client, issuing_->Issue(Request(CertificateProfile::kPersonTls)));
  WriteTestFile(dir.File("client.pem"), client.Pem());
  auto result = ::congvan::testing::Run({"openssl", "verify", "-attime", at, "-purpose", "sslserver", "-CAfile", dir.File("root.pem"),
                     "-untrusted", dir.File("issuing.pem"), dir.File("client.pem")});
  EXPECT_NE(result.exit_code, 0);
}

TEST(CaRsa, Rsa2048ChainVerifiesWithOpenSsl) {
  ASSERT_OK_AND_ASSIGN(GeneratedKey root_key, GenerateKey(KeyType::kRsa2048));
  ASSERT_OK_AND_ASSIGN(CertificateAuthority root, CertificateAuthority::CreateRoot(
                                                      root_key, "Root", "Org", kNow, kNow + absl::Hours(24 * 365)));
  ASSERT_OK_AND_ASSIGN(GeneratedKey key, GenerateKey(KeyType::kRsa2048));
  CertificateRequest r;
  r.profile = CertificateProfile::kIssuingCa;
  r.public_key_der = key.public_key_der;
  r.common_name = "Issuing";
  r.organization = "Org";
  r.not_before = kNow;
  r.not_after = kNow + absl::Hours(24 * 300);
  ASSERT_OK_AND_ASSIGN(Certificate issuing, root.Issue(r));
  EXPECT_EQ(X509_get_signature_nid(Parse(issuing).get()), NID_sha256WithRSAEncryption);
  TempDir dir;
  WriteTestFile(dir.File("root.pem"), root.certificate().Pem());
  WriteTestFile(dir.File("issuing.pem"), issuing.Pem());
  auto result = ::congvan::testing::Run({"openssl", "verify", "-attime", std::to_string(absl::ToUnixSeconds(kNow + absl::Hours(1))),
                     "-CAfile", dir.File("root.pem"), dir.File("issuing.pem")});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
}

TEST_F(CaTest, CrlListsRevocationsAndOpenSslHonoursIt) {
  ASSERT_OK_AND_ASSIGN(Certificate revoked, issuing_->Issue(Request(CertificateProfile::kSeal)));
  ASSERT_OK_AND_ASSIGN(Certificate good, issuing_->Issue(Request(CertificateProfile::kSeal)));
  const absl::Time revoked_at = kNow + absl::Hours(2);
  ASSERT_OK_AND_ASSIGN(std::string pem,
                       issuing_->MakeCrl({{revoked.SerialHex(), revoked_at, "keyCompromise"}}, 7,
                                         kNow + absl::Hours(3), kNow + absl::Hours(24 * 30)));
  ASSERT_OK_AND_ASSIGN(std::string root_pem, root_->MakeCrl({}, 7, kNow + absl::Hours(3), kNow + absl::Hours(24 * 30)));

  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(crl, nullptr);
  EXPECT_EQ(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
  auto* number = static_cast<ASN1_INTEGER*>(X509_CRL_get_ext_d2i(crl, NID_crl_number, nullptr, nullptr));
  ASSERT_NE(number, nullptr);
  EXPECT_EQ(ASN1_INTEGER_get(number), 7);
  ASN1_INTEGER_free(number);
  auto* aki = static_cast<AUTHORITY_KEYID*>(X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, nullptr, nullptr));
  ASSERT_NE(aki, nullptr);
  X509Ptr issuer = Parse(issuing_->certificate());
  EXPECT_EQ(OctetString(aki->keyid), OctetString(X509_get0_subject_key_id(issuer.get())));
  AUTHORITY_KEYID_free(aki);
  EXPECT_EQ(X509_CRL_verify(crl, X509_get0_pubkey(issuer.get())), 1);
  STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl);
  ASSERT_EQ(sk_X509_REVOKED_num(entries), 1);
  X509_REVOKED* entry = sk_X509_REVOKED_value(entries, 0);
  X509Ptr revoked_x = Parse(revoked);
  EXPECT_EQ(ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(entry), X509_get0_serialNumber(revoked_x.get())), 0);
  auto* reason = static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, nullptr, nullptr));
  ASSERT_NE(reason, nullptr);
  EXPECT_EQ(ASN1_ENUMERATED_get(reason), 1);  // keyCompromise
  ASN1_ENUMERATED_free(reason);
  X509_CRL_free(crl);

  TempDir dir;
  WriteTestFile(dir.File("root.pem"), root_->certificate().Pem());
  WriteTestFile(dir.File("issuing.pem"), issuing_->certificate().Pem());
  WriteTestFile(dir.File("crl.pem"), root_pem + pem);
  WriteTestFile(dir.File("revoked.pem"), revoked.Pem());
  WriteTestFile(dir.File("good.pem"), good.Pem());
  auto verify = [&](const std::string& leaf) {
    return ::congvan::testing::Run({"openssl", "verify", "-attime", std::to_string(absl::ToUnixSeconds(kNow + absl::Hours(4))),
                "-crl_check_all", "-CRLfile", dir.File("crl.pem"), "-CAfile", dir.File("root.pem"), "-untrusted",
                dir.File("issuing.pem"), leaf});
  };
  auto bad = verify(dir.File("revoked.pem"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.out + bad.err, HasSubstr("revoked"));
  auto ok = verify(dir.File("good.pem"));
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

TEST_F(CaTest, CrlRejectsUnknownReasonsAndBadSerials) {
  EXPECT_THAT(issuing_->MakeCrl({{"0A", kNow, "stolen"}}, 1, kNow, kNow + absl::Hours(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stolen")));
  EXPECT_THAT(issuing_->MakeCrl({{"XYZ", kNow, "superseded"}}, 1, kNow, kNow + absl::Hours(1)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hex")));
  EXPECT_THAT(issuing_->MakeCrl({}, 1, kNow, kNow - absl::Hours(1)), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(CaTest, LoadsACaFromFilesWithAnEncryptedKey) {
  ASSERT_OK_AND_ASSIGN(GeneratedKey key, GenerateKey(KeyType::kP256));
  CertificateRequest r = Request(CertificateProfile::kIssuingCa);
  r.public_key_der = key.public_key_der;
  r.agency_id.clear();
  r.person_login.clear();
  ASSERT_OK_AND_ASSIGN(Certificate cert, root_->Issue(r));
  // Encrypt the key the way an operator would.
  BIO* in = BIO_new_mem_buf(key.private_key_pem.data(), static_cast<int>(key.private_key_pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
  BIO_free(in);
  BIO* out = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(out, pkey, EVP_aes_256_cbc(), nullptr, 0, nullptr,
                                          const_cast<char*>("đúng mật khẩu")),
            1);
  char* data = nullptr;
  const long len = BIO_get_mem_data(out, &data);
  const std::string encrypted(data, len);
  BIO_free(out);
  EVP_PKEY_free(pkey);

  TempDir dir;
  WriteTestFile(dir.File("ca.pem"), cert.Pem());
  WriteTestFile(dir.File("ca.key"), encrypted);
  WriteTestFile(dir.File("pass"), "đúng mật khẩu\n");
  WriteTestFile(dir.File("wrong"), "sai\n");
  SecretSource pass, wrong;
  pass.file = dir.File("pass");
  wrong.file = dir.File("wrong");
  ASSERT_OK_AND_ASSIGN(CertificateAuthority ca, CertificateAuthority::Load(dir.File("ca.pem"), dir.File("ca.key"), pass));
  EXPECT_EQ(ca.certificate().der(), cert.der());
  ASSERT_OK_AND_ASSIGN(Certificate issued, ca.Issue(Request(CertificateProfile::kSeal)));
  EXPECT_EQ(issued.Issuer(), cert.Subject());

  EXPECT_THAT(CertificateAuthority::Load(dir.File("ca.pem"), dir.File("ca.key"), wrong),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(CertificateAuthority::Load(dir.File("ca.pem"), dir.File("ca.key")),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(CertificateAuthority::Load(dir.File("ca.pem"), dir.File("missing.key")),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CaTest, FromPemRejectsAForeignKeyAndEndEntities) {
  ASSERT_OK_AND_ASSIGN(GeneratedKey other, GenerateKey(KeyType::kP256));
  EXPECT_THAT(CertificateAuthority::FromPem(issuing_->certificate(), other.private_key_pem),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not belong")));
  ASSERT_OK_AND_ASSIGN(Certificate leaf, issuing_->Issue(Request(CertificateProfile::kSeal)));
  EXPECT_THAT(CertificateAuthority::FromPem(leaf, leaf_key_->private_key_pem),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a CA")));
  EXPECT_THAT(CertificateAuthority::FromPem(issuing_->certificate(), "not a key"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace congvan::signer
