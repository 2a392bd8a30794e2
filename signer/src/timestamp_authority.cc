// The RFC 3161 time-stamping authority: OpenSSL's TS_RESP_CTX with congvan's
// clock, serials and key file.
#include <openssl/decoder.h>
#include <openssl/rand.h>
#include <openssl/ts.h>

#include <cstring>

#include "congvan/signer/status_macros.h"
#include "congvan/signer/timestamp.h"
#include "openssl_util.h"

namespace congvan::signer {
namespace {

using internal::EvpPkeyPtr;
using internal::OpenSslError;

using TsRespCtxPtr = internal::Owned<TS_RESP_CTX, TS_RESP_CTX_free>;
using TsRespPtr = internal::Owned<TS_RESP, TS_RESP_free>;
using Asn1ObjectPtr = internal::Owned<ASN1_OBJECT, ASN1_OBJECT_free>;
using DecoderCtxPtr = internal::Owned<OSSL_DECODER_CTX, OSSL_DECODER_CTX_free>;

constexpr int kSerialBytes = 16;

// A private key from a file in any of the formats LoadKeyFile reads, as an
// EVP_PKEY (TS_RESP_CTX signs with one), with LoadKeyFile's error codes.
absl::StatusOr<EvpPkeyPtr> LoadPrivateKey(const std::string& path, const SecretSource& passphrase) {
  ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  std::string pass;
  if (!passphrase.empty()) {
    ASSIGN_OR_RETURN(pass, ReadSecret(passphrase));
  }
  EVP_PKEY* raw = nullptr;
  // No input type: PEM and DER, PKCS#8 and traditional keys are all tried.
  DecoderCtxPtr decoder(
      OSSL_DECODER_CTX_new_for_pkey(&raw, nullptr, nullptr, nullptr, EVP_PKEY_KEYPAIR, nullptr, nullptr));
  if (!decoder) return OpenSslError(absl::StatusCode::kInternal, "cannot start reading key file " + path);
  // Without a passphrase the decoder has no way to ask for one, so an
  // encrypted key fails instead of prompting on a terminal.
  if (!pass.empty() && OSSL_DECODER_CTX_set_passphrase(decoder.get(), reinterpret_cast<const unsigned char*>(pass.data()),
                                                        pass.size()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot start reading key file " + path);
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t len = data.size();
  const bool decoded = OSSL_DECODER_from_data(decoder.get(), &p, &len) == 1;
  EvpPkeyPtr key(raw);
  internal::ClearOpenSslErrors();
  if (decoded && key) return key;
  // An encrypted key: "ENCRYPTED PRIVATE KEY" / "Proc-Type: 4,ENCRYPTED" in
  // PEM, an EncryptedPrivateKeyInfo in DER.
  bool encrypted = data.find("ENCRYPTED") != std::string::npos;
  if (!encrypted) {
    const unsigned char* q = reinterpret_cast<const unsigned char*>(data.data());
    X509_SIG* sig = d2i_X509_SIG(nullptr, &q, static_cast<long>(data.size()));
    encrypted = sig != nullptr;
    X509_SIG_free(sig);
    internal::ClearOpenSslErrors();
  }
  if (encrypted && pass.empty()) {
    return absl::FailedPreconditionError("key file " + path +
                                         " is encrypted: give its passphrase in a file or an environment variable");
  }
  if (encrypted) return absl::PermissionDeniedError("wrong passphrase for key file " + path);
  return absl::InvalidArgumentError(path + " is not a private key (expected PEM or DER, PKCS#8 or traditional)");
}

// The serialNumber of a token: 16 random bytes, the top bit cleared (a
// positive INTEGER) and the next one set, so that every serial has the same
// length and 126 random bits.
ASN1_INTEGER* RandomSerial(TS_RESP_CTX* ctx, void* /*data*/) {
  unsigned char bytes[kSerialBytes];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "Error during serial number generation.");
    TS_RESP_CTX_add_failure_info(ctx, TS_INFO_ADD_INFO_NOT_AVAILABLE);
    return nullptr;
  }
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);
  internal::BignumPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  return bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr;
}

// genTime from the injected clock; `data` is the options' std::function.
int ClockTime(TS_RESP_CTX* /*ctx*/, void* data, long* sec, long* usec) {
  const auto& now = *static_cast<const std::function<absl::Time()>*>(data);
  const absl::Time t = now();
  const absl::Time second = absl::FromUnixSeconds(absl::ToUnixSeconds(t));  // rounds down
  *sec = static_cast<long>(absl::ToUnixSeconds(second));
  *usec = static_cast<long>(absl::ToInt64Microseconds(t - second));
  return 1;
}

// RFC 3161 §2.4.2 failure reasons that mean the request, not the TSA, is at
// fault: such a rejection is an answer. Any other rejection is the TSA's own
// failure.
bool RejectionBlamesRequest(TS_RESP* response) {
  const TS_STATUS_INFO* info = TS_RESP_get_status_info(response);
  const ASN1_BIT_STRING* failure = TS_STATUS_INFO_get0_failure_info(info);
  if (failure == nullptr) return false;
  for (int bit : {TS_INFO_BAD_ALG, TS_INFO_BAD_REQUEST, TS_INFO_BAD_DATA_FORMAT, TS_INFO_UNACCEPTED_POLICY,
                  TS_INFO_UNACCEPTED_EXTENSION}) {
    if (ASN1_BIT_STRING_get_bit(failure, bit) == 1) return true;
  }
  return false;
}

std::string StatusText(TS_RESP* response) {
  const TS_STATUS_INFO* info = TS_RESP_get_status_info(response);
  const STACK_OF(ASN1_UTF8STRING)* text = TS_STATUS_INFO_get0_text(info);
  std::string out;
  for (int i = 0; i < sk_ASN1_UTF8STRING_num(text); ++i) {
    const ASN1_UTF8STRING* s = sk_ASN1_UTF8STRING_value(text, i);
    if (!out.empty()) out += " ";
    out.append(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<size_t>(ASN1_STRING_length(s)));
  }
  return out;
}

}  // namespace

