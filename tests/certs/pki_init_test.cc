// `congvan pki init`, run as a real process on deploy/topologies/sample.toml:
// the files it writes, the identities in every certificate, `openssl verify`
// on every certificate, and the SoftHSM2 tokens.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "congvan/pki/layout.h"
#include "congvan/pki/topology.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/key_backend.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace congvan::pki {
namespace {

namespace fs = std::filesystem;
using ::congvan::testing::Bin;
using ::congvan::testing::IsOk;
using ::congvan::testing::ReadTestFile;
using ::congvan::testing::RunResult;
using ::congvan::testing::TempDir;
using ::congvan::testing::WriteTestFile;
using ::testing::HasSubstr;

const std::string kSample = std::string(CONGVAN_SOURCE_DIR) + "/deploy/topologies/sample.toml";

int Mode(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

bool Exists(const std::string& path) { return fs::exists(path); }

signer::Certificate LoadCert(const std::string& path) {
  auto certs = signer::LoadCertificates(path);
  EXPECT_THAT(certs, IsOk()) << path;
  if (!certs.ok()) std::abort();
  return certs->front();
}

// One PKI per key type, made once per process by the real CLI.
struct InitializedPki {
  TempDir tmp;
  std::string dir;
  RunResult run;
  nlohmann::json output;
};

const InitializedPki& PkiFor(const std::string& key_type) {
  static std::map<std::string, std::unique_ptr<InitializedPki>> made;
  std::unique_ptr<InitializedPki>& pki = made[key_type];
  if (pki == nullptr) {
    pki = std::make_unique<InitializedPki>();
    pki->dir = pki->tmp.File("pki");
    pki->run = ::congvan::testing::Run({Bin("congvan"), "pki", "init", "--topology", kSample, "--out", pki->dir, "--key-type", key_type,
                    "--json"});
    pki->output = nlohmann::json::parse(pki->run.out, nullptr, /*allow_exceptions=*/false);
  }
  return *pki;
}

class PkiInitTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const InitializedPki& pki = PkiFor(GetParam());
    ASSERT_EQ(pki.run.exit_code, 0) << pki.run.err;
    auto topology = Topology::Load(kSample);
    ASSERT_OK(topology);
    topology_ = std::make_unique<Topology>(*std::move(topology));
    layout_ = std::make_unique<PkiLayout>(pki.dir);
  }

  void ExpectFilesAndIdentities();
  void ExpectOpenSslVerifiesEverything();
  void ExpectTokensSign();

  std::unique_ptr<Topology> topology_;
  std::unique_ptr<PkiLayout> layout_;
};

