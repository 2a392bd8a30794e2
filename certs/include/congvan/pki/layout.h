// Where `congvan pki init` puts each file under its output directory
// (certs/README.md, "Output layout"). Pure path arithmetic: nothing here
// touches the disk.
#ifndef CONGVAN_PKI_LAYOUT_H_
#define CONGVAN_PKI_LAYOUT_H_

#include <string>

#include "congvan/signer/agency_id.h"

namespace congvan::pki {

class PkiLayout {
 public:
  explicit PkiLayout(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  std::string CaDir() const { return dir_ + "/ca"; }
  std::string RootCert() const { return CaDir() + "/root.pem"; }
  std::string RootKey() const { return CaDir() + "/root.key"; }
  std::string IssuingCert() const { return CaDir() + "/issuing.pem"; }
  std::string IssuingKey() const { return CaDir() + "/issuing.key"; }
  // Two PEM CRLs: the root's (covering the issuing CA) and the issuing CA's.
  std::string Crl() const { return CaDir() + "/crl.pem"; }
  // What has been revoked so far, from which Crl() is rewritten.
  std::string RevocationState() const { return CaDir() + "/revoked.toml"; }
  // A copy of the topology the PKI was made from.
  std::string Topology() const { return dir_ + "/topology.toml"; }
  std::string SoftHsmConfig() const { return dir_ + "/softhsm2.conf"; }
  std::string SoftHsmTokenDir() const { return dir_ + "/softhsm/tokens"; }

  std::string AgencyDir(const signer::AgencyId& id) const { return dir_ + "/agencies/" + id.str(); }
  std::string SealCert(const signer::AgencyId& id) const { return AgencyDir(id) + "/seal.pem"; }
  std::string SealKey(const signer::AgencyId& id) const { return AgencyDir(id) + "/seal.key"; }
  std::string NodeTlsCert(const signer::AgencyId& id) const { return AgencyDir(id) + "/tls.pem"; }
  std::string NodeTlsKey(const signer::AgencyId& id) const { return AgencyDir(id) + "/tls.key"; }
  // Only for the root agency.
  std::string TsaCert(const signer::AgencyId& id) const { return AgencyDir(id) + "/tsa.pem"; }
  std::string TsaKey(const signer::AgencyId& id) const { return AgencyDir(id) + "/tsa.key"; }

  // The agency's node: its congvand configuration and (made by congvand)
  // its database.
  std::string NodeDir(const signer::AgencyId& id) const { return dir_ + "/nodes/" + id.str(); }
  std::string NodeConfig(const signer::AgencyId& id) const { return NodeDir(id) + "/node.toml"; }
  std::string NodeDataDir(const signer::AgencyId& id) const { return NodeDir(id) + "/data"; }

  std::string PersonDir(const std::string& login) const { return dir_ + "/people/" + login; }
  // How the person's `congvan` reaches their agency's node.
  std::string Profile(const std::string& login) const { return PersonDir(login) + "/profile.toml"; }
  std::string SigningCert(const std::string& login) const { return PersonDir(login) + "/sign.pem"; }
  // Absent for a person whose key is on a token.
  std::string SigningKey(const std::string& login) const { return PersonDir(login) + "/sign.key"; }
  std::string PersonTlsCert(const std::string& login) const { return PersonDir(login) + "/tls.pem"; }
  std::string PersonTlsKey(const std::string& login) const { return PersonDir(login) + "/tls.key"; }
  // Only for a person with `token = true`.
  std::string TokenConfig(const std::string& login) const { return PersonDir(login) + "/token.toml"; }
  std::string TokenPin(const std::string& login) const { return PersonDir(login) + "/token.pin"; }
  std::string TokenSoPin(const std::string& login) const { return PersonDir(login) + "/token.so-pin"; }

 private:
  std::string dir_;
};

}  // namespace congvan::pki

#endif  // CONGVAN_PKI_LAYOUT_H_
