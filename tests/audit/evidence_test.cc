// The offline verifier of evidence containers (congvan/audit/evidence.h),
// against containers built here as the node exports them: real seals and
// leader signatures from a dev CA, a real Merkle tree with its proofs, a
// real RFC 3161 token. A good container passes every check; one changed
// byte in any file fails a check that names that file; a container without
// a token fails "no timestamp"; a wrong inclusion proof fails; certificates
// are checked at the proven time, so a verification decades later passes.
#include "congvan/audit/evidence.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "congvan/audit/asic_manifest.h"
#include "congvan/audit/container.h"
#include "congvan/audit/evidence_layout.h"
#include "congvan/audit/merkle.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/status_macros.h"
#include "congvan/signer/timestamp.h"
#include "congvan/v1/audit.pb.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/test_pki.h"

namespace congvan::audit {
namespace {

namespace layout = evidence;
using ::congvan::signer::Sha256;
using ::congvan::testing::IsOk;
using ::congvan::testing::LeafOptions;
using ::congvan::testing::StatusIs;
using ::congvan::testing::TempDir;
using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;
using ::testing::HasSubstr;

constexpr char kSender[] = "000.00.00.H49";
constexpr char kRelay[] = "000.00.00.A00";
constexpr char kRecipient[] = "000.00.00.G01";  // the exporting node
constexpr char kMessageId[] = "0190f3a2-7b1c-7d4e-9a5b-3c2d1e0f4a5b";
constexpr uint64_t kTreeSize = 9;

using Files = std::vector<std::pair<std::string, std::string>>;

std::string Rfc3339(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

template <typename T>
T OrDie(absl::StatusOr<T> v) {
  if (!v.ok()) {
    ADD_FAILURE() << v.status();
    std::abort();
  }
  return *std::move(v);
}

// Everything a container is made of: the keys and certificates of the three
// agencies, the leader and the TSA, and the files of a recipient's export,
// in the order evidence_export.cc streams them.
class Evidence {
 public:
  Evidence()
      : pki_(absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()))),
        sender_(Seal(kSender, "sender")),
        relay_(Seal(kRelay, "relay")),
        recipient_(Seal(kRecipient, "recipient")),
        leader_(pki_.Issue({.name = "Nguyễn Văn A", .agency_id = kSender, .person_login = "leader-h49"}, "leader")),
        tsa_(pki_.Issue({.profile = signer::CertificateProfile::kTimestamping,
                         .name = "TSA 000.00.00.A00",
                         .agency_id = kRelay,
                         .person_login = ""},
                        "tsa")) {
    Build();
  }

  const TestPki& pki() const { return pki_; }
  TestPki& mutable_pki() { return pki_; }
  absl::Time now() const { return pki_.now(); }
  // The token's genTime: the proven time.
  absl::Time proven() const { return now() - absl::Hours(2); }
  const Files& files() const { return files_; }
  const TestLeaf& recipient() const { return recipient_; }

  std::string Sign(const TestLeaf& leaf, std::string_view content, absl::Time when) const {
    return OrDie(signer::SignDetached(
        content, {.key = leaf.key.get(), .certificate = leaf.cert, .chain = {pki_.issuing()}, .signing_time = when}));
  }

  // `files` with the manifest and the exporter's seal over it appended.
  Files Sealed(Files files, absl::Time when) const {
    std::vector<ManifestEntry> entries;
    for (const auto& [name, bytes] : files) {
      entries.push_back(
          {name, media_types_.count(name) ? media_types_.at(name) : layout::MediaType(name), Sha256(bytes)});
    }
    const std::string manifest = BuildManifest(entries);
    files.emplace_back(kManifestName, manifest);
    files.emplace_back(kManifestSignatureName, Sign(recipient_, manifest, when));
    return files;
  }
  Files Sealed() const { return Sealed(files_, now()); }

  // The inclusion proof of leaf `index` under the tree of kTreeSize events.
  v1::InclusionProof Proof(uint64_t index) const {
    auto source = [this](uint32_t level, uint64_t i) -> absl::StatusOr<std::string> {
      auto it = subtrees_.find({level, i});
      if (it == subtrees_.end()) return absl::DataLossError("no such subtree");
      return it->second;
    };
    v1::InclusionProof proof;
    proof.set_index(index);
    proof.set_tree_size(kTreeSize);
    for (std::string& hash : OrDie(InclusionProof(index, kTreeSize, source))) proof.add_hashes(std::move(hash));
    return proof;
  }

