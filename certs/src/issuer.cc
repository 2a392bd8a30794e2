#include "issuer.h"

#include "congvan/signer/status_macros.h"

namespace congvan::pki::internal {

using signer::CertificateProfile;

std::string ProfileName(CertificateProfile profile) {
  switch (profile) {
    case CertificateProfile::kRootCa: return "root-ca";
    case CertificateProfile::kIssuingCa: return "issuing-ca";
    case CertificateProfile::kSeal: return "seal";
    case CertificateProfile::kPersonSigning: return "person-signing";
    case CertificateProfile::kNodeTls: return "node-tls";
    case CertificateProfile::kPersonTls: return "person-tls";
    case CertificateProfile::kTimestamping: return "timestamping";
  }
  return "unknown";
}

absl::Time AddYears(absl::Time t, int years) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilSecond c = absl::ToCivilSecond(t, utc);
  return absl::FromCivil(absl::CivilSecond(c.year() + years, c.month(), c.day(), c.hour(), c.minute(), c.second()),
                         utc);
}

void RecordIssued(const signer::Certificate& cert, const signer::CertificateRequest& request,
                  const std::string& cert_file, const std::string& key_file,
                  std::vector<IssuedCertificate>* record) {
  record->push_back({ProfileName(request.profile), cert_file, key_file, request.agency_id, request.person_login,
                     cert.SerialHex(), cert.Subject()});
}

// An end-entity PEM holds the certificate and then the issuing CA's, so that
// what is signed or handshaken with it carries its chain.
std::string CertificateWriter::ChainPem(const signer::Certificate& cert) const {
  return cert.Pem() + ca_.certificate().Pem();
}

absl::Status CertificateWriter::IssueWithNewKey(signer::CertificateRequest request, const std::string& cert_file,
                                                const std::string& key_file) {
  ASSIGN_OR_RETURN(signer::GeneratedKey key, signer::GenerateKey(key_type_));
  request.public_key_der = key.public_key_der;
  request.not_before = not_before_;
  request.not_after = not_after_;
  ASSIGN_OR_RETURN(signer::Certificate cert, ca_.Issue(request));
  RETURN_IF_ERROR(signer::WriteFile(key_file, key.private_key_pem, 0600));
  RETURN_IF_ERROR(signer::WriteFile(cert_file, ChainPem(cert), 0644));
  RecordIssued(cert, request, cert_file, key_file, record_);
  return absl::OkStatus();
}

absl::Status CertificateWriter::IssueForKey(signer::CertificateRequest request, const std::string& public_key_der,
                                            const std::string& cert_file) {
  request.public_key_der = public_key_der;
  request.not_before = not_before_;
  request.not_after = not_after_;
  ASSIGN_OR_RETURN(signer::Certificate cert, ca_.Issue(request));
  RETURN_IF_ERROR(signer::WriteFile(cert_file, ChainPem(cert), 0644));
  RecordIssued(cert, request, cert_file, "", record_);
  return absl::OkStatus();
}

}  // namespace congvan::pki::internal
