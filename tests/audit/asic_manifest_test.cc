#include "congvan/audit/asic_manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"
#include "congvan/audit/container.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/status_macros.h"
#include "testing/status_matchers.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace congvan::audit {
namespace {

using ::congvan::testing::ReadTestFile;
using ::congvan::testing::RunResult;
using ::congvan::testing::StatusIs;
using ::congvan::testing::TempDir;
using ::congvan::testing::WriteTestFile;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Runs a program (testing::Test has a Run of its own).
RunResult Exec(const std::vector<std::string>& argv) { return ::congvan::testing::Run(argv); }

MATCHER_P(HoldsValue, expected, "is OK and holds the expected value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return *arg == expected;
}

std::vector<ManifestEntry> SampleEntries() {
  return {
      {"header.bin", "application/octet-stream", signer::Sha256("header")},
      {"parts/1/quyết định số 12 & phụ lục <1>.pdf", "application/pdf", signer::Sha256("part")},
      {"receipts/000.00.00.H49.p7s", "", signer::Sha256("receipt")},
  };
}

// A manifest with one DataObjectReference, to vary one piece at a time.
std::string OneReference(const std::string& uri, const std::string& algorithm, const std::string& digest_b64,
                         const std::string& ns = kAsicNamespace) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<asic:ASiCManifest xmlns:asic=")" +
         ns + R"(" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
  <asic:SigReference URI="META-INF/signature.p7s" MimeType="application/pkcs7-signature"/>
  <asic:DataObjectReference URI=")" +
         uri + R"(" MimeType="application/pdf">
    <ds:DigestMethod Algorithm=")" +
         algorithm + R"("/>
    <ds:DigestValue>)" +
         digest_b64 + R"(</ds:DigestValue>
  </asic:DataObjectReference>
</asic:ASiCManifest>
)";
}

std::string Digest64(std::string_view data = "part") { return absl::Base64Escape(signer::Sha256(std::string(data))); }

// ---------------------------------------------------------------- build / parse

TEST(AsicManifest, RoundTrips) {
  std::vector<ManifestEntry> entries = SampleEntries();
  ASSERT_OK_AND_ASSIGN(ParsedManifest parsed, ParseManifest(BuildManifest(entries)));
  EXPECT_EQ(parsed.signature_name, kManifestSignatureName);
  EXPECT_EQ(parsed.entries, entries);
}

TEST(AsicManifest, BuildsTheSameBytesForTheSameEntries) {
  EXPECT_EQ(BuildManifest(SampleEntries()), BuildManifest(SampleEntries()));
  // The exact bytes: what the seal signs must not depend on a library's mood.
  std::string digest = std::string(32, '\x01');
  EXPECT_EQ(BuildManifest({{"a & b.pdf", "application/pdf", digest}}),
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
            "<asic:ASiCManifest xmlns:asic=\"http://uri.etsi.org/02918/v1.2.1#\" "
            "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\n"
            "  <asic:SigReference URI=\"META-INF/signature.p7s\" MimeType=\"application/pkcs7-signature\" />\n"
            "  <asic:DataObjectReference URI=\"a &amp; b.pdf\" MimeType=\"application/pdf\">\n"
            "    <ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\" />\n"
            "    <ds:DigestValue>AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=</ds:DigestValue>\n"
            "  </asic:DataObjectReference>\n"
            "</asic:ASiCManifest>\n");
}

