// OperationsCheck, one round at a time, over a real store in a temporary
// directory and certificates of a real (test) CA: the metrics it sets, the
// health it gives, and what it logs — also when the store cannot write for
// real (a file-size limit makes the kernel refuse the WAL's next write, as a
// full disk would).
#include "congvan/node/operations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <filesystem>

#include "testing/cluster.h"
#include "testing/log_capture.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/test_pki.h"

namespace congvan::node {
namespace {

using ::congvan::testing::LogCapture;
using ::congvan::testing::MetricValue;
using ::congvan::testing::TempDir;
using ::congvan::testing::TestLeaf;
using ::congvan::testing::TestPki;
using ::testing::DoubleNear;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kAgency[] = "000.00.00.H49";
const absl::Duration kDay = absl::Hours(24);

store::NewOutboxEntry Entry(const std::string& message_id, const std::string& peer) {
  store::NewOutboxEntry e;
  e.peer = peer;
  e.message_id = message_id;
  e.recipients = {"000.00.01.H49"};
  e.next_attempt = absl::UnixEpoch();
  e.deadline = absl::UnixEpoch() + absl::Hours(1);
  return e;
}

// Public: the part of a death test that runs in the child uses them.
class OperationsTest : public ::testing::Test {
 public:
  void SetUp() override {
    store::StoreOptions options;
    options.path = dir_.File("db");
    auto store = store::Store::Open(options);
    ASSERT_OK(store);
    store_ = *std::move(store);
    seal_ = std::make_unique<TestLeaf>(pki_.Issue({.profile = signer::CertificateProfile::kSeal,
                                                   .agency_id = kAgency,
                                                   .person_login = "",
                                                   .valid_from = -kDay,
                                                   .valid_for = 41 * kDay},
                                                  "seal"));
    tls_ = std::make_unique<TestLeaf>(pki_.Issue({.profile = signer::CertificateProfile::kNodeTls,
                                                  .agency_id = kAgency,
                                                  .person_login = "",
                                                  .valid_from = -kDay,
                                                  .valid_for = 366 * kDay},
                                                 "tls"));
    now_ = absl::ToUnixMicros(pki_.now());
  }

  std::unique_ptr<OperationsCheck> Check() {
    return std::make_unique<OperationsCheck>(
        *store_, metrics_, health_,
        OperationsOptions{
            .certificates = {{"seal", seal_->cert_path, seal_->cert}, {"tls", tls_->cert_path, tls_->cert}},
            .anchor_files = {pki_.root_path()},
            .certificate_warning = 30 * kDay,
            .now = [this] { return absl::FromUnixMicros(now_.load()); }});
  }
  void Advance(absl::Duration d) { now_ += absl::ToInt64Microseconds(d); }
  double Value(const std::string& series) const { return MetricValue(metrics_.Render(), series); }

