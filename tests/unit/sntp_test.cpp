// SNTP (net/sntp.hpp, spec 3.3.20-3.3.21): the <timezone> forms, the asctime layout, and
// sntp_query against real UDP responders on 127.0.0.1: one in the test that can answer wrongly,
// and the espat_sntp_peer executable.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/use_awaitable.hpp>

#include "net/sntp.hpp"

extern char** environ;

using namespace espat::net;
using namespace std::chrono_literals;

// --- <timezone> (3.3.20) ---

TEST(Timezone, WholeHours) {
  EXPECT_EQ(parse_timezone(8), 480);
  EXPECT_EQ(parse_timezone(-5), -300);
  EXPECT_EQ(parse_timezone(0), 0);
  EXPECT_EQ(parse_timezone(-12), -720);
  EXPECT_EQ(parse_timezone(14), 840);
}

TEST(Timezone, HoursAndMinutes) {
  EXPECT_EQ(parse_timezone(800), 480);    // the guide's UTC+08:00
  EXPECT_EQ(parse_timezone(-500), -300);  // New York
  EXPECT_EQ(parse_timezone(1245), 765);   // Chatham Islands, UTC+12:45
  EXPECT_EQ(parse_timezone(530), 330);    // AT+CIPSNTPTIME's second example
  EXPECT_EQ(parse_timezone(15), 15);      // "015": outside -12..14, so 00:15
  EXPECT_EQ(parse_timezone(-15), -15);
  EXPECT_EQ(parse_timezone(1459), 899);
  EXPECT_EQ(parse_timezone(-1259), -779);
  EXPECT_EQ(parse_timezone(-1200), -720);
  EXPECT_EQ(parse_timezone(1400), 840);
  EXPECT_EQ(parse_timezone(-13), -13);
}

TEST(Timezone, OutOfRange) {
  EXPECT_EQ(parse_timezone(1460), std::nullopt);   // mm 60
  EXPECT_EQ(parse_timezone(99), std::nullopt);     // 00:99
  EXPECT_EQ(parse_timezone(-60), std::nullopt);
  EXPECT_EQ(parse_timezone(-1300), std::nullopt);  // west of -12
  EXPECT_EQ(parse_timezone(1500), std::nullopt);   // east of 14
  EXPECT_EQ(parse_timezone(-1260), std::nullopt);
  EXPECT_EQ(parse_timezone(100000), std::nullopt);
  EXPECT_EQ(parse_timezone(-100000), std::nullopt);
  EXPECT_EQ(parse_timezone(std::numeric_limits<long long>::min()), std::nullopt);
  EXPECT_EQ(parse_timezone(std::numeric_limits<long long>::max()), std::nullopt);
}

TEST(Timezone, QueryShowsWholeHours) {
  EXPECT_EQ(timezone_query_value(8), 8);
  EXPECT_EQ(timezone_query_value(-12), -12);
  EXPECT_EQ(timezone_query_value(800), 8);
  EXPECT_EQ(timezone_query_value(-500), -5);
  EXPECT_EQ(timezone_query_value(1245), 12);
  EXPECT_EQ(timezone_query_value(15), 0);  // the guide's note: "timezone is 0 in the response"
  EXPECT_EQ(timezone_query_value(-30), 0);
}

// --- asctime (3.3.21) ---

TEST(Asctime, KnownInstants) {
  EXPECT_EQ(asctime_string(0, 0), "Thu Jan  1 00:00:00 1970");
  // The guide's example: 2021-10-19 09:47:56 UTC at UTC+8, and at UTC+05:30.
  EXPECT_EQ(asctime_string(1634636876, 480), "Tue Oct 19 17:47:56 2021");
  EXPECT_EQ(asctime_string(1634636876, 330), "Tue Oct 19 15:17:56 2021");
  EXPECT_EQ(asctime_string(2085978496, 0), "Thu Feb  7 06:28:16 2036");  // NTP era 1 begins
}

TEST(Asctime, SingleDigitDayIsSpacePadded) {
  EXPECT_EQ(asctime_string(1633772876, 0), "Sat Oct  9 09:47:56 2021");
  EXPECT_EQ(asctime_string(1633772876 + 86400, 0), "Sun Oct 10 09:47:56 2021");
}

TEST(Asctime, NegativeTimezoneCrossesMidnightAndYear) {
  // 2022-01-01 02:30:00 UTC is still 2021 in New York and at UTC-12.
  EXPECT_EQ(asctime_string(1641004200, -300), "Fri Dec 31 21:30:00 2021");
  EXPECT_EQ(asctime_string(1641004200, -720), "Fri Dec 31 14:30:00 2021");
  EXPECT_EQ(asctime_string(1641004200, 765), "Sat Jan  1 15:15:00 2022");
}

TEST(Asctime, IgnoresTheProcessTimezone) {
  const char* old = getenv("TZ");
  std::string saved = old ? old : "";
  setenv("TZ", "America/New_York", 1);
  tzset();
  EXPECT_EQ(asctime_string(0, 0), "Thu Jan  1 00:00:00 1970");
  if (old) setenv("TZ", saved.c_str(), 1);
  else unsetenv("TZ");
  tzset();
}