TEST(AsicManifest, IsWellFormedForXmllint) {
  if (Exec({"sh", "-c", "command -v xmllint"}).exit_code != 0) GTEST_SKIP() << "xmllint is not installed";
  TempDir dir;
  WriteTestFile(dir.File("m.xml"), BuildManifest(SampleEntries()));
  RunResult r = Exec({"xmllint", "--noout", dir.File("m.xml")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // xmllint reads the namespaces and values as ParseManifest does.
  RunResult uri = Exec({"xmllint", "--xpath",
                        "string(/*[local-name()='ASiCManifest' and namespace-uri()='http://uri.etsi.org/02918/v1.2.1#']"
                        "/*[local-name()='DataObjectReference'][2]/@URI)",
                        dir.File("m.xml")});
  EXPECT_EQ(uri.out, SampleEntries()[1].name + "\n");
}

TEST(AsicManifest, AcceptsOtherPrefixesAndADefaultNamespace) {
  std::string xml = R"(<ASiCManifest xmlns="http://uri.etsi.org/02918/v1.2.1#">
  <!-- made by another tool -->
  <SigReference URI="META-INF/signature.p7s"/>
  <DataObjectReference URI="a.pdf" xmlns:dsig="http://www.w3.org/2000/09/xmldsig#">
    <dsig:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
    <dsig:DigestValue>
      )" + Digest64() +
                    R"(
    </dsig:DigestValue>
  </DataObjectReference>
</ASiCManifest>)";
  ASSERT_OK_AND_ASSIGN(ParsedManifest parsed, ParseManifest(xml));
  EXPECT_THAT(parsed.entries, ElementsAre(ManifestEntry{"a.pdf", "", signer::Sha256("part")}));
}

TEST(AsicManifest, ParsesTheOneReferenceTemplate) {
  // The template the rejection tests vary is itself acceptable.
  EXPECT_OK(ParseManifest(OneReference("a.pdf", kSha256DigestMethod, Digest64())).status());
}

TEST(AsicManifest, RejectsAWrongNamespace) {
  EXPECT_THAT(ParseManifest(OneReference("a.pdf", kSha256DigestMethod, Digest64(), "http://uri.etsi.org/2918/v1.1.1#")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("{http://uri.etsi.org/2918/v1.1.1#}ASiCManifest"), HasSubstr(kAsicNamespace))));
  // No namespace at all.
  std::string plain = absl::StrReplaceAll(OneReference("a.pdf", kSha256DigestMethod, Digest64()),
                                          {{"xmlns:asic=\"http://uri.etsi.org/02918/v1.2.1#\"", ""}});
  EXPECT_THAT(ParseManifest(plain), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"asic\"")));
  // The digest elements outside XML-DSig.
  std::string dsig = absl::StrReplaceAll(OneReference("a.pdf", kSha256DigestMethod, Digest64()),
                                         {{"http://www.w3.org/2000/09/xmldsig#", "http://example.org/dsig#"}});
  EXPECT_THAT(ParseManifest(dsig), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ds:DigestMethod")));
}

TEST(AsicManifest, RejectsADigestMethodOtherThanSha256) {
  EXPECT_THAT(ParseManifest(OneReference("a.pdf", "http://www.w3.org/2000/09/xmldsig#sha1",
                                         absl::Base64Escape(std::string(20, 'x')))),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("xmldsig#sha1"), HasSubstr("a.pdf"), HasSubstr("only SHA-256"))));
  EXPECT_THAT(ParseManifest(OneReference("a.pdf", "", Digest64())),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("only SHA-256")));
}