void PkiInitTest::ExpectFilesAndIdentities() {
  const PkiLayout& l = *layout_;
  for (const std::string& key : {l.RootKey(), l.IssuingKey()}) EXPECT_EQ(Mode(key), 0600) << key;
  for (const std::string& file : {l.RootCert(), l.IssuingCert(), l.Crl(), l.RevocationState(), l.SoftHsmConfig()}) {
    EXPECT_TRUE(Exists(file)) << file;
  }
  EXPECT_EQ(ReadTestFile(l.Topology()), ReadTestFile(kSample));
  EXPECT_FALSE(LoadCert(l.RootCert()).AgencyId().has_value());

  // Every certificate under agencies/ and people/, with the identity the
  // topology gives it.
  std::map<std::string, std::pair<std::string, std::optional<std::string>>> expected;  // file -> agency, login
  for (const Agency& a : topology_->agencies()) {
    for (const auto& [cert, key] : {std::pair{l.SealCert(a.id), l.SealKey(a.id)},
                                    std::pair{l.NodeTlsCert(a.id), l.NodeTlsKey(a.id)}}) {
      expected[cert] = {a.id.str(), std::nullopt};
      EXPECT_EQ(Mode(key), 0600) << key;
    }
    if (a.id == topology_->root()) {
      expected[l.TsaCert(a.id)] = {a.id.str(), std::nullopt};
      EXPECT_EQ(Mode(l.TsaKey(a.id)), 0600);
    }
  }
  for (const Person& p : topology_->people()) {
    expected[l.SigningCert(p.login)] = {p.agency.str(), p.login};
    expected[l.PersonTlsCert(p.login)] = {p.agency.str(), p.login};
    EXPECT_EQ(Mode(l.PersonTlsKey(p.login)), 0600) << p.login;
    if (p.token) {
      EXPECT_FALSE(Exists(l.SigningKey(p.login))) << "the key of " << p.login << " must stay on the token";
      EXPECT_TRUE(Exists(l.TokenConfig(p.login))) << p.login;
      EXPECT_EQ(Mode(l.TokenPin(p.login)), 0600) << p.login;
      EXPECT_EQ(Mode(l.TokenSoPin(p.login)), 0600) << p.login;
    } else {
      EXPECT_EQ(Mode(l.SigningKey(p.login)), 0600) << p.login;
      EXPECT_FALSE(Exists(l.TokenConfig(p.login))) << p.login;
    }
  }
  std::set<std::string> found;
  for (const char* sub : {"/agencies", "/people"}) {
    for (const auto& entry : fs::recursive_directory_iterator(l.dir() + sub)) {
      if (entry.path().extension() == ".pem") found.insert(entry.path().string());
      if (entry.path().extension() == ".key") {
        EXPECT_EQ(Mode(entry.path().string()), 0600) << entry.path();
      }
    }
  }
  std::set<std::string> wanted;
  for (const auto& [file, identity] : expected) wanted.insert(file);
  EXPECT_EQ(found, wanted);
  for (const auto& [file, identity] : expected) {
    if (!Exists(file)) continue;
    signer::Certificate cert = LoadCert(file);
    EXPECT_EQ(cert.AgencyId(), identity.first) << file;
    EXPECT_EQ(cert.PersonLogin(), identity.second) << file;
  }

  // The --json output lists the same certificates with the same identities.
  const nlohmann::json& out = PkiFor(GetParam()).output;
  ASSERT_TRUE(out.is_object()) << PkiFor(GetParam()).run.out;
  EXPECT_EQ(out["ok"], true);
  EXPECT_EQ(out["key_type"], GetParam());
  EXPECT_EQ(out["certificates"].size(), expected.size() + 2);
  for (const auto& c : out["certificates"]) {
    const std::string file = c["cert_file"];
    if (c["profile"] == "root-ca" || c["profile"] == "issuing-ca") continue;
    ASSERT_EQ(expected.count(file), 1u) << file;
    EXPECT_EQ(c["agency_id"], expected[file].first);
    EXPECT_EQ(c["serial"], LoadCert(file).SerialHex());
  }
  EXPECT_EQ(out["tokens"].size(), 2u);

  // A key file holds the key of its certificate, of the requested type.
  auto seal_key = signer::LoadKeyFile(l.SealKey(topology_->root()));
  ASSERT_OK(seal_key);
  EXPECT_OK(signer::CheckKeyMatchesCertificate(**seal_key, LoadCert(l.SealCert(topology_->root()))));
  const size_t spki_size = (*seal_key)->public_key_der().size();
  const size_t expected_spki_size = GetParam() == "p256" ? 91 : 294;  // P-256 / RSA-2048 SubjectPublicKeyInfo
  EXPECT_EQ(spki_size, expected_spki_size);
}

void PkiInitTest::ExpectOpenSslVerifiesEverything() {
  const PkiLayout& l = *layout_;
  auto verify = [&](const std::vector<std::string>& files, const std::string& purpose) {
    std::vector<std::string> argv = {"openssl", "verify", "-CAfile", l.RootCert(), "-untrusted", l.IssuingCert(),
                                     "-crl_check_all", "-CRLfile", l.Crl()};
    if (!purpose.empty()) argv.insert(argv.end(), {"-purpose", purpose});
    argv.insert(argv.end(), files.begin(), files.end());
    RunResult r = ::congvan::testing::Run(argv);
    EXPECT_EQ(r.exit_code, 0) << purpose << "\n" << r.out << r.err;
  };
  std::vector<std::string> signing, node_tls, person_tls;
  for (const Agency& a : topology_->agencies()) {
    signing.push_back(l.SealCert(a.id));
    node_tls.push_back(l.NodeTlsCert(a.id));
  }
  for (const Person& p : topology_->people()) {
    signing.push_back(l.SigningCert(p.login));
    person_tls.push_back(l.PersonTlsCert(p.login));
  }
  verify({l.IssuingCert()}, "");
  verify(signing, "smimesign");
  verify(node_tls, "sslserver");
  verify(node_tls, "sslclient");
  verify(person_tls, "sslclient");
  verify({l.TsaCert(topology_->root())}, "timestampsign");
}