// --- NTP eras (RFC 4330 section 3) ---

TEST(SntpEra, BothEras) {
  EXPECT_EQ(ntp_seconds_to_unix(2208988800u), 0);
  EXPECT_EQ(ntp_seconds_to_unix(0xffffffffu), 2085978495);  // last second of era 0
  EXPECT_EQ(ntp_seconds_to_unix(0), 2085978496);            // 2036-02-07 06:28:16, era 1
  EXPECT_EQ(ntp_seconds_to_unix(0x80000000u), 2147483648 - 2208988800);  // 1968-01-20
  for (std::int64_t t : {std::int64_t{0}, std::int64_t{1634636876}, std::int64_t{2085978496},
                         std::int64_t{2208988800}, std::int64_t{4000000000}})
    EXPECT_EQ(ntp_seconds_to_unix(unix_to_ntp_seconds(t)), t) << t;
}

// --- sntp_query against a responder in the test ---

namespace {

struct Packet {
  std::array<std::uint8_t, 48> b{};
  void put64(std::size_t at, std::uint64_t v) {
    for (int i = 7; i >= 0; --i, v >>= 8) b[at + i] = static_cast<std::uint8_t>(v);
  }
};

std::uint64_t ntp_of(std::int64_t unix_seconds, std::uint32_t frac) {
  return (static_cast<std::uint64_t>(unix_seconds + 2208988800) & 0xffffffffull) << 32 | frac;
}

struct SntpQuery : ::testing::Test {
  asio::io_context io;
  asio::ip::udp::socket server{io, {asio::ip::make_address_v4("127.0.0.1"), 0}};
  int requests = 0;
  asio::ip::address_v4 last_from;

  // Every request gets the replies `answer` makes of it (none, one, several).
  using Answer = std::function<std::vector<Packet>(const std::array<std::uint8_t, 48>&)>;

  static Packet good(const std::array<std::uint8_t, 48>& req, std::int64_t unix_seconds, std::uint32_t frac) {
    Packet p;
    p.b[0] = (0 << 6) | (4 << 3) | 4;
    p.b[1] = 2;
    std::copy(req.begin() + 40, req.begin() + 48, p.b.begin() + 24);
    p.put64(32, ntp_of(unix_seconds, frac));
    p.put64(40, ntp_of(unix_seconds, frac));
    return p;
  }

  asio::awaitable<void> respond(Answer answer) {
    std::array<std::uint8_t, 48> req;
    for (;;) {
      asio::ip::udp::endpoint from;
      std::size_t n = co_await server.async_receive_from(asio::buffer(req), from, asio::use_awaitable);
      ++requests;
      last_from = from.address().to_v4();
      EXPECT_EQ(n, 48u);
      EXPECT_EQ(req[0], 0x23);  // LI 0, VN 4, mode 3
      for (auto& p : answer(req)) co_await server.async_send_to(asio::buffer(p.b), from, asio::use_awaitable);
    }
  }

  std::optional<SntpReply> query(Answer answer, std::chrono::milliseconds timeout,
                                 std::optional<asio::ip::address> local = std::nullopt) {
    asio::co_spawn(io, respond(std::move(answer)), asio::detached);
    std::optional<SntpReply> out;
    bool done = false;
    std::exception_ptr err;
    asio::co_spawn(io, sntp_query(io, server.local_endpoint(), local, timeout),
                   [&](std::exception_ptr e, std::optional<SntpReply> r) {
                     err = e;
                     out = r;
                     done = true;
                     io.stop();
                   });
    io.run_for(timeout + 5s);
    EXPECT_TRUE(done);
    if (err) std::rethrow_exception(err);
    return out;
  }
};

}  // namespace

TEST_F(SntpQuery, ReturnsTheServersTransmitTime) {
  auto r = query([](auto& req) { return std::vector{good(req, 1634636876, 0x80000000u)}; }, 2s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unix_seconds, 1634636876);
  EXPECT_EQ(r->microseconds, 500000);
  EXPECT_EQ(requests, 1);
}

TEST_F(SntpQuery, ReadsEraOneTimes) {
  auto r = query([](auto& req) { return std::vector{good(req, 2200000000, 0)}; }, 2s);  // 2039
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unix_seconds, 2200000000);
}

