// Crash consistency: a child process issues documents in a loop and is
// killed with SIGKILL at a random moment, several times over the same
// database. After each reopen the register has no gap, every number taken has
// its message, parts and outbox entry (all or nothing), every number the
// child saw acknowledged is there, and no upload is left behind.
//
// The child is this test binary run again (fork + exec) with only
// StoreCrashChild selected: a plain fork would inherit RocksDB's global
// thread pool without its threads, and the child's flushes would never run.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

#include "store_fixture.h"

extern char** environ;

namespace congvan::store::testing {
namespace {

using congvan::testing::TempDir;

constexpr char kChildEnv[] = "CONGVAN_STORE_CRASH_CHILD";  // "<db path>|<fd>|<wal_bypass_bytes>|<seed>"

// The child's role: issue forever, reporting each acknowledged number on
// `fd`. Some documents are a few MiB so that kills also land mid-upload.
[[noreturn]] void IssueUntilKilled(const StoreOptions& options, int fd, uint32_t seed) {
  auto opened = Store::Open(options);
  if (!opened.ok()) _exit(2);
  Store& store = **opened;
  std::mt19937 gen(seed);
  for (uint64_t i = 0;; ++i) {
    size_t size = gen() % 8 == 0 ? (1 + gen() % 4) << 20 : 1 + gen() % 5000;
    std::string part(size, static_cast<char>('a' + i % 26));
    auto upload = store.BeginUpload();
    if (!upload.ok()) _exit(3);
    for (size_t at = 0; at < size; at += 64 << 10) {
      if (!(*upload)->Append(0, std::string_view(part).substr(at, 64 << 10)).ok()) _exit(4);
    }
    auto digests = (*upload)->Finish(1);
    if (!digests.ok()) _exit(5);
    auto issued = store.Issue(IssueRequest{kSender, 2025, upload->get(), T(0)},
                              [&](uint64_t n) -> absl::StatusOr<IssuedDocument> {
                                std::string id = "msg-2025-" + std::to_string(n);
                                IssuedDocument d;
                                d.document = Sealed(Header(id, kSender, 2025, n, {kCommuneA}, *digests));
                                d.deliveries.push_back(Delivery(id, kProvince, {kCommuneA}));
                                return d;
                              });
    if (!issued.ok()) _exit(6);
    uint64_t n = issued->number;
    if (write(fd, &n, sizeof n) != sizeof n) _exit(7);
  }
}

TEST(StoreCrashChild, IssuesDocumentsUntilKilled) {
  const char* role = std::getenv(kChildEnv);
  if (role == nullptr) GTEST_SKIP() << "runs only as the child process of the StoreCrash tests";
  char path[4096];
  int fd = -1;
  size_t bypass = 0;
  unsigned seed = 0;
  if (std::sscanf(role, "%4095[^|]|%d|%zu|%u", path, &fd, &bypass, &seed) != 4) _exit(1);
  StoreOptions options;
  options.path = path;
  options.wal_bypass_bytes = bypass;
  IssueUntilKilled(options, fd, seed);
}

// Starts the child; returns its pid. Everything exec needs is built before
// fork: the parent has threads, so the child may only call exec.
pid_t StartIssuer(const StoreOptions& options, int fd, uint32_t seed) {
  std::string role = std::string(kChildEnv) + "=" + options.path + "|" + std::to_string(fd) + "|" +
                     std::to_string(options.wal_bypass_bytes) + "|" + std::to_string(seed);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  env.push_back(role.data());
  env.push_back(nullptr);
  std::string exe = "/proc/self/exe";
  std::string filter = "--gtest_filter=StoreCrashChild.IssuesDocumentsUntilKilled";
  char* argv[] = {exe.data(), filter.data(), nullptr};
  pid_t pid = fork();
  if (pid == 0) {
    execve(exe.c_str(), argv, env.data());
    _exit(127);
  }
  return pid;
}

// Kills an issuer four times over one database and checks it after each.
void KillIssuerRepeatedly(const StoreOptions& options) {
  const uint32_t seed = std::random_device{}();
  std::mt19937 gen(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  uint64_t acknowledged = 0;
  for (int round = 0; round < 4; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t child = StartIssuer(options, fds[1], gen());
    ASSERT_GT(child, 0);
    close(fds[1]);
    // Let it issue some documents, then kill it at a random moment.
    const int wanted = 5 + static_cast<int>(gen() % 40);
    uint64_t n = 0;
    for (int got = 0; got < wanted && read(fds[0], &n, sizeof n) == sizeof n; ++got) acknowledged = n;
    std::this_thread::sleep_for(std::chrono::microseconds(gen() % 30000));
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the issuer stopped by itself with " << WEXITSTATUS(status);
    while (read(fds[0], &n, sizeof n) == sizeof n) acknowledged = n;
    close(fds[0]);

    auto store = OpenOrDie(options);
    ASSERT_NE(store, nullptr);
    ASSERT_OK_AND_ASSIGN(uint64_t last, store->LastNumber(kSender, 2025));
    EXPECT_GE(last, acknowledged) << "an acknowledged number was lost";
    for (uint64_t i = 1; i <= last; ++i) {
      std::string id = "msg-2025-" + std::to_string(i);
      ASSERT_OK_AND_ASSIGN(StoredMessage m, store->GetMessage(id));
      EXPECT_EQ(m.header.registration().number(), i);
      ASSERT_OK(store->ReadPart(id, 0, [](std::string_view) { return absl::OkStatus(); }));
      ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> outbox, store->ListOutbox(id));
      EXPECT_EQ(outbox.size(), 1u) << id;
    }
    EXPECT_EQ(store->HasMessage("msg-2025-" + std::to_string(last + 1)).value_or(true), false);
    ASSERT_OK_AND_ASSIGN(std::vector<OutboxEntry> due, store->ListDue(absl::InfiniteFuture(), 100000));
    EXPECT_EQ(due.size(), last);
    ASSERT_OK_AND_ASSIGN(PartsUsage usage, store->Usage());
    EXPECT_EQ(usage.pending_uploads, 0u);
    std::printf("round %d: %llu issued, %llu acknowledged, %llu part bytes stored\n", round,
                static_cast<unsigned long long>(last), static_cast<unsigned long long>(acknowledged),
                static_cast<unsigned long long>(usage.bytes));
  }
}

TEST(StoreCrash, KilledIssuerLeavesGaplessAllOrNothingRegister) {
  TempDir dir;
  KillIssuerRepeatedly(OptionsIn(dir));
}

// The same, with every upload past 1 MiB bypassing the WAL (its chunks made
// durable by the flush in Upload::Finish instead).
TEST(StoreCrash, KilledIssuerOfLargeUploadsBypassingTheWalLeavesGaplessAllOrNothingRegister) {
  TempDir dir;
  StoreOptions options = OptionsIn(dir);
  options.wal_bypass_bytes = 1 << 20;
  KillIssuerRepeatedly(options);
}

}  // namespace
}  // namespace congvan::store::testing
