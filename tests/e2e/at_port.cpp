#include "at_port.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>
#include <utility>
#include <thread>

#include <fmt/format.h>

#include "process.hpp"
#include "transcript.hpp"

namespace espat::e2e {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

AtPort::AtPort(const fs::path& link) {
  fd_ = ::open(link.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) throw Failure(fmt::format("open {}: {}", link.string(), std::strerror(errno)));
  struct termios tio {};
  ::tcgetattr(fd_, &tio);
  ::cfmakeraw(&tio);
  ::tcsetattr(fd_, TCSANOW, &tio);
}

AtPort::~AtPort() { ::close(fd_); }

void AtPort::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n > 0) bytes.remove_prefix(std::size_t(n));
    else if (n < 0 && errno != EAGAIN && errno != EINTR) throw Failure(std::string("write: ") + std::strerror(errno));
  }
}

void AtPort::expect(std::string_view want, Millis timeout) {
  const auto deadline = Clock::now() + scaled(timeout);
  for (;;) {
    const std::size_t n = std::min(buf_.size(), want.size());
    if (buf_.compare(0, n, want.substr(0, n)) != 0)
      throw Failure(fmt::format("expected {}\n     got {}", escape(want), escape(buf_)));
    if (n == want.size()) {
      buf_.erase(0, n);
      return;
    }
    if (Clock::now() >= deadline)
      throw Failure(fmt::format("timed out expecting {}\n             got {}", escape(want), escape(buf_)));
    read_some(20ms);
  }
}

std::string AtPort::match(const std::string& regex, Millis timeout) {
  const std::regex re(regex);
  const auto deadline = Clock::now() + scaled(timeout);
  for (;;) {
    std::smatch m;
    if (std::regex_search(buf_, m, re, std::regex_constants::match_continuous)) {
      std::string got = m.str();
      buf_.erase(0, got.size());
      return got;
    }
    if (Clock::now() >= deadline)
      throw Failure(fmt::format("timed out matching {}\n                got {}", escape(regex), escape(buf_)));
    read_some(20ms);
  }
}

void AtPort::silence(Millis d) {
  const auto end = Clock::now() + d;
  while (Clock::now() < end) {
    read_some(20ms);
    if (!buf_.empty()) throw Failure(fmt::format("expected silence, got {}", escape(buf_)));
  }
}

std::string AtPort::drain(Millis quiet) {
  for (std::size_t seen = buf_.size();;) {
    read_some(quiet);
    if (buf_.size() == seen) break;
    seen = buf_.size();
  }
  return std::exchange(buf_, {});
}

void AtPort::read_some(Millis wait) {
  struct pollfd p {fd_, POLLIN, 0};
  if (::poll(&p, 1, int(wait.count())) <= 0) return;
  char chunk[4096];
  ssize_t n;
  while ((n = ::read(fd_, chunk, sizeof chunk)) > 0) buf_.append(chunk, std::size_t(n));
}

EspatRun::EspatRun(const std::vector<std::string>& run_args, fs::path stderr_path) : stderr_(std::move(stderr_path)) {
  std::vector<std::string> argv{espat_binary(), "run"};
  argv.insert(argv.end(), run_args.begin(), run_args.end());
  pid_ = spawn_module(argv, "/dev/null", stderr_.string());
}

EspatRun::~EspatRun() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::string EspatRun::stderr_text() const { return read_file(stderr_.string()); }

int EspatRun::control_port(Millis timeout) {
  const std::regex line(R"(control API: http://127\.0\.0\.1:(\d+)\n)");
  const auto deadline = Clock::now() + scaled(timeout);
  std::smatch m;
  std::string err;
  while (!std::regex_search(err = stderr_text(), m, line)) {
    if (Clock::now() >= deadline) throw Failure("no control API line on stderr:\n" + err);
    if (pid_ > 0 && ::waitpid(pid_, &status_, WNOHANG) == pid_) {
      pid_ = -1;
      throw Failure("espat ended:\n" + err);
    }
    std::this_thread::sleep_for(10ms);
  }
  return std::stoi(m[1]);
}

std::optional<int> EspatRun::exit_status(Millis timeout) {
  const auto deadline = Clock::now() + scaled(timeout);
  while (pid_ > 0 && ::waitpid(pid_, &status_, WNOHANG) != pid_) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
  pid_ = -1;
  if (!WIFEXITED(status_)) return std::nullopt;
  return WEXITSTATUS(status_);
}

bool EspatRun::stop() {
  if (pid_ <= 0) return false;
  ::kill(pid_, SIGTERM);
  if (auto st = exit_status(5000ms)) return *st == 0;
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  return false;
}

TempDir::TempDir(const std::string& stem) {
  std::string tmpl = (fs::temp_directory_path() / (stem + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) throw Failure("mkdtemp " + tmpl + ": " + std::strerror(errno));
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<std::string> PtyModule::with_pty(const fs::path& link, std::vector<std::string> args) {
  fs::remove(link);
  std::vector<std::string> argv = {"--pty", link.string(), "--boot-ms", "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

PtyModule::PtyModule(const fs::path& dir, std::vector<std::string> args, const std::string& name)
    : link_(dir / name), run_(with_pty(dir / name, std::move(args)), dir / (name + ".err")) {
  for (int i = 0; i < 500 && !fs::exists(link_); ++i) std::this_thread::sleep_for(10ms);
  at_.emplace(link_);
  at_->expect("\r\nready\r\n", 5000ms);
}

PtyModule::~PtyModule() {
  if (!stopped_) stop();
}

bool PtyModule::stop() {
  stopped_ = true;
  at_.reset();
  return run_.stop();
}

namespace {
std::vector<std::string> group_args(const fs::path& dir, int modules, std::vector<std::string> args) {
  std::vector<std::string> argv = {"--modules", std::to_string(modules), "--pty", (dir / "at").string(), "--flash",
                                   (dir / "flash.bin").string(), "--boot-ms", "20", "--control", "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}
}  // namespace

ModuleGroup::ModuleGroup(const fs::path& dir, int modules, std::vector<std::string> args)
    : run_(group_args(dir, modules, std::move(args)), dir / "stderr.log") {
  // The chosen port is on stderr once the modules' ports are open.
  control_port_ = run_.control_port();
  for (int k = 0; k < modules; ++k)
    at_.emplace_back(std::make_unique<AtPort>(dir / (k == 0 ? std::string("at") : "at-" + std::to_string(k))));
  for (auto& p : at_) p->expect("\r\nready\r\n");
  for (auto& p : at_) {
    p->send("ATE0\r\n");
    p->expect("ATE0\r\n\r\nOK\r\n");
  }
}

ModuleGroup::~ModuleGroup() {
  if (!stopped_) stop();
}

bool ModuleGroup::stop() {
  stopped_ = true;
  at_.clear();
  return run_.stop();
}

int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace espat::e2e
