#include "congvan/signer/certificate.h"

#include <fcntl.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "congvan/signer/cms.h"
#include "cms_certificates.h"
#include "openssl_util.h"

namespace congvan::signer {
namespace {

using internal::BioPtr;
using internal::OpenSslString;
using internal::X509Ptr;

constexpr std::string_view kAgencyUrn = "urn:congvan:agency:";
constexpr std::string_view kPersonUrn = "urn:congvan:person:";

std::string NameToString(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return internal::BioContents(bio.get());
}

// The value of the first subjectAltName URI that starts with `prefix`.
std::optional<std::string> SanUriWithPrefix(X509* x509, std::string_view prefix) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x509, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return std::nullopt;
  std::optional<std::string> found;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      static_cast<size_t>(ASN1_STRING_length(uri)));
    if (value.starts_with(prefix) && value.size() > prefix.size()) {
      found = value.substr(prefix.size());
    }
  }
  GENERAL_NAMES_free(names);
  return found;
}

}  // namespace

Certificate::Certificate(std::shared_ptr<x509_st> x509, std::string der)
    : x509_(std::move(x509)), der_(std::move(der)) {}

absl::StatusOr<Certificate> Certificate::FromDer(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* x509 = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (x509 == nullptr || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    X509_free(x509);
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("not a DER X.509 certificate");
  }
  return Certificate(std::shared_ptr<x509_st>(x509, X509_free), std::string(der));
}

Certificate Certificate::FromNative(x509_st* x509) {
  X509_up_ref(x509);
  std::string der = internal::ToDer<X509, i2d_X509>(x509);
  return Certificate(std::shared_ptr<x509_st>(x509, X509_free), std::move(der));
}

std::string Certificate::Pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), x509_.get());
  return internal::BioContents(bio.get());
}

std::string Certificate::Subject() const { return NameToString(X509_get_subject_name(x509_.get())); }
std::string Certificate::Issuer() const { return NameToString(X509_get_issuer_name(x509_.get())); }

std::string Certificate::CommonName() const {
  const X509_NAME* name = X509_get_subject_name(x509_.get());
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return "";
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return "";
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return cn;
}

std::string Certificate::SerialHex() const {
  internal::BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x509_.get()), nullptr));
  OpenSslString hex(BN_bn2hex(bn.get()));
  return hex ? std::string(hex.get()) : std::string();
}

absl::Time Certificate::NotBefore() const { return internal::FromAsn1Time(X509_get0_notBefore(x509_.get())); }
absl::Time Certificate::NotAfter() const { return internal::FromAsn1Time(X509_get0_notAfter(x509_.get())); }

bool Certificate::IsCa() const { return X509_check_ca(x509_.get()) != 0 && (X509_get_extension_flags(x509_.get()) & EXFLAG_CA); }

std::string Certificate::Sha256Hex() const {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(x509_.get(), EVP_sha256(), md, &len);
  return HexEncode(std::string_view(reinterpret_cast<char*>(md), len));
}

std::optional<std::string> Certificate::AgencyId() const { return SanUriWithPrefix(x509_.get(), kAgencyUrn); }
std::optional<std::string> Certificate::PersonLogin() const { return SanUriWithPrefix(x509_.get(), kPersonUrn); }

absl::StatusOr<std::vector<Certificate>> ParseCertificates(std::string_view data) {
  // Each certificate through the process's cache (cms_certificates.h): a
  // node reads its peers' TLS certificates from PEM on every call.
  std::vector<Certificate> certs;
  if (data.find("-----BEGIN") != std::string_view::npos) {
    BioPtr bio = internal::MemoryBio(data);
    while (true) {
      char* name = nullptr;
      char* header = nullptr;
      unsigned char* der = nullptr;
      long length = 0;
      if (PEM_read_bio(bio.get(), &name, &header, &der, &length) != 1) break;
      const std::string block = name;
      std::string bytes(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
      OPENSSL_free(name);
      OPENSSL_free(header);
      OPENSSL_free(der);
      // Other blocks (a key in the same file) are skipped, as PEM_read_bio_X509 does.
      if (block != PEM_STRING_X509 && block != PEM_STRING_X509_OLD) continue;
      auto cert = internal::CachedCertificate(bytes);
      if (!cert.ok()) break;  // the first unreadable one ends the list, as before
      certs.push_back(*std::move(cert));
    }
    internal::ClearOpenSslErrors();  // the end of the PEM data reads as an error
  } else {
    auto cert = internal::CachedCertificate(data);
    if (cert.ok()) certs.push_back(*std::move(cert));
  }
  if (certs.empty()) return absl::InvalidArgumentError("no certificate found (expected PEM or DER)");
  return certs;
}

absl::StatusOr<std::vector<Certificate>> LoadCertificates(const std::string& path) {
  auto data = ReadFile(path);
  if (!data.ok()) return data.status();
  auto certs = ParseCertificates(*data);
  if (!certs.ok()) return absl::InvalidArgumentError(path + ": " + std::string(certs.status().message()));
  return certs;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError("error while reading " + path);
  return ss.str();
}

absl::Status WriteFile(const std::string& path, std::string_view data, int mode) {
  const std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return absl::PermissionDeniedError("cannot write " + path + ": " + std::strerror(errno));
  fchmod(fd, static_cast<mode_t>(mode));  // the umask must not loosen or tighten what was asked
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string err = std::strerror(errno);
      close(fd);
      unlink(tmp.c_str());
      return absl::ResourceExhaustedError("cannot write " + path + ": " + err);
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    unlink(tmp.c_str());
    return absl::DataLossError("cannot flush " + path + ": " + std::strerror(errno));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::PermissionDeniedError("cannot rename into " + path + ": " + std::strerror(errno));
  }
  return absl::OkStatus();
}

}  // namespace congvan::signer
