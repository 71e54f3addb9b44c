// Power-loss safety of the settings saved in flash (brief: "Real flash": settings "survive a
// restart and a kill at any moment"; spec 3.16 "saved in flash"): a value that was acknowledged
// (its OK fully received) survives `kill -9` at any later moment, and a write interrupted by
// `kill -9` leaves either the old or the new value.
//
// The module runs on one flash file for the whole test. Each round starts it, writes a stream
// of settings as fast as the answers come (AT+SYSMSG in the runtime nvs partition, AT+UART_DEF
// there too, and AT+SYSMFG blobs of 100-3000 bytes in the mfg_nvs partition), and SIGKILLs it:
//   - exactly as it enters one of its flash writes (a pwrite on the image file), or just before
//     its answer leaves, the process traced with ptrace for that one write (when allowed);
//   - or at a random moment, a few microseconds to 50 ms after the end of a write's input;
//   - or before a blob's data prompt, or with the data half sent.
// After the restart every setting must read back as the last acknowledged value or the value
// that was in flight, never anything else, never an error or a damaged value. The module must
// always boot (ready within 3 s), and its stderr must not report errors or a foreign partition
// (NVS load warnings are printed for information).
//
// Bounded in time: a fixed number of rounds and a time cap, whichever comes first.
//
// Environment (as in harness.cpp):
//   ESPAT_BINARY             the binary to test (default: the one CMake built)
//   ESPAT_E2E_TIMEOUT_SCALE  multiplies the timeouts (ASan, valgrind, slow CI)
//   ESPAT_E2E_KEEP           keep the temporary directory (flash image, stderr log)
//   ESPAT_POWERLOSS_SECONDS  the time cap of each test (default 24 s and 12 s)
//   ESPAT_POWERLOSS_SEED     the random seed (default: from the clock; printed either way)
//   ESPAT_POWERLOSS_NO_PTRACE  only timed power cuts (without it, half of them are placed exactly
//                            at one of the module's flash writes with ptrace, when allowed)
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "process.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;
using Micros = std::chrono::microseconds;
using namespace std::chrono_literals;

// ---- configuration --------------------------------------------------------------------------

using espat::e2e::scaled;
std::string pl_env(const char* name, const std::string& fallback) { return espat::e2e::env_or(name, fallback); }
Millis pl_scaled(Millis d) { return scaled(d); }

// Boot must produce ready within 3 s (more under a timeout scale); answers get 10 s, which only
// a badly loaded machine needs.
constexpr Millis kReadyTimeout{3000};
constexpr Millis kAnswerTimeout{10000};

std::string pl_printable(std::string_view bytes, std::size_t max = 300) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c < 0x20 || c >= 0x7f) out += fmt::format("\\x{:02x}", c);
    else out.push_back(char(c));
  }
  if (bytes.size() > max) out += fmt::format("...({} bytes)", bytes.size());
  return out;
}

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- the module on a pty --------------------------------------------------------------------

