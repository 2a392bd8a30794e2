// The README.txt inside every evidence container: for an auditor who has
// the container and the trusted root certificate, and standard tools.
#include "absl/strings/str_cat.h"
#include "evidence_export.h"

namespace congvan::node {

std::string EvidenceReadme(const v1::DocumentHeader& header, const std::string& exporter, const std::string& time,
                           const std::string& main_part, bool has_token) {
  const std::string verify = "openssl cms -verify -binary -inform DER -CAfile ROOT.pem -out /dev/null";
  std::string out = absl::StrCat(
      "Evidence of an official document (congvan)\n"
      "==========================================\n\n",
      "Document   ", header.message_id(), "\n", "From       ", header.from_name(), " (", header.from_agency(), ")\n",
      "Number     ", header.registration().number(), "/", header.registration().year(), ", ",
      header.registration().notation(), "\n", "Subject    ", header.subject(), "\n",
      "Exported   by the node of ", exporter, " at ", time, "\n\n",
      "This is an ASiC-E container (ETSI EN 319 162-1): a ZIP file whose META-INF/ASiCManifest.xml lists\n"
      "the SHA-256 of every other file, sealed by the exporting node in META-INF/signature.p7s.\n"
      "Check everything at once, offline:\n\n"
      "    congvan verify THIS.zip --trust ROOT.pem\n\n"
      "where ROOT.pem is the root certificate you trust (the Government CA's). Or, after unzipping,\n"
      "check each piece with openssl (1.1 or 3.x). Signatures are detached CMS (DER) over the file\n"
      "named beside them; each carries its signer's certificate chain.\n\n"
      "1. The sender's seal over the header (number, date, recipients, the SHA-256 of every part and\n"
      "   of every leader signature):\n"
      "     ", verify, " -in document/seal.p7s -content document/header.pb\n\n"
      "2. The leaders' signatures over the main part (", main_part, "):\n"
      "     ", verify, " -in document/leader-1.p7s -content 'document/parts/", main_part, "'\n"
      "   and every part's SHA-256 against the header:  openssl dgst -sha256 document/parts/*\n\n"
      "3. Each receipt (01), status (02-06, 13, 15, 16) or relay report in answers/: the .pb file is\n"
      "   the signed body, the .p7s the seal of the agency that answered:\n"
      "     ", verify, " -in answers/01-....p7s -content answers/01-....pb\n\n"
      "4. The relays' statements of the path, in document/trace/ (if the document was relayed):\n"
      "     ", verify, " -in document/trace/hop-1.p7s -content document/trace/hop-1.pb\n\n"
      "5. The exporting node's audit log: log/events/N.pb are the log's entries for this document,\n"
      "   log/proofs/N.pb their RFC 9162 inclusion proofs under log/tree-head.pb, which the node\n"
      "   sealed:\n"
      "     ", verify, " -in log/tree-head.p7s -content log/tree-head.pb\n");
  if (has_token) {
    absl::StrAppend(&out,
                    "   and which a time-stamping authority stamped (RFC 3161):\n"
                    "     openssl ts -verify -token_in -in log/tree-head.tst -data log/tree-head.pb \\\n"
                    "         -CAfile ROOT.pem -untrusted certs/chain.pem\n"
                    "     openssl ts -reply -token_in -in log/tree-head.tst -text      # shows the time\n"
                    "   That time proves that every signature above existed then: check the certificates at\n"
                    "   that time by adding -attime <seconds since 1970> to the cms commands, and revocation\n"
                    "   with -crl_check_all -CRLfile certs/crls.pem (a revocation after that time does not\n"
                    "   affect the evidence).\n");
  } else {
    absl::StrAppend(&out,
                    "   No timestamp token was available when this container was made (log/tree-head.tst is\n"
                    "   missing): the time of the evidence is not proven. Export again later.\n");
  }
  absl::StrAppend(&out,
                  "\n   A leaf's hash is SHA-256(0x00 || event bytes):\n"
                  "     (printf '\\000'; cat log/events/N.pb) | openssl dgst -sha256\n"
                  "   and an interior node's SHA-256(0x01 || left || right); `congvan verify` walks the proofs.\n\n"
                  "6. The whole container against its manifest:\n"
                  "     ", verify, " -in META-INF/signature.p7s -content META-INF/ASiCManifest.xml\n"
                  "     openssl dgst -sha256 -binary FILE | base64      # equals the file's DigestValue\n\n"
                  "certs/chain.pem holds every certificate the signatures and the token carry; certs/crls.pem\n"
                  "the revocation lists the exporting node held.\n");
  return out;
}

}  // namespace congvan::node
