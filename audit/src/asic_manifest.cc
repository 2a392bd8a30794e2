#include "congvan/audit/asic_manifest.h"

#include <map>
#include <pugixml.hpp>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "congvan/audit/container.h"
#include "congvan/signer/status_macros.h"

namespace congvan::audit {
namespace {

constexpr size_t kSha256Bytes = 32;
constexpr size_t kMaxMediaTypeBytes = 255;
// 10,000 entries of some 400 bytes each fit with room to spare.
constexpr uint64_t kMaxManifestBytes = 16 << 20;

absl::Status Invalid(const std::string& why) { return absl::InvalidArgumentError("the manifest " + why); }

absl::Status CheckMediaType(std::string_view media_type) {
  if (media_type.size() > kMaxMediaTypeBytes) {
    return absl::InvalidArgumentError(absl::StrCat("a media type is ", media_type.size(), " bytes long; at most ",
                                                   kMaxMediaTypeBytes, " are allowed"));
  }
  for (char c : media_type) {
    if (c < 0x20 || c > 0x7E) {
      return absl::InvalidArgumentError("the media type \"" + absl::CHexEscape(std::string(media_type)) +
                                        "\" is not printable ASCII");
    }
  }
  return absl::OkStatus();
}

// A value from the document, shown in a message.
std::string Show(std::string_view value) {
  std::string shown = absl::CHexEscape(std::string(value.substr(0, 200)));
  return "\"" + shown + (value.size() > 200 ? "...\"" : "\"");
}

class StringWriter : public pugi::xml_writer {
 public:
  explicit StringWriter(std::string* out) : out_(out) {}
  void write(const void* data, size_t size) override { out_->append(static_cast<const char*>(data), size); }

 private:
  std::string* out_;
};

// XML Namespaces: an element's namespace URI and local name. pugixml does not
// resolve prefixes itself, so this walks the xmlns declarations in scope.
struct QName {
  std::string ns;
  std::string local;

