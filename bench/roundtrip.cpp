// Measures an espat module on a pty: start-up time to "ready", AT command round trip, and the
// bulk read rate of AT+SYSFLASH; beside each figure a baseline on the same machine: the same
// exchange with `cat` echoing on a pty (what the pty itself costs).
// Usage: espat_bench [path/to/espat] [rounds]
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {
struct Child {
  int master = -1;
  pid_t pid = -1;
  ~Child() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
    if (master >= 0) close(master);
  }
};

void raw(int fd) {
  termios t{};
  tcgetattr(fd, &t);
  cfmakeraw(&t);
  tcsetattr(fd, TCSANOW, &t);
}

void spawn(Child& c, std::vector<std::string> argv_with_slave_marker) {
  int slave = -1;
  if (openpty(&c.master, &slave, nullptr, nullptr, nullptr) != 0) throw std::runtime_error("openpty");
  raw(c.master);
  raw(slave);
  std::string slave_name = ttyname(slave);
  c.pid = fork();
  if (c.pid == 0) {
    std::vector<char*> argv;
    for (auto& a : argv_with_slave_marker) {
      if (a == "{slave}") a = slave_name;
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    if (argv_with_slave_marker[0] == "cat") {  // cat reads and writes the slave itself
      dup2(slave, 0);
      dup2(slave, 1);
    } else {
      int devnull = open("/dev/null", O_RDWR);
      dup2(devnull, 0);
      dup2(devnull, 2);
    }
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(slave);
}

// Reads until `want` has been seen; returns false on timeout.
bool read_until(int fd, const std::string& want, std::string& buf, int timeout_ms = 5000) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (buf.find(want) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, int(left)) <= 0) continue;
    char tmp[65536];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n > 0) buf.append(tmp, std::size_t(n));
  }
  return true;
}

void send(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n > 0) off += std::size_t(n);
  }
}

struct Stats { double median_us, p99_us; };
Stats round_trips(int fd, const std::string& cmd, const std::string& reply, int rounds) {
  std::vector<double> us;
  for (int i = 0; i < rounds; ++i) {
    std::string buf;
    auto t0 = Clock::now();
    send(fd, cmd);
    if (!read_until(fd, reply, buf)) throw std::runtime_error("no reply to " + cmd);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)]};
}

// One run's figures; NaN where a figure has no baseline.
struct Figures {
  double boot_new_ms, boot_existing_ms, at_median_us, at_p99_us, query_median_us, bulk_mib_s;
  double base_at_median_us, base_at_p99_us, base_bulk_mib_s;
};