// One espat process after another on the same flash file and the same pty. The test keeps the
// slave end open too, so the master never sees a hang-up between runs. The destructor kills and
// reaps whatever still runs.
class Device {
 public:
  Device() {
    keep_ = std::getenv("ESPAT_E2E_KEEP") != nullptr;
    std::string tmpl = (fs::temp_directory_path() / "espat-powerloss-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw Failure(std::string("mkdtemp: ") + std::strerror(errno));
    dir_ = tmpl;
    flash_ = dir_ / "flash.bin";
    stderr_path_ = dir_ / "stderr.log";

    if (::openpty(&master_, &slave_, nullptr, nullptr, nullptr) != 0)
      throw Failure(std::string("openpty: ") + std::strerror(errno));
    for (int fd : {master_, slave_}) {
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      struct termios tio {};
      ::tcgetattr(fd, &tio);
      ::cfmakeraw(&tio);
      ::tcsetattr(fd, TCSANOW, &tio);
    }
    ::fcntl(master_, F_SETFL, ::fcntl(master_, F_GETFL) | O_NONBLOCK);
    char name[256];
    if (::ttyname_r(slave_, name, sizeof name) != 0) throw Failure("ttyname_r failed");
    slave_path_ = name;
  }

  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  ~Device() {
    kill9();
    if (master_ >= 0) ::close(master_);
    if (slave_ >= 0) ::close(slave_);
    std::error_code ec;
    if (keep_) std::cout << "[powerloss] kept " << dir_.string() << "\n";
    else fs::remove_all(dir_, ec);
  }

  const fs::path& dir() const { return dir_; }
  std::string stderr_text() const { return espat::e2e::read_file(stderr_path_); }
  int starts() const { return starts_; }

  void start() {
    ++starts_;
    {
      std::ofstream log(stderr_path_, std::ios::app);
      log << "[powerloss test: start #" << starts_ << "]\n";
    }
    std::vector<std::string> args{pl_env("ESPAT_BINARY", ESPAT_BINARY), "run", "--flash", flash_.string(),
                                  "--serial", slave_path_, "--boot-ms", "20"};
    pid_t pid;
    try {
      pid = espat::e2e::spawn_module(args, "/dev/null", stderr_path_.string());
    } catch (const std::runtime_error& e) {
      throw Failure(e.what());
    }
    pid_ = pid;
  }

  // The power cut: SIGKILL, reap, then throw away what the dead module had not read yet (it would
  // otherwise reach the next run) and what it had sent.
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    for (;;) {  // a traced module may report a last stop before its death
      int st = 0;
      pid_t w = ::waitpid(pid_, &st, __WALL);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 || WIFEXITED(st) || WIFSIGNALED(st)) break;
    }
    pid_ = -1;
    // Bytes still travelling inside the pty driver land a moment later: flush twice.
    for (int i = 0; i < 2; ++i) {
      ::tcflush(slave_, TCIFLUSH);
      ::tcflush(master_, TCIFLUSH);
      drain();
      if (i == 0) std::this_thread::sleep_for(2ms);
    }
  }

  // A clean stop (SIGTERM, exit 0 within 5 s); SIGKILL if it hangs.
  void terminate() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto deadline = Clock::now() + pl_scaled(Millis(5000));
    int st = 0;
    for (;;) {
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) break;
      if (Clock::now() >= deadline) {
        kill9();
        throw Failure("the module did not exit within 5 s of SIGTERM");
      }
      drain();
      std::this_thread::sleep_for(5ms);
    }
    pid_ = -1;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      throw Failure(fmt::format("after SIGTERM the module ended with status 0x{:x}", st));
  }

  // Throws when the module has ended by itself.
  void check_alive() {
    if (pid_ <= 0) throw Failure("the module is not running");
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
        throw Failure(fmt::format("the module ended by itself (wait status 0x{:x}); received: {}", st,
                                pl_printable(buf_)));
    }
  }

  void drain() {
    char chunk[4096];
    for (;;) {
      ssize_t n = ::read(master_, chunk, sizeof chunk);
      if (n > 0) continue;
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    buf_.clear();
  }

  // Reads what is there, waiting at most `wait` for the first byte.
  bool read_some(Micros wait) {
    struct pollfd p {master_, POLLIN, 0};
    if (wait.count() < 0) wait = Micros(0);
    const struct timespec ts {time_t(wait.count() / 1'000'000), long(wait.count() % 1'000'000) * 1000};
    if (::ppoll(&p, 1, &ts, nullptr) <= 0) return false;
    bool got = false;
    char chunk[8192];
    for (;;) {
      ssize_t n = ::read(master_, chunk, sizeof chunk);
      if (n > 0) {
        buf_.append(chunk, std::size_t(n));
        got = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    return got;
  }

  void send(std::string_view bytes) {
    auto deadline = Clock::now() + pl_scaled(kAnswerTimeout);
    while (!bytes.empty()) {
      ssize_t n = ::write(master_, bytes.data(), bytes.size());
      if (n > 0) {
        bytes.remove_prefix(std::size_t(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) throw Failure(std::string("pty write: ") + std::strerror(errno));
      if (Clock::now() >= deadline) throw Failure("the module did not read its input for 10 s");
      read_some(Micros(1000));  // keep its output flowing so it can keep reading
    }
  }

  // Reads until `token` is in the buffer; returns everything up to and including it (and
  // removes that). nullopt at the deadline.
  std::optional<std::string> read_until(std::string_view token, Clock::time_point deadline) {
    std::size_t from = 0;
    for (;;) {
      std::size_t at = buf_.find(token, from);
      if (at != std::string::npos) {
        std::string out = buf_.substr(0, at + token.size());
        buf_.erase(0, at + token.size());
        return out;
      }
      from = buf_.size() >= token.size() ? buf_.size() - token.size() + 1 : 0;
      auto now = Clock::now();
      if (now >= deadline) return std::nullopt;
      if (!read_some(std::min<Micros>(std::chrono::duration_cast<Micros>(deadline - now), Micros(20000))))
        check_alive();
    }
  }

  // Reads until a final result: "\r\nOK\r\n" or "\r\nERROR\r\n", or with prompt_expected the
  // data prompt "\r\nOK\r\n\r\n>" instead of the OK. Returns the answer and what ended it.
  enum class End { Ok, Error, Prompt };
  std::pair<std::string, End> answer(Clock::time_point deadline, bool prompt_expected = false) {
    const std::string ok_token = prompt_expected ? "\r\nOK\r\n\r\n>" : "\r\nOK\r\n";
    const std::string err_token = "\r\nERROR\r\n";
    for (;;) {
      std::size_t ok = buf_.find(ok_token), err = buf_.find(err_token);
      if (ok != std::string::npos || err != std::string::npos) {
        const bool is_ok = ok != std::string::npos && (err == std::string::npos || ok < err);
        const std::size_t n = is_ok ? ok + ok_token.size() : err + err_token.size();
        std::string out = buf_.substr(0, n);
        buf_.erase(0, n);
        return {out, is_ok ? (prompt_expected ? End::Prompt : End::Ok) : End::Error};
      }
      auto now = Clock::now();
      if (now >= deadline)
        throw Failure("no final result within " + std::to_string(pl_scaled(kAnswerTimeout).count()) +
                      " ms; received: " + pl_printable(buf_));
      if (!read_some(std::min<Micros>(std::chrono::duration_cast<Micros>(deadline - now), Micros(20000))))
        check_alive();
    }
  }

  // The precise power cut: the module is traced (ptrace) from just before `input` is sent, and
  // SIGKILLed when it enters its `target`-th pwrite (the flash file's only write call), so that
  // write and every later one never happen. If it reaches the write of its answer to the AT port
  // first (all flash writes done), it is killed there, before the answer leaves.
  // traced is false when ptrace is not allowed here (nothing was sent then).
  struct TracedKill {
    bool traced = false;
    std::uint64_t pwrites = 0;  // flash writes that were let through
    bool at_answer = false;     // killed at the answer's write
  };
  TracedKill kill_at_flash_write(std::string_view input, std::uint64_t target) {
    TracedKill r;
    if (pid_ <= 0) throw Failure("the module is not running");
    const int port_fd = port_fd_of_module();
    if (port_fd < 0 || ::ptrace(PTRACE_SEIZE, pid_, nullptr, (void*)(long)PTRACE_O_TRACESYSGOOD) != 0) return r;
    r.traced = true;
    auto fail = [&](const std::string& why) {
      kill9();
      throw Failure("traced kill: " + why);
    };
    if (::ptrace(PTRACE_INTERRUPT, pid_, nullptr, nullptr) != 0) fail(std::string("PTRACE_INTERRUPT: ") + std::strerror(errno));
    const auto deadline = Clock::now() + pl_scaled(kAnswerTimeout);
    for (;;) {
      // Feed the input without blocking: the module only runs between our stops.
      while (!input.empty()) {
        ssize_t n = ::write(master_, input.data(), input.size());
        if (n <= 0) break;
        input.remove_prefix(std::size_t(n));
      }
      int st = 0;
      pid_t w = ::waitpid(pid_, &st, WNOHANG | __WALL);
      if (w == 0) {
        if (Clock::now() >= deadline) {
          kill9();
          return r;  // it never got that far: a plain kill
        }
        read_some(Micros(0));
        std::this_thread::sleep_for(20us);
        continue;
      }
      if (w < 0) fail(std::string("waitpid: ") + std::strerror(errno));
      if (WIFEXITED(st) || WIFSIGNALED(st)) {
        pid_ = -1;
            throw Failure(fmt::format("the module ended while traced (wait status 0x{:x})", st));
      }
      if (!WIFSTOPPED(st)) continue;
      int deliver = 0;
      if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {  // a system call stop
        struct __ptrace_syscall_info info {};
        if (::ptrace(PTRACE_GET_SYSCALL_INFO, pid_, (void*)sizeof info, &info) <= 0) fail("PTRACE_GET_SYSCALL_INFO failed");
        if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
          const auto nr = long(info.entry.nr);
          if (nr == SYS_pwrite64 || nr == SYS_pwritev || nr == SYS_pwritev2) {
            if (r.pwrites + 1 >= target) break;
            ++r.pwrites;
          } else if ((nr == SYS_write || nr == SYS_writev) && long(info.entry.args[0]) == port_fd) {
            r.at_answer = true;
            break;
          }
        }
      } else if ((st >> 16) == PTRACE_EVENT_STOP) {
        deliver = 0;  // the interrupt (or a group stop): just go on
      } else {
        deliver = WSTOPSIG(st);  // a real signal: pass it on
      }
      if (::ptrace(PTRACE_SYSCALL, pid_, nullptr, (void*)(long)deliver) != 0)
        fail(std::string("PTRACE_SYSCALL: ") + std::strerror(errno));
    }
    kill9();
    return r;
  }

  // The descriptor the module holds on the pty slave (its AT port), or -1.
  int port_fd_of_module() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fmt::format("/proc/{}/fd", pid_), ec)) {
      std::error_code ec2;
      fs::path target = fs::read_symlink(e.path(), ec2);
      if (!ec2 && target == slave_path_) return std::atoi(e.path().filename().c_str());
    }
    return -1;
  }

  // Pumps the pty for `d` (the module keeps answering while the test waits to pull the plug).
  void pump_for(Micros d) {
    auto end = Clock::now() + d;
    for (;;) {
      auto now = Clock::now();
      if (now >= end) return;
      read_some(std::min<Micros>(std::chrono::duration_cast<Micros>(end - now), Micros(1000)));
    }
  }

  std::string& buffer() { return buf_; }

 private:
  fs::path dir_, flash_, stderr_path_;
  bool keep_ = false;
  int master_ = -1, slave_ = -1;
  std::string slave_path_;
  pid_t pid_ = -1;
  int starts_ = 0;
  std::string buf_;
};