 private:
  TestLeaf Seal(const std::string& agency, const std::string& stem) {
    return pki_.Issue({.profile = signer::CertificateProfile::kSeal,
                       .name = "Con dấu " + agency,
                       .agency_id = agency,
                       .person_login = ""},
                      stem);
  }

  void Add(const std::string& name, std::string bytes) { files_.emplace_back(name, std::move(bytes)); }

  void Build() {
    const absl::Time issued = now() - absl::Hours(5);
    const std::string main_pdf = "%PDF-1.7 Quyết định số 12/QĐ-UBND\n" + std::string(70000, 'x');
    const std::string annex = "Phụ lục kèm theo";
    const std::string leader_sig = Sign(leader_, main_pdf, issued);

    v1::DocumentHeader header;
    header.set_message_id(kMessageId);
    header.set_from_agency(kSender);
    header.set_from_name("UBND tỉnh Quảng Ninh");
    header.add_recipients(kRecipient);
    header.mutable_registration()->set_year(2026);
    header.mutable_registration()->set_number(12);
    header.mutable_registration()->set_notation("12/QĐ-UBND");
    header.mutable_registration()->set_issued_at(Rfc3339(issued));
    header.set_subject("Về việc tổ chức hội nghị");
    v1::SignerInfo* signer = header.add_signers();
    signer->set_person_login("leader-h49");
    signer->set_agency_id(kSender);
    signer->set_full_name("Nguyễn Văn A");
    signer->set_signature_sha256(Sha256(leader_sig));
    for (const auto& [name, bytes, main] :
         {std::tuple{"quyet-dinh.pdf", main_pdf, true}, std::tuple{"phu-luc.txt", annex, false}}) {
      v1::PartInfo* part = header.add_parts();
      part->set_name(name);
      part->set_media_type(main ? "application/pdf" : "text/plain");
      part->set_size(bytes.size());
      part->set_sha256(Sha256(bytes));
      part->set_main(main);
    }
    const std::string header_bytes = header.SerializeAsString();
    const std::string header_sha256 = Sha256(header_bytes);
    const std::string seal = Sign(sender_, header_bytes, issued);

    v1::TraceHop hop;
    hop.set_message_id(kMessageId);
    hop.set_header_sha256(header_sha256);
    hop.set_agency(kRelay);
    hop.set_from_agency(kSender);
    hop.set_time(Rfc3339(issued + absl::Minutes(1)));
    const std::string hop_bytes = hop.SerializeAsString();

    v1::ReceiptBody receipt;
    receipt.set_message_id(kMessageId);
    receipt.set_header_sha256(header_sha256);
    receipt.set_recipient(kRecipient);
    receipt.set_code(v1::STATUS_CODE_ARRIVED);
    receipt.set_time(Rfc3339(issued + absl::Minutes(2)));
    const std::string receipt_bytes = receipt.SerializeAsString();
    const std::string receipt_seal = Sign(recipient_, receipt_bytes, issued + absl::Minutes(2));
    v1::StatusBody status;
    status.set_message_id(kMessageId);
    status.set_header_sha256(header_sha256);
    status.set_agency(kRecipient);
    status.set_code(v1::STATUS_CODE_ACCEPTED);
    status.set_time(Rfc3339(issued + absl::Minutes(30)));
    status.set_person_login("clerk-g01");
    const std::string status_bytes = status.SerializeAsString();
    const std::string status_seal = Sign(recipient_, status_bytes, issued + absl::Minutes(30));

    // The log: other documents' events around this one's (3, 5 and 7).
    std::vector<v1::AuditEvent> log(kTreeSize);
    for (uint64_t i = 0; i < kTreeSize; ++i) {
      log[i].set_kind(v1::AUDIT_EVENT_FORWARDED);
      log[i].set_time(Rfc3339(issued + absl::Minutes(static_cast<int64_t>(i))));
      log[i].set_message_id(absl::StrCat("other-", i));
      log[i].set_agency(kRelay);
    }
    log[3].set_kind(v1::AUDIT_EVENT_RECEIVED);
    log[3].set_message_id(kMessageId);
    log[3].set_body_sha256(header_sha256);
    log[3].set_signature_sha256(Sha256(seal));
    log[3].add_recipients(kRecipient);
    for (auto [index, body, sig, code] : {std::tuple{5, &receipt_bytes, &receipt_seal, v1::STATUS_CODE_ARRIVED},
                                          std::tuple{7, &status_bytes, &status_seal, v1::STATUS_CODE_ACCEPTED}}) {
      log[index].set_kind(v1::AUDIT_EVENT_ANSWER);
      log[index].set_message_id(kMessageId);
      log[index].set_agency(kRecipient);
      log[index].set_body_sha256(Sha256(*body));
      log[index].set_signature_sha256(Sha256(*sig));
      log[index].set_signed_kind(index == 5 ? v1::MESSAGE_KIND_RECEIPT : v1::MESSAGE_KIND_STATUS);
      log[index].set_code(code);
    }
    MerkleFrontier frontier;
    std::vector<std::string> events;
    for (const v1::AuditEvent& e : log) {
      events.push_back(e.SerializeAsString());
      for (Subtree& s : frontier.Append(LeafHash(events.back()))) subtrees_[{s.level, s.index}] = s.hash;
    }
    v1::TreeHead head;
    head.set_agency(kRecipient);
    head.set_tree_size(kTreeSize);
    head.set_root_hash(frontier.Root());
    head.set_time(Rfc3339(proven() - absl::Seconds(1)));
    const std::string head_bytes = head.SerializeAsString();

    auto authority = OrDie(signer::TimestampAuthority::Create(
        {.certificate = tsa_.cert, .chain = {pki_.issuing()}, .key_file = tsa_.key_path, .now = [t = proven()] {
           return t;
         }}));
    const std::string digest = Sha256(head_bytes);
    const std::string response = OrDie(authority->Respond(OrDie(signer::MakeTimestampRequest(digest, 7))));
    const std::string token = OrDie(signer::TokenFromResponse(response, digest, 7));

    Add(layout::kReadme, "Evidence of " + std::string(kMessageId) + "\n");
    Add(layout::kHeader, header_bytes);
    Add(layout::kSeal, seal);
    Add(layout::LeaderSignature(1), leader_sig);
    Add(layout::Part("quyet-dinh.pdf"), main_pdf);
    media_types_[layout::Part("quyet-dinh.pdf")] = "application/pdf";
    Add(layout::Part("phu-luc.txt"), annex);
    Add(layout::TraceHop(1), hop_bytes);
    Add(layout::TraceHopSeal(1), Sign(relay_, hop_bytes, issued + absl::Minutes(1)));
    Add(layout::AnswerBody(1, kRecipient, "01"), receipt_bytes);
    Add(layout::AnswerSeal(1, kRecipient, "01"), receipt_seal);
    Add(layout::AnswerBody(2, kRecipient, "03"), status_bytes);
    Add(layout::AnswerSeal(2, kRecipient, "03"), status_seal);
    for (uint64_t index : {3, 5, 7}) {
      Add(layout::Event(index), events[index]);
      Add(layout::Proof(index), Proof(index).SerializeAsString());
    }
    Add(layout::kTreeHead, head_bytes);
    Add(layout::kTreeHeadSeal, Sign(recipient_, head_bytes, proven() - absl::Seconds(1)));
    Add(layout::kTreeHeadToken, token);
    std::string chain;
    for (const TestLeaf* leaf : {&sender_, &leader_, &relay_, &recipient_, &tsa_}) chain += leaf->cert.Pem();
    Add(layout::kChain, chain + pki_.issuing().Pem());
    Add(layout::kCrls, testing::ReadTestFile(pki_.crl_path()));
  }