TEST(AsicManifest, RejectsADigestThatIsNot32Bytes) {
  EXPECT_THAT(ParseManifest(OneReference("a.pdf", kSha256DigestMethod, absl::Base64Escape(std::string(31, 'x')))),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("31 bytes"), HasSubstr("a.pdf"))));
  EXPECT_THAT(ParseManifest(OneReference("a.pdf", kSha256DigestMethod, absl::Base64Escape(std::string(33, 'x')))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("33 bytes")));
  EXPECT_THAT(ParseManifest(OneReference("a.pdf", kSha256DigestMethod, "")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0 bytes")));
  EXPECT_THAT(ParseManifest(OneReference("a.pdf", kSha256DigestMethod, "not*base64!")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not base64")));
}

TEST(AsicManifest, RejectsAnUnsafeUri) {
  for (const std::string& uri :
       std::vector<std::string>{"../../etc/passwd", "/etc/passwd", "parts\\1.pdf", "", "mimetype", "META-INF/"}) {
    EXPECT_THAT(ParseManifest(OneReference(uri, kSha256DigestMethod, Digest64())),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unsafe URI")))
        << uri;
  }
  EXPECT_THAT(ParseManifest(OneReference("a&#10;b", kSha256DigestMethod, Digest64())),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("control character")));
  EXPECT_THAT(ParseManifest(OneReference(kManifestName, kSha256DigestMethod, Digest64())),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot cover")));
  EXPECT_THAT(ParseManifest(OneReference(kManifestSignatureName, kSha256DigestMethod, Digest64())),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot cover")));
}

TEST(AsicManifest, RejectsAUriListedTwice) {
  std::vector<ManifestEntry> entries = SampleEntries();
  entries.push_back({entries[0].name, "text/plain", signer::Sha256("other")});
  EXPECT_THAT(ParseManifest(BuildManifest(entries)),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("\"header.bin\""), HasSubstr("twice"))));
}

TEST(AsicManifest, RejectsAnotherSignatureReference) {
  std::string xml = absl::StrReplaceAll(OneReference("a.pdf", kSha256DigestMethod, Digest64()),
                                        {{"META-INF/signature.p7s", "META-INF/signature001.p7s"}});
  EXPECT_THAT(ParseManifest(xml),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"META-INF/signature001.p7s\"")));
}

TEST(AsicManifest, RejectsXmlThatIsNotAManifest) {
  struct Case {
    std::string xml;
    std::string reason;
  };
  std::string good = OneReference("a.pdf", kSha256DigestMethod, Digest64());
  std::string sig = "<asic:SigReference URI=\"META-INF/signature.p7s\" MimeType=\"application/pkcs7-signature\"/>";
  for (const Case& c : std::vector<Case>{
           {"", "no root element"},
           {"not xml at all", "no root element"},
           {"<a><b></a>", "not well-formed"},
           {good.substr(0, good.size() / 2), "not well-formed"},
           {"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>" + good.substr(good.find("<asic:ASiCManifest")), "DOCTYPE"},
           {absl::StrReplaceAll(good, {{"encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\""}}), "UTF-8"},
           {absl::StrReplaceAll(good, {{sig, ""}}), "not the SigReference"},
           {absl::StrReplaceAll(good, {{sig, sig + sig}}), "where a DataObjectReference belongs"},
           {absl::StrReplaceAll(good, {{"</asic:ASiCManifest>", "<asic:ASiCManifestExtensions/></asic:ASiCManifest>"}}),
            "ASiCManifestExtensions"},
           {absl::StrReplaceAll(good,
                                {{"</ds:DigestValue>", "</ds:DigestValue><asic:DataObjectReferenceExtensions/>"}}),
            "DataObjectReferenceExtensions"},
           {absl::StrReplaceAll(good, {{"URI=\"a.pdf\"", ""}}), "without a URI"},
           {absl::StrReplaceAll(good, {{"MimeType=\"application/pdf\"", "MimeType=\"a&#9;b\""}}), "MimeType"},
           {absl::StrReplaceAll(good, {{sig, sig + "stray text"}}), "text inside"},
           {good + "<second/>", "more than one root"},
           {absl::StrReplaceAll(good, {{"URI=\"a.pdf\"", "URI=\"a.pdf\" URI=\"b.pdf\""}}), "twice"},
           {absl::StrReplaceAll(good, {{"<ds:DigestMethod", "<ds:DigestValue/><ds:DigestMethod"}}),
            "exactly a ds:DigestMethod and a ds:DigestValue"},
           {"<asic:ASiCManifest xmlns:asic=\"http://uri.etsi.org/02918/v1.2.1#\">" + sig + "</asic:ASiCManifest>",
            "lists no file"},
       }) {
    EXPECT_THAT(ParseManifest(c.xml), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.reason))) << c.xml;
  }
}