// ---- the settings -----------------------------------------------------------------------------

// The blob written by the n-th AT+SYSMFG: its length (100-3000 bytes) and its bytes both follow
// from n, so a torn or mixed-up value cannot pass for another one. Printable, without CR or LF.
std::string blob_for(std::uint64_t n, bool big) {
  const std::size_t len = big ? 3000 + std::size_t((n * 7919u) % 21001u) : 100 + std::size_t((n * 7919u) % 2901u);
  std::string out;
  out.reserve(len + 32);
  std::string unit = fmt::format("<{:08}:", n);
  for (std::size_t i = 0; out.size() < len; ++i) {
    out += unit;
    out.push_back(char('a' + (n + i) % 26));
    out.push_back('>');
  }
  out.resize(len);
  return out;
}

std::string uart_for(std::uint64_t n) { return fmt::format("{},8,1,0,0", 200000 + (n % 4'000'000)); }

// One setting's history as the host saw it: the value whose OK was received, and the one whose
// write may or may not have happened when the power went.
struct Tracked {
  std::optional<std::string> acked;     // nullopt: never written (absent, or the factory value)
  std::optional<std::string> in_flight;
};

struct Stats {
  int rounds = 0, kills = 0, kills_mid_data = 0, kills_before_prompt = 0, kills_at_flash_write = 0,
      kills_at_answer = 0;
  long writes_sent = 0, writes_acked = 0, checks = 0, in_flight_kept = 0, in_flight_lost = 0;
};

