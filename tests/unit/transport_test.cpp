// The AT-port transports against real ptys, sockets and pipes: order, input, baud pacing,
// set_line at its place in the queue, drain, one TCP client at a time, stdio raw mode.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pty.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <gtest/gtest.h>

#include "transport/pacing.hpp"
#include "transport/port.hpp"

namespace espat::transport {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Runs the loop in small steps until pred() holds; false on timeout.
template <class Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds timeout = 3s) {
  auto end = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > end) return false;
    io.restart();
    io.run_for(1ms);
  }
  return true;
}

void run_for(asio::io_context& io, std::chrono::milliseconds d) {
  run_until(io, [] { return false; }, d);
}

// Everything readable now on a non-blocking fd; sets eof when the peer has gone.
std::string read_avail(int fd, bool* eof = nullptr) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, n);
      continue;
    }
    if (eof && (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))) *eof = true;
    return out;
  }
}

int open_slave(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
  EXPECT_GE(fd, 0) << path;
  return fd;
}

void write_all(int fd, const std::string& s) {
  ASSERT_EQ(::write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size()));
}

PortOptions paced(std::uint32_t baud) { return PortOptions{true, LineConfig{.baud = baud}}; }

// ---- pty ----------------------------------------------------------------------------------

TEST(PtyPort, WritesReachTheSlaveInOrder) {
  asio::io_context io;
  auto port = open_pty(io, std::nullopt, {});
  ASSERT_TRUE(port->describe().starts_with("/dev/pts/"));
  int slave = open_slave(port->describe());
  std::string expected;
  for (int i = 0; i < 500; ++i) {
    std::string w = "write " + std::to_string(i) + "\r\n";
    expected += w;
    port->write(w);
  }
  std::string got;
  EXPECT_TRUE(run_until(io, [&] { got += read_avail(slave); return got.size() >= expected.size(); }));
  EXPECT_EQ(got, expected);
  ::close(slave);
}

TEST(PtyPort, InputArrivesAndSurvivesTheSlaveBeingReopened) {
  asio::io_context io;
  auto port = open_pty(io, std::nullopt, {});
  std::string got;
  port->start([&](std::span<const std::uint8_t> b) { got.append(b.begin(), b.end()); });
  int slave = open_slave(port->describe());
  write_all(slave, "AT\r\n");
  EXPECT_TRUE(run_until(io, [&] { return got == "AT\r\n"; }));
  ::close(slave);  // a host program closing the port: the master must not end
  run_for(io, 50ms);
  slave = open_slave(port->describe());
  write_all(slave, "AT+GMR\r\n");
  EXPECT_TRUE(run_until(io, [&] { return got == "AT\r\nAT+GMR\r\n"; }));
  port->write("OK\r\n");
  std::string out;
  EXPECT_TRUE(run_until(io, [&] { out += read_avail(slave); return out == "OK\r\n"; }));
  ::close(slave);
}

// Flow control (passthrough to a slow link): a held port reads nothing more, so the host's bytes
// wait in the pty until it is released; none is lost. One read may already be under way.
TEST(PtyPort, HeldInputWaitsInTheDeviceUntilReleased) {
  asio::io_context io;
  auto port = open_pty(io, std::nullopt, {});
  std::string got;
  port->start([&](std::span<const std::uint8_t> b) { got.append(b.begin(), b.end()); });
  int slave = open_slave(port->describe());
  run_for(io, 20ms);
  port->hold_input(true);
  write_all(slave, "a");  // the read under way when the hold came takes this one
  EXPECT_TRUE(run_until(io, [&] { return got == "a"; }));
  write_all(slave, "bcd");
  run_for(io, 100ms);
  EXPECT_EQ(got, "a");
  // The writer fills the device and then waits: nothing is read meanwhile.
  std::string big(1 << 20, 'x');
  ssize_t n = ::write(slave, big.data(), big.size());
  EXPECT_GT(n, 0);
  EXPECT_LT(n, ssize_t(big.size()));
  run_for(io, 50ms);
  EXPECT_EQ(got, "a");
  port->hold_input(false);
  EXPECT_TRUE(run_until(io, [&] { return got.size() == 4 + std::size_t(n); }));
  EXPECT_EQ(got.substr(0, 4), "abcd");
  ::close(slave);
}

