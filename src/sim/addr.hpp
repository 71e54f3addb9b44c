// Link and network addresses as the AT commands print and parse them:
// MAC "aa:bb:cc:dd:ee:ff" (lower-case hex), IPv4 dotted quad.
#pragma once
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace espat::sim {

struct Mac {
  std::array<std::uint8_t, 6> b{};
  auto operator<=>(const Mac&) const = default;
  static std::optional<Mac> parse(std::string_view text);  // exactly 17 characters
  std::string str() const;
  // Spec 3.2.18-19: bit 0 of the first byte (multicast) set, all-zero and all-FF are refused.
  bool assignable() const;
  Mac plus(int n) const;  // the last byte moved on by n (softAP = station + 1, as ESP32 derives it)
  // The link-local IPv6 address lwIP derives from it (EUI-64): "fe80::260a:c4ff:fe84:485e".
  std::string link_local_ipv6() const;
};

struct Ipv4 {
  std::uint32_t v = 0;  // host order
  auto operator<=>(const Ipv4&) const = default;
  static std::optional<Ipv4> parse(std::string_view text);
  std::string str() const;
  bool is_zero() const { return v == 0; }
};

// A subnet such as "127.10.1.0/24".
struct Subnet {
  Ipv4 base, mask;
  static std::optional<Subnet> parse(std::string_view text);
  bool contains(Ipv4 a) const { return (a.v & mask.v) == (base.v & mask.v); }
  Ipv4 host(std::uint32_t n) const { return {(base.v & mask.v) | (n & ~mask.v)}; }
  std::string str() const;
};

}  // namespace espat::sim