Figures measure(const std::string& espat, const fs::path& dir, int rounds) {
  Figures f{};
  std::string flash = (dir / "flash.bin").string();
  fs::remove(flash);
  // Start-up: first run creates the image, second opens it.
  double boot_ms[2];
  for (int i = 0; i < 2; ++i) {
    Child m;
    auto t0 = Clock::now();
    spawn(m, {espat, "run", "--flash", flash, "--serial", "{slave}", "--boot-ms", "0"});
    std::string buf;
    if (!read_until(m.master, "\r\nready\r\n", buf)) throw std::runtime_error("no ready");
    boot_ms[i] = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  }
  f.boot_new_ms = boot_ms[0];
  f.boot_existing_ms = boot_ms[1];

  Child m;
  spawn(m, {espat, "run", "--flash", flash, "--serial", "{slave}", "--boot-ms", "0"});
  std::string buf;
  read_until(m.master, "\r\nready\r\n", buf);
  send(m.master, "ATE0\r\n");
  read_until(m.master, "OK\r\n", buf);
  Stats at = round_trips(m.master, "AT\r\n", "\r\nOK\r\n", rounds);
  Stats query = round_trips(m.master, "AT+UART_DEF?\r\n", "\r\nOK\r\n", rounds);
  f.at_median_us = at.median_us;
  f.at_p99_us = at.p99_us;
  f.query_median_us = query.median_us;
  // Bulk: read the 576 KiB fatfs partition in 8 KiB pieces.
  auto t0 = Clock::now();
  std::size_t bytes = 0;
  for (std::size_t off = 0; off < 0x90000; off += 8192) {
    std::string b;
    send(m.master, "AT+SYSFLASH=2,\"fatfs\"," + std::to_string(off) + ",8192\r\n");
    if (!read_until(m.master, "\r\nOK\r\n", b)) throw std::runtime_error("sysflash read");
    bytes += 8192;
  }
  f.bulk_mib_s = double(bytes) / (1 << 20) / std::chrono::duration<double>(Clock::now() - t0).count();

  // Baseline: cat echoing on a pty, the same sizes.
  Child c;
  spawn(c, {"cat"});
  Stats base = round_trips(c.master, "AT\r\n", "AT\r\n", rounds);
  f.base_at_median_us = base.median_us;
  f.base_at_p99_us = base.p99_us;
  auto t1 = Clock::now();
  std::string chunk(8192, 'x');
  for (std::size_t off = 0; off < 0x90000; off += 8192) {
    std::string b;
    send(c.master, chunk);
    read_until(c.master, std::string(1, 'x'), b);
    while (b.size() < chunk.size()) {
      std::string more;
      read_until(c.master, "x", more);
      b += more;
    }
  }
  f.base_bulk_mib_s = double(0x90000) / (1 << 20) / std::chrono::duration<double>(Clock::now() - t1).count();
  return f;
}

// "min median max" of one figure over the runs.
std::string spread(std::vector<Figures>& runs, double Figures::*field) {
  std::vector<double> v;
  for (auto& r : runs) v.push_back(r.*field);
  std::sort(v.begin(), v.end());
  char out[64];
  std::snprintf(out, sizeof out, "%8.1f %8.1f %8.1f", v.front(), v[v.size() / 2], v.back());
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  std::string espat = argc > 1 ? argv[1] : "build/espat";
  int rounds = argc > 2 ? std::stoi(argv[2]) : 2000;
  int repeat = argc > 3 ? std::stoi(argv[3]) : 5;
  fs::path dir = fs::temp_directory_path() / ("espat-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  signal(SIGPIPE, SIG_IGN);
  std::vector<Figures> runs;
  for (int i = 0; i < repeat; ++i) runs.push_back(measure(espat, dir, rounds));

  std::printf("%d runs of %d round trips each: min median max\n", repeat, rounds);
  std::printf("%-36s %-26s %-26s %s\n", "figure", "espat", "baseline (cat on a pty)", "ratio of medians");
  auto row = [&](const char* name, double Figures::*mine, double Figures::*base) {
    std::vector<double> a, b;
    for (auto& r : runs) a.push_back(r.*mine);
    std::sort(a.begin(), a.end());
    if (!base) return std::printf("%-36s %-26s %-26s\n", name, spread(runs, mine).c_str(), "-"), void();
    for (auto& r : runs) b.push_back(r.*base);
    std::sort(b.begin(), b.end());
    std::printf("%-36s %-26s %-26s %.2f\n", name, spread(runs, mine).c_str(), spread(runs, base).c_str(),
                a[a.size() / 2] / b[b.size() / 2]);
  };
  row("start-up to ready, new image (ms)", &Figures::boot_new_ms, nullptr);
  row("start-up to ready, existing (ms)", &Figures::boot_existing_ms, nullptr);
  row("AT round trip median (us)", &Figures::at_median_us, &Figures::base_at_median_us);
  row("AT round trip p99 (us)", &Figures::at_p99_us, &Figures::base_at_p99_us);
  row("AT+UART_DEF? round trip median (us)", &Figures::query_median_us, nullptr);
  row("bulk read over the port (MiB/s)", &Figures::bulk_mib_s, &Figures::base_bulk_mib_s);
  fs::remove_all(dir);
  return 0;
}