TEST_F(SntpQuery, BindsToTheLocalAddress) {
  auto r = query([](auto& req) { return std::vector{good(req, 1700000000, 0)}; }, 2s,
                 asio::ip::make_address("127.0.0.1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unix_seconds, 1700000000);
  EXPECT_EQ(last_from, asio::ip::make_address_v4("127.0.0.1"));
}

TEST_F(SntpQuery, BadRepliesAreIgnoredUntilAGoodOne) {
  auto r = query(
      [](auto& req) {
        Packet wrong_mode = good(req, 1, 0), wrong_origin = good(req, 2, 0), kiss = good(req, 3, 0),
               zero_tx = good(req, 4, 0), alarm = good(req, 5, 0), stratum16 = good(req, 6, 0), zeros;
        wrong_mode.b[0] = (4 << 3) | 3;
        wrong_origin.b[31] ^= 1;
        kiss.b[1] = 0;
        zero_tx.put64(40, 0);
        alarm.b[0] |= 3 << 6;
        stratum16.b[1] = 16;
        return std::vector{wrong_mode, wrong_origin, kiss, zero_tx, alarm, stratum16, zeros, good(req, 7, 0)};
      },
      2s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unix_seconds, 7);
}

namespace {
// One kind of bad reply and nothing else: the query must time out.
void expect_timeout(SntpQuery& t, std::function<void(Packet&)> spoil) {
  auto start = std::chrono::steady_clock::now();
  auto r = t.query(
      [&](auto& req) {
        Packet p = SntpQuery::good(req, 1634636876, 0);
        spoil(p);
        return std::vector{p};
      },
      300ms);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(r);
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 3s);
}
}  // namespace

TEST_F(SntpQuery, WrongModeTimesOut) {
  expect_timeout(*this, [](Packet& p) { p.b[0] = (4 << 3) | 5; });  // broadcast
}

TEST_F(SntpQuery, MismatchedOriginateTimesOut) {
  expect_timeout(*this, [](Packet& p) { p.put64(24, 0x1234); });
}

TEST_F(SntpQuery, KissOfDeathTimesOut) {
  expect_timeout(*this, [](Packet& p) {
    p.b[1] = 0;
    std::memcpy(&p.b[12], "RATE", 4);
  });
}

TEST_F(SntpQuery, SilentServerTimesOut) {
  auto start = std::chrono::steady_clock::now();
  auto r = query([](auto&) { return std::vector<Packet>{}; }, 200ms);
  EXPECT_FALSE(r);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(requests, 1);
}

TEST_F(SntpQuery, ClosedPortEndsWithoutAReply) {
  auto port = server.local_endpoint();
  server.close();
  std::optional<SntpReply> out{SntpReply{}};
  asio::co_spawn(io, sntp_query(io, port, std::nullopt, 5s),
                 [&](std::exception_ptr e, std::optional<SntpReply> r) {
                   EXPECT_FALSE(e);
                   out = r;
                 });
  auto start = std::chrono::steady_clock::now();
  io.run_for(10s);
  EXPECT_FALSE(out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // ICMP port unreachable, not the timeout
}

// --- sntp_query against the espat_sntp_peer executable ---

namespace {

struct Peer {
  pid_t pid = -1;
  unsigned short port = 0;

  explicit Peer(std::vector<std::string> args) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    args.insert(args.begin(), ESPAT_SNTP_PEER);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
      close(fds[0]);
      throw std::runtime_error("cannot start " + args[0]);
    }
    FILE* out = fdopen(fds[0], "r");
    unsigned p = 0;
    if (!out || std::fscanf(out, "port %u", &p) != 1) p = 0;
    if (out) fclose(out);
    port = static_cast<unsigned short>(p);
  }
  ~Peer() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
  asio::ip::udp::endpoint endpoint() const { return {asio::ip::make_address_v4("127.0.0.1"), port}; }
};

std::optional<SntpReply> run_query(asio::io_context& io, asio::ip::udp::endpoint server,
                                   std::chrono::milliseconds timeout) {
  std::optional<SntpReply> out;
  std::exception_ptr err;
  asio::co_spawn(io, sntp_query(io, server, std::nullopt, timeout), [&](std::exception_ptr e, std::optional<SntpReply> r) {
    err = e;
    out = r;
  });
  io.restart();
  io.run_for(timeout + 5s);
  if (err) std::rethrow_exception(err);
  return out;
}

}  // namespace

TEST(SntpPeer, ServesTheFixedTime) {
  Peer peer({"--port", "0", "--time", "1634636876"});
  ASSERT_NE(peer.port, 0);
  asio::io_context io;
  auto r = run_query(io, peer.endpoint(), 2s);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unix_seconds, 1634636876);
  EXPECT_EQ(r->microseconds, 0);
  EXPECT_EQ(asctime_string(r->unix_seconds, *parse_timezone(8)), "Tue Oct 19 17:47:56 2021");
}

TEST(SntpPeer, ServesTheHostClock) {
  Peer peer({"--port", "0"});
  ASSERT_NE(peer.port, 0);
  asio::io_context io;
  auto r = run_query(io, peer.endpoint(), 2s);
  ASSERT_TRUE(r);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  EXPECT_NEAR(double(r->unix_seconds), double(now.count()), 5.0);
}

TEST(SntpPeer, DropsTheFirstRequests) {
  // Era 1 on the wire; not its very first second, whose timestamp is all zeros and so reads as
  // "no transmit timestamp" (RFC 4330 section 3's ambiguity).
  Peer peer({"--port", "0", "--time", "2085978500", "--drop", "1"});
  ASSERT_NE(peer.port, 0);
  asio::io_context io;
  EXPECT_FALSE(run_query(io, peer.endpoint(), 200ms));  // lost
  auto r = run_query(io, peer.endpoint(), 2s);          // the retry is answered
  ASSERT_TRUE(r);
  EXPECT_EQ(r->unix_seconds, 2085978500);
}
