// SNTP for AT+CIPSNTPCFG / AT+CIPSNTPTIME / AT+CIPSNTPINTV (spec 3.3.20-3.3.22): one client
// request on a real UDP socket (RFC 4330), the <timezone> parameter's two forms, and the asctime
// layout AT+CIPSNTPTIME? prints.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/udp.hpp>

namespace espat::net {

// The server's transmit timestamp, as Unix time.
struct SntpReply {
  std::int64_t unix_seconds = 0;
  std::int32_t microseconds = 0;  // 0..999999
};

// Sends one SNTPv4 client request to `server` from a socket bound to (`local`, port 0) when given
// (the module's sockets use its station address in 127.0.0.0/8), and waits for the answer.
// Accepted: a mode-4 reply from `server` whose originate timestamp is our transmit timestamp,
// with stratum 1..15 (0 is a kiss-o'-death), LI not 3 (unsynchronized) and a non-zero transmit
// timestamp (RFC 4330 section 5); anything else is ignored and the wait goes on. nullopt when
// no such reply came within `timeout`, or at once when the kernel reports the port closed
// (ICMP port unreachable). Throws std::system_error when the socket cannot be opened, bound or
// routed to the server (connect/send errors such as no route).
asio::awaitable<std::optional<SntpReply>> sntp_query(asio::io_context& io, asio::ip::udp::endpoint server,
                                                     std::optional<asio::ip::address> local,
                                                     std::chrono::milliseconds timeout);

// AT+CIPSNTPCFG's <timezone> (spec 3.3.20) as minutes east of UTC. -12..14 are whole hours;
// any other value is the [+|-][hh]mm form with hh in 0..12 west or 0..14 east and mm in 0..59
// (800 -> +480, -500 -> -300, 1245 -> +765, 15 -> +15: "015" is 15, i.e. UTC+00:15).
// nullopt when out of range (1500, -1300, 1460, 99, ...).
std::optional<int> parse_timezone(long long value);

// What AT+CIPSNTPCFG? prints as <timezone> after a set with `value` (already valid). The guide's
// note to 3.3.20 says the query may differ from the set: "015" is UTC+00:15, and "timezone is 0
// in the response". That fits printing whole hours: the value as set when it is in -12..14,
// else the hh part (value / 100, truncated toward zero): 800 -> 8, -500 -> -5, 1245 -> 12,
// 15 -> 0. An ESP-AT-compatible port's source does exactly this; Espressif's own is closed.
int timezone_query_value(long long value);

// C asctime()'s layout without its newline, for the instant shifted by tz_minutes:
// "Tue Oct 19 17:47:56 2021", the day of month space-padded ("Tue Oct  9 ..."). Independent of
// the process's TZ.
std::string asctime_string(std::int64_t unix_seconds, int tz_minutes);

// NTP timestamps (RFC 4330 section 3): seconds since 1900 in 32 bits. With the top bit clear the
// seconds are in era 1, counted from 2036-02-07 06:28:16 UTC, so 1968..2104 is covered.
std::int64_t ntp_seconds_to_unix(std::uint32_t ntp_seconds);
std::uint32_t unix_to_ntp_seconds(std::int64_t unix_seconds);

}  // namespace espat::net