  std::string ToString() const { return "{" + ns + "}" + local; }
};

// pugixml takes an attribute given twice, which XML forbids; the first one
// would silently win.
absl::Status CheckUniqueAttributes(pugi::xml_node element) {
  std::set<std::string_view> seen;
  for (pugi::xml_attribute a : element.attributes()) {
    if (!seen.insert(a.name()).second) {
      return Invalid("is not well-formed XML (" + Show(element.name()) + " has the attribute " + Show(a.name()) +
                     " twice)");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<QName> NameOf(pugi::xml_node element) {
  RETURN_IF_ERROR(CheckUniqueAttributes(element));
  std::string_view qname = element.name();
  size_t colon = qname.find(':');
  std::string prefix(colon == std::string_view::npos ? std::string_view() : qname.substr(0, colon));
  QName name{"", std::string(colon == std::string_view::npos ? qname : qname.substr(colon + 1))};
  std::string declaration = prefix.empty() ? "xmlns" : "xmlns:" + prefix;
  for (pugi::xml_node n = element; n.type() == pugi::node_element; n = n.parent()) {
    if (pugi::xml_attribute a = n.attribute(declaration.c_str())) {
      name.ns = a.value();
      return name;
    }
  }
  if (!prefix.empty()) return Invalid("uses the prefix " + Show(prefix) + " without declaring it");
  return name;  // no default namespace
}

bool Is(const QName& name, std::string_view ns, std::string_view local) { return name.ns == ns && name.local == local; }

// The element children of `node`; INVALID_ARGUMENT if it has text of its own
// (comments and processing instructions do not count).
absl::StatusOr<std::vector<pugi::xml_node>> ElementChildren(pugi::xml_node node) {
  std::vector<pugi::xml_node> elements;
  for (pugi::xml_node child : node.children()) {
    switch (child.type()) {
      case pugi::node_element:
        elements.push_back(child);
        break;
      case pugi::node_pcdata:
      case pugi::node_cdata:
        if (!absl::StripAsciiWhitespace(child.value()).empty()) {
          return Invalid("has text inside " + Show(node.name()) + " where only elements belong");
        }
        break;
      default:
        break;
    }
  }
  return elements;
}

// The DigestValue's text: base64 (whitespace allowed, as in xs:base64Binary)
// of exactly 32 bytes.
absl::StatusOr<std::string> DigestOf(pugi::xml_node value, const std::string& uri) {
  std::string text;
  for (pugi::xml_node child : value.children()) {
    if (child.type() == pugi::node_element) return Invalid("has an element inside the DigestValue of \"" + uri + "\"");
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) text += child.value();
  }
  std::string base64;
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') base64 += c;
  }
  std::string digest;
  // Canonical base64 only: one digest, one spelling.
  if (!absl::Base64Unescape(base64, &digest) || absl::Base64Escape(digest) != base64) {
    return Invalid("gives a DigestValue for \"" + uri + "\" that is not base64: " + Show(text));
  }
  if (digest.size() != kSha256Bytes) {
    return Invalid(absl::StrCat("gives a DigestValue of ", digest.size(), " bytes for \"", uri,
                                "\"; a SHA-256 digest is ", kSha256Bytes));
  }
  return digest;
}

absl::StatusOr<ManifestEntry> ParseDataObjectReference(pugi::xml_node reference) {
  pugi::xml_attribute uri_attribute = reference.attribute("URI");
  if (!uri_attribute) return Invalid("has a DataObjectReference without a URI");
  ManifestEntry entry;
  entry.name = uri_attribute.value();
  if (absl::Status s = CheckEntryName(entry.name); !s.ok()) {
    return Invalid("lists an unsafe URI: " + std::string(s.message()));
  }
  if (entry.name == kManifestName || entry.name == kManifestSignatureName) {
    return Invalid("lists \"" + entry.name + "\", which it cannot cover");
  }
  entry.media_type = reference.attribute("MimeType").value();
  if (absl::Status s = CheckMediaType(entry.media_type); !s.ok()) {
    return Invalid("gives \"" + entry.name + "\" a bad MimeType: " + std::string(s.message()));
  }
  ASSIGN_OR_RETURN(std::vector<pugi::xml_node> children, ElementChildren(reference));
  std::vector<QName> names;
  for (pugi::xml_node child : children) {
    ASSIGN_OR_RETURN(QName name, NameOf(child));
    names.push_back(std::move(name));
  }
  if (names.size() > 2 && Is(names[2], kAsicNamespace, "DataObjectReferenceExtensions")) {
    return Invalid("has DataObjectReferenceExtensions for \"" + entry.name + "\", which congvan does not support");
  }
  if (names.size() != 2 || !Is(names[0], kXmlDsigNamespace, "DigestMethod") ||
      !Is(names[1], kXmlDsigNamespace, "DigestValue")) {
    return Invalid("has a DataObjectReference for \"" + entry.name +
                   "\" that does not hold exactly a ds:DigestMethod and a ds:DigestValue");
  }
  std::string_view algorithm = children[0].attribute("Algorithm").value();
  if (algorithm != kSha256DigestMethod) {
    return Invalid("gives \"" + entry.name + "\" the DigestMethod " + Show(algorithm) + "; only SHA-256 (" +
                   kSha256DigestMethod + ") is accepted");
  }
  ASSIGN_OR_RETURN(entry.sha256, DigestOf(children[1], entry.name));
  return entry;
}

}  // namespace

std::string BuildManifest(const std::vector<ManifestEntry>& entries) {
  pugi::xml_document doc;
  pugi::xml_node declaration = doc.append_child(pugi::node_declaration);
  declaration.append_attribute("version") = "1.0";
  declaration.append_attribute("encoding") = "UTF-8";
  declaration.append_attribute("standalone") = "yes";
  pugi::xml_node root = doc.append_child("asic:ASiCManifest");
  root.append_attribute("xmlns:asic") = kAsicNamespace;
  root.append_attribute("xmlns:ds") = kXmlDsigNamespace;
  pugi::xml_node sig = root.append_child("asic:SigReference");
  sig.append_attribute("URI") = kManifestSignatureName;
  sig.append_attribute("MimeType") = kManifestSignatureMediaType;
  for (const ManifestEntry& e : entries) {
    pugi::xml_node reference = root.append_child("asic:DataObjectReference");
    reference.append_attribute("URI") = e.name.c_str();
    if (!e.media_type.empty()) reference.append_attribute("MimeType") = e.media_type.c_str();
    reference.append_child("ds:DigestMethod").append_attribute("Algorithm") = kSha256DigestMethod;
    reference.append_child("ds:DigestValue").text() = absl::Base64Escape(e.sha256).c_str();
  }
  std::string out;
  StringWriter writer(&out);
  doc.save(writer, "  ", pugi::format_indent | pugi::format_no_declaration, pugi::encoding_utf8);
  return out;
}

absl::StatusOr<ParsedManifest> ParseManifest(std::string_view xml) {
  pugi::xml_document doc;
  // pugixml expands no entities but the five predefined ones and character
  // references: no external entity, no entity bomb.
  unsigned flags = pugi::parse_default | pugi::parse_declaration | pugi::parse_doctype;
  pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size(), flags, pugi::encoding_utf8);
  if (parsed.status == pugi::status_no_document_element) return Invalid("has no root element");
  if (!parsed) {
    return Invalid(absl::StrCat("is not well-formed XML (", parsed.description(), " at byte ", parsed.offset, ")"));
  }
  pugi::xml_node root;
  for (pugi::xml_node node : doc.children()) {
    switch (node.type()) {
      case pugi::node_declaration: {
        std::string_view encoding = node.attribute("encoding").value();
        if (!encoding.empty() && !absl::EqualsIgnoreCase(std::string(encoding), "UTF-8")) {
          return Invalid("declares the encoding " + Show(encoding) + "; it must be UTF-8");
        }
        break;
      }
      case pugi::node_doctype:
        return Invalid("has a DOCTYPE; an ASiC manifest has none");
      case pugi::node_element:
        if (root) return Invalid("has more than one root element");
        root = node;
        break;
      case pugi::node_pcdata:
      case pugi::node_cdata:
        return Invalid("has text outside its root element");
      default:
        break;
    }
  }
  if (!root) return Invalid("has no root element");
  ASSIGN_OR_RETURN(QName root_name, NameOf(root));
  if (!Is(root_name, kAsicNamespace, "ASiCManifest")) {
    return Invalid("has the root element " + root_name.ToString() + ", not {" + kAsicNamespace + "}ASiCManifest");
  }
  ASSIGN_OR_RETURN(std::vector<pugi::xml_node> children, ElementChildren(root));
  if (children.empty()) return Invalid("has no SigReference");
  ASSIGN_OR_RETURN(QName first, NameOf(children[0]));
  if (!Is(first, kAsicNamespace, "SigReference")) {
    return Invalid("starts with " + first.ToString() + ", not the SigReference");
  }
  ParsedManifest manifest;
  manifest.signature_name = children[0].attribute("URI").value();
  if (manifest.signature_name != kManifestSignatureName) {
    return Invalid("refers to the signature " + Show(manifest.signature_name) + ", not \"" + kManifestSignatureName +
                   "\"");
  }
  ASSIGN_OR_RETURN(std::vector<pugi::xml_node> sig_children, ElementChildren(children[0]));
  if (!sig_children.empty()) return Invalid("has elements inside its SigReference");

