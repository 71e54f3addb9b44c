#include "sim/addr.hpp"

#include <bit>
#include <charconv>

#include <fmt/format.h>

namespace espat::sim {

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<Mac> Mac::parse(std::string_view t) {
  if (t.size() != 17) return std::nullopt;
  Mac m;
  for (int i = 0; i < 6; ++i) {
    int hi = hex_digit(t[i * 3]), lo = hex_digit(t[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && t[i * 3 + 2] != ':')) return std::nullopt;
    m.b[i] = std::uint8_t(hi << 4 | lo);
  }
  return m;
}

std::string Mac::str() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5]);
}

std::string Mac::link_local_ipv6() const {
  return fmt::format("fe80::{:x}:{:x}:{:x}:{:x}", (b[0] ^ 0x02) << 8 | b[1], b[2] << 8 | 0xff, 0xfe00 | b[3],
                     b[4] << 8 | b[5]);
}

bool Mac::assignable() const {
  bool zero = true, ff = true;
  for (auto x : b) zero &= x == 0, ff &= x == 0xff;
  return !zero && !ff && (b[0] & 1) == 0;
}

Mac Mac::plus(int n) const {
  Mac m = *this;
  m.b[5] = std::uint8_t(m.b[5] + n);
  return m;
}

std::optional<Ipv4> Ipv4::parse(std::string_view t) {
  std::uint32_t v = 0;
  const char* p = t.data();
  const char* end = t.data() + t.size();
  for (int i = 0; i < 4; ++i) {
    unsigned octet = 0;
    if (p == end || *p < '0' || *p > '9') return std::nullopt;
    auto [next, ec] = std::from_chars(p, end, octet);
    if (ec != std::errc() || octet > 255 || next - p > 3) return std::nullopt;
    v = v << 8 | octet;
    p = next;
    if (i < 3) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
  }
  if (p != end) return std::nullopt;
  return Ipv4{v};
}

std::string Ipv4::str() const { return fmt::format("{}.{}.{}.{}", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255); }

std::optional<Subnet> Subnet::parse(std::string_view t) {
  auto slash = t.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto base = Ipv4::parse(t.substr(0, slash));
  unsigned bits = 0;
  auto rest = t.substr(slash + 1);
  auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), bits);
  if (!base || ec != std::errc() || p != rest.data() + rest.size() || bits > 30 || bits < 8) return std::nullopt;
  Ipv4 mask{bits == 0 ? 0 : ~std::uint32_t(0) << (32 - bits)};
  return Subnet{Ipv4{base->v & mask.v}, mask};
}

std::string Subnet::str() const { return fmt::format("{}/{}", base.str(), std::popcount(mask.v)); }

}  // namespace espat::sim