class PowerLossRun {
 public:
  PowerLossRun(std::uint64_t seed, bool big_blobs)
      : rng_(seed), big_blobs_(big_blobs), ptrace_ok_(std::getenv("ESPAT_POWERLOSS_NO_PTRACE") == nullptr) {}

  // Runs until max_rounds or the time cap. Throws Failure on the first violation.
  void run(int max_rounds, Millis cap) {
    const auto end = Clock::now() + cap;
    sysmsg_.acked = "0";  // the factory value (mfg_nvs system_store on, no s_msg saved)
    uart_.acked = "115200,8,1,0,1";  // the factory UART: written by the first boot
    for (int round = 0; round < max_rounds && Clock::now() < end; ++round) {
      boot();
      verify();
      write_then_kill();
      ++stats_.rounds;
    }
    // A last check, then a clean stop.
    boot();
    verify();
    dev_.terminate();
  }

  const Stats& stats() const { return stats_; }
  std::string flash_writes_per_write() const {
    return fmt::format("{}/{}/{}", most_pwrites_[0], most_pwrites_[1], most_pwrites_[2]);
  }
  double rtt_us() const { return rtt_us_; }
  std::string stderr_text() const { return dev_.stderr_text(); }

 private:
  std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {
    return std::uniform_int_distribution<std::uint64_t>(lo, hi)(rng_);
  }