  TempDir dir_;
  TestPki pki_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<TestLeaf> seal_;
  std::unique_ptr<TestLeaf> tls_;
  std::atomic<int64_t> now_{0};
  Metrics metrics_;
  Health health_{{}};
};

TEST_F(OperationsTest, OneRoundSetsTheOutboxTheStoreAndTheCertificateMetrics) {
  ASSERT_OK(store_->Enqueue({Entry("m-1", "000.00.01.H49"), Entry("m-2", "000.00.01.H49"), Entry("m-3", "p")}));
  ASSERT_OK_AND_ASSIGN(std::vector<store::OutboxEntry> entries, store_->ListOutbox("m-2"));
  ASSERT_OK(store_->MarkFailed(entries.front().id, "deadline passed"));
  LogCapture log;
  Check()->RunOnce();

  EXPECT_EQ(Value(R"(congvan_outbox_entries{state="pending"})"), 2);
  EXPECT_EQ(Value(R"(congvan_outbox_entries{state="failed"})"), 1);
  const double bytes = Value("congvan_store_bytes");
  EXPECT_GT(bytes, 0);
  ASSERT_OK_AND_ASSIGN(uint64_t now_on_disk, store_->DiskUsage());
  EXPECT_LE(bytes, static_cast<double>(now_on_disk));
  EXPECT_THAT(Value(R"(congvan_certificate_expiry_days{certificate="seal"})"), DoubleNear(40, 1e-4));
  EXPECT_THAT(Value(R"(congvan_certificate_expiry_days{certificate="tls"})"), DoubleNear(365, 1e-4));
  EXPECT_THAT(Value(R"(congvan_certificate_expiry_days{certificate="anchor"})"), DoubleNear(3650, 1e-4));
  EXPECT_EQ(::congvan::testing::MetricSeries(metrics_.Render(), "congvan_certificate_expiry_days").size(), 3u);
  for (const char* name : {Health::kNode, Health::kStore, Health::kCertificates, Health::kAudit}) {
    EXPECT_TRUE(health_.Serving(name)) << name;
  }
  EXPECT_THAT(log.Lines(), IsEmpty());
}

TEST_F(OperationsTest, ACertificateAboutToExpireTurnsOffOnlyTheCertificatesHealth) {
  LogCapture log;
  std::unique_ptr<OperationsCheck> check = Check();
  check->RunOnce();
  EXPECT_TRUE(health_.Serving(Health::kCertificates));
  Advance(15 * kDay);  // the seal has 25 days left
  check->RunOnce();
  EXPECT_FALSE(health_.Serving(Health::kCertificates));
  EXPECT_TRUE(health_.Serving(Health::kNode));
  EXPECT_TRUE(health_.Serving(Health::kStore));
  EXPECT_THAT(Value(R"(congvan_certificate_expiry_days{certificate="seal"})"), DoubleNear(25, 1e-4));
  ASSERT_THAT(log.Lines(), SizeIs(1));
  EXPECT_THAT(log.Lines()[0], HasSubstr("warning certificate=seal file=" + seal_->cert_path));
  Advance(absl::Seconds(5));
  check->RunOnce();
  EXPECT_THAT(log.Lines(), SizeIs(1));  // once a day, not every round
}

// The part of the test that runs in a child (a death test forks): the file
// size limit and the broken store stay there. Exits 0 when all went as it
// should, else with the number of the check that failed.
void RunWithAStoreThatCannotWrite(OperationsTest& test, store::Store& store, OperationsCheck& check,
                                  const std::string& db) {
  LogCapture log;
  // A WAL larger than every other file, then a limit at its size: the WAL's
  // next write fails while RocksDB's own log keeps room to say so.
  store::NewOutboxEntry big = Entry("m-big", "p");
  big.recipients.assign(20000, std::string(100, 'r'));
  if (!store.Enqueue({big}).ok()) _exit(10);
  uintmax_t wal = 0;
  for (const auto& entry : std::filesystem::directory_iterator(db)) {
    if (entry.path().extension() == ".log") wal = std::max(wal, entry.file_size());
  }
  signal(SIGXFSZ, SIG_IGN);
  const rlimit limit{wal, wal};
  if (wal < (1 << 20) || setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(11);

  check.RunOnce();
  if (test.health_.Serving(Health::kNode) || test.health_.Serving(Health::kStore)) _exit(12);
  if (!test.health_.Serving(Health::kCertificates)) _exit(13);
  if (log.Matching("error store: cannot write").size() != 1) _exit(14);
  // Reading still works: the outbox is still counted.
  if (MetricValue(test.metrics_.Render(), R"(congvan_outbox_entries{state="pending"})") != 1) _exit(15);
  // While it lasts, the error is repeated once a minute, not every round.
  test.Advance(absl::Seconds(5));
  check.RunOnce();
  if (log.Matching("error store: cannot write").size() != 1) _exit(16);
  test.Advance(absl::Minutes(1));
  check.RunOnce();
  if (log.Matching("error store: cannot write").size() != 2) _exit(17);
  if (test.health_.Serving(Health::kNode)) _exit(18);
  _exit(0);
}

using OperationsDeathTest = OperationsTest;

TEST_F(OperationsDeathTest, AStoreThatCannotWriteTakesTheNodeDownAndSaysSo) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::unique_ptr<OperationsCheck> check = Check();
  check->RunOnce();
  ASSERT_TRUE(health_.Serving(Health::kNode));
  EXPECT_EXIT(RunWithAStoreThatCannotWrite(*this, *store_, *check, dir_.File("db")), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace congvan::node
