// The ASiC manifest of an evidence container (ETSI EN 319 162-1 A.4, the
// ASiCManifest of ETSI TS 102 918 v1.2.1): the list of files that the
// container's CAdES signature covers, each with its SHA-256. The exporting
// node signs the manifest's bytes (META-INF/signature.p7s is a detached CMS
// signature over META-INF/ASiCManifest.xml), so a changed byte in any listed
// file shows as a digest that differs from the manifest's, naming the file.
//
//   <asic:ASiCManifest xmlns:asic="http://uri.etsi.org/02918/v1.2.1#"
//                      xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
//     <asic:SigReference URI="META-INF/signature.p7s" MimeType="application/pkcs7-signature"/>
//     <asic:DataObjectReference URI="parts/1.pdf" MimeType="application/pdf">
//       <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
//       <ds:DigestValue>base64 of the 32-byte digest</ds:DigestValue>
//     </asic:DataObjectReference>
//   </asic:ASiCManifest>
//
// A URI is the entry's name exactly as stored in the ZIP (no percent-encoding);
// every URI passes CheckEntryName (container.h).
//
// Thread-safety: the free functions are; ManifestBuilder is not.
#ifndef CONGVAN_AUDIT_ASIC_MANIFEST_H_
#define CONGVAN_AUDIT_ASIC_MANIFEST_H_

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace congvan::audit {

inline constexpr char kManifestName[] = "META-INF/ASiCManifest.xml";
inline constexpr char kManifestSignatureName[] = "META-INF/signature.p7s";
inline constexpr char kManifestSignatureMediaType[] = "application/pkcs7-signature";
inline constexpr char kAsicNamespace[] = "http://uri.etsi.org/02918/v1.2.1#";
inline constexpr char kXmlDsigNamespace[] = "http://www.w3.org/2000/09/xmldsig#";
inline constexpr char kSha256DigestMethod[] = "http://www.w3.org/2001/04/xmlenc#sha256";

struct ManifestEntry {
  std::string name;        // the entry's name in the container (the URI)
  std::string media_type;  // the MimeType attribute; empty: none
  std::string sha256;      // 32 raw bytes

  friend bool operator==(const ManifestEntry&, const ManifestEntry&) = default;
};

// The manifest's bytes: UTF-8, a DataObjectReference per entry in the order
// given, nothing that changes from run to run (the same entries always give
// the same bytes). It does not check `entries`: ManifestBuilder::Add does, and
// a manifest built from entries that Add refuses does not parse.
std::string BuildManifest(const std::vector<ManifestEntry>& entries);

struct ParsedManifest {
  std::string signature_name;          // the SigReference URI: always kManifestSignatureName
  std::vector<ManifestEntry> entries;  // in document order
};

// Parses a manifest. INVALID_ARGUMENT, saying what is wrong, for anything but
// an ASiCManifest as above: XML that is not well-formed or has a DOCTYPE, an
// element outside the ASiC / XML-DSig namespaces or out of place, an
// extension (congvan writes none and understands none), a SigReference other
// than kManifestSignatureName, no DataObjectReference, a DigestMethod other
// than SHA-256, a DigestValue that is not base64 of 32 bytes, a URI that
// fails CheckEntryName, names the manifest or its signature, or comes twice,
// a MimeType that is not printable ASCII. The caller bounds the input's size.
[[nodiscard]] absl::StatusOr<ParsedManifest> ParseManifest(std::string_view xml);

// Collects the entries of a manifest while an exporter streams files into a
// container, refusing what ParseManifest would refuse.
class ManifestBuilder {
 public:
  // INVALID_ARGUMENT for a name that fails CheckEntryName, is kManifestName or
  // kManifestSignatureName, or was added before; a digest that is not 32
  // bytes; a media type that is not printable ASCII of at most 255 bytes.
  [[nodiscard]] absl::Status Add(std::string name, std::string media_type, std::string sha256);
  // BuildManifest(entries()).
  std::string Build() const;
  const std::vector<ManifestEntry>& entries() const { return entries_; }

 private:
  std::vector<ManifestEntry> entries_;
  std::set<std::string, std::less<>> names_;
};

}  // namespace congvan::audit

#endif  // CONGVAN_AUDIT_ASIC_MANIFEST_H_