TEST(PtyPort, LinkPointsToTheSlaveUntilClose) {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("espat-tr-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto link = (dir / "at").string();
  fs::create_symlink("/nonexistent", link);  // a stale link from an earlier run is replaced
  asio::io_context io;
  auto port = open_pty(io, link, {});
  EXPECT_EQ(fs::read_symlink(link).string(), port->describe());
  port->close();
  EXPECT_FALSE(fs::exists(fs::symlink_status(link)));
  fs::remove_all(dir);
}

// ---- pacing -------------------------------------------------------------------------------

TEST(Pacer, KeepsTheLongRunRateExactWhateverTheWakeUps) {
  Pacer p(LineConfig{.baud = 9600});  // 8N1: 960 bytes/s
  auto t0 = Pacer::clock::now();
  auto due = t0;
  for (int sent = 0; sent < 960; ++sent) due = p.book(1, t0);  // one write queued at t0
  EXPECT_EQ(due - t0, std::chrono::seconds(1));
  // Bytes queued after the line went idle start when queued: no saved-up credit.
  auto later = due + 1s;
  EXPECT_EQ(p.book(960, later) - later, std::chrono::seconds(1));
}

TEST(Pacer, NewRateStartsWhereTheOldOneEnds) {
  Pacer p(LineConfig{.baud = 9600});
  auto t0 = Pacer::clock::now();
  EXPECT_EQ(p.book(96, t0) - t0, 100ms);
  p.set_line(LineConfig{.baud = 115200});
  EXPECT_EQ(p.book(1152, t0) - t0, 200ms);  // queued at t0 too, but after the first 96
}

TEST(Pacer, CountsStartParityAndStopBits) {
  EXPECT_DOUBLE_EQ(Pacer(LineConfig{.baud = 115200}).bytes_per_second(), 11520);
  LineConfig l{.baud = 9600, .databits = 7, .stopbits = 3, .parity = 2};  // 7E2: 11 bits
  EXPECT_NEAR(Pacer(l).bytes_per_second(), 9600 / 11.0, 1e-9);
  EXPECT_EQ(Pacer(LineConfig{.baud = 9600}).burst(), 1u);
  EXPECT_EQ(Pacer(LineConfig{.baud = 921600}).burst(), 184u);
}

TEST(Pacing, OutputLeavesAtTheBaudRate) {
  asio::io_context io;
  auto port = open_pty(io, std::nullopt, paced(9600));  // 8N1: 960 bytes/s
  int slave = open_slave(port->describe());
  auto t0 = Clock::now();
  port->write(std::string(960, 'x'));
  std::string got;
  run_until(io, [&] { got += read_avail(slave); return seconds_since(t0) >= 0.5; });
  EXPECT_GT(got.size(), 300u);
  EXPECT_LT(got.size(), 700u);
  EXPECT_TRUE(run_until(io, [&] { got += read_avail(slave); return got.size() >= 960; }));
  double took = seconds_since(t0);
  EXPECT_GT(took, 0.8);
  EXPECT_LT(took, 1.5);
  ::close(slave);
}

TEST(Pacing, SetLineChangesTheRateAfterQueuedOutput) {
  asio::io_context io;
  auto port = open_pty(io, std::nullopt, paced(9600));
  int slave = open_slave(port->describe());
  auto t0 = Clock::now();
  port->write(std::string(96, 'a'));        // 0.1 s at 9600
  port->set_line(LineConfig{.baud = 115200});
  port->write(std::string(1152, 'b'));      // 0.1 s at 115200
  double drained_at = -1;
  port->drain([&] { drained_at = seconds_since(t0); });
  std::string got;
  double first_done = -1;
  EXPECT_TRUE(run_until(io, [&] {
    got += read_avail(slave);
    if (first_done < 0 && got.size() >= 96) first_done = seconds_since(t0);
    return got.size() >= 96 + 1152 && drained_at >= 0;
  }));
  double all_done = seconds_since(t0);
  EXPECT_EQ(got, std::string(96, 'a') + std::string(1152, 'b'));
  EXPECT_GT(first_done, 0.07);  // the old rate for what was queued before set_line
  EXPECT_LT(first_done, 0.3);
  EXPECT_GT(all_done - first_done, 0.07);  // the new rate after it
  EXPECT_LT(all_done - first_done, 0.3);
  EXPECT_GT(drained_at, 0.17);
  termios t{};
  ASSERT_EQ(tcgetattr(slave, &t), 0);
  EXPECT_EQ(cfgetospeed(&t), speed_t(B115200));
  ::close(slave);
}

TEST(Pacing, InputReachesTheModuleAtTheBaudRate) {
  asio::io_context io;
  auto port = open_pty(io, std::nullopt, paced(9600));
  std::string got;
  int chunks = 0;
  port->start([&](std::span<const std::uint8_t> b) {
    got.append(b.begin(), b.end());
    ++chunks;
  });
  int slave = open_slave(port->describe());
  auto t0 = Clock::now();
  write_all(slave, std::string(96, 'i'));
  EXPECT_TRUE(run_until(io, [&] { return got.size() >= 96; }));
  double took = seconds_since(t0);
  EXPECT_EQ(got, std::string(96, 'i'));
  EXPECT_GT(took, 0.07);
  EXPECT_LT(took, 0.3);
  EXPECT_GT(chunks, 10);
  ::close(slave);
}

// ---- serial -------------------------------------------------------------------------------

TEST(SerialPort, RunsOnATtyAndSetsItsBaudRate) {
  int master = -1, slave = -1;
  char name[128];
  ASSERT_EQ(openpty(&master, &slave, name, nullptr, nullptr), 0);
  ::fcntl(master, F_SETFL, O_NONBLOCK);
  asio::io_context io;
  auto port = open_serial(io, name, {});
  EXPECT_EQ(port->describe(), name);
  port->write("ready\r\n");
  port->set_line(LineConfig{.baud = 9600});
  bool drained = false;
  port->drain([&] { drained = true; });
  std::string got;
  EXPECT_TRUE(run_until(io, [&] { got += read_avail(master); return drained && got.size() >= 7; }));
  EXPECT_EQ(got, "ready\r\n");
  termios t{};
  ASSERT_EQ(tcgetattr(slave, &t), 0);
  EXPECT_EQ(cfgetospeed(&t), speed_t(B9600));
  EXPECT_EQ(t.c_lflag & (ICANON | ECHO), 0u);  // raw
  port.reset();
  ::close(slave);
  ::close(master);
}

TEST(SerialPort, ErrorsNameTheDevice) {
  asio::io_context io;
  try {
    open_serial(io, "/nonexistent/ttyUSB9", {});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ttyUSB9: No such file or directory"),
              std::string::npos) << e.what();
  }
  try {
    open_serial(io, "/dev/null", {});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/dev/null"), std::string::npos) << e.what();
  }
}

