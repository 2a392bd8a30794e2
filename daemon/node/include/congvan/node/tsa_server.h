// The root node's time-stamping authority over HTTPS (RFC 3161 §3.4, the
// time-stamp protocol via HTTP), and the client nodes use to reach it.
//
// The server answers POST / and POST /tsa with Content-Type
// application/timestamp-query and a body of at most 64 KiB with 200,
// Content-Type application/timestamp-reply and TimestampAuthority::Respond's
// TimeStampResp (a request the TSA refuses still gets 200 and a rejection in
// the TimeStampResp, as RFC 3161 asks). Otherwise: 404 for another path, 405
// for another method, 415 for another content type, 411 without a
// Content-Length, 413 for a larger body, 500 if the TSA itself fails. Every
// client must present, in the TLS handshake, a certificate that chains to
// the trust anchors; a client without one never gets an HTTP answer.
#ifndef CONGVAN_NODE_TSA_SERVER_H_
#define CONGVAN_NODE_TSA_SERVER_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "congvan/config/net_address.h"
#include "congvan/node/tls.h"
#include "congvan/signer/timestamp.h"

namespace httplib {
class SSLServer;
}

namespace congvan::node {

// The largest TimeStampReq body accepted. A SHA-512 request is about 100
// bytes; the limit only bounds what a client can make the server read.
inline constexpr size_t kMaxTimestampRequestBytes = 64 * 1024;

// Serves on its own threads: one that accepts, four that answer. Thread-safe.
class TsaServer {
 public:
  // Listens on `address` (port 0: a free port) with the node's TLS
  // certificate chain and key from `tls`, requiring client certificates
  // that chain to `tls.anchors` (checked at the handshake against the
  // current time; CRLs are not consulted here), and answers with
  // `authority`, which must outlive the server. Errors: NOT_FOUND (a TLS
  // file), FAILED_PRECONDITION (a TLS key readable by others),
  // INVALID_ARGUMENT (no anchors, or files that are not a certificate chain,
  // a key matching it, or PEM anchors), UNAVAILABLE naming the address when
  // it cannot listen there (the port is taken, the host is not local).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TsaServer>> Start(const config::NetAddress& address,
                                                                         const TlsFiles& tls,
                                                                         const signer::TimestampAuthority& authority);
  ~TsaServer();  // Stop()
  TsaServer(const TsaServer&) = delete;
  TsaServer& operator=(const TsaServer&) = delete;

  // The port bound.
  int port() const { return port_; }
  // Closes the listening socket, finishes the requests being answered and
  // joins the threads. Idempotent.
  void Stop();

 private:
  explicit TsaServer(std::unique_ptr<httplib::SSLServer> server);

  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  std::atomic<bool> returned_ = false;  // the accepting loop has ended
  int port_ = 0;
};

struct TsaClientOptions {
  std::string url;        // https://host:port/path ("[::1]" for IPv6); the path defaults to "/"
  std::string cert_file;  // the node's TLS certificate chain (PEM), presented to the TSA
  std::string key_file;   // its key (PEM)
  std::string ca_file;    // PEM trust anchors for the TSA's server certificate
  absl::Duration timeout = absl::Seconds(10);  // for connecting, and for each read and write
};

// POSTs `request_der` (a DER TimeStampReq) to the TSA at options.url as
// application/timestamp-query over mutual TLS and returns the body of its
// 200 answer (a DER TimeStampResp: TokenFromResponse checks it). The server
// certificate must chain to options.ca_file and name the URL's host.
// Thread-safe (each call makes its own connection). Errors:
// INVALID_ARGUMENT for a URL that is not https://host[:port][/path];
// NOT_FOUND for a missing file; INVALID_ARGUMENT for TLS files that cannot
// be loaded; UNAVAILABLE, with the reason, when the TSA cannot be reached
// (refused, timed out, failed TLS handshake or server verification) or
// answers other than 200 with application/timestamp-reply.
[[nodiscard]] absl::StatusOr<std::string> PostTimestampRequest(const TsaClientOptions& options,
                                                               std::string_view request_der);

}  // namespace congvan::node

#endif  // CONGVAN_NODE_TSA_SERVER_H_