struct TimestampAuthority::State {
  explicit State(TimestampAuthorityOptions o) : options(std::move(o)) {}
  TimestampAuthorityOptions options;
  EvpPkeyPtr key;
  Asn1ObjectPtr policy;
  internal::X509StackPtr chain;
  int accuracy_seconds = 0;
  int accuracy_millis = 0;
  int accuracy_micros = 0;
};

TimestampAuthority::TimestampAuthority(std::unique_ptr<State> state) : state_(std::move(state)) {}
TimestampAuthority::~TimestampAuthority() = default;

const Certificate& TimestampAuthority::certificate() const { return state_->options.certificate; }

absl::StatusOr<std::unique_ptr<TimestampAuthority>> TimestampAuthority::Create(TimestampAuthorityOptions options) {
  auto state = std::make_unique<State>(std::move(options));
  const TimestampAuthorityOptions& o = state->options;
  X509* cert = o.certificate.native();
  // The purpose check TS_RESP_CTX_set_signer_cert makes, with a message.
  if (X509_check_purpose(cert, X509_PURPOSE_TIMESTAMP_SIGN, 0) != 1) {
    internal::ClearOpenSslErrors();
    return absl::FailedPreconditionError("certificate '" + o.certificate.Subject() +
                                         "' is not a timestamping certificate: RFC 3161 needs extendedKeyUsage "
                                         "timeStamping, alone and critical (and a keyUsage, if any, of only "
                                         "digitalSignature and nonRepudiation)");
  }
  ASSIGN_OR_RETURN(state->key, LoadPrivateKey(o.key_file, o.passphrase));
  const EVP_PKEY* cert_key = X509_get0_pubkey(cert);
  if (cert_key == nullptr || EVP_PKEY_eq(cert_key, state->key.get()) != 1) {
    internal::ClearOpenSslErrors();
    return absl::FailedPreconditionError("key file " + o.key_file + " does not belong to the certificate of " +
                                         o.certificate.Subject());
  }
  state->policy.reset(OBJ_txt2obj(o.policy.c_str(), /*no_name=*/1));
  if (!state->policy) {
    internal::ClearOpenSslErrors();
    return absl::InvalidArgumentError("TSA policy '" + o.policy + "' is not an OID in dotted form");
  }
  if (o.accuracy < absl::ZeroDuration() || o.accuracy > absl::Hours(24)) {
    return absl::InvalidArgumentError("TSA accuracy must be between 0 and 24 hours");
  }
  const int64_t micros = absl::ToInt64Microseconds(o.accuracy);
  state->accuracy_seconds = static_cast<int>(micros / 1000000);
  state->accuracy_millis = static_cast<int>(micros / 1000 % 1000);
  state->accuracy_micros = static_cast<int>(micros % 1000);
  state->chain.reset(sk_X509_new_null());
  for (const Certificate& c : o.chain) {
    X509_up_ref(c.native());
    sk_X509_push(state->chain.get(), c.native());
  }
  if (!state->options.now) state->options.now = absl::Now;
  return std::unique_ptr<TimestampAuthority>(new TimestampAuthority(std::move(state)));
}

