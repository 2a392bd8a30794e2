// The machine's own ceilings, measured in the same run as the figures they
// bound: what one resource does when nothing else asks for it.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <thread>

#include "bench.h"
#include "congvan/config/profile.h"
#include "congvan/node/tls.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/cms.h"
#include "congvan/signer/key_backend.h"
#include "congvan/signer/trust.h"
#include "congvan/store/rocksdb_options.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "pair.h"
#include "rocksdb/db.h"

namespace congvan::bench {
namespace {

// Runs `work` on `threads` threads for `seconds`; returns the calls per second.
double Rate(int threads, double seconds, const std::function<bool()>& work) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> done{0};
  std::vector<std::thread> pool;
  const Clock::time_point start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        if (!work()) {
          std::fprintf(stderr, "bench: a ceiling's operation failed\n");
          std::abort();
        }
        ++n;
      }
      done += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& t : pool) t.join();
  return static_cast<double>(done.load()) / Since(start);
}

double SealRates(const BenchOptions& options, Pair& pair, double seconds, double* verifications) {
  const std::string dir = pair.cluster->dir() + "/agencies/" + kSender;
  auto certs = Must(signer::LoadCertificates(dir + "/seal.pem"), "the seal certificate");
  auto trust = Must(signer::TrustStore::Load({pair.cluster->Root()}, {pair.cluster->Crl()}), "the trust files");
  const std::string digest = signer::Sha256("một tiêu đề văn bản");
  // One key per thread, as a node has one per process: no lock shared.
  std::vector<std::unique_ptr<signer::KeyBackend>> keys;
  for (int i = 0; i < options.threads; ++i) {
    keys.push_back(Must(signer::OpenKey({.key_file = dir + "/seal.key"}), "the seal key"));
  }
  std::atomic<int> next{0};
  thread_local int mine = -1;
  const double signatures = Rate(options.threads, seconds, [&] {
    if (mine < 0) mine = next++;
    signer::SignRequest request{keys[static_cast<size_t>(mine % options.threads)].get(), certs.front(),
                                {certs.begin() + 1, certs.end()}, absl::Now()};
    return signer::SignDigest(digest, request).ok();
  });
  signer::SignRequest request{keys.front().get(), certs.front(), {certs.begin() + 1, certs.end()}, absl::Now()};
  const std::string signature = Must(signer::SignDigest(digest, request), "a seal");
  *verifications = Rate(options.threads, seconds, [&] {
    return signer::VerifyDigest(digest, signature, trust, absl::Now()).ok();
  });
  return signatures;
}

// Small synced batches into a database opened with the store's options, at
// the benchmark's concurrency (RocksDB's group commit shares the fsyncs).
double SyncedWrites(double seconds, int concurrency) {
  const std::string path = std::filesystem::temp_directory_path() / ("congvan-bench-rocksdb-" + std::to_string(getpid()));
  std::filesystem::remove_all(path);
  store::StoreOptions store_options;
  store_options.path = path;
  store_options.memtable_budget = size_t{16} << 20;  // as congvand opens it
  rocksdb::Options db_options(store::DatabaseOptions(store_options), rocksdb::ColumnFamilyOptions());
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(db_options, path, &raw).ok()) Must(absl::UnavailableError(path), "opening RocksDB");
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions synced;
  synced.sync = true;
  std::atomic<uint64_t> key{0};
  const std::string value(1024, 'v');  // a record and its audit event
  const double rate = Rate(concurrency, seconds, [&] {
    const uint64_t k = key++;
    return db->Put(synced, std::string(reinterpret_cast<const char*>(&k), sizeof k), value).ok();
  });
  db.reset();
  std::filesystem::remove_all(path);
  return rate;
}

// grpc.health.v1.Health/Check on the receiver's people port, over the
// sender clerk's mutual-TLS channel: the cheapest call a node answers.
double EmptyCalls(Pair& pair, double seconds, int concurrency) {
  auto profile = Must(config::LoadProfile(pair.cluster->Profile("clerk-a00")), "the clerk profile");
  node::TlsFiles files{.cert_chain = profile.tls.cert_file, .private_key = profile.tls.key_file,
                       .anchors = profile.trust.anchor_files};
  auto credentials = Must(node::MakeChannelCredentials(files), "the clerk's TLS files");
  // Several connections, as the clerks' many clients would open.
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> stubs;
  for (int i = 0; i < 4; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("congvan.bench.channel", i);  // distinct channels, not one shared subchannel
    stubs.push_back(grpc::health::v1::Health::NewStub(
        grpc::CreateCustomChannel(profile.node.ToString(), credentials, args)));
  }
  std::atomic<uint64_t> n{0};
  return Rate(concurrency, seconds, [&] {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    return stubs[n++ % stubs.size()]->Check(&context, request, &response).ok();
  });
}

double Sha256MegabytesPerSecond(double seconds) {
  const std::string block(size_t{1} << 20, 'x');
  std::string sink;
  const double rate = Rate(1, seconds, [&] {
    sink = signer::Sha256(block);
    return true;
  });
  return rate * static_cast<double>(block.size()) / 1e6;
}

}  // namespace

json Ceilings(const BenchOptions& options, Pair& pair, bool machine, int concurrency) {
  const double seconds = options.quick ? 1.0 : 3.0;
  json out;
  double verifications = 0;
  out["seal_signatures_per_s"] = SealRates(options, pair, seconds, &verifications);
  out["seal_verifications_per_s"] = verifications;
  Row("ceiling " + pair.key_type, "seal signatures", out["seal_signatures_per_s"], "/s",
      std::to_string(options.threads) + " threads, signer library");
  Row("ceiling " + pair.key_type, "seal verifications", verifications, "/s", "with the CRLs");
  if (!machine) return out;
  out["rocksdb_synced_writes_per_s"] = SyncedWrites(seconds, concurrency);
  Row("ceiling", "RocksDB synced writes", out["rocksdb_synced_writes_per_s"], "/s",
      std::to_string(concurrency) + " writers, the store's options, 1 KiB");
  out["grpc_mtls_empty_calls_per_s"] = EmptyCalls(pair, seconds, concurrency);
  Row("ceiling", "gRPC mTLS empty calls", out["grpc_mtls_empty_calls_per_s"], "/s",
      std::to_string(concurrency) + " callers -> a congvand, Health.Check");
  out["sha256_mb_per_s"] = Sha256MegabytesPerSecond(seconds);
  Row("ceiling", "SHA-256", out["sha256_mb_per_s"], "MB/s", "one core");
  out["cores"] = options.threads;
  out["concurrency"] = concurrency;
  return out;
}

}  // namespace congvan::bench
