#include "pkcs11_public_key.h"

#include <botan/ber_dec.h>
#include <botan/bigint.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/rsa.h>

#include <cstdint>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "congvan/signer/status_macros.h"

namespace congvan::signer::internal {
namespace {

constexpr size_t kMinRsaBits = 2048;

const uint8_t* Bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Attributes of a key pair: the private key's, or where the token does not
// show them there, its public key object's.
class KeyPairAttributes {
 public:
  KeyPairAttributes(Pkcs11Session& session, CK_OBJECT_HANDLE private_key)
      : session_(session), private_key_(private_key) {}

  absl::StatusOr<std::string> Get(CK_ATTRIBUTE_TYPE type) {
    absl::StatusOr<std::string> value = session_.Attribute(private_key_, type);
    if (value.ok() || value.status().code() != absl::StatusCode::kNotFound) return value;
    ASSIGN_OR_RETURN(CK_OBJECT_HANDLE public_key, PublicKey());
    return session_.Attribute(public_key, type);
  }

 private:
  // The public key object paired with the private key: same CKA_ID, or the
  // same CKA_LABEL when the private key has no ID.
  absl::StatusOr<CK_OBJECT_HANDLE> PublicKey() {
    if (public_key_.has_value()) return *public_key_;
    static constexpr CK_OBJECT_CLASS kPublicKeyClass = CKO_PUBLIC_KEY;
    absl::StatusOr<std::string> id = session_.Attribute(private_key_, CKA_ID);
    CK_ATTRIBUTE_TYPE match_type = CKA_ID;
    if (!id.ok() || id->empty()) {
      ASSIGN_OR_RETURN(id, session_.Attribute(private_key_, CKA_LABEL));
      match_type = CKA_LABEL;
    }
    ASSIGN_OR_RETURN(std::vector<CK_OBJECT_HANDLE> found,
                     session_.Find({MakeAttribute(CKA_CLASS, kPublicKeyClass),
                                    MakeAttribute(match_type, *id)}));
    if (found.empty()) {
      return absl::NotFoundError("token '" + session_.token_label() +
                                 "' holds no public key for the private key");
    }
    public_key_ = found.front();
    return *public_key_;
  }

  Pkcs11Session& session_;
  CK_OBJECT_HANDLE private_key_;
  std::optional<CK_OBJECT_HANDLE> public_key_;
};

absl::StatusOr<Pkcs11KeyPair> ReadRsa(KeyPairAttributes& attributes, const std::string& token) {
  ASSIGN_OR_RETURN(std::string modulus, attributes.Get(CKA_MODULUS));
  ASSIGN_OR_RETURN(std::string exponent, attributes.Get(CKA_PUBLIC_EXPONENT));
  const Botan::BigInt n = Botan::BigInt::decode(Bytes(modulus), modulus.size());
  const Botan::BigInt e = Botan::BigInt::decode(Bytes(exponent), exponent.size());
  if (n.bits() < kMinRsaBits) {
    return absl::FailedPreconditionError("the RSA key on token '" + token + "' has " +
                                         std::to_string(n.bits()) + " bits; at least " +
                                         std::to_string(kMinRsaBits) + " are needed");
  }
  const std::vector<uint8_t> der = Botan::RSA_PublicKey(n, e).subject_public_key();
  return Pkcs11KeyPair{Pkcs11KeyPair::Algorithm::kRsa, std::string(der.begin(), der.end()),
                       n.bytes()};
}

// CKA_EC_POINT is a DER OCTET STRING holding the encoded point; some tokens
// return the bare point instead.
std::vector<uint8_t> EcPointBytes(const std::string& value) {
  try {
    std::vector<uint8_t> point;
    Botan::BER_Decoder(Bytes(value), value.size())
        .decode(point, Botan::OCTET_STRING)
        .verify_end();
    return point;
  } catch (const std::exception&) {
    return std::vector<uint8_t>(value.begin(), value.end());
  }
}

absl::StatusOr<Pkcs11KeyPair> ReadEc(KeyPairAttributes& attributes, const std::string& token) {
  ASSIGN_OR_RETURN(std::string params, attributes.Get(CKA_EC_PARAMS));
  ASSIGN_OR_RETURN(std::string point, attributes.Get(CKA_EC_POINT));
  const Botan::EC_Group group(Bytes(params), params.size());
  if (group != Botan::EC_Group("secp256r1")) {
    return absl::FailedPreconditionError("the EC key on token '" + token +
                                         "' is not on curve P-256");
  }
  const Botan::PointGFp public_point = group.OS2ECP(EcPointBytes(point));
  const std::vector<uint8_t> der = Botan::ECDSA_PublicKey(group, public_point).subject_public_key();
  return Pkcs11KeyPair{Pkcs11KeyPair::Algorithm::kEcdsaP256, std::string(der.begin(), der.end()),
                       2 * group.get_order_bytes()};
}

}  // namespace

absl::StatusOr<Pkcs11KeyPair> ReadKeyPair(Pkcs11Session& session, CK_OBJECT_HANDLE private_key) {
  const std::string& token = session.token_label();
  ASSIGN_OR_RETURN(CK_ULONG key_type, session.UlongAttribute(private_key, CKA_KEY_TYPE));
  KeyPairAttributes attributes(session, private_key);
  try {
    switch (key_type) {
      case CKK_RSA:
        return ReadRsa(attributes, token);
      case CKK_EC:
        return ReadEc(attributes, token);
      default:
        return absl::FailedPreconditionError("the key on token '" + token +
                                             "' is neither RSA nor EC");
    }
  } catch (const std::exception& e) {
    // Botan rejects malformed parameters or points with an exception.
    return absl::InternalError("token '" + token + "' returned a malformed public key: " +
                               e.what());
  }
}

}  // namespace congvan::signer::internal
