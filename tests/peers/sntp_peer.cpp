// A loopback SNTP server for tests (spec 3.3.20-3.3.21 against a real socket):
//   espat_sntp_peer --port N|0 [--time UNIX_SECONDS] [--drop K]
// binds 127.0.0.1:N, prints "port <n>" on stdout, then answers every client request (RFC 4330
// section 5) with the fixed time, or the host clock without --time. --drop K ignores the first
// K requests, as a lossy network would. Runs until killed.
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

namespace {

constexpr std::int64_t kNtpToUnix = 2208988800;

void put_be64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<std::uint8_t>(v);
}

// NTP seconds are 1900-based modulo 2^32 (RFC 4330 section 3: era 1 starts in 2036).
std::uint64_t ntp_timestamp(std::optional<std::int64_t> fixed) {
  std::int64_t secs;
  std::uint64_t frac = 0;
  if (fixed) {
    secs = *fixed;
  } else {
    auto since = std::chrono::system_clock::now().time_since_epoch();
    auto s = std::chrono::duration_cast<std::chrono::seconds>(since);
    secs = s.count();
    frac = (static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(since - s).count()) << 32) /
           1000000;
  }
  std::uint64_t ntp = static_cast<std::uint64_t>(secs + kNtpToUnix) & 0xffffffffull;
  return (ntp << 32) | frac;
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: espat_sntp_peer --port N|0 [--time UNIX_SECONDS] [--drop K]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<unsigned short> port;
  std::optional<std::int64_t> fixed;
  long drop = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage();
    const char* v = argv[++i];
    char* end = nullptr;
    long long n = std::strtoll(v, &end, 10);
    if (*v == '\0' || *end != '\0') usage();
    if (a == "--port" && n >= 0 && n <= 65535) port = static_cast<unsigned short>(n);
    else if (a == "--time") fixed = n;
    else if (a == "--drop" && n >= 0) drop = static_cast<long>(n);
    else usage();
  }
  if (!port) usage();

  asio::io_context io;
  asio::ip::udp::socket s(io, {asio::ip::make_address_v4("127.0.0.1"), *port});
  std::printf("port %u\n", s.local_endpoint().port());
  std::fflush(stdout);

  std::array<std::uint8_t, 512> buf;
  for (;;) {
    asio::ip::udp::endpoint from;
    std::error_code ec;
    std::size_t n = s.receive_from(asio::buffer(buf), from, 0, ec);
    if (ec) continue;
    if (n < 48 || (buf[0] & 7) != 3) continue;  // client requests only
    if (drop > 0) {
      --drop;
      continue;
    }
    std::array<std::uint8_t, 48> r{};
    int vn = (buf[0] >> 3) & 7;
    r[0] = static_cast<std::uint8_t>((0 << 6) | (vn << 3) | 4);  // LI 0, the client's VN, mode 4
    r[1] = 1;                                                    // stratum 1: a primary reference
    r[2] = buf[2];                                               // poll, copied
    r[3] = static_cast<std::uint8_t>(-20);                       // precision about 1 us
    std::memcpy(&r[12], "LOCL", 4);
    std::uint64_t now = ntp_timestamp(fixed);
    put_be64(&r[16], now);                // reference
    std::memcpy(&r[24], &buf[40], 8);     // originate = the client's transmit
    put_be64(&r[32], now);                // receive
    put_be64(&r[40], now);                // transmit
    s.send_to(asio::buffer(r), from, 0, ec);
  }
}