  void boot() {
    dev_.start();
    auto t0 = Clock::now();
    if (!dev_.read_until("\r\nready\r\n", t0 + pl_scaled(kReadyTimeout)))
      throw Failure(fmt::format("start #{}: no ready within {} ms; received: {}", dev_.starts(),
                                pl_scaled(kReadyTimeout).count(), pl_printable(dev_.buffer())));
    if (!dev_.buffer().empty())
      throw Failure("bytes after ready: " + pl_printable(dev_.buffer()));
    dev_.send("ATE0\r\n");
    auto [text, end] = dev_.answer(Clock::now() + pl_scaled(kAnswerTimeout));
    if (end != Device::End::Ok || text != "ATE0\r\n\r\nOK\r\n")
      throw Failure("ATE0 answered " + pl_printable(text));
  }

  std::string query(const std::string& cmd) {
    dev_.send(cmd + "\r\n");
    auto [text, end] = dev_.answer(Clock::now() + pl_scaled(kAnswerTimeout));
    if (end == Device::End::Error) return "ERROR";
    return text;
  }

  // After a restart: each setting reads back as its acknowledged or its in-flight value; the
  // one found becomes the acknowledged one.
  void verify() {
    check_simple(sysmsg_, "AT+SYSMSG?", "+SYSMSG:");
    check_simple(uart_, "AT+UART_DEF?", "+UART_DEF:");
    check_blob();
  }

  void check_simple(Tracked& t, const std::string& cmd, const std::string& prefix) {
    std::string text = query(cmd);
    ++stats_.checks;
    // "+SYSMSG:3\r\n\r\nOK\r\n"
    const std::string tail = "\r\n\r\nOK\r\n";
    if (text.rfind(prefix, 0) != 0 || text.size() < prefix.size() + tail.size() ||
        text.compare(text.size() - tail.size(), tail.size(), tail) != 0)
      throw Failure(fmt::format("{} after start #{} answered {} (acknowledged {}, in flight {})", cmd, dev_.starts(),
                                pl_printable(text), t.acked.value_or("-"), t.in_flight.value_or("-")));
    std::string value = text.substr(prefix.size(), text.size() - prefix.size() - tail.size());
    settle(t, value, cmd);
  }

  void check_blob() {
    std::string text = query(R"(AT+SYSMFG=1,"test","blob")");
    ++stats_.checks;
    std::optional<std::string> value;
    if (text != "ERROR") {
      // +SYSMFG:"test","blob",8,<len>,<bytes>\r\n\r\nOK\r\n
      const std::string head = R"(+SYSMFG:"test","blob",8,)";
      const std::string tail = "\r\n\r\nOK\r\n";
      std::size_t comma = text.find(',', head.size());
      bool good = text.rfind(head, 0) == 0 && comma != std::string::npos &&
                  text.size() >= comma + 1 + tail.size() &&
                  text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
      if (good) {
        std::size_t len = std::strtoul(text.substr(head.size(), comma - head.size()).c_str(), nullptr, 10);
        std::string bytes = text.substr(comma + 1, text.size() - comma - 1 - tail.size());
        good = bytes.size() == len;
        value = std::move(bytes);
      }
      if (!good)
        throw Failure(fmt::format("AT+SYSMFG read after start #{} answered {}", dev_.starts(), pl_printable(text)));
    }
    // Absent is right only when no write was acknowledged yet.
    if (!value) {
      if (blob_.acked)
        throw Failure(fmt::format("AT+SYSMFG read after start #{}: ERROR, but blob #{} was acknowledged",
                                  dev_.starts(), blob_id(*blob_.acked)));
      if (blob_.in_flight) ++stats_.in_flight_lost;
      blob_.in_flight.reset();
      return;
    }
    settle(blob_, *value, "AT+SYSMFG=1");
  }

