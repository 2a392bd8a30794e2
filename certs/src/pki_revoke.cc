// `congvan pki revoke`: adds a certificate to its CA's CRL and rewrites
// ca/crl.pem from ca/revoked.toml.
#include <algorithm>

#include "congvan/pki/layout.h"
#include "congvan/pki/pki.h"
#include "congvan/signer/ca.h"
#include "congvan/signer/status_macros.h"
#include "congvan/signer/trust.h"
#include "revocation.h"

namespace congvan::pki {
namespace {

using internal::RevokingCa;

// Which of this PKI's CAs issued `cert`, checked by validating its path to
// the root (at its own start of validity, so that an expired certificate can
// still be revoked).
absl::StatusOr<RevokingCa> IssuerOf(const signer::Certificate& cert, const signer::CertificateAuthority& root,
                                    const signer::CertificateAuthority& issuing, const std::string& cert_file,
                                    const std::string& dir) {
  if (cert.der() == root.certificate().der()) {
    return absl::FailedPreconditionError(cert_file + " is the root CA: it cannot be revoked; make a new PKI");
  }
  ASSIGN_OR_RETURN(signer::TrustStore trust, signer::TrustStore::Create({root.certificate()}));
  const absl::Time at = std::min(cert.NotBefore() + absl::Seconds(1), cert.NotAfter());
  auto chain = trust.Validate(cert, {issuing.certificate()}, signer::KeyPurpose::kAny, at);
  if (!chain.ok()) {
    return absl::FailedPreconditionError(cert_file + " was not issued by the PKI in " + dir + ": " +
                                         std::string(chain.status().message()));
  }
  // leaf, root: the issuing CA itself; leaf, issuing CA, root: an end entity.
  return chain->chain.size() <= 2 ? RevokingCa::kRoot : RevokingCa::kIssuing;
}

}  // namespace

const std::vector<std::string>& RevocationReasons() {
  static const auto* const kReasons = new std::vector<std::string>{
      "unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
      "superseded",  "cessationOfOperation", "certificateHold"};
  return *kReasons;
}

absl::StatusOr<RevokeResult> RevokeCertificate(const RevokeOptions& options) {
  const auto& reasons = RevocationReasons();
  if (std::find(reasons.begin(), reasons.end(), options.reason) == reasons.end()) {
    return absl::InvalidArgumentError("unknown revocation reason '" + options.reason +
                                      "' (use unspecified, keyCompromise, cACompromise, affiliationChanged, "
                                      "superseded, cessationOfOperation or certificateHold)");
  }
  const PkiLayout layout(options.dir);
  ASSIGN_OR_RETURN(std::vector<signer::Certificate> certs, signer::LoadCertificates(options.cert_file));
  const signer::Certificate& cert = certs.front();
  ASSIGN_OR_RETURN(signer::CertificateAuthority root,
                   signer::CertificateAuthority::Load(layout.RootCert(), layout.RootKey()));
  ASSIGN_OR_RETURN(signer::CertificateAuthority issuing,
                   signer::CertificateAuthority::Load(layout.IssuingCert(), layout.IssuingKey()));
  ASSIGN_OR_RETURN(RevokingCa ca, IssuerOf(cert, root, issuing, options.cert_file, options.dir));
  ASSIGN_OR_RETURN(internal::RevocationState state, internal::LoadRevocationState(layout.RevocationState()));

  RevokeResult result;
  result.serial_hex = cert.SerialHex();
  result.subject = cert.Subject();
  if (const internal::RevokedEntry* earlier = state.Find(ca, result.serial_hex)) {
    result.already_revoked = true;
    result.reason = earlier->revocation.reason;
    result.revoked_at = earlier->revocation.revoked_at;
  } else {
    internal::RevokedEntry entry;
    entry.ca = ca;
    entry.revocation = {result.serial_hex, options.now, options.reason};
    entry.subject = result.subject;
    state.revoked.push_back(std::move(entry));
    result.reason = options.reason;
    result.revoked_at = options.now;
  }
  // Every CRL made is a new one, with a higher number (RFC 5280 5.2.3).
  ++state.crl_number;
  result.crl_number = state.crl_number;
  RETURN_IF_ERROR(internal::SaveRevocationState(layout.RevocationState(), state));
  RETURN_IF_ERROR(internal::WriteCrls(layout, root, issuing, state, options.now));
  return result;
}

}  // namespace congvan::pki
