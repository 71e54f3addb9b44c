#include "net/ping.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <system_error>

#include <asio/basic_raw_socket.hpp>
#include <asio/ip/basic_endpoint.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "async/activity.hpp"

namespace espat::net {

namespace {

// An ICMP socket of either kind: asio::ip::icmp only opens raw ones. Both kinds exchange whole
// datagrams with send_to/receive_from, which is all basic_raw_socket does.
class IcmpProtocol {
 public:
  using endpoint = asio::ip::basic_endpoint<IcmpProtocol>;
  IcmpProtocol(int family, int type) : family_(family), type_(type) {}
  // basic_endpoint::protocol() needs these; nothing here opens a socket from an endpoint.
  static IcmpProtocol v4() { return {AF_INET, SOCK_RAW}; }
  static IcmpProtocol v6() { return {AF_INET6, SOCK_RAW}; }
  int family() const { return family_; }
  int type() const { return type_; }
  int protocol() const { return family_ == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6}; }

 private:
  int family_, type_;
};
using IcmpSocket = asio::basic_raw_socket<IcmpProtocol>;

constexpr std::size_t kHeader = 8, kPayload = 32;
constexpr std::uint8_t kEchoRequest4 = 8, kEchoReply4 = 0, kEchoRequest6 = 128, kEchoReply6 = 129;

// RFC 1071 Internet checksum. ICMPv6 and datagram sockets have theirs filled by the kernel, a
// raw ICMPv4 socket does not.
std::uint16_t checksum(const std::uint8_t* p, std::size_t n) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < n; i += 2) sum += (p[i] << 8) | p[i + 1];
  if (n & 1) sum += p[n - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// Errors that mean no reply can come: AT+PING's TIMEOUT rather than ERROR.
bool unreachable(const std::error_code& ec) {
  return ec == asio::error::network_unreachable || ec == asio::error::host_unreachable ||
         ec == asio::error::network_down || ec == asio::error::connection_refused ||
         ec == std::errc::address_not_available;
}

bool same_host(const asio::ip::address& a, const asio::ip::address& b) {
  if (a.is_v6() && b.is_v6()) return a.to_v6().to_bytes() == b.to_v6().to_bytes();  // scope ids aside
  return a == b;
}

struct Echo {
  bool raw = false, v4 = true;
  std::uint16_t id = 0, seq = 0;
  std::array<std::uint8_t, kPayload> payload{};
};

// The matching reply's arrival, or nullopt when the kernel reports the target unreachable.
asio::awaitable<std::optional<std::chrono::steady_clock::time_point>> await_reply(IcmpSocket& s, const Echo& e,
                                                                                asio::ip::address target) {
  std::array<std::uint8_t, 2048> buf;
  for (;;) {
    IcmpProtocol::endpoint from;
    std::error_code ec;
    std::size_t n =
        co_await s.async_receive_from(asio::buffer(buf), from, asio::redirect_error(asio::use_awaitable, ec));
    if (ec && unreachable(ec)) co_return std::nullopt;
    if (ec) throw std::system_error(ec, "ping receive");
    auto now = std::chrono::steady_clock::now();
    const std::uint8_t* p = buf.data();
    // A raw ICMPv4 socket reads the IP header too; the others start at the ICMP header.
    if (e.raw && e.v4) {
      if (n < 20) continue;
      std::size_t ihl = (p[0] & 0x0f) * 4u;
      if (n < ihl) continue;
      p += ihl;
      n -= ihl;
    }
    // A raw socket sees every ICMP message of the host, our own request on loopback included.
    if (n < kHeader + kPayload || p[0] != (e.v4 ? kEchoReply4 : kEchoReply6) || p[1] != 0) continue;
    if (!same_host(from.address(), target)) continue;
    std::uint16_t id = (p[4] << 8) | p[5], seq = (p[6] << 8) | p[7];
    if (seq != e.seq || (e.raw && id != e.id)) continue;  // a datagram socket's id is the kernel's
    if (std::memcmp(p + kHeader, e.payload.data(), kPayload) != 0) continue;
    co_return now;
  }
}

}  // namespace

asio::awaitable<std::optional<std::chrono::microseconds>> ping(asio::io_context& io, asio::ip::address target,
                                                               std::optional<asio::ip::address> local,
                                                               std::chrono::milliseconds timeout) {
  Echo e;
  e.v4 = target.is_v4();
  int family = e.v4 ? AF_INET : AF_INET6;

  IcmpSocket s(io);
  std::error_code dgram_ec, raw_ec;
  s.open(IcmpProtocol(family, SOCK_DGRAM), dgram_ec);
  if (dgram_ec) {
    s.open(IcmpProtocol(family, SOCK_RAW), raw_ec);
    if (raw_ec)
      throw std::system_error(raw_ec, fmt::format("ping: no ICMP socket (datagram: {}; raw: {})", dgram_ec.message(),
                                                  raw_ec.message()));
    e.raw = true;
  }
  if (local) s.bind(IcmpProtocol::endpoint(*local, 0));

  thread_local std::mt19937 rng{std::random_device{}()};
  e.id = static_cast<std::uint16_t>(rng());
  e.seq = static_cast<std::uint16_t>(rng());
  for (auto& b : e.payload) b = static_cast<std::uint8_t>(rng());

  std::array<std::uint8_t, kHeader + kPayload> req{};
  req[0] = e.v4 ? kEchoRequest4 : kEchoRequest6;
  req[4] = e.id >> 8;
  req[5] = e.id & 0xff;
  req[6] = e.seq >> 8;
  req[7] = e.seq & 0xff;
  std::memcpy(req.data() + kHeader, e.payload.data(), kPayload);
  if (e.v4) {
    std::uint16_t sum = checksum(req.data(), req.size());
    req[2] = sum >> 8;
    req[3] = sum & 0xff;
  }

  auto start = std::chrono::steady_clock::now();
  std::error_code ec;
  co_await s.async_send_to(asio::buffer(req), IcmpProtocol::endpoint(target, 0),
                           asio::redirect_error(asio::use_awaitable, ec));
  if (ec && unreachable(ec)) co_return std::nullopt;
  if (ec) throw std::system_error(ec, "ping send");

  auto r = co_await async::StopToken().race(io, await_reply(s, e, target), timeout);
  if (!r || !*r) co_return std::nullopt;
  co_return std::chrono::duration_cast<std::chrono::microseconds>(**r - start);
}

}  // namespace espat::net