  static std::string blob_id(const std::string& b) { return b.size() >= 9 ? b.substr(1, 8) : "?"; }

  void settle(Tracked& t, const std::string& value, const std::string& what) {
    const bool is_acked = t.acked && value == *t.acked;
    const bool is_flight = t.in_flight && value == *t.in_flight;
    if (!is_acked && !is_flight)
      throw Failure(fmt::format("{} after start #{} reads {} but the acknowledged value is {} and the one in flight {}",
                                what, dev_.starts(), pl_printable(value, 80), pl_printable(t.acked.value_or("-"), 80),
                                pl_printable(t.in_flight.value_or("-"), 80)));
    if (t.in_flight) ++(is_flight ? stats_.in_flight_kept : stats_.in_flight_lost);
    t.acked = value;
    t.in_flight.reset();
  }

  // ---- one round of writes ----
  enum class Kind { SysMsg, Uart, Blob };

  struct Pending {
    Tracked* t;
    std::string value;
  };

  // A delay before the plug is pulled. Half the time it falls inside the measured time from the
  // end of a write's input to its OK (where the flash write is), with microsecond resolution;
  // otherwise anywhere up to 50 ms.
  Micros kill_delay() {
    switch (uniform(0, 5)) {
      case 0: return Micros(uniform(0, 300));
      case 1: return Micros(uniform(0, 5000));
      case 2: return Micros(uniform(0, 50000));
      default: return Micros(uniform(0, std::uint64_t(rtt_us_ * 1.2) + 1));
    }
  }

  void measure(Clock::time_point sent) {
    const double us = double(std::chrono::duration_cast<Micros>(Clock::now() - sent).count());
    rtt_us_ = rtt_us_ * 0.9 + us * 0.1;
  }

