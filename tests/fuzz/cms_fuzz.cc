// Fuzzes the signer library's readers of DER from outside: CMS signatures
// (congvan/signer/cms.h), RFC 3161 tokens (timestamp.h) and the
// certificates and CRLs they and the trust configuration carry.
//
// Input: a 2-byte little-endian length n, then n bytes of content, then the
// DER (an input shorter than its n is all content, with empty DER). Each
// input is verified as:
//   - a detached signature over the content (VerifyDetached), which is how
//     every seal and every leader signature is checked;
//   - a signature over a digest, the content taken as the digest itself
//     (VerifyDigest, also with digests that are not 32 bytes);
//   - a timestamp token over the content as a SHA-256 (VerifyTimestampToken,
//     which reads the encapsulated TSTInfo: CMS with content), and its
//     genTime read without verification (TimestampTokenTime);
//   - the certificates the CMS carries (CertificatesInCms), and the DER as a
//     certificate list and as CRLs.
#include <algorithm>
#include <cstdint>
#include <string_view>

#include "congvan/signer/certificate.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/timestamp.h"
#include "congvan/signer/trust.h"
#include "fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace congvan;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view content;
  std::string_view der;
  if (size >= 2) {
    const size_t n = static_cast<size_t>(data[0]) | (static_cast<size_t>(data[1]) << 8);
    content = input.substr(2, n);
    der = input.substr(std::min(size, 2 + n));
  }

  const signer::TrustStore& trust = fuzz::Trust();
  absl::StatusOr<signer::VerifiedSignature> detached = signer::VerifyDetached(content, der, trust, fuzz::VerifyAt());
  fuzz::Trace("detached", detached.status());
  if (detached.ok()) {
    // A verified signature names its signer and a chain up to an anchor.
    FUZZ_CHECK(!detached->chain.empty());
    FUZZ_CHECK(detached->chain.front().der() == detached->signer.der());
  }
  absl::StatusOr<signer::VerifiedSignature> digest = signer::VerifyDigest(content, der, trust, fuzz::VerifyAt());
  FUZZ_CHECK(!digest.ok() || content.size() == 32);
  // The same signature, over the same content, verifies both ways.
  if (detached.ok()) FUZZ_CHECK(signer::VerifyDigest(signer::Sha256(content), der, trust, fuzz::VerifyAt()).ok());

  absl::StatusOr<signer::VerifiedTimestamp> token = signer::VerifyTimestampToken(der, content, trust);
  fuzz::Trace("timestamp token", token.status());
  if (token.ok()) FUZZ_CHECK(content.size() == 32);
  absl::StatusOr<absl::Time> gen_time = signer::TimestampTokenTime(der);
  if (token.ok()) FUZZ_CHECK(gen_time.ok() && *gen_time == token->gen_time);

  fuzz::Trace("certificates in the CMS", signer::CertificatesInCms(der).status());
  fuzz::Trace("certificates", signer::ParseCertificates(der).status());
  fuzz::Trace("CRLs", signer::Crl::Parse(der).status());
  return 0;
}
