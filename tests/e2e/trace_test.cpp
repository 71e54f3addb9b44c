// The traffic trace (README "Tracing"): `espat run --trace FILE` records every byte of the AT
// port in both directions, escaped, and the world's events between them, in the order they
// happened. Driven over a real pty; the trace is compared line by line (times masked).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "process.hpp"

namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using espat::e2e::read_file;
using espat::e2e::scaled;

// Reads from fd until `want` has arrived (or the time is up); returns all that was read.
std::string read_until(int fd, const std::string& want, std::chrono::milliseconds timeout) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + scaled(timeout);
  while (got.find(want) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    char buf[512];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) got.append(buf, std::size_t(n));
  }
  return got;
}

// The trace without its times: "12.345678 m0 in  ..." → "m0 in  ...".
std::vector<std::string> records(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  static const std::regex time(R"(^\d+\.\d{6} )");
  for (std::string line; std::getline(in, line);) {
    EXPECT_TRUE(std::regex_search(line, time)) << line;
    out.push_back(std::regex_replace(line, time, ""));
  }
  return out;
}
}  // namespace

TEST(Trace, EveryByteBothWaysWithTheWorldsEvents) {
  const fs::path dir = fs::temp_directory_path() / ("espat-trace-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path link = dir / "at", trace = dir / "trace.log";
  pid_t pid = espat::e2e::spawn_module({espat::e2e::espat_binary(), "run", "--pty", link.string(), "--flash",
                                        (dir / "flash.bin").string(), "--boot-ms", "0", "--trace", trace.string()},
                                       (dir / "out").string(), (dir / "err").string());
  for (int i = 0; i < 500 && !fs::exists(link); ++i) std::this_thread::sleep_for(10ms);
  int fd = ::open(link.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << read_file((dir / "err").string());
  termios tio{};
  ::tcgetattr(fd, &tio);
  ::cfmakeraw(&tio);
  ::tcsetattr(fd, TCSANOW, &tio);
  EXPECT_NE(read_until(fd, "ready\r\n", 5000ms).find("ready"), std::string::npos);
  auto send = [&](const std::string& s) { ASSERT_EQ(::write(fd, s.data(), s.size()), ssize_t(s.size())); };
  send("AT\r\n");
  read_until(fd, "OK\r\n", 3000ms);
  send("AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n");
  read_until(fd, "OK\r\n", 5000ms);
  send(std::string("\x01\xff\r\n", 4));  // binary shows as \xNN
  read_until(fd, "ERROR\r\n", 3000ms);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fd);

  auto r = records(read_file(trace.string()));
  // The embedded world's APs come up first; the module's bytes follow in order.
  const std::vector<std::string> want = {
      "world  ap espat-ap added",
      "world  ap espat-open added",
      "world  ap espat-wpa3 added",
      "world  ap espat-enterprise added",
      "world  ap espat-hidden added",
      R"(m0 out "\r\nready\r\n")",
      R"(m0 in  "AT\r\n")",
      R"(m0 out "AT\r\n")",
      R"(m0 out "\r\nOK\r\n")",
      R"(m0 in  "AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n")",
      R"(m0 out "AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n")",
  };
  ASSERT_GE(r.size(), want.size() + 4) << read_file(trace.string());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(r[i], want[i]) << i;
  EXPECT_TRUE(std::regex_match(r[want.size()], std::regex(R"(world  station 24:0a:c4(:[0-9a-f]{2}){3} joined espat-ap, lease 127\.10\.1\.\d+)")))
      << r[want.size()];
  EXPECT_EQ(r[want.size() + 1], R"(m0 out "WIFI CONNECTED\r\n")");
  EXPECT_EQ(r[want.size() + 2], R"(m0 out "WIFI GOT IP\r\n")");
  EXPECT_EQ(r[want.size() + 3], R"(m0 out "\r\nOK\r\n")");
  EXPECT_NE(read_file(trace.string()).find(R"(m0 in  "\x01\xff\r\n")"), std::string::npos);
  fs::remove_all(dir);
}