  void write_then_kill() {
    const std::uint64_t kill_at = uniform(0, big_blobs_ ? 12 : 40);  // which write gets the kill
    for (std::uint64_t i = 0;; ++i) {
      const bool last = i == kill_at;
      const Kind kind = big_blobs_ ? Kind::Blob : Kind(uniform(0, 2));
      ++counter_;
      std::string cmd;
      Pending p{};
      switch (kind) {
        case Kind::SysMsg: {
          int cur = std::atoi(sysmsg_.acked.value_or("0").c_str());
          int next = (cur + 1 + int(uniform(0, 6))) % 8;  // always differs from the stored one
          p = {&sysmsg_, std::to_string(next)};
          cmd = "AT+SYSMSG=" + p.value + "\r\n";
          break;
        }
        case Kind::Uart:
          p = {&uart_, uart_for(counter_)};
          cmd = "AT+UART_DEF=" + p.value + "\r\n";
          break;
        case Kind::Blob: {
          p = {&blob_, blob_for(counter_, big_blobs_)};
          cmd = fmt::format("AT+SYSMFG=2,\"test\",\"blob\",8,{}\r\n", p.value.size());
          break;
        }
      }

      ++stats_.writes_sent;
      p.t->in_flight = p.value;
      if (last && kind == Kind::Blob && uniform(0, 3) == 0) {
        // The plug goes before the prompt, or with the data half sent.
        dev_.send(cmd);
        if (uniform(0, 1) == 0) {
          dev_.pump_for(kill_delay());
          ++stats_.kills_before_prompt;
        } else {
          expect_prompt(cmd);
          std::size_t part = std::size_t(uniform(0, p.value.size() - 1));
          dev_.send(std::string_view(p.value).substr(0, part));
          dev_.pump_for(kill_delay());
          ++stats_.kills_mid_data;
        }
        pull_plug();
        return;
      }
      // The last input of this write: the command line, or a blob's data after the prompt.
      std::string_view input = cmd;
      if (kind == Kind::Blob) {
        dev_.send(cmd);
        expect_prompt(cmd);
        input = p.value;
      }
      if (last && ptrace_ok_ && uniform(0, 1) == 0) {
        // Into the flash write: the power goes as the module enters its n-th flash write.
        std::uint64_t& most = most_pwrites_[int(kind)];
        const std::uint64_t target = uniform(1, most + 1);
        // All but the tail of a big blob goes first, untraced (the pty holds only a few KiB).
        if (input.size() > 256) {
          dev_.send(input.substr(0, input.size() - 256));
          input.remove_prefix(input.size() - 256);
        }
        auto k = dev_.kill_at_flash_write(input, target);
        if (k.traced) {
          // Learn how many flash writes a write of this kind takes: a kill that reached the
          // answer counted them all; one that stopped past the estimate doubles it.
          if (k.at_answer) most = std::max(most, k.pwrites);
          else if (target > most) most *= 2;
          ++stats_.kills_at_flash_write;
          if (k.at_answer) ++stats_.kills_at_answer;
          ++stats_.kills;
          return;
        }
        ptrace_ok_ = false;  // not allowed here: timing only from now on
        std::cout << "[powerloss] ptrace is not available; the power cuts are timed only\n";
      }
      dev_.send(input);
      const auto sent = Clock::now();
      if (last) {
        // Wait a random time, taking an OK if it comes, then cut the power.
        auto until = Clock::now() + kill_delay();
        for (;;) {
          dev_.pump_for(std::min<Micros>(Micros(200), std::chrono::duration_cast<Micros>(until - Clock::now())));
          if (take_ok_if_there(p)) {
            dev_.pump_for(std::chrono::duration_cast<Micros>(std::max(until - Clock::now(), Clock::duration(0))));
            break;
          }
          if (Clock::now() >= until) break;
        }
        pull_plug();
        return;
      }
      auto [text, end] = dev_.answer(Clock::now() + pl_scaled(kAnswerTimeout));
      if (end != Device::End::Ok || text != "\r\nOK\r\n")
        throw Failure(fmt::format("{} answered {}", pl_printable(cmd), pl_printable(text)));
      measure(sent);
      acknowledge(p);
    }
  }

  void expect_prompt(const std::string& cmd) {
    auto [text, end] = dev_.answer(Clock::now() + pl_scaled(kAnswerTimeout), true);
    if (end != Device::End::Prompt || text != "\r\nOK\r\n\r\n>")
      throw Failure(fmt::format("{} answered {} (expected the data prompt)", pl_printable(cmd), pl_printable(text)));
  }

  // True if the full OK of the pending write has arrived (it is then acknowledged).
  bool take_ok_if_there(const Pending& p) {
    std::string& b = dev_.buffer();
    if (b.empty()) return false;
    if (b.size() < 6) {
      if (std::string_view("\r\nOK\r\n").substr(0, b.size()) != b) throw Failure("unexpected answer " + pl_printable(b));
      return false;
    }
    if (b.compare(0, 6, "\r\nOK\r\n") != 0) throw Failure("unexpected answer " + pl_printable(b));
    b.erase(0, 6);
    acknowledge(p);
    return true;
  }

  void acknowledge(const Pending& p) {
    p.t->acked = p.value;
    p.t->in_flight.reset();
    ++stats_.writes_acked;
  }

  void pull_plug() {
    dev_.kill9();
    ++stats_.kills;
  }

  Device dev_;
  std::mt19937_64 rng_;
  bool big_blobs_;
  std::uint64_t counter_ = 0;
  double rtt_us_ = 2000;  // moving average: end of a write's input to its OK
  bool ptrace_ok_;  // precise power cuts at a flash write (ptrace) are possible here
  std::uint64_t most_pwrites_[3] = {4, 4, 16};  // per kind: the most flash writes seen in one write
  Tracked sysmsg_, uart_, blob_;
  Stats stats_;
};

std::uint64_t pl_seed() {
  std::string s = pl_env("ESPAT_POWERLOSS_SEED", "");
  if (!s.empty()) return std::strtoull(s.c_str(), nullptr, 0);
  return std::uint64_t(Clock::now().time_since_epoch().count());
}

