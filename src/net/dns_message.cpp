#include "net/dns_message.hpp"

namespace espat::net {

namespace {
constexpr std::uint16_t kTypeA = 1, kTypeAAAA = 28, kClassIn = 1;

void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
  v.push_back(std::uint8_t(x >> 8));
  v.push_back(std::uint8_t(x));
}

struct Reader {
  std::span<const std::uint8_t> m;
  std::size_t pos = 0;
  bool ok = true;
  std::uint16_t u16() {
    if (pos + 2 > m.size()) return ok = false, 0;
    std::uint16_t x = std::uint16_t(m[pos] << 8 | m[pos + 1]);
    pos += 2;
    return x;
  }
  void skip(std::size_t n) {
    if (pos + n > m.size()) ok = false;
    else pos += n;
  }
  // A name: labels, ending in a zero byte or a compression pointer (which ends it here).
  void skip_name() {
    for (int labels = 0; ok && labels < 128; ++labels) {
      if (pos >= m.size()) return void(ok = false);
      const std::uint8_t len = m[pos];
      if ((len & 0xC0) == 0xC0) return skip(2);
      if (len & 0xC0) return void(ok = false);
      skip(1u + len);
      if (len == 0) return;
    }
    ok = false;
  }
};
}  // namespace

std::vector<std::uint8_t> dns_query(std::uint16_t id, std::string_view name, bool v6) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return {};
  std::vector<std::uint8_t> q;
  put16(q, id);
  put16(q, 0x0100);  // a standard query, recursion desired
  put16(q, 1);       // one question
  put16(q, 0);
  put16(q, 0);
  put16(q, 0);
  while (!name.empty()) {
    const auto dot = name.find('.');
    const auto label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) return {};
    q.push_back(std::uint8_t(label.size()));
    q.insert(q.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? std::string_view{} : name.substr(dot + 1);
  }
  q.push_back(0);
  put16(q, v6 ? kTypeAAAA : kTypeA);
  put16(q, kClassIn);
  return q;
}

std::optional<std::variant<DnsAddress, DnsNoAddress>> dns_answer(std::span<const std::uint8_t> msg, std::uint16_t id, bool v6) {
  Reader r{msg};
  if (r.u16() != id || !r.ok) return std::nullopt;
  const std::uint16_t flags = r.u16();
  const std::uint16_t qd = r.u16(), an = r.u16();
  r.skip(4);
  if (!r.ok || !(flags & 0x8000)) return std::nullopt;  // not a response
  if (const int rcode = flags & 0x0F; rcode != 0) return DnsNoAddress{rcode};
  for (int i = 0; i < qd && r.ok; ++i) {
    r.skip_name();
    r.skip(4);
  }
  const std::uint16_t want = v6 ? kTypeAAAA : kTypeA;
  for (int i = 0; i < an && r.ok; ++i) {
    r.skip_name();
    const std::uint16_t type = r.u16(), cls = r.u16();
    r.skip(4);  // TTL
    const std::uint16_t len = r.u16();
    if (!r.ok || r.pos + len > msg.size()) return std::nullopt;
    if (type == want && cls == kClassIn && len == (v6 ? 16 : 4))
      return DnsAddress{{msg.begin() + std::ptrdiff_t(r.pos), msg.begin() + std::ptrdiff_t(r.pos + len)}};
    r.skip(len);  // a CNAME and the like: its target's record follows
  }
  if (!r.ok) return std::nullopt;
  return DnsNoAddress{0};
}

}  // namespace espat::net
