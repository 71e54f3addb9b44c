#include "net/sntp.hpp"

#include <array>
#include <ctime>
#include <random>
#include <system_error>

#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "async/activity.hpp"

namespace espat::net {

namespace {

constexpr std::int64_t kNtpToUnix = 2208988800;  // 1900-01-01 to 1970-01-01, in seconds
constexpr std::int64_t kEra = std::int64_t{1} << 32;
constexpr std::size_t kPacket = 48;                // RFC 4330 section 4, without the optional fields
constexpr std::size_t kOriginate = 24, kTransmit = 40;

std::uint64_t read_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

void write_be64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}

// Our transmit timestamp: the host clock, with the low bits of the fraction random so that a
// forged or stale reply cannot guess the originate timestamp it must echo (RFC 4330 section 3
// allows any value there; the server only copies it).
std::uint64_t client_timestamp() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto since = std::chrono::system_clock::now().time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(since - secs).count();
  std::uint64_t frac = (static_cast<std::uint64_t>(us) << 32) / 1000000;
  std::uint64_t ts = (std::uint64_t{unix_to_ntp_seconds(secs.count())} << 32) | (frac & ~0xffffull);
  ts |= rng() & 0xffff;
  return ts ? ts : 1;
}

std::optional<SntpReply> check_reply(const std::uint8_t* p, std::size_t n, std::uint64_t sent) {
  if (n < kPacket) return std::nullopt;
  int li = p[0] >> 6, mode = p[0] & 7, stratum = p[1];
  if (mode != 4 || li == 3 || stratum < 1 || stratum > 15) return std::nullopt;
  if (read_be64(p + kOriginate) != sent) return std::nullopt;
  std::uint64_t tx = read_be64(p + kTransmit);
  if (tx == 0) return std::nullopt;
  SntpReply r;
  r.unix_seconds = ntp_seconds_to_unix(static_cast<std::uint32_t>(tx >> 32));
  r.microseconds = static_cast<std::int32_t>(((tx & 0xffffffffull) * 1000000) >> 32);
  return r;
}

asio::awaitable<std::optional<SntpReply>> await_reply(asio::ip::udp::socket& s, std::uint64_t sent) {
  std::array<std::uint8_t, 512> buf;
  for (;;) {
    std::error_code ec;
    std::size_t n = co_await s.async_receive(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    // A connected UDP socket hears the server host's ICMP port unreachable: nobody will answer.
    if (ec == asio::error::connection_refused) co_return std::nullopt;
    if (ec) throw std::system_error(ec, "sntp receive");
    if (auto r = check_reply(buf.data(), n, sent)) co_return r;
  }
}

}  // namespace

std::int64_t ntp_seconds_to_unix(std::uint32_t ntp_seconds) {
  // RFC 4330 section 3: top bit set is 1968-2036 from the 1900 epoch, clear is 2036-2104.
  std::int64_t s = ntp_seconds;
  if (!(ntp_seconds & 0x80000000u)) s += kEra;
  return s - kNtpToUnix;
}

std::uint32_t unix_to_ntp_seconds(std::int64_t unix_seconds) {
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(unix_seconds + kNtpToUnix) & 0xffffffffull);
}

asio::awaitable<std::optional<SntpReply>> sntp_query(asio::io_context& io, asio::ip::udp::endpoint server,
                                                     std::optional<asio::ip::address> local,
                                                     std::chrono::milliseconds timeout) {
  asio::ip::udp::socket s(io, server.protocol());
  if (local) s.bind({*local, 0});
  // Connected, so the kernel drops datagrams from anyone but the server.
  s.connect(server);

  std::array<std::uint8_t, kPacket> req{};
  req[0] = (0 << 6) | (4 << 3) | 3;  // LI 0, VN 4, mode 3 (client)
  std::uint64_t sent = client_timestamp();
  write_be64(req.data() + kTransmit, sent);
  co_await s.async_send(asio::buffer(req), asio::use_awaitable);

  auto r = co_await async::StopToken().race(io, await_reply(s, sent), timeout);
  if (r && *r) co_return **r;
  co_return std::nullopt;
}

std::optional<int> parse_timezone(long long value) {
  if (value >= -12 && value <= 14) return static_cast<int>(value * 60);  // whole hours
  // [+|-][hh]mm (spec 3.3.20): hh in [-12, 14], mm in [0, 59].
  if (value < -1259 || value > 1459) return std::nullopt;
  bool west = value < 0;
  long long a = west ? -value : value;
  long long hh = a / 100, mm = a % 100;
  if (mm > 59 || hh > (west ? 12 : 14)) return std::nullopt;
  int minutes = static_cast<int>(hh * 60 + mm);
  return west ? -minutes : minutes;
}

int timezone_query_value(long long value) {
  if (value >= -12 && value <= 14) return static_cast<int>(value);
  return static_cast<int>(value / 100);
}

std::string asctime_string(std::int64_t unix_seconds, int tz_minutes) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // gmtime_r of the shifted instant: local time without consulting TZ.
  std::time_t t = static_cast<std::time_t>(unix_seconds + std::int64_t{tz_minutes} * 60);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return {};
  // asctime's own format is "%.3s %.3s%3d %.2d:%.2d:%.2d %d\n" (C11 7.27.3.1).
  return fmt::format("{} {}{:3} {:02}:{:02}:{:02} {}", kDays[tm.tm_wday], kMonths[tm.tm_mon], tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, 1900 + static_cast<long long>(tm.tm_year));
}

}  // namespace espat::net
