// SHA-256 and hex helpers of cms.h.
#include <openssl/evp.h>

#include <cstdlib>
#include <fstream>

#include "congvan/signer/cms.h"
#include "openssl_util.h"

namespace congvan::signer {

std::string Sha256(std::string_view data) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

struct Sha256Stream::Ctx {
  internal::EvpMdCtxPtr md{EVP_MD_CTX_new()};
};

Sha256Stream::Sha256Stream() : ctx_(std::make_unique<Ctx>()) {
  // Only allocation failure can fail here: an impossible state, abort loudly.
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md.get(), EVP_sha256(), nullptr) != 1) std::abort();
}

Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::Update(std::string_view data) {
  if (EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size()) != 1) std::abort();
}

std::string Sha256Stream::Finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_->md.get(), md, &len) != 1 ||
      EVP_DigestInit_ex(ctx_->md.get(), EVP_sha256(), nullptr) != 1) {
    std::abort();
  }
  return std::string(reinterpret_cast<char*>(md), len);
}

absl::StatusOr<std::string> Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + path);
  Sha256Stream hash;
  std::string buf(1 << 16, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    hash.Update(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
  }
  if (in.bad()) return absl::DataLossError("error while reading " + path);
  return hash.Finish();
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace congvan::signer
