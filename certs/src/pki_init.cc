// `congvan pki init`: the whole dev PKI for a topology (certs/README.md).
#include <algorithm>
#include <filesystem>

#include "congvan/pki/layout.h"
#include "congvan/pki/pki.h"
#include "congvan/pki/topology.h"
#include "congvan/signer/status_macros.h"
#include "files.h"
#include "issuer.h"
#include "node_files.h"
#include "revocation.h"
#include "token_setup.h"

namespace congvan::pki {
namespace {

using signer::CertificateAuthority;
using signer::CertificateProfile;
using signer::CertificateRequest;

constexpr int kRootYears = 20;
constexpr int kIssuingYears = 10;
constexpr int kEndEntityYears = 2;
constexpr char kCaOrganization[] = "congvan dev PKI";
constexpr char kRootName[] = "congvan Dev Root CA";
constexpr char kIssuingName[] = "congvan Dev Issuing CA";

CertificateRequest AgencyRequest(CertificateProfile profile, const Agency& agency, std::string common_name) {
  CertificateRequest r;
  r.profile = profile;
  r.common_name = std::move(common_name);
  r.organization = agency.name;
  r.agency_id = agency.id.str();
  return r;
}

CertificateRequest PersonRequest(CertificateProfile profile, const Person& person, const Agency& agency) {
  CertificateRequest r;
  r.profile = profile;
  r.common_name = person.name;
  r.organization = agency.name;
  r.organizational_unit = person.position;
  r.agency_id = agency.id.str();
  r.person_login = person.login;
  return r;
}

// Root and issuing CA, written to ca/.
absl::StatusOr<std::pair<CertificateAuthority, CertificateAuthority>> MakeCas(const PkiLayout& layout,
                                                                               const InitOptions& options,
                                                                               std::vector<IssuedCertificate>* record) {
  ASSIGN_OR_RETURN(signer::GeneratedKey root_key, signer::GenerateKey(options.key_type));
  ASSIGN_OR_RETURN(CertificateAuthority root,
                   CertificateAuthority::CreateRoot(root_key, kRootName, kCaOrganization, options.now,
                                                    internal::AddYears(options.now, kRootYears)));
  RETURN_IF_ERROR(signer::WriteFile(layout.RootKey(), root_key.private_key_pem, 0600));
  RETURN_IF_ERROR(signer::WriteFile(layout.RootCert(), root.certificate().Pem(), 0644));
  CertificateRequest root_request;
  root_request.profile = CertificateProfile::kRootCa;
  internal::RecordIssued(root.certificate(), root_request, layout.RootCert(), layout.RootKey(), record);

  ASSIGN_OR_RETURN(signer::GeneratedKey issuing_key, signer::GenerateKey(options.key_type));
  CertificateRequest request;
  request.profile = CertificateProfile::kIssuingCa;
  request.public_key_der = issuing_key.public_key_der;
  request.common_name = kIssuingName;
  request.organization = kCaOrganization;
  request.not_before = options.now;
  request.not_after = internal::AddYears(options.now, kIssuingYears);
  ASSIGN_OR_RETURN(signer::Certificate issuing_cert, root.Issue(request));
  RETURN_IF_ERROR(signer::WriteFile(layout.IssuingKey(), issuing_key.private_key_pem, 0600));
  RETURN_IF_ERROR(signer::WriteFile(layout.IssuingCert(), issuing_cert.Pem(), 0644));
  internal::RecordIssued(issuing_cert, request, layout.IssuingCert(), layout.IssuingKey(), record);
  ASSIGN_OR_RETURN(CertificateAuthority issuing,
                   CertificateAuthority::FromPem(issuing_cert, issuing_key.private_key_pem));
  return std::make_pair(std::move(root), std::move(issuing));
}

absl::Status IssueAgency(const PkiLayout& layout, const Topology& topology, const Agency& agency,
                         internal::CertificateWriter& writer) {
  RETURN_IF_ERROR(internal::MakeDir(layout.AgencyDir(agency.id)));
  RETURN_IF_ERROR(writer.IssueWithNewKey(AgencyRequest(CertificateProfile::kSeal, agency, agency.name),
                                         layout.SealCert(agency.id), layout.SealKey(agency.id)));
  CertificateRequest tls = AgencyRequest(CertificateProfile::kNodeTls, agency, agency.id.str());
  tls.dns_names = {"localhost"};
  tls.ip_addresses = {"127.0.0.1"};
  RETURN_IF_ERROR(writer.IssueWithNewKey(tls, layout.NodeTlsCert(agency.id), layout.NodeTlsKey(agency.id)));
  if (agency.id == topology.root()) {
    RETURN_IF_ERROR(writer.IssueWithNewKey(
        AgencyRequest(CertificateProfile::kTimestamping, agency, "TSA " + agency.id.str()),
        layout.TsaCert(agency.id), layout.TsaKey(agency.id)));
  }
  return absl::OkStatus();
}

absl::Status IssuePerson(const PkiLayout& layout, const InitOptions& options, const Agency& agency,
                         const Person& person, internal::CertificateWriter& writer, InitResult* result) {
  RETURN_IF_ERROR(internal::MakeDir(layout.PersonDir(person.login)));
  const CertificateRequest sign = PersonRequest(CertificateProfile::kPersonSigning, person, agency);
  if (person.token) {
    ASSIGN_OR_RETURN(std::string public_key, internal::ProvisionPersonToken(layout, options.pkcs11_module,
                                                                            person.login, options.key_type));
    RETURN_IF_ERROR(writer.IssueForKey(sign, public_key, layout.SigningCert(person.login)));
    result->tokens.push_back(
        {person.login, layout.TokenConfig(person.login), person.login, internal::kTokenKeyLabel});
  } else {
    RETURN_IF_ERROR(writer.IssueWithNewKey(sign, layout.SigningCert(person.login), layout.SigningKey(person.login)));
  }
  return writer.IssueWithNewKey(PersonRequest(CertificateProfile::kPersonTls, person, agency),
                                layout.PersonTlsCert(person.login), layout.PersonTlsKey(person.login));
}

}  // namespace

absl::StatusOr<InitResult> InitPki(const InitOptions& options) {
  if (options.out_dir.empty()) return absl::InvalidArgumentError("no output directory given");
  ASSIGN_OR_RETURN(Topology topology, Topology::Load(options.topology_file));
  ASSIGN_OR_RETURN(std::string topology_text, signer::ReadFile(options.topology_file));
  const PkiLayout layout(internal::AbsolutePath(options.out_dir));
  RETURN_IF_ERROR(internal::CheckEmptyOrMissing(layout.dir()));
  RETURN_IF_ERROR(internal::CheckBasePort(options.base_port, topology.agencies().size()));
  const auto& people = topology.people();
  const bool has_tokens = std::any_of(people.begin(), people.end(), [](const Person& p) { return p.token; });
  // Fail before writing anything rather than half way through.
  if (has_tokens && !std::filesystem::exists(options.pkcs11_module)) {
    return absl::FailedPreconditionError("the PKCS#11 module " + options.pkcs11_module +
                                         " for the token people does not exist (install softhsm2)");
  }
  RETURN_IF_ERROR(internal::MakeDir(layout.dir()));
  RETURN_IF_ERROR(internal::MakeDir(layout.CaDir()));

  InitResult result;
  result.dir = layout.dir();
  ASSIGN_OR_RETURN(auto cas, MakeCas(layout, options, &result.certificates));
  auto& [root, issuing] = cas;

  internal::CertificateWriter writer(issuing, options.key_type, options.now,
                                     internal::AddYears(options.now, kEndEntityYears), &result.certificates);
  for (const Agency& agency : topology.agencies()) {
    RETURN_IF_ERROR(IssueAgency(layout, topology, agency, writer));
  }
  if (has_tokens) RETURN_IF_ERROR(internal::PrepareSoftHsm(layout));
  for (const Person& person : people) {
    RETURN_IF_ERROR(IssuePerson(layout, options, *topology.FindAgency(person.agency), person, writer, &result));
  }

  const internal::RevocationState nothing_revoked;
  RETURN_IF_ERROR(internal::SaveRevocationState(layout.RevocationState(), nothing_revoked));
  RETURN_IF_ERROR(internal::WriteCrls(layout, root, issuing, nothing_revoked, options.now));
  RETURN_IF_ERROR(internal::WriteNodeFiles(layout, topology, options.base_port));
  RETURN_IF_ERROR(signer::WriteFile(layout.Topology(), topology_text, 0644));
  return result;
}

}  // namespace congvan::pki