void PkiInitTest::ExpectTokensSign() {
  // SoftHSM2 reads its configuration once per process: the tokens of a
  // second PKI cannot be opened in the same process (ctest runs every case
  // in its own process, so this only happens when the whole binary runs at
  // once).
  static std::string bound_config;
  if (!bound_config.empty() && bound_config != layout_->SoftHsmConfig()) {
    std::cout << "[   NOTE   ] token signing not checked: another PKI's SoftHSM2 is loaded in this process\n";
    return;
  }
  bound_config = layout_->SoftHsmConfig();
  setenv("SOFTHSM2_CONF", bound_config.c_str(), 1);

  TempDir work;
  const std::string data = "Công văn số 12/UBND-VP";
  WriteTestFile(work.File("data"), data);
  int tokens = 0;
  for (const Person& p : topology_->people()) {
    if (!p.token) continue;
    ++tokens;
    SCOPED_TRACE(p.login);
    ASSERT_OK_AND_ASSIGN(signer::TokenConfig config, signer::LoadTokenConfig(layout_->TokenConfig(p.login)));
    EXPECT_EQ(config.token, p.login);
    EXPECT_EQ(config.module, "/usr/lib/softhsm/libsofthsm2.so");
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<signer::KeyBackend> key, signer::OpenTokenKey(config));
    const signer::Certificate cert = LoadCert(layout_->SigningCert(p.login));
    EXPECT_OK(signer::CheckKeyMatchesCertificate(*key, cert));
    ASSERT_OK_AND_ASSIGN(std::string signature, key->Sign(data));
    // OpenSSL checks the token's signature with the certificate's key.
    WriteTestFile(work.File("sig"), signature);
    RunResult pub = ::congvan::testing::Run({"openssl", "x509", "-pubkey", "-noout", "-in", layout_->SigningCert(p.login)});
    WriteTestFile(work.File("pub.pem"), pub.out);
    RunResult check = ::congvan::testing::Run({"openssl", "dgst", "-sha256", "-verify", work.File("pub.pem"), "-signature",
                           work.File("sig"), work.File("data")});
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  }
  EXPECT_EQ(tokens, 2);
}

TEST_P(PkiInitTest, CreatesAVerifiablePkiForTheSampleTopology) {
  {
    SCOPED_TRACE("files and identities");
    ExpectFilesAndIdentities();
  }
  {
    SCOPED_TRACE("openssl verify");
    ExpectOpenSslVerifiesEverything();
  }
  {
    SCOPED_TRACE("tokens");
    ExpectTokensSign();
  }
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, PkiInitTest, ::testing::Values("rsa2048", "p256"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(PkiInit, RefusesANonEmptyDirectory) {
  TempDir tmp;
  WriteTestFile(tmp.File("precious.txt"), "keep me");
  RunResult r = ::congvan::testing::Run({Bin("congvan"), "pki", "init", "--topology", kSample, "--out", tmp.path()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("congvan pki init: "));
  EXPECT_THAT(r.err, HasSubstr("is not empty"));
  EXPECT_EQ(ReadTestFile(tmp.File("precious.txt")), "keep me");
  EXPECT_FALSE(Exists(tmp.File("ca")));
}

TEST(PkiInit, ReportsAnInvalidTopologyWithoutWritingAnything) {
  TempDir tmp;
  WriteTestFile(tmp.File("bad.toml"), "root = \"000.00.00.A00\"\n");
  RunResult r = ::congvan::testing::Run({Bin("congvan"), "pki", "init", "--topology", tmp.File("bad.toml"), "--out", tmp.File("pki"),
                     "--json"});
  EXPECT_EQ(r.exit_code, 1);
  auto out = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(out.is_object()) << r.out;
  EXPECT_EQ(out["ok"], false);
  EXPECT_EQ(out["code"], "INVALID_ARGUMENT");
  EXPECT_THAT(out["error"].get<std::string>(), HasSubstr("bad.toml: the root 000.00.00.A00 must also be listed"));
  EXPECT_FALSE(Exists(tmp.File("pki")));
}

TEST(PkiInit, AnUnknownKeyTypeIsAUsageError) {
  TempDir tmp;
  RunResult r = ::congvan::testing::Run({Bin("congvan"), "pki", "init", "--topology", kSample, "--out", tmp.File("pki"), "--key-type",
                     "dsa1024"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(Exists(tmp.File("pki")));
}

}  // namespace
}  // namespace congvan::pki