// The stderr of all runs: errors fail; NVS load warnings (interrupted writes) are shown.
void pl_check_stderr(const std::string& err) {
  std::istringstream in(err);
  std::string line;
  int warnings = 0;
  std::vector<std::string> bad;
  while (std::getline(in, line)) {
    if (line.rfind("[powerloss test:", 0) == 0) continue;
    const bool is_error = line.find(" error ") != std::string::npos || line.find(" critical ") != std::string::npos;
    const bool foreign = line.find("holds no NVS data") != std::string::npos ||
                         line.find("not NVS") != std::string::npos;
    if (is_error || foreign) bad.push_back(line);
    else if (line.find(" warning ") != std::string::npos) {
      if (++warnings <= 20) std::cout << "[powerloss] module warning (information): " << line << "\n";
    } else if (!line.empty()) {
      bad.push_back(line);  // anything else on stderr is unexpected (crash messages, exceptions)
    }
  }
  if (warnings > 20) std::cout << "[powerloss] ... " << warnings << " warnings in all\n";
  if (!bad.empty()) {
    std::string msg = "the module's stderr reports errors:\n";
    for (std::size_t i = 0; i < bad.size() && i < 30; ++i) msg += "  " + bad[i] + "\n";
    ADD_FAILURE() << msg;
  }
}

void pl_run(const char* name, int max_rounds, Millis default_cap, bool big_blobs) {
  Millis cap = default_cap;
  std::string s = pl_env("ESPAT_POWERLOSS_SECONDS", "");
  if (!s.empty()) cap = Millis(static_cast<long long>(std::atof(s.c_str()) * 1000));
  const std::uint64_t seed = pl_seed();
  std::cout << "[powerloss] " << name << ": seed " << seed << " (ESPAT_POWERLOSS_SEED to repeat), at most "
            << max_rounds << " rounds or " << cap.count() / 1000.0 << " s\n";
  auto t0 = Clock::now();
  PowerLossRun run(seed, big_blobs);
  std::string failure;
  try {
    run.run(max_rounds, cap);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  const Stats& st = run.stats();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::cout << fmt::format(
                   "[powerloss] {}: {} rounds, {} kills ({} entering a flash write and {} after the last one, "
                   "{} before a data prompt, {} mid-data), {} writes sent, "
                   "{} acknowledged, {} values checked after restarts, in-flight writes found {} kept / {} lost, "
                   "write-to-OK {:.0f} us, flash writes per SYSMSG/UART_DEF/SYSMFG up to {}, {:.1f} s\n",
                   name, st.rounds, st.kills, st.kills_at_flash_write - st.kills_at_answer, st.kills_at_answer,
                   st.kills_before_prompt, st.kills_mid_data, st.writes_sent,
                   st.writes_acked, st.checks, st.in_flight_kept, st.in_flight_lost, run.rtt_us(),
                   run.flash_writes_per_write(), secs)
            << std::flush;
  if (!failure.empty()) {
    // The module's own lines (the test's start markers left out), the last ones.
    std::istringstream in(run.stderr_text());
    std::string err, line;
    while (std::getline(in, line))
      if (line.rfind("[powerloss test:", 0) != 0) err += line + "\n";
    if (err.size() > 8000) err = "...\n" + err.substr(err.size() - 8000);
    FAIL() << failure << "\n(seed " << seed << ")\n--- module stderr (tail) ---\n" << err;
  }
  pl_check_stderr(run.stderr_text());
  EXPECT_GT(st.kills, 0);
}

}  // namespace

TEST(PowerLoss, KillNineDuringWrites) { pl_run("KillNineDuringWrites", 600, Millis(24000), false); }

// Only AT+SYSMFG blobs, of 3000-24000 bytes: each spans several pages (an NVS blob index and its
// chunks), and mfg_nvs (112 KiB) fills and is garbage-collected again and again, so the power
// also goes in the middle of multi-chunk writes and of page collections.
TEST(PowerLoss, KillNineDuringBigMfgBlobs) { pl_run("KillNineDuringBigMfgBlobs", 300, Millis(12000), true); }