// ---- tcp ----------------------------------------------------------------------------------

int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

std::uint16_t port_of(const Port& p) {
  auto d = p.describe();
  return static_cast<std::uint16_t>(std::stoi(d.substr(d.rfind(':') + 1)));
}

TEST(TcpPort, OneClientAtATimeAndNoClientMeansNoWire) {
  asio::io_context io;
  auto port = open_tcp(io, "127.0.0.1", 0, {});
  ASSERT_TRUE(port->describe().starts_with("127.0.0.1:"));
  std::string in;
  port->start([&](std::span<const std::uint8_t> b) { in.append(b.begin(), b.end()); });

  int a = connect_to(port_of(*port));
  write_all(a, "AT\r\n");
  EXPECT_TRUE(run_until(io, [&] { return in == "AT\r\n"; }));
  port->write("OK\r\n");
  std::string got;
  EXPECT_TRUE(run_until(io, [&] { got += read_avail(a); return got == "OK\r\n"; }));

  int b = connect_to(port_of(*port));  // refused while a is on
  bool b_gone = false;
  EXPECT_TRUE(run_until(io, [&] { read_avail(b, &b_gone); return b_gone; }));
  ::close(b);

  ::close(a);
  run_for(io, 50ms);
  port->write("lost\r\n");
  bool drained = false;
  port->drain([&] { drained = true; });
  EXPECT_TRUE(run_until(io, [&] { return drained; }));

  int c = connect_to(port_of(*port));
  write_all(c, "x");
  EXPECT_TRUE(run_until(io, [&] { return in == "AT\r\nx"; }));  // c is the client now
  port->write("y");
  got.clear();
  EXPECT_TRUE(run_until(io, [&] { got += read_avail(c); return !got.empty(); }));
  EXPECT_EQ(got, "y");
  ::close(c);
}

