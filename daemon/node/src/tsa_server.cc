#include "congvan/node/tsa_server.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "congvan/signer/certificate.h"
#include "congvan/signer/status_macros.h"

namespace congvan::node {
namespace {

constexpr size_t kAnsweringThreads = 4;  // a node asks once per sealed tree head
constexpr char kQueryType[] = "application/timestamp-query";
constexpr char kReplyType[] = "application/timestamp-reply";
constexpr char kTextType[] = "text/plain; charset=utf-8";

// OpenSSL's reasons for the last failure, "; "-separated; clears the queue.
std::string OpenSslReasons() {
  std::string reasons;
  while (unsigned long err = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(err);
    if (reason == nullptr) continue;
    reasons += reasons.empty() ? ": " : "; ";
    reasons += reason;
  }
  return reasons;
}

// "application/timestamp-query" from "Application/Timestamp-Query; x=y".
std::string MediaType(const std::string& header) {
  std::string type = header.substr(0, header.find(';'));
  absl::StripAsciiWhitespace(&type);
  absl::AsciiStrToLower(&type);
  return type;
}

// The files exist and the key is private, as for the node's gRPC servers
// (tls.cc), so that both fail the same way.
absl::Status CheckTlsFiles(const TlsFiles& tls) {
  RETURN_IF_ERROR(signer::ReadFile(tls.cert_chain).status());
  struct stat st {};
  if (stat(tls.private_key.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError("TLS key " + tls.private_key +
                                         " is readable by other users; run: chmod 600 " + tls.private_key);
  }
  RETURN_IF_ERROR(signer::ReadFile(tls.private_key).status());
  if (tls.anchors.empty()) return absl::InvalidArgumentError("no trust anchor configured for TLS");
  for (const std::string& anchor : tls.anchors) RETURN_IF_ERROR(signer::ReadFile(anchor).status());
  return absl::OkStatus();
}

// The server's TLS: TLS 1.2 or later, the node's chain and key, and a client
// certificate that chains to the anchors, or no handshake. `error` says what
// failed when this returns false.
bool SetUpServerTls(SSL_CTX& ctx, const TlsFiles& tls, std::string& error) {
  auto fail = [&error](const std::string& what) {
    error = what + OpenSslReasons();
    return false;
  };
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // An encrypted key fails instead of prompting on a terminal.
  SSL_CTX_set_default_passwd_cb(&ctx, [](char*, int, int, void*) { return -1; });
  if (SSL_CTX_use_certificate_chain_file(&ctx, tls.cert_chain.c_str()) != 1) {
    return fail(tls.cert_chain + " is not a PEM certificate chain");
  }
  const std::string mismatch = "TLS key " + tls.private_key + " does not belong to the certificate in " + tls.cert_chain;
  if (SSL_CTX_use_PrivateKey_file(&ctx, tls.private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) return fail(mismatch);
    return fail(tls.private_key + " is not an unencrypted PEM private key");
  }
  if (SSL_CTX_check_private_key(&ctx) != 1) return fail(mismatch);
  for (const std::string& anchor : tls.anchors) {
    if (SSL_CTX_load_verify_file(&ctx, anchor.c_str()) != 1) return fail(anchor + " holds no PEM trust anchor");
  }
  // The anchors' names in the CertificateRequest, so that a client with
  // several certificates can pick one.
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  for (const std::string& anchor : tls.anchors) SSL_add_file_cert_subjects_to_stack(names, anchor.c_str());
  SSL_CTX_set_client_CA_list(&ctx, names);
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  ERR_clear_error();
  return true;
}

void Refuse(httplib::Response& response, int status, const std::string& why) {
  response.status = status;
  response.set_content(why + "\n", kTextType);
}

// Decides from the request line and headers, before the body is read,
// whether a request is answered. Returns 0 if it is, else the status set.
int Screen(const httplib::Request& request, httplib::Response& response) {
  if (request.path != "/" && request.path != "/tsa") {
    Refuse(response, 404, "not found: the time-stamping authority answers POST / (or POST /tsa)");
  } else if (request.method != "POST") {
    response.set_header("Allow", "POST");
    Refuse(response, 405, "the time-stamping authority answers POST only (RFC 3161 §3.4)");
  } else if (MediaType(request.get_header_value("Content-Type")) != kQueryType) {
    Refuse(response, 415, std::string("send a DER TimeStampReq as Content-Type: ") + kQueryType);
  } else if (request.has_header("Transfer-Encoding") || !request.has_header("Content-Length")) {
    Refuse(response, 411, "send the TimeStampReq with a Content-Length");
  } else {
    uint64_t length = 0;
    if (!absl::SimpleAtoi(request.get_header_value("Content-Length"), &length)) {
      Refuse(response, 400, "the Content-Length is not a number");
    } else if (length > kMaxTimestampRequestBytes) {
      Refuse(response, 413, "a TimeStampReq has at most " + std::to_string(kMaxTimestampRequestBytes) + " bytes");
    } else {
      return 0;
    }
  }
  return response.status;
}

// Why a request got no HTTP answer, for an operator.
std::string Reason(httplib::Error error, const httplib::SSLClient& client) {
  switch (error) {
    case httplib::Error::Connection:
      return "cannot connect (nobody listens there, or the host is unreachable)";
    case httplib::Error::ConnectionTimeout:
      return "connecting timed out";
    case httplib::Error::SSLConnection:
      return "the TLS handshake failed (does the TSA trust this node's certificate?)";
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the trust anchors for the TSA's certificate";
    case httplib::Error::SSLServerVerification:
      return std::string("the TSA's certificate does not verify: ") +
             X509_verify_cert_error_string(client.get_openssl_verify_result());
    case httplib::Error::Read:
      return "no answer (the connection closed, or reading timed out)";
    case httplib::Error::Write:
      return "cannot send the request (the connection closed, or writing timed out)";
    default:
      return httplib::to_string(error);
  }
}

struct HttpsUrl {
  std::string host;
  int port = 443;
  std::string path = "/";
};

absl::StatusOr<HttpsUrl> ParseHttpsUrl(const std::string& url) {
  auto bad = [&url](const std::string& why) {
    return absl::InvalidArgumentError("TSA URL '" + url + "': " + why + " (expected https://host:port/path)");
  };
  constexpr std::string_view kScheme = "https://";
  if (!url.starts_with(kScheme)) return bad("not an https:// URL");
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  HttpsUrl out;
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) out.path = std::string(rest.substr(slash));
  std::string_view port;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("an unclosed '['");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return bad("text after ']'");
    if (!after.empty()) port = after.substr(1);
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return bad("no host");
  if (!port.empty() && (!absl::SimpleAtoi(std::string(port), &out.port) || out.port < 1 || out.port > 65535)) {
    return bad("port '" + std::string(port) + "' is not a number from 1 to 65535");
  }
  return out;
}

}  // namespace

TsaServer::TsaServer(std::unique_ptr<httplib::SSLServer> server) : server_(std::move(server)) {}

TsaServer::~TsaServer() { Stop(); }

absl::StatusOr<std::unique_ptr<TsaServer>> TsaServer::Start(const config::NetAddress& address, const TlsFiles& tls,
                                                             const signer::TimestampAuthority& authority) {
  RETURN_IF_ERROR(CheckTlsFiles(tls));
  std::string tls_error;
  auto ssl_server = std::make_unique<httplib::SSLServer>(
      [&tls, &tls_error](SSL_CTX& ctx) { return SetUpServerTls(ctx, tls, tls_error); });
  if (!ssl_server->is_valid()) {
    return absl::InvalidArgumentError("cannot set up TLS for the time-stamping authority: " + tls_error);
  }
  std::unique_ptr<TsaServer> out(new TsaServer(std::move(ssl_server)));
  httplib::Server& server = *out->server_;
  server.new_task_queue = [] { return new httplib::ThreadPool(kAnsweringThreads); };
  // No SO_REUSEPORT (httplib's default): another process must not be able
  // to bind the same port and take half the requests (metrics_server.cc).
  server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server.set_payload_max_length(kMaxTimestampRequestBytes);
  // A client that waits for "100 Continue" is refused before it sends the body.
  server.set_expect_100_continue_handler([](const httplib::Request& request, httplib::Response& response) {
    const int status = Screen(request, response);
    return status == 0 ? 100 : status;
  });
  server.set_pre_routing_handler([](const httplib::Request& request, httplib::Response& response) {
    return Screen(request, response) == 0 ? httplib::Server::HandlerResponse::Unhandled
                                          : httplib::Server::HandlerResponse::Handled;
  });
  auto answer = [&authority](const httplib::Request& request, httplib::Response& response) {
    // A request the TSA refuses is still answered: a TimeStampResp with
    // status rejection. Only the TSA's own failure is a 500.
    absl::StatusOr<std::string> reply = authority.Respond(request.body);
    if (!reply.ok()) {
      spdlog::error("time-stamping authority: {}", std::string(reply.status().message()));
      Refuse(response, 500, "the time-stamping authority failed; see the node's log");
      return;
    }
    response.set_content(*std::move(reply), kReplyType);
  };
  server.Post("/", answer);
  server.Post("/tsa", answer);
  const bool bound = address.port == 0 ? (out->port_ = server.bind_to_any_port(address.host)) > 0
                                       : server.bind_to_port(address.host, address.port);
  if (!bound) {
    return absl::UnavailableError("cannot serve the time-stamping authority on " + address.ToString() +
                                  ": the port is in use, or the host is not a local address");
  }
  if (address.port != 0) out->port_ = address.port;
  TsaServer* self = out.get();
  self->thread_ = std::thread([self] {
    self->server_->listen_after_bind();
    self->returned_ = true;
  });
  // A Stop() before the accepting loop runs would not wake it.
  while (!server.is_running() && !self->returned_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return out;
}

void TsaServer::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

absl::StatusOr<std::string> PostTimestampRequest(const TsaClientOptions& options, std::string_view request_der) {
  ASSIGN_OR_RETURN(HttpsUrl url, ParseHttpsUrl(options.url));
  for (const std::string* file : {&options.cert_file, &options.key_file, &options.ca_file}) {
    RETURN_IF_ERROR(signer::ReadFile(*file).status());
  }
  httplib::SSLClient client(url.host, url.port);
  // httplib's own client-certificate constructor loads only the first
  // certificate of the file; the TSA needs the issuing CA too to reach its
  // anchor.
  SSL_CTX* ctx = client.ssl_context();
  if (ctx == nullptr || SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError("cannot use TLS certificate " + options.cert_file + " with key " +
                                      options.key_file + OpenSslReasons());
  }
  client.set_ca_cert_path(options.ca_file);
  client.enable_server_certificate_verification(true);
  const auto timeout = absl::ToChronoMicroseconds(options.timeout);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  client.set_keep_alive(false);
  httplib::Result result = client.Post(url.path, request_der.data(), request_der.size(), kQueryType);
  if (!result) {
    const std::string reason = Reason(result.error(), client);
    ERR_clear_error();
    return absl::UnavailableError("cannot reach the time-stamping authority at " + options.url + ": " + reason);
  }
  if (result->status != 200) {
    std::string body = result->body.substr(0, 200);
    absl::StripTrailingAsciiWhitespace(&body);
    return absl::UnavailableError("the time-stamping authority at " + options.url + " answered HTTP " +
                                  std::to_string(result->status) + (body.empty() ? "" : ": " + body));
  }
  const std::string type = MediaType(result->get_header_value("Content-Type"));
  if (type != kReplyType) {
    return absl::UnavailableError("the time-stamping authority at " + options.url + " answered Content-Type '" +
                                  type + "', not " + kReplyType);
  }
  return std::move(result->body);
}

}  // namespace congvan::node
