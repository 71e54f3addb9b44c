#include "sim/blufi_dh.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

namespace espat::sim::blufi {

namespace {
template <class T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using Bn = std::unique_ptr<BIGNUM, Free<BIGNUM, BN_free>>;
using Pkey = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, Free<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Free<OSSL_PARAM, OSSL_PARAM_free>>;

Bn bn(std::string_view big_endian) {
  return Bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()), int(big_endian.size()), nullptr));
}

std::string be16(std::size_t n) { return {char(n >> 8), char(n & 0xFF)}; }

// 1 < y < p - 1: the range mbedtls checks for both public values (dhm.c dhm_check_range).
bool public_in_range(const BIGNUM* y, const BIGNUM* p) {
  Bn top(BN_dup(p));
  return top && BN_sub_word(top.get(), 1) && BN_cmp(y, BN_value_one()) > 0 && BN_cmp(y, top.get()) < 0;
}

// A DH key from its parts: the domain alone, or with a public value.
Pkey dh_key(const BIGNUM* p, const BIGNUM* g, const BIGNUM* pub) {
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_P, p) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_FFC_G, g) ||
      (pub && !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub)))
    return nullptr;
  Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "DH", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, pub ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEY_PARAMETERS, params.get()) != 1)
    return nullptr;
  return Pkey(key);
}

Pkey generate(const BIGNUM* p, const BIGNUM* g) {
  Pkey domain = dh_key(p, g, nullptr);
  if (!domain) return nullptr;
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, domain.get(), nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_generate(ctx.get(), &key) != 1) return nullptr;
  return Pkey(key);
}

// This end's public value, big-endian and padded to the width of p (blufi_security.c sends
// mbedtls_dhm_make_public's output of mbedtls_mpi_size(P) bytes). Empty if out of range.
std::string public_bytes(EVP_PKEY* key, const BIGNUM* p) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PUB_KEY, &raw) != 1) return {};
  Bn y(raw);
  if (!public_in_range(y.get(), p)) return {};
  std::string out(std::size_t(BN_num_bytes(p)), '\0');
  if (BN_bn2binpad(y.get(), reinterpret_cast<unsigned char*>(out.data()), int(out.size())) < 0) return {};
  return out;
}

// The AES key: MD5 of the shared secret written without leading zero bytes, as
// mbedtls_dhm_calc_secret writes it (mbedtls_mpi_size(K) bytes) and blufi_security.c hashes it.
std::optional<std::string> shared_key(EVP_PKEY* mine, const BIGNUM* p, const BIGNUM* g, const BIGNUM* peer_y) {
  Pkey peer = dh_key(p, g, peer_y);
  if (!peer) return std::nullopt;
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, mine, nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_dh_pad(ctx.get(), 0) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1 || EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1)
    return std::nullopt;
  std::string secret(len, '\0');
  if (EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(secret.data()), &len) != 1) return std::nullopt;
  secret.resize(len);
  std::string key(16, '\0');
  unsigned int md_len = 0;
  if (EVP_Digest(secret.data(), secret.size(), reinterpret_cast<unsigned char*>(key.data()), &md_len, EVP_md5(),
                 nullptr) != 1 ||
      md_len != 16)
    return std::nullopt;
  return key;
}

// One length-prefixed big number of PARAM_DATA (mbedtls dhm.c dhm_read_bignum: 2-byte
// big-endian length, then the bytes).
std::optional<std::string_view> take_bignum(std::string_view& in) {
  if (in.size() < 2) return std::nullopt;
  const std::size_t n = std::size_t(std::uint8_t(in[0])) << 8 | std::uint8_t(in[1]);
  if (n == 0 || in.size() - 2 < n) return std::nullopt;
  const std::string_view v = in.substr(2, n);
  in.remove_prefix(2 + n);
  return v;
}
}  // namespace

DhDevice::Step DhDevice::receive(std::string_view payload) {
  if (payload.empty()) return {std::nullopt, Error::DataFormat};
  switch (std::uint8_t(payload[0])) {
    case DhParamLen:
      if (payload.size() < 3) return {std::nullopt, Error::DhParam};
      param_len_ = std::size_t(std::uint8_t(payload[1])) << 8 | std::uint8_t(payload[2]);
      return {};
    case DhParamData: {
      if (!param_len_) return {std::nullopt, Error::DhParam};  // blufi_security.c: no PARAM_LEN first
      if (payload.size() - 1 < *param_len_) return {std::nullopt, Error::ReadParam};
      std::string_view in = payload.substr(1, *param_len_);
      const auto p_bytes = take_bignum(in), g_bytes = take_bignum(in), y_bytes = take_bignum(in);
      if (!p_bytes || !g_bytes || !y_bytes) return {std::nullopt, Error::ReadParam};
      Bn p = bn(*p_bytes), g = bn(*g_bytes), y = bn(*y_bytes);
      if (!p || !g || !y || BN_num_bits(p.get()) > kMaxPrimeBits || !public_in_range(y.get(), p.get()))
        return {std::nullopt, Error::ReadParam};
      param_len_.reset();  // blufi_security.c frees the parameters once read
      Pkey mine = generate(p.get(), g.get());
      std::string reply = mine ? public_bytes(mine.get(), p.get()) : std::string();
      if (reply.empty()) return {std::nullopt, Error::MakePublic};
      key_ = shared_key(mine.get(), p.get(), g.get(), y.get());
      if (!key_) return {std::nullopt, Error::MakePublic};
      return {std::move(reply), std::nullopt};
    }
    default:  // DhP, DhG, DhPublic and anything else: blufi_security.c does nothing
      return {};
  }
}

struct DhPhone::Keys {
  Bn p, g;
  Pkey mine;
};

DhPhone::DhPhone() : keys_(std::make_unique<Keys>()) {
  keys_->p.reset(BN_get_rfc2409_prime_1024(nullptr));
  keys_->g.reset(BN_new());
  if (!keys_->p || !keys_->g || !BN_set_word(keys_->g.get(), 2)) return;
  keys_->mine = generate(keys_->p.get(), keys_->g.get());
  if (!keys_->mine) return;
  const std::string y = public_bytes(keys_->mine.get(), keys_->p.get());
  std::string p(std::size_t(BN_num_bytes(keys_->p.get())), '\0');
  BN_bn2bin(keys_->p.get(), reinterpret_cast<unsigned char*>(p.data()));
  if (y.empty()) return;
  // EspBlufiForAndroid BlufiClientImpl.java postNegotiateSecurity: p, g = 2 in one byte, and
  // the public value padded to the size of p.
  params_ = std::string(1, char(DhParamData)) + be16(p.size()) + p + be16(1) + '\x02' + be16(y.size()) + y;
}

DhPhone::~DhPhone() = default;

std::string DhPhone::param_len_message() const {
  return std::string(1, char(DhParamLen)) + be16(params_.empty() ? 0 : params_.size() - 1);
}

bool DhPhone::receive(std::string_view device_public) {
  if (!keys_->mine || device_public.empty()) return false;
  Bn y = bn(device_public);
  if (!y || !public_in_range(y.get(), keys_->p.get())) return false;
  key_ = shared_key(keys_->mine.get(), keys_->p.get(), keys_->g.get(), y.get());
  return key_.has_value();
}

}  // namespace espat::sim::blufi
