// Helpers shared by the store tests: documents, uploads and answers made up
// for a real store in a temp directory.
#ifndef CONGVAN_TESTS_DAEMON_STORE_STORE_FIXTURE_H_
#define CONGVAN_TESTS_DAEMON_STORE_STORE_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "congvan/signer/cms.h"
#include "congvan/store/store.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace congvan::store::testing {

inline constexpr char kSender[] = "000.00.00.H49";
inline constexpr char kProvince[] = "000.00.00.H01";
inline constexpr char kCommuneA[] = "000.12.05.H49";
inline constexpr char kCommuneB[] = "000.13.05.H49";

inline absl::Time T(int64_t seconds) { return absl::FromUnixSeconds(1750000000 + seconds); }

inline StoreOptions OptionsIn(const congvan::testing::TempDir& dir) {
  StoreOptions o;
  o.path = dir.File("db");
  return o;
}

inline std::unique_ptr<Store> OpenOrDie(const StoreOptions& options) {
  auto store = Store::Open(options);
  if (!store.ok()) {
    ADD_FAILURE() << store.status().ToString();
    return nullptr;
  }
  return std::move(store).value();
}

// A header with one PartInfo per digest.
inline congvan::v1::DocumentHeader Header(const std::string& message_id, const std::string& from, uint32_t year,
                                          uint64_t number, const std::vector<std::string>& recipients,
                                          const std::vector<PartDigest>& parts) {
  congvan::v1::DocumentHeader h;
  h.set_message_id(message_id);
  h.set_from_agency(from);
  h.set_from_name("UBND tỉnh");
  for (const std::string& r : recipients) h.add_recipients(r);
  h.mutable_registration()->set_year(year);
  h.mutable_registration()->set_number(number);
  h.mutable_registration()->set_notation(std::to_string(number) + "/UBND-VP");
  h.set_subject("Về việc " + message_id);
  for (size_t i = 0; i < parts.size(); ++i) {
    auto* p = h.add_parts();
    p->set_name("part" + std::to_string(i) + ".pdf");
    p->set_media_type("application/pdf");
    p->set_size(parts[i].size);
    p->set_sha256(parts[i].sha256);
    p->set_main(i == 0);
  }
  return h;
}

inline congvan::v1::FetchedDocument Sealed(const congvan::v1::DocumentHeader& h) {
  congvan::v1::FetchedDocument d;
  d.mutable_document()->set_kind(congvan::v1::MESSAGE_KIND_DOCUMENT);
  d.mutable_document()->set_body(h.SerializeAsString());
  d.mutable_document()->set_seal_signature("seal-cms-over-" + h.message_id());
  d.add_leader_signatures("leader-cms");
  return d;
}

// Streams `parts` into a new upload in pieces of `piece` bytes and finishes it.
inline std::unique_ptr<Upload> Uploaded(Store& store, const std::vector<std::string>& parts, size_t piece = 1000) {
  auto upload = store.BeginUpload();
  EXPECT_THAT(upload, congvan::testing::IsOk());
  if (!upload.ok()) return nullptr;
  for (size_t i = 0; i < parts.size(); ++i) {
    for (size_t at = 0; at < parts[i].size(); at += piece) {
      EXPECT_THAT((*upload)->Append(static_cast<uint32_t>(i), std::string_view(parts[i]).substr(at, piece)),
                  congvan::testing::IsOk());
    }
  }
  EXPECT_THAT((*upload)->Finish(static_cast<uint32_t>(parts.size())), congvan::testing::IsOk());
  return std::move(upload).value();
}

inline std::vector<PartDigest> DigestsOf(const std::vector<std::string>& parts) {
  std::vector<PartDigest> d;
  for (const std::string& p : parts) d.push_back(PartDigest{p.size(), signer::Sha256(p)});
  return d;
}

// A signed answer (the "signature" is a stand-in: the store does not verify).
inline Answer MakeAnswer(const std::string& message_id, const std::string& agency, congvan::v1::MessageKind kind,
                         congvan::v1::StatusCode code, const std::string& time) {
  Answer a;
  a.message_id = message_id;
  a.agency = agency;
  a.answer.set_code(code);
  a.answer.set_time(time);
  a.answer.mutable_signed_()->set_kind(kind);
  a.answer.mutable_signed_()->set_body(message_id + "|" + agency + "|" + std::to_string(code) + "|" + time);
  a.answer.mutable_signed_()->set_seal_signature("seal-of-" + agency);
  return a;
}

inline Answer Receipt(const std::string& message_id, const std::string& agency, const std::string& time = "t1") {
  return MakeAnswer(message_id, agency, congvan::v1::MESSAGE_KIND_RECEIPT, congvan::v1::STATUS_CODE_ARRIVED, time);
}

inline NewOutboxEntry Delivery(const std::string& message_id, const std::string& peer,
                               const std::vector<std::string>& recipients, absl::Time next = T(0),
                               absl::Time deadline = T(3600)) {
  NewOutboxEntry e;
  e.peer = peer;
  e.message_id = message_id;
  e.recipients = recipients;
  e.next_attempt = next;
  e.deadline = deadline;
  return e;
}

// Issues a document with `parts` to `recipients` via one delivery to `peer`.
inline absl::StatusOr<IssueResult> IssueDoc(Store& store, uint32_t year, const std::vector<std::string>& parts,
                                            const std::vector<std::string>& recipients = {kCommuneA},
                                            const std::string& peer = kProvince) {
  std::unique_ptr<Upload> upload = Uploaded(store, parts);
  std::vector<PartDigest> digests = DigestsOf(parts);
  return store.Issue(IssueRequest{kSender, year, upload.get(), T(0)}, [&](uint64_t n) -> absl::StatusOr<IssuedDocument> {
    std::string id = "msg-" + std::to_string(year) + "-" + std::to_string(n);
    IssuedDocument d;
    d.document = Sealed(Header(id, kSender, year, n, recipients, digests));
    d.deliveries.push_back(Delivery(id, peer, recipients));
    return d;
  });
}

}  // namespace congvan::store::testing

#endif  // CONGVAN_TESTS_DAEMON_STORE_STORE_FIXTURE_H_
