// BluFi key negotiation (ESP-IDF examples/bluetooth/blufi/main/blufi_security.c, the DH
// negotiation every BluFi app speaks): the phone sends negotiation data frames (data subtype 0)
// whose first byte is a security type; the device answers one with its DH public key; the AES
// key of sim/blufi.hpp's Channel is MD5 of the shared secret. Pure; OpenSSL does the arithmetic.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sim/blufi.hpp"

namespace espat::sim::blufi {

// The security types (blufi_security.c SEC_TYPE_*). PARAM_LEN carries a 2-byte big-endian
// length; PARAM_DATA carries p, g and the phone's public key, each after a 2-byte big-endian
// length (as mbedtls_dhm_read_params reads them). P, G and PUBLIC are accepted and ignored.
enum SecType : int { DhParamLen = 0, DhParamData = 1, DhP = 2, DhG = 3, DhPublic = 4 };

// The sizes of p this end accepts: OpenSSL's DH floor, and the 3072 bits of the largest group
// EspBlufiForAndroid sends (BlufiClientImpl.java DH_P_3072; its usual group is 1024 bits).
inline constexpr int kMinPrimeBits = 512, kMaxPrimeBits = 3072;

// The device end: fed each negotiation message the phone sent, in order.
class DhDevice {
 public:
  struct Step {
    std::optional<std::string> reply;  // send as a negotiation data message (its public key)
    std::optional<Error> error;        // report as an error message (ESP-IDF's codes)
  };
  Step receive(std::string_view payload);
  // The 16-byte AES key, once a PARAM_DATA message gave a shared secret.
  const std::optional<std::string>& key() const { return key_; }

 private:
  std::optional<std::size_t> param_len_;
  std::optional<std::string> key_;
};

// The phone end: a 1024-bit safe prime (RFC 2409 group 2), g = 2, and a fresh key pair.
class DhPhone {
 public:
  DhPhone();
  ~DhPhone();
  DhPhone(const DhPhone&) = delete;
  DhPhone& operator=(const DhPhone&) = delete;

  // The two negotiation messages to send, in order: PARAM_LEN, then PARAM_DATA.
  std::string param_len_message() const;
  std::string param_data_message() const { return params_; }
  // The device's reply (its public key, big-endian). False if it is not a valid public value.
  bool receive(std::string_view device_public);
  const std::optional<std::string>& key() const { return key_; }

 private:
  struct Keys;
  std::unique_ptr<Keys> keys_;
  std::string params_;
  std::optional<std::string> key_;
};

}  // namespace espat::sim::blufi