TEST(AsicManifestBuilder, RefusesWhatTheParserWouldRefuse) {
  ManifestBuilder builder;
  EXPECT_OK(builder.Add("a.pdf", "application/pdf", signer::Sha256("a")));
  EXPECT_THAT(builder.Add("a.pdf", "application/pdf", signer::Sha256("b")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("already")));
  EXPECT_THAT(builder.Add("../b.pdf", "application/pdf", signer::Sha256("b")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(builder.Add(kManifestSignatureName, "application/pkcs7-signature", signer::Sha256("b")),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(builder.Add("b.pdf", "application/pdf", std::string(20, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("20 bytes")));
  EXPECT_THAT(builder.Add("b.pdf", "application/pdf\n", signer::Sha256("b")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("printable")));
  EXPECT_OK(builder.Add("b.pdf", "", signer::Sha256("b")));
  ASSERT_OK_AND_ASSIGN(ParsedManifest parsed, ParseManifest(builder.Build()));
  EXPECT_EQ(parsed.entries, builder.entries());
  EXPECT_EQ(parsed.entries.size(), 2u);
}

// ---------------------------------------------------------------- CheckManifest

using Files = std::vector<std::pair<std::string, std::string>>;

Files EvidenceFiles() {
  return {
      {"header.bin", "the document's header bytes"},
      {"header.p7s", "the seal signature over the header"},
      {"parts/1.pdf", std::string(3000, 'p') + "end"},
      {"receipts/000.00.00.H49.p7s", "a receipt"},
      {"chains/000.00.00.H49.pem", "-----BEGIN CERTIFICATE-----"},
  };
}

std::string ManifestFor(const Files& files) {
  ManifestBuilder builder;
  for (const auto& [name, bytes] : files) {
    absl::Status s = builder.Add(name, "application/octet-stream", signer::Sha256(bytes));
    EXPECT_OK(s);
  }
  return builder.Build();
}

// A container holding `files`, `manifest` and a stand-in signature (that one
// is checked elsewhere, not here).
absl::Status WriteEvidence(const std::string& path, const Files& files, const std::string& manifest) {
  ASSIGN_OR_RETURN(std::unique_ptr<ContainerWriter> writer, ContainerWriter::Create(path));
  for (const auto& [name, bytes] : files) RETURN_IF_ERROR(writer->AddBytes(name, bytes));
  RETURN_IF_ERROR(writer->AddBytes(kManifestName, manifest));
  RETURN_IF_ERROR(writer->AddBytes(kManifestSignatureName, "stand-in signature"));
  return writer->Close();
}

absl::StatusOr<std::vector<FileCheck>> CheckFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<ContainerReader> reader, ContainerReader::Open(path));
  return CheckManifest(*reader);
}

// "name: problem" for each failed check.
std::vector<std::string> Failures(const std::vector<FileCheck>& checks) {
  std::vector<std::string> failures;
  for (const FileCheck& c : checks) {
    if (!c.ok) failures.push_back(c.name + ": " + c.problem);
  }
  return failures;
}

TEST(AsicCheckManifest, PassesEveryFileOfAFreshContainer) {
  TempDir dir;
  Files files = EvidenceFiles();
  ASSERT_OK(WriteEvidence(dir.File("c.asice"), files, ManifestFor(files)));
  ASSERT_OK_AND_ASSIGN(std::vector<FileCheck> checks, CheckFile(dir.File("c.asice")));
  ASSERT_EQ(checks.size(), files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(checks[i].name, files[i].first);
    EXPECT_TRUE(checks[i].ok) << checks[i].name << ": " << checks[i].problem;
    EXPECT_EQ(checks[i].problem, "");
  }
}

TEST(AsicCheckManifest, NamesExactlyTheFileWithAChangedByte) {
  Files files = EvidenceFiles();
  std::string manifest = ManifestFor(files);
  for (size_t i = 0; i < files.size(); ++i) {
    TempDir dir;
    Files changed = files;
    std::string& bytes = changed[i].second;
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x20);
    ASSERT_OK(WriteEvidence(dir.File("c.asice"), changed, manifest));
    ASSERT_OK_AND_ASSIGN(std::vector<FileCheck> checks, CheckFile(dir.File("c.asice")));
    EXPECT_EQ(checks.size(), files.size());
    EXPECT_THAT(Failures(checks), ElementsAre(files[i].first + ": its SHA-256 differs from the manifest's"));
  }
}

TEST(AsicCheckManifest, ReportsAFileThatTheManifestDoesNotList) {
  TempDir dir;
  Files files = EvidenceFiles();
  std::string manifest = ManifestFor(files);
  files.insert(files.begin() + 2, {"parts/2-slipped-in.pdf", "added after export"});
  ASSERT_OK(WriteEvidence(dir.File("c.asice"), files, manifest));
  ASSERT_OK_AND_ASSIGN(std::vector<FileCheck> checks, CheckFile(dir.File("c.asice")));
  EXPECT_EQ(checks.size(), files.size());
  EXPECT_EQ(checks[2].name, "parts/2-slipped-in.pdf");
  EXPECT_THAT(Failures(checks), ElementsAre("parts/2-slipped-in.pdf: not listed in the manifest"));
}

TEST(AsicCheckManifest, ReportsAListedFileThatIsMissing) {
  TempDir dir;
  Files files = EvidenceFiles();
  std::string manifest = ManifestFor(files);
  files.erase(files.begin() + 1);  // header.p7s
  ASSERT_OK(WriteEvidence(dir.File("c.asice"), files, manifest));
  ASSERT_OK_AND_ASSIGN(std::vector<FileCheck> checks, CheckFile(dir.File("c.asice")));
  EXPECT_EQ(checks.size(), files.size() + 1);
  EXPECT_EQ(checks.back().name, "header.p7s");
  EXPECT_THAT(Failures(checks), ElementsAre("header.p7s: listed in the manifest but missing"));
}

TEST(AsicCheckManifest, ReportsAFileDamagedInTheArchiveAsUnreadable) {
  TempDir dir;
  std::string path = dir.File("c.asice");
  // Random bytes deflate to a stored block: they sit in the file as they are.
  std::mt19937 gen(7);
  std::string random(4000, '\0');
  for (char& c : random) c = static_cast<char>(gen() & 0xFF);
  Files files = {{"part.bin", signer::Sha256(random) + random}, {"other.txt", "other"}};
  ASSERT_OK(WriteEvidence(path, files, ManifestFor(files)));
  std::string bytes = ReadTestFile(path);
  size_t at = bytes.find(random.substr(2000, 32));
  ASSERT_NE(at, std::string::npos);
  bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
  WriteTestFile(path, bytes);
  ASSERT_OK_AND_ASSIGN(std::vector<FileCheck> checks, CheckFile(path));
  ASSERT_THAT(Failures(checks), ElementsAre(HasSubstr("part.bin: could not be read")));
}

TEST(AsicCheckManifest, RequiresAReadableManifest) {
  TempDir dir;
  Files files = EvidenceFiles();
  {
    ASSERT_OK_AND_ASSIGN(auto writer, ContainerWriter::Create(dir.File("none.asice")));
    for (const auto& [name, bytes] : files) ASSERT_OK(writer->AddBytes(name, bytes));
    ASSERT_OK(writer->Close());
  }
  EXPECT_THAT(CheckFile(dir.File("none.asice")),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(kManifestName), HasSubstr("no manifest"))));
  ASSERT_OK(WriteEvidence(dir.File("bad.asice"), files, "<not a manifest"));
  EXPECT_THAT(CheckFile(dir.File("bad.asice")),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(kManifestName), HasSubstr("well-formed"))));
  ASSERT_OK(WriteEvidence(
      dir.File("sha1.asice"), files,
      absl::StrReplaceAll(ManifestFor(files), {{kSha256DigestMethod, "http://www.w3.org/2000/09/xmldsig#sha1"}})));
  EXPECT_THAT(CheckFile(dir.File("sha1.asice")),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(kManifestName), HasSubstr("SHA-256"))));
}

}  // namespace
}  // namespace congvan::audit