absl::StatusOr<std::string> TimestampAuthority::Respond(std::string_view request_der) const {
  // A TS_RESP_CTX holds the request it is answering, so each call has its own.
  TsRespCtxPtr ctx(TS_RESP_CTX_new());
  const State& s = *state_;
  if (!ctx || TS_RESP_CTX_set_signer_cert(ctx.get(), s.options.certificate.native()) != 1 ||
      TS_RESP_CTX_set_signer_key(ctx.get(), s.key.get()) != 1 ||
      TS_RESP_CTX_set_certs(ctx.get(), s.chain.get()) != 1 ||
      TS_RESP_CTX_set_def_policy(ctx.get(), s.policy.get()) != 1 ||
      TS_RESP_CTX_add_md(ctx.get(), EVP_sha256()) != 1 || TS_RESP_CTX_add_md(ctx.get(), EVP_sha384()) != 1 ||
      TS_RESP_CTX_add_md(ctx.get(), EVP_sha512()) != 1 ||
      TS_RESP_CTX_set_signer_digest(ctx.get(), EVP_sha256()) != 1 ||
      // A SHA-256 ESSCertIDv2: signingCertificateV2 (RFC 5816).
      TS_RESP_CTX_set_ess_cert_id_digest(ctx.get(), EVP_sha256()) != 1 ||
      TS_RESP_CTX_set_accuracy(ctx.get(), s.accuracy_seconds, s.accuracy_millis, s.accuracy_micros) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "cannot set up the timestamp authority");
  }
  TS_RESP_CTX_set_serial_cb(ctx.get(), RandomSerial, nullptr);
  TS_RESP_CTX_set_time_cb(ctx.get(), ClockTime, const_cast<std::function<absl::Time()>*>(&s.options.now));

  // OpenSSL reads the first TimeStampReq in the input and ignores what
  // follows; DER is one object. Anything else is answered as OpenSSL answers
  // an unreadable request (badDataFormat), by giving it no request at all.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(request_der.data());
  TS_REQ* parsed = d2i_TS_REQ(nullptr, &p, static_cast<long>(request_der.size()));
  const bool one_object = parsed != nullptr && p == reinterpret_cast<const unsigned char*>(request_der.data()) +
                                                         request_der.size();
  TS_REQ_free(parsed);
  internal::ClearOpenSslErrors();
  internal::BioPtr request = internal::MemoryBio(one_object ? request_der : std::string_view("", 0));
  if (!request) return OpenSslError(absl::StatusCode::kInternal, "cannot read the timestamp request");
  TsRespPtr response(TS_RESP_create_response(ctx.get(), request.get()));
  if (!response) return OpenSslError(absl::StatusCode::kInternal, "cannot make a timestamp response");
  const long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(response.get())));
  if (status != TS_STATUS_GRANTED && !RejectionBlamesRequest(response.get())) {
    return OpenSslError(absl::StatusCode::kInternal, "the timestamp authority failed (" +
                                                         StatusText(response.get()) + ")");
  }
  internal::ClearOpenSslErrors();  // a rejected request leaves its parse errors behind
  std::string der = internal::ToDer<TS_RESP, i2d_TS_RESP>(response.get());
  if (der.empty()) return OpenSslError(absl::StatusCode::kInternal, "cannot encode the timestamp response");
  return der;
}

}  // namespace congvan::signer