TEST(TcpPort, DrainFiresOncePacedOutputHasLeft) {
  asio::io_context io;
  auto port = open_tcp(io, "127.0.0.1", 0, paced(115200));  // 11520 bytes/s
  port->start([](std::span<const std::uint8_t>) {});
  int c = connect_to(port_of(*port));
  std::string got;
  run_for(io, 50ms);  // accepted
  auto t0 = Clock::now();
  port->write(std::string(1152, 'z'));
  double drained_at = -1;
  std::size_t had_at_drain = 0;
  port->drain([&] {
    drained_at = seconds_since(t0);
    got += read_avail(c);  // loopback: what was written is readable at once
    had_at_drain = got.size();
  });
  EXPECT_TRUE(run_until(io, [&] { got += read_avail(c); return drained_at >= 0; }));
  EXPECT_GT(drained_at, 0.08);
  EXPECT_LT(drained_at, 0.5);
  EXPECT_EQ(had_at_drain, 1152u);
  ::close(c);
}

// ---- stdio (in a child process: it owns fds 0 and 1) --------------------------------------

// The child: an echo module on stdio; SIGINT (Ctrl-C, Ctrl-D, end of piped input) exits 0.
[[noreturn]] void stdio_echo_child(int in, int out) {
  ::dup2(in, 0);
  ::dup2(out, 1);
  asio::io_context io;
  asio::signal_set signals(io, SIGINT);
  auto port = open_stdio(io, {});
  signals.async_wait([&](std::error_code, int) {
    port->close();
    io.stop();
  });
  port->start([&](std::span<const std::uint8_t> b) { port->write(std::string(b.begin(), b.end())); });
  io.run();
  port.reset();
  std::_Exit(0);
}

std::string read_until_eof(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  auto end = Clock::now() + timeout;
  bool eof = false;
  while (!eof && Clock::now() < end) {
    out += read_avail(fd, &eof);
    ::usleep(2000);
  }
  return out;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(StdioPort, PipePassesBytesUnchangedAndExitsAtEof) {
  int to_child[2], from_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(from_child), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(to_child[1]);
    ::close(from_child[0]);
    stdio_echo_child(to_child[0], from_child[1]);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  write_all(to_child[1], "AT\r\nline\n\x03\x04");
  ::close(to_child[1]);
  ::fcntl(from_child[0], F_SETFL, O_NONBLOCK);
  EXPECT_EQ(read_until_eof(from_child[0], 5s), "AT\r\nline\n\x03\x04");
  EXPECT_EQ(wait_exit_code(pid), 0);
  ::close(from_child[0]);
}

TEST(StdioPort, TerminalIsRawWithCrLfAndRestoredOnCtrlC) {
  int master = -1, slave = -1;
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  termios before{};
  ASSERT_EQ(tcgetattr(slave, &before), 0);
  ASSERT_NE(before.c_lflag & ICANON, 0u);
  int from_child[2];
  ASSERT_EQ(::pipe(from_child), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(master);
    ::close(from_child[0]);
    stdio_echo_child(slave, from_child[1]);
  }
  ::close(from_child[1]);
  ::fcntl(from_child[0], F_SETFL, O_NONBLOCK);
  auto raw = [&] {
    termios t{};
    tcgetattr(slave, &t);
    return (t.c_lflag & ICANON) == 0;
  };
  auto deadline = Clock::now() + 3s;
  while (!raw() && Clock::now() < deadline) ::usleep(2000);
  ASSERT_TRUE(raw());
  write_all(master, "AT\rATE0\n");  // Enter is CR or LF at a terminal
  std::string got;
  deadline = Clock::now() + 3s;
  while (got.size() < 10 && Clock::now() < deadline) {
    got += read_avail(from_child[0]);
    ::usleep(2000);
  }
  EXPECT_EQ(got, "AT\r\nATE0\r\n");
  write_all(master, "\x03");
  EXPECT_EQ(read_until_eof(from_child[0], 3s), "");
  EXPECT_EQ(wait_exit_code(pid), 0);
  termios after{};
  ASSERT_EQ(tcgetattr(slave, &after), 0);
  EXPECT_EQ(after.c_lflag, before.c_lflag);
  EXPECT_EQ(after.c_iflag, before.c_iflag);
  EXPECT_EQ(::fcntl(slave, F_GETFL) & O_NONBLOCK, 0);  // the shell's stdin is blocking again
  ::close(from_child[0]);
  ::close(slave);
  ::close(master);
}

}  // namespace
}  // namespace espat::transport
