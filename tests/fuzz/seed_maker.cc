// fuzz_seed_maker: derives the seed corpus of the fuzz targets from real
// evidence (make_seeds.sh runs it; README.md says when).
//
//   fuzz_seed_maker PKI_DIR RECIPIENT_ZIP SENDER_ZIP OUT_DIR
//
// PKI_DIR is the `congvan pki init` directory the nodes ran on;
// RECIPIENT_ZIP the evidence the national axis exported of a document that
// phường Hồng Gai sent to it (through Hạ Long and Quảng Ninh) and to Hạ Long;
// SENDER_ZIP Hồng Gai's own export of it. Writes OUT_DIR/<target>/<name>:
//   envelope_fuzz  the DeliverRequest each node on the way received (the
//                  header, seal, leader signature and relay hops are the
//                  container's; the trace up to that node)
//   answer_fuzz    every receipt and status in the containers, as the
//                  AnswerRequest that carried it, and a relay's delivery
//                  report sealed with Hạ Long's real seal (node code)
//   cms_fuzz       every signature in the containers with the content it
//                  signs, the tree head's token, the certificates and CRLs
//   treehead_fuzz  each container's tree head with its events' proofs, and
//                  heads sealed with the axis's real seal over a log built
//                  here with consistency proofs between them
// Every seed that should verify is checked to verify before it is written
// (at `now`, against PKI_DIR's root and CRLs), so that the corpus starts
// where the interesting checks are.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "congvan/audit/container.h"
#include "congvan/audit/evidence_layout.h"
#include "congvan/audit/merkle.h"
#include "congvan/audit/tree_head.h"
#include "congvan/node/documents.h"
#include "congvan/node/node_service.h"
#include "congvan/node/trace.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/key_backend.h"
#include "congvan/signer/timestamp.h"
#include "congvan/v1/audit.pb.h"
#include "congvan/v1/node.pb.h"

