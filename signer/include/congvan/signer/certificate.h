// X.509 certificates: loading, and the congvan identity they carry.
//
// Certificate profile (certs/README.md): every certificate names its agency in
// a subjectAltName URI "urn:congvan:agency:<ID>"; a person's certificate also
// carries "urn:congvan:person:<login>".
#ifndef CONGVAN_SIGNER_CERTIFICATE_H_
#define CONGVAN_SIGNER_CERTIFICATE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct x509_st;

namespace congvan::signer {

// An immutable, parsed X.509 certificate. Cheap to copy (shares the parsed
// object). Thread-safe for concurrent reads.
class Certificate {
 public:
  // Parses one DER certificate. INVALID_ARGUMENT if it is not one.
  [[nodiscard]] static absl::StatusOr<Certificate> FromDer(std::string_view der);
  // Takes a reference to an OpenSSL certificate (for use inside signer).
  static Certificate FromNative(x509_st* x509);

  const std::string& der() const { return der_; }
  std::string Pem() const;

  // The subject as one line, RFC 2253 style ("CN=...,O=...,C=VN").
  std::string Subject() const;
  std::string Issuer() const;
  // The subject's commonName, empty if there is none.
  std::string CommonName() const;
  // Serial number in upper-case hex.
  std::string SerialHex() const;
  absl::Time NotBefore() const;
  absl::Time NotAfter() const;
  // basicConstraints cA=TRUE.
  bool IsCa() const;
  // SHA-256 of the DER encoding, lower-case hex.
  std::string Sha256Hex() const;

  // The agency ID from urn:congvan:agency:<ID>; nullopt if absent.
  std::optional<std::string> AgencyId() const;
  // The person login from urn:congvan:person:<login>; nullopt if absent.
  std::optional<std::string> PersonLogin() const;

  // The underlying OpenSSL object, owned by this Certificate.
  x509_st* native() const { return x509_.get(); }

 private:
  Certificate(std::shared_ptr<x509_st> x509, std::string der);
  std::shared_ptr<x509_st> x509_;
  std::string der_;
};

// Parses every certificate in `data`: one DER certificate, or any number of
// PEM "CERTIFICATE" blocks. INVALID_ARGUMENT if none can be read.
[[nodiscard]] absl::StatusOr<std::vector<Certificate>> ParseCertificates(std::string_view data);

// Reads a file and parses it as ParseCertificates does. NOT_FOUND if the file
// cannot be read; the message names the file.
[[nodiscard]] absl::StatusOr<std::vector<Certificate>> LoadCertificates(const std::string& path);

// Reads a whole file. NOT_FOUND if it cannot be read.
[[nodiscard]] absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes a file atomically (temp file, fsync, rename) with the given mode.
[[nodiscard]] absl::Status WriteFile(const std::string& path, std::string_view data, int mode = 0644);

}  // namespace congvan::signer

#endif  // CONGVAN_SIGNER_CERTIFICATE_H_