  TestPki pki_;
  TestLeaf sender_, relay_, recipient_, leader_, tsa_;
  Files files_;
  std::map<std::string, std::string> media_types_;
  std::map<std::pair<uint32_t, uint64_t>, std::string> subtrees_;
};

// Built once: keys and a token take a while.
const Evidence& Shared() {
  static const Evidence* evidence = new Evidence();
  return *evidence;
}

void Write(const std::string& path, const Files& files) {
  auto writer = ContainerWriter::Create(path);
  ASSERT_THAT(writer, IsOk());
  for (const auto& [name, bytes] : files) ASSERT_THAT((*writer)->AddBytes(name, bytes), IsOk()) << name;
  ASSERT_THAT((*writer)->Close(), IsOk());
}

VerifyEvidenceOptions Options(std::optional<absl::Time> at = std::nullopt) {
  return {.trust_files = {Shared().pki().root_path()}, .at = at.value_or(Shared().now())};
}

std::string Describe(const EvidenceReport& report) {
  std::ostringstream out;
  for (const EvidenceCheck& c : report.checks) {
    out << (c.ok ? "  ok   " : "  FAIL ") << c.what << " — " << c.file << (c.detail.empty() ? "" : ": ") << c.detail
        << "\n";
  }
  return out.str();
}

std::vector<EvidenceCheck> Failures(const EvidenceReport& report) {
  std::vector<EvidenceCheck> failed;
  for (const EvidenceCheck& c : report.checks) {
    if (!c.ok) failed.push_back(c);
  }
  return failed;
}

bool NamesFile(const EvidenceReport& report, const std::string& file) {
  for (const EvidenceCheck& c : Failures(report)) {
    if (c.file == file) return true;
  }
  return false;
}

EvidenceReport VerifyFiles(const Files& files, const VerifyEvidenceOptions& options = Options()) {
  TempDir dir;
  const std::string path = dir.File("evidence.zip");
  Write(path, files);
  return OrDie(VerifyEvidence(path, options));
}

Files Without(Files files, const std::string& name) {
  std::erase_if(files, [&](const auto& f) { return f.first == name; });
  return files;
}

Files Replace(Files files, const std::string& name, std::string bytes) {
  for (auto& f : files) {
    if (f.first == name) f.second = std::move(bytes);
  }
  return files;
}

TEST(VerifyEvidence, AGoodContainerPassesEveryCheck) {
  const EvidenceReport report = VerifyFiles(Shared().Sealed());
  EXPECT_TRUE(report.ok()) << Describe(report);
  EXPECT_EQ(report.message_id, kMessageId);
  ASSERT_TRUE(report.proven_time.has_value());
  EXPECT_EQ(*report.proven_time, Shared().proven());
  EXPECT_EQ(report.checked_at, Shared().proven());
  // One line per event, part, leader signature, relay and answer, at least.
  const std::string text = Describe(report);
  for (const std::string& file :
       {std::string(layout::kSeal), layout::Event(3), layout::Event(5), layout::Event(7),
        layout::Part("quyet-dinh.pdf"), layout::Part("phu-luc.txt"), layout::LeaderSignature(1), layout::TraceHop(1),
        layout::AnswerBody(1, kRecipient, "01"), layout::AnswerBody(2, kRecipient, "03"),
        std::string(layout::kTreeHeadToken), std::string(layout::kTreeHeadSeal), std::string(kManifestSignatureName)}) {
    EXPECT_THAT(text, HasSubstr("ok   ")) << file;
    EXPECT_THAT(text, HasSubstr(" — " + file + "\n")) << "no line names " << file << "\n" << text;
  }
}

TEST(VerifyEvidence, AChangedByteInAnyFileFailsNamingThatFile) {
  const Files sealed = Shared().Sealed();
  for (size_t i = 0; i < sealed.size(); ++i) {
    const std::string& name = sealed[i].first;
    for (bool last : {false, true}) {
      Files changed = sealed;
      std::string& bytes = changed[i].second;
      ASSERT_FALSE(bytes.empty()) << name;
      bytes[last ? bytes.size() - 1 : bytes.size() / 2] ^= 0x01;
      const EvidenceReport report = VerifyFiles(changed);
      EXPECT_FALSE(report.ok()) << name << (last ? " (last byte)" : " (middle byte)") << "\n" << Describe(report);
      EXPECT_TRUE(NamesFile(report, name))
          << "no failed check names " << name << (last ? " (last byte)" : " (middle byte)") << "\n"
          << Describe(report);
    }
  }
}

TEST(VerifyEvidence, EveryByteOfTheManifestSealMatters) {
  // Nothing binds META-INF/signature.p7s but itself, and OpenSSL's CMS
  // verification ignores some of its bytes (the SignedData version, its
  // digestAlgorithms, the signatureAlgorithm OID, some lengths). Those sit in
  // its first bytes and in the signer info at its end, after the
  // certificates: every byte there must fail verification, naming the file.
  const Files sealed = Shared().Sealed();
  const size_t at = sealed.size() - 1;
  ASSERT_EQ(sealed[at].first, kManifestSignatureName);
  const size_t size = sealed[at].second.size();
  std::vector<size_t> positions;
  for (size_t i = 0; i < size; ++i) {
    if (i < 64 || i + 520 >= size) positions.push_back(i);
  }
  for (size_t pos : positions) {
    Files changed = sealed;
    changed[at].second[pos] ^= 0x01;
    const EvidenceReport report = VerifyFiles(changed);
    EXPECT_FALSE(report.ok()) << "byte " << pos << " of " << size;
    EXPECT_TRUE(NamesFile(report, kManifestSignatureName)) << "byte " << pos << "\n" << Describe(report);
  }
}

TEST(VerifyEvidence, AContainerWithoutTokenFailsNoTimestampAndChecksAtTheGivenTime) {
  const Evidence& e = Shared();
  const EvidenceReport report = VerifyFiles(e.Sealed(Without(e.files(), layout::kTreeHeadToken), e.now()));
  EXPECT_FALSE(report.ok());
  EXPECT_FALSE(report.proven_time.has_value());
  EXPECT_EQ(report.checked_at, e.now());
  const std::vector<EvidenceCheck> failed = Failures(report);
  ASSERT_EQ(failed.size(), 1u) << Describe(report);
  EXPECT_EQ(failed[0].what, "no timestamp");
  EXPECT_EQ(failed[0].file, layout::kTreeHeadToken);
}

TEST(VerifyEvidence, AWrongInclusionProofFailsThatEvent) {
  const Evidence& e = Shared();
  v1::InclusionProof proof = e.Proof(5);
  proof.clear_event();
  (*proof.mutable_hashes(0))[0] ^= 0x01;
  const EvidenceReport report =
      VerifyFiles(e.Sealed(Replace(e.files(), layout::Proof(5), proof.SerializeAsString()), e.now()));
  EXPECT_FALSE(report.ok());
  bool event_failed = false;
  for (const EvidenceCheck& c : Failures(report)) {
    if (c.file == layout::Event(5)) {
      event_failed = true;
      EXPECT_THAT(c.detail, HasSubstr(layout::Proof(5)));
    }
  }
  EXPECT_TRUE(event_failed) << Describe(report);
  // The receipt that event records is then not proven to be in the log.
  EXPECT_TRUE(NamesFile(report, layout::AnswerBody(1, kRecipient, "01"))) << Describe(report);
  EXPECT_TRUE(!NamesFile(report, layout::Event(3)) && !NamesFile(report, layout::Event(7))) << Describe(report);
}

TEST(VerifyEvidence, AProofOfAnotherLeafFailsNamingTheProof) {
  const Evidence& e = Shared();
  const EvidenceReport report =
      VerifyFiles(e.Sealed(Replace(e.files(), layout::Proof(5), e.Proof(3).SerializeAsString()), e.now()));
  EXPECT_TRUE(NamesFile(report, layout::Proof(5))) << Describe(report);
}

TEST(VerifyEvidence, PassesLongAfterEveryCertificateExpired) {
  // Twenty years on, every certificate has expired; the token proves the
  // signatures were made while they were valid.
  const EvidenceReport report = VerifyFiles(Shared().Sealed(), Options(Shared().now() + absl::Hours(24 * 365 * 20)));
  EXPECT_TRUE(report.ok()) << Describe(report);
  EXPECT_EQ(report.checked_at, Shared().proven());
}

TEST(VerifyEvidence, WithoutTokenLongAfterwardsTheCertificatesHaveExpired) {
  const Evidence& e = Shared();
  const EvidenceReport report = VerifyFiles(e.Sealed(Without(e.files(), layout::kTreeHeadToken), e.now()),
                                            Options(e.now() + absl::Hours(24 * 365 * 20)));
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(NamesFile(report, layout::kSeal)) << Describe(report);
}

// The container as exported after the exporting node's seal certificate was
// revoked at `revoked`, with the CRL saying so in certs/crls.pem.
EvidenceReport VerifyWithSealRevokedAt(absl::Duration since_now) {
  Evidence e;  // a PKI of its own: Revoke rewrites its CRLs
  TestPki& pki = e.mutable_pki();
  pki.Revoke(e.recipient().cert, e.now() + since_now);
  const std::string crls = testing::ReadTestFile(pki.crl_path());
  return VerifyFiles(e.Sealed(Replace(e.files(), layout::kCrls, crls), e.now()),
                     {.trust_files = {pki.root_path()}, .at = e.now()});
}

TEST(VerifyEvidence, ARevocationAfterTheProvenTimeDoesNotBreakTheEvidence) {
  // Revoked an hour after the export: at the proven time (and at the
  // manifest's signingTime) the seal was good.
  const EvidenceReport report = VerifyWithSealRevokedAt(absl::Hours(1));
  EXPECT_TRUE(report.ok()) << Describe(report);
}

TEST(VerifyEvidence, ARevocationBeforeTheProvenTimeFailsTheSealsMadeWithIt) {
  // Revoked before the token's genTime (proven() is two hours before now):
  // the tree head's seal, the receipt's and the status's (all by the
  // exporting node's seal), and the manifest's seal fail.
  const EvidenceReport report = VerifyWithSealRevokedAt(-absl::Hours(3));
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(NamesFile(report, layout::kTreeHeadSeal)) << Describe(report);
  EXPECT_TRUE(NamesFile(report, layout::AnswerSeal(1, kRecipient, "01"))) << Describe(report);
  EXPECT_TRUE(NamesFile(report, layout::AnswerSeal(2, kRecipient, "03"))) << Describe(report);
  EXPECT_TRUE(NamesFile(report, kManifestSignatureName)) << Describe(report);
  // The sender's and the relay's seals are not affected.
  EXPECT_FALSE(NamesFile(report, layout::kSeal)) << Describe(report);
  EXPECT_FALSE(NamesFile(report, layout::TraceHopSeal(1))) << Describe(report);
}

TEST(VerifyEvidence, AnotherRootFailsTheSignatures) {
  TestPki other;
  const EvidenceReport report = VerifyFiles(Shared().Sealed(), {.trust_files = {other.root_path()}});
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(NamesFile(report, layout::kSeal)) << Describe(report);
  EXPECT_TRUE(NamesFile(report, layout::kTreeHeadToken)) << Describe(report);
}

TEST(VerifyEvidence, AMissingFileFailsNamingIt) {
  const Files sealed = Shared().Sealed();
  for (const auto& [name, bytes] : sealed) {
    const EvidenceReport report = VerifyFiles(Without(sealed, name));
    EXPECT_FALSE(report.ok()) << name;
    EXPECT_TRUE(NamesFile(report, name)) << "without " << name << "\n" << Describe(report);
  }
}

TEST(VerifyEvidence, AnAddedFileFailsNamingIt) {
  Files files = Shared().Sealed();
  files.insert(files.begin() + 2, {"document/parts/extra.pdf", "not in the header"});
  const EvidenceReport report = VerifyFiles(files);
  EXPECT_TRUE(NamesFile(report, "document/parts/extra.pdf")) << Describe(report);
}

TEST(VerifyEvidence, ASealedButWrongAnswerFailsNamingIt) {
  // Sealed again by the exporter, so the manifest holds: the answer itself
  // is about another header.
  const Evidence& e = Shared();
  v1::ReceiptBody receipt;
  receipt.set_message_id(kMessageId);
  receipt.set_header_sha256(Sha256("another header"));
  receipt.set_recipient(kRecipient);
  receipt.set_code(v1::STATUS_CODE_ARRIVED);
  const std::string body = receipt.SerializeAsString();
  Files files = Replace(e.files(), layout::AnswerBody(1, kRecipient, "01"), body);
  files = Replace(files, layout::AnswerSeal(1, kRecipient, "01"), e.Sign(e.recipient(), body, e.now()));
  const EvidenceReport report = VerifyFiles(e.Sealed(files, e.now()));
  EXPECT_TRUE(NamesFile(report, layout::AnswerBody(1, kRecipient, "01"))) << Describe(report);
}

TEST(VerifyEvidence, ANonContainerFailsTheFirstCheck) {
  TempDir dir;
  const std::string path = dir.File("not.zip");
  testing::WriteTestFile(path, "PK not really");
  ASSERT_OK_AND_ASSIGN(EvidenceReport report, VerifyEvidence(path, Options()));
  ASSERT_EQ(report.checks.size(), 1u);
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.checks[0].file, path);
}

TEST(VerifyEvidence, AnUnreadableTrustFileIsAnError) {
  TempDir dir;
  EXPECT_THAT(VerifyEvidence(dir.File("x.zip"), {.trust_files = {dir.File("missing.pem")}}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(VerifyEvidence(dir.File("x.zip"), {}), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace congvan::audit