namespace congvan::fuzz {
namespace {

namespace fs = std::filesystem;
namespace layout = audit::evidence;

constexpr char kHongGai[] = "000.01.01.H49";
constexpr char kHaLong[] = "000.00.01.H49";
constexpr char kQuangNinh[] = "000.00.00.H49";
constexpr char kAxis[] = "000.00.00.A00";

[[noreturn]] void Die(const std::string& what) {
  std::cerr << "fuzz_seed_maker: " << what << "\n";
  std::exit(1);
}

template <typename T>
T OrDie(absl::StatusOr<T> v, const std::string& what) {
  if (!v.ok()) Die(what + ": " + v.status().ToString());
  return *std::move(v);
}

void OkOrDie(const absl::Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

class Seeds {
 public:
  explicit Seeds(std::string out) : out_(std::move(out)) {}
  void Write(const std::string& target, const std::string& name, const std::string& bytes) {
    fs::create_directories(out_ + "/" + target);
    OkOrDie(signer::WriteFile(out_ + "/" + target + "/" + name, bytes), "writing " + name);
    std::cout << target << "/" << name << " (" << bytes.size() << " bytes)\n";
  }

 private:
  std::string out_;
};

// A 2-byte little-endian length, the first piece, the second: the framing
// of cms_fuzz and treehead_fuzz.
std::string Framed(const std::string& first, const std::string& second) {
  if (first.size() > 0xFFFF) Die("a framed piece is over 64 KiB");
  std::string out;
  out.push_back(static_cast<char>(first.size() & 0xFF));
  out.push_back(static_cast<char>(first.size() >> 8));
  return out + first + second;
}

struct Container {
  std::unique_ptr<audit::ContainerReader> reader;
  std::string Read(const std::string& name) { return OrDie(reader->Read(name), name); }
};

Container Open(const std::string& path) { return {OrDie(audit::ContainerReader::Open(path), path)}; }

node::SealCredentials SealOf(const std::string& pki, const std::string& agency,
                             std::unique_ptr<signer::KeyBackend>* key) {
  const std::string dir = pki + "/agencies/" + agency;
  *key = OrDie(signer::LoadKeyFile(dir + "/seal.key"), agency + " seal key");
  std::vector<signer::Certificate> certs = OrDie(signer::LoadCertificates(dir + "/seal.pem"), agency + " seal");
  return node::SealCredentials{key->get(), certs.front(), {certs.begin() + 1, certs.end()}};
}

class SeedMaker {
 public:
  SeedMaker(std::string pki, Seeds& seeds)
      : pki_(std::move(pki)),
        seeds_(seeds),
        trust_(OrDie(signer::TrustStore::Load({pki_ + "/ca/root.pem"}, {pki_ + "/ca/crl.pem"}), "trust")),
        now_(absl::Now()) {}

  void Envelopes(Container& c) {
    v1::Envelope envelope;
    v1::SignedMessage* document = envelope.mutable_document();
    document->set_kind(v1::MESSAGE_KIND_DOCUMENT);
    document->set_body(c.Read(layout::kHeader));
    document->set_seal_signature(c.Read(layout::kSeal));
    v1::DocumentHeader header;
    if (!header.ParseFromString(document->body())) Die("header.pb does not parse");
    for (int n = 1; n <= header.signers_size(); ++n) envelope.add_leader_signatures(c.Read(layout::LeaderSignature(n)));
    *envelope.add_trace() = node::SenderTraceEntry(header);

    // What Hạ Long received from Hồng Gai: for itself and for the axis. Then
    // what each relay after it passed on, one sealed hop more each time.
    envelope.add_serve(kHaLong);
    envelope.add_serve(kAxis);
    WriteEnvelope(envelope, header, kHaLong, "direct-from-honggai-to-halong.pb");
    envelope.clear_serve();
    envelope.add_serve(kAxis);
    const char* receivers[] = {kQuangNinh, kAxis};
    for (int n = 1; c.reader->Has(layout::TraceHop(n)); ++n) {
      v1::TraceHop hop;
      const std::string hop_bytes = c.Read(layout::TraceHop(n));
      if (!hop.ParseFromString(hop_bytes)) Die("a trace hop does not parse");
      v1::TraceEntry* entry = envelope.add_trace();
      entry->set_agency(hop.agency());
      entry->set_time(hop.time());
      entry->mutable_signed_()->set_kind(v1::MESSAGE_KIND_TRACE);
      entry->mutable_signed_()->set_body(hop_bytes);
      entry->mutable_signed_()->set_seal_signature(c.Read(layout::TraceHopSeal(n)));
      if (n > 2) Die("more relays than the seed topology has");
      WriteEnvelope(envelope, header, receivers[n - 1], absl::StrCat("relayed-", n, "-to-", receivers[n - 1], ".pb"));
    }
  }

  void Answers(Container& c, const std::string& which) {
    const std::string header_bytes = c.Read(layout::kHeader);
    v1::DocumentHeader header;
    if (!header.ParseFromString(header_bytes)) Die("header.pb does not parse");
    for (const std::string& name : c.reader->names()) {
      if (!name.starts_with("answers/") || !name.ends_with(".pb")) continue;
      const std::string stem = name.substr(0, name.size() - 3);
      v1::AnswerRequest request;
      request.mutable_answer()->set_body(c.Read(name));
      request.mutable_answer()->set_seal_signature(c.Read(stem + ".p7s"));
      // The file name says the code, not the kind: the kind is the one whose
      // body verifies.
      bool verified = false;
      for (v1::MessageKind kind :
           {v1::MESSAGE_KIND_RECEIPT, v1::MESSAGE_KIND_STATUS, v1::MESSAGE_KIND_DELIVERY_REPORT}) {
        request.mutable_answer()->set_kind(kind);
        auto answer = node::VerifyAnswer(request.answer(), trust_, now_);
        if (answer.ok() && !answer->message_id.empty() && answer->message_id == header.message_id()) {
          verified = true;
          // Answers go to the sender; the sender's own recall request (13)
          // went to the axis.
          request.set_to_agency(answer->agency == header.from_agency() ? kAxis : header.from_agency());
          break;
        }
      }
      if (!verified) Die(name + " verifies as no kind of answer");
      const std::string base = fs::path(stem).filename().string();
      seeds_.Write("answer_fuzz", which + "-" + base + ".pb", request.SerializeAsString());
      seeds_.Write("cms_fuzz", which + "-" + base + ".bin", Framed(request.answer().body(), request.answer().seal_signature()));
    }

    if (which != "axis") return;
    // A relay's report that it gave up: Hạ Long could not reach Quảng Ninh.
    store::StoredMessage message;
    message.header = header;
    message.document.mutable_document()->set_kind(v1::MESSAGE_KIND_DOCUMENT);
    message.document.mutable_document()->set_body(header_bytes);
    std::unique_ptr<signer::KeyBackend> key;
    node::SealCredentials seal = SealOf(pki_, kHaLong, &key);
    v1::AnswerRequest report;
    *report.mutable_answer() = OrDie(node::MakeDeliveryReport(message, kHaLong, {kAxis}, kQuangNinh,
                                                              "the delivery deadline passed", seal, now_),
                                     "delivery report");
    report.set_to_agency(header.from_agency());
    OrDie(node::VerifyAnswer(report.answer(), trust_, now_), "the delivery report");
    seeds_.Write("answer_fuzz", "halong-delivery-report.pb", report.SerializeAsString());
  }

  void Signatures(Container& c, const std::string& which) {
    const std::string header = c.Read(layout::kHeader);
    Signed(which + "-seal.bin", header, c.Read(layout::kSeal));
    v1::DocumentHeader parsed;
    if (!parsed.ParseFromString(header)) Die("header.pb does not parse");
    for (const v1::PartInfo& part : parsed.parts()) {
      if (part.main()) Signed(which + "-leader-1.bin", c.Read(layout::Part(part.name())), c.Read(layout::LeaderSignature(1)));
    }
    for (int n = 1; c.reader->Has(layout::TraceHop(n)); ++n) {
      Signed(absl::StrCat(which, "-hop-", n, ".bin"), c.Read(layout::TraceHop(n)), c.Read(layout::TraceHopSeal(n)));
    }
    Signed(which + "-manifest.bin", c.Read("META-INF/ASiCManifest.xml"), c.Read("META-INF/signature.p7s"));
    const std::string head = c.Read(layout::kTreeHead);
    Signed(which + "-tree-head.bin", head, c.Read(layout::kTreeHeadSeal));
    const std::string token = c.Read(layout::kTreeHeadToken);
    OrDie(signer::VerifyTimestampToken(token, signer::Sha256(head), trust_), "the tree head's token");
    seeds_.Write("cms_fuzz", which + "-tree-head-token.bin", Framed(signer::Sha256(head), token));
    seeds_.Write("cms_fuzz", which + "-chain-pem.bin", Framed("", c.Read(layout::kChain)));
    seeds_.Write("cms_fuzz", which + "-crls-pem.bin", Framed("", c.Read(layout::kCrls)));
  }

  void TreeHeads(Container& c, const std::string& which) {
    v1::MessageEventsResponse events;
    v1::SignedMessage* head = events.mutable_head()->mutable_head();
    head->set_kind(v1::MESSAGE_KIND_TREE_HEAD);
    head->set_body(c.Read(layout::kTreeHead));
    head->set_seal_signature(c.Read(layout::kTreeHeadSeal));
    events.mutable_head()->set_timestamp_token(c.Read(layout::kTreeHeadToken));
    const v1::TreeHead body = OrDie(audit::VerifyTreeHead(*head, trust_, now_), "the tree head").body;
    for (const std::string& name : c.reader->names()) {
      if (!name.starts_with(layout::kProofsDir)) continue;
      v1::InclusionProof proof;
      if (!proof.ParseFromString(c.Read(name))) Die(name + " does not parse");
      proof.set_event(c.Read(layout::Event(proof.index())));
      OkOrDie(audit::VerifyEventInclusion(proof, body), name);
      *events.add_events() = proof;
    }
    seeds_.Write("treehead_fuzz", which + "-events.bin", Framed(events.SerializeAsString(), ""));
  }

  // A log of `size` leaves made here (the axis's events, repeated), with
  // heads sealed by the axis's real seal, and a witness request from the
  // head at `old_size` to the one at `size` with its consistency proof.
  void Consistency(Container& c, uint64_t old_size, uint64_t size) {
    std::vector<std::string> leaves;
    std::vector<std::string> events;
    for (const std::string& name : c.reader->names()) {
      if (name.starts_with(layout::kEventsDir)) events.push_back(c.Read(name));
    }
    if (events.empty()) Die("the container holds no event");
    for (uint64_t i = 0; i < size; ++i) leaves.push_back(events[i % events.size()]);
    auto source = [&](uint32_t level, uint64_t index) -> absl::StatusOr<std::string> {
      return Subtree(leaves, level, index);
    };
    std::unique_ptr<signer::KeyBackend> key;
    node::SealCredentials seal = SealOf(pki_, kAxis, &key);
    auto sealed_head = [&](uint64_t n) {
      v1::TreeHead body;
      body.set_agency(kAxis);
      body.set_tree_size(n);
      body.set_root_hash(OrDie(audit::RootHash(n, source), "root"));
      body.set_time(node::FormatRfc3339(now_));
      v1::SignedMessage head =
          OrDie(node::Seal(v1::MESSAGE_KIND_TREE_HEAD, body.SerializeAsString(), seal, now_), "sealing a head");
      OrDie(audit::VerifyTreeHead(head, trust_, now_), "a sealed head");
      return head;
    };
    v1::MessageEventsResponse held;
    *held.mutable_head()->mutable_head() = sealed_head(old_size);
    const v1::TreeHead held_body = OrDie(audit::ParseTreeHead(held.head().head()), "held head");
    for (uint64_t i = 0; i < old_size; ++i) {
      v1::InclusionProof* proof = held.add_events();
      proof->set_index(i);
      proof->set_tree_size(old_size);
      proof->set_event(leaves[i]);
      for (std::string& h : OrDie(audit::InclusionProof(i, old_size, source), "inclusion")) proof->add_hashes(h);
      OkOrDie(audit::VerifyEventInclusion(*proof, held_body), "inclusion");
    }
    v1::WitnessRequest request;
    *request.mutable_head() = sealed_head(size);
    request.set_from_size(old_size);
    for (std::string& h : OrDie(audit::ConsistencyProof(old_size, size, source), "consistency")) {
      request.add_consistency(h);
    }
    v1::ConsistencyProof proof;
    proof.set_old_size(old_size);
    proof.set_new_size(size);
    *proof.mutable_hashes() = request.consistency();
    OkOrDie(audit::VerifyHeadConsistency(held_body, OrDie(audit::ParseTreeHead(request.head()), "new head"), proof),
            "consistency");
    seeds_.Write("treehead_fuzz", absl::StrCat("witness-", old_size, "-to-", size, ".bin"),
                 Framed(held.SerializeAsString(), request.SerializeAsString()));
  }

 private:
  static std::string Subtree(const std::vector<std::string>& leaves, uint32_t level, uint64_t index) {
    if (level == 0) return audit::LeafHash(leaves[index]);
    return audit::NodeHash(Subtree(leaves, level - 1, 2 * index), Subtree(leaves, level - 1, 2 * index + 1));
  }

  void WriteEnvelope(const v1::Envelope& envelope, const v1::DocumentHeader& header, const std::string& receiver,
                     const std::string& name) {
    const node::DocumentLimits limits;
    OrDie(node::VerifyEnvelope(envelope, trust_, now_, limits), name);
    const std::string& delivered_by = envelope.trace(envelope.trace_size() - 1).agency();
    OkOrDie(node::VerifyTrace(envelope.trace(), header, envelope.document().body(), delivered_by, receiver, trust_,
                              now_),
            name + " trace");
    v1::DeliverRequest request;
    *request.mutable_envelope() = envelope;
    seeds_.Write("envelope_fuzz", name, request.SerializeAsString());
  }

  void Signed(const std::string& name, const std::string& content, const std::string& signature) {
    OrDie(signer::VerifyDetached(content, signature, trust_, now_), name);
    seeds_.Write("cms_fuzz", name, Framed(content, signature));
  }

  std::string pki_;
  Seeds& seeds_;
  signer::TrustStore trust_;
  absl::Time now_;
};

}  // namespace
}  // namespace congvan::fuzz

int main(int argc, char** argv) {
  using namespace congvan::fuzz;
  if (argc != 5) {
    std::cerr << "usage: fuzz_seed_maker PKI_DIR RECIPIENT_ZIP SENDER_ZIP OUT_DIR\n";
    return 2;
  }
  Seeds seeds(argv[4]);
  SeedMaker maker(argv[1], seeds);
  Container axis = Open(argv[2]);
  Container sender = Open(argv[3]);
  maker.Envelopes(axis);
  maker.Answers(axis, "axis");
  maker.Answers(sender, "honggai");
  maker.Signatures(axis, "axis");
  maker.Signatures(sender, "honggai");
  maker.TreeHeads(axis, "axis");
  maker.TreeHeads(sender, "honggai");
  maker.Consistency(axis, 3, 7);
  maker.Consistency(axis, 4, 8);
  return 0;
}