  std::map<std::string, size_t, std::less<>> seen;
  for (size_t i = 1; i < children.size(); ++i) {
    ASSIGN_OR_RETURN(QName name, NameOf(children[i]));
    if (Is(name, kAsicNamespace, "ASiCManifestExtensions")) {
      return Invalid("has ASiCManifestExtensions, which congvan does not support");
    }
    if (!Is(name, kAsicNamespace, "DataObjectReference")) {
      return Invalid("has " + name.ToString() + " where a DataObjectReference belongs");
    }
    ASSIGN_OR_RETURN(ManifestEntry entry, ParseDataObjectReference(children[i]));
    if (!seen.emplace(entry.name, i).second) return Invalid("lists \"" + entry.name + "\" twice");
    manifest.entries.push_back(std::move(entry));
  }
  if (manifest.entries.empty()) return Invalid("lists no file (no DataObjectReference)");
  return manifest;
}

absl::Status ManifestBuilder::Add(std::string name, std::string media_type, std::string sha256) {
  RETURN_IF_ERROR(CheckEntryName(name));
  if (name == kManifestName || name == kManifestSignatureName) {
    return absl::InvalidArgumentError("the manifest cannot list \"" + name + "\", which it cannot cover");
  }
  if (names_.count(name) != 0) return absl::InvalidArgumentError("the manifest already lists \"" + name + "\"");
  if (sha256.size() != kSha256Bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the SHA-256 of \"", name, "\" is ", sha256.size(), " bytes; it must be ", kSha256Bytes));
  }
  RETURN_IF_ERROR(CheckMediaType(media_type));
  names_.insert(name);
  entries_.push_back({std::move(name), std::move(media_type), std::move(sha256)});
  return absl::OkStatus();
}

std::string ManifestBuilder::Build() const { return BuildManifest(entries_); }

absl::StatusOr<std::vector<FileCheck>> CheckManifest(ContainerReader& reader) {
  auto invalid = [](std::string_view why) {
    return absl::InvalidArgumentError(std::string(kManifestName) + ": " + std::string(why));
  };
  if (!reader.Has(kManifestName)) return invalid("the container has no manifest, so its files cannot be checked");
  absl::StatusOr<std::string> xml = reader.Read(kManifestName, kMaxManifestBytes);
  if (!xml.ok()) return invalid(std::string(xml.status().message()));
  absl::StatusOr<ParsedManifest> manifest = ParseManifest(*xml);
  if (!manifest.ok()) return invalid(std::string(manifest.status().message()));

  std::map<std::string, const ManifestEntry*, std::less<>> listed;
  for (const ManifestEntry& entry : manifest->entries) listed.emplace(entry.name, &entry);
  std::vector<FileCheck> checks;
  for (const std::string& name : reader.names()) {
    if (name == kManifestName || name == kManifestSignatureName) continue;
    FileCheck check{name, false, ""};
    auto it = listed.find(name);
    if (it == listed.end()) {
      check.problem = "not listed in the manifest";
    } else if (absl::StatusOr<std::string> digest = reader.Sha256Of(name); !digest.ok()) {
      check.problem = "could not be read: " + std::string(digest.status().message());
    } else if (*digest != it->second->sha256) {
      check.problem = "its SHA-256 differs from the manifest's";
    } else {
      check.ok = true;
    }
    checks.push_back(std::move(check));
  }
  for (const ManifestEntry& entry : manifest->entries) {
    if (!reader.Has(entry.name)) checks.push_back({entry.name, false, "listed in the manifest but missing"});
  }
  return checks;
}

}  // namespace congvan::audit
