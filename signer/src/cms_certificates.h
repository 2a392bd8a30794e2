// Certificates carried in a CMS SignedData, read once per process.
//
// OpenSSL 3.0 decodes every certificate's public key through its decoder
// framework when it parses a certificate, which costs several times a P-256
// signature (measured in tests/bench/README.md). A node sees the same few
// seal and leader certificates in thousands of signatures, so VerifyDigest
// takes them out of the DER before OpenSSL parses it, and parses each
// certificate only the first time it sees it.
#ifndef CONGVAN_SIGNER_SRC_CMS_CERTIFICATES_H_
#define CONGVAN_SIGNER_SRC_CMS_CERTIFICATES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "congvan/signer/certificate.h"

namespace congvan::signer::internal {

struct SplitSignedData {
  std::string without_certificates;          // the same ContentInfo, its certificates field left out
  std::vector<std::string_view> certificates;  // each certificate's DER, in order (views into the input)
};

// Splits a DER ContentInfo holding SignedData with a certificates field of
// plain X.509 certificates. nullopt for anything else (no certificates,
// other certificate formats, indefinite lengths, trailing bytes, garbage):
// the caller then parses the input as it is, and OpenSSL judges it. Only
// the certificates field, which no signature covers, is removed.
std::optional<SplitSignedData> SplitCertificates(std::string_view der);

// The certificate of `der`, parsed the first time and shared afterwards.
// INVALID_ARGUMENT if it is not one.
absl::StatusOr<Certificate> CachedCertificate(std::string_view der);

}  // namespace congvan::signer::internal

#endif  // CONGVAN_SIGNER_SRC_CMS_CERTIFICATES_H_
