// End-to-end tests: every tests/e2e/**/*.at transcript becomes one GoogleTest test that runs the
// real `espat` binary on a fresh pty and compares every byte of the AT port (README.md here).
//
// Environment:
//   ESPAT_BINARY             the binary to test (default: the one CMake built)
//   ESPAT_E2E_DIR            where the transcripts are (default: <source>/tests/e2e)
//   ESPAT_E2E_TIMEOUT_SCALE  multiplies expect/match/ready/exit timeouts (ASan, valgrind, slow CI)
//   ESPAT_E2E_KEEP           keep each test's temporary directory (flash image, stderr log)
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "peers.hpp"
#include "process.hpp"
#include "transcript.hpp"

namespace espat::e2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// ---- configuration --------------------------------------------------------------------------

std::string binary_path() { return espat_binary(); }
fs::path source_dir() { return ESPAT_SOURCE_DIR; }
fs::path vectors_dir() { return ESPAT_VECTORS_DIR; }
fs::path transcripts_dir() { return env_or("ESPAT_E2E_DIR", (source_dir() / "tests" / "e2e").string()); }


constexpr Millis kReadyTimeout{5000};
constexpr Millis kTermTimeout{5000};
constexpr Millis kTailDrain{100};   // how long to listen for stray bytes at the end
constexpr Millis kMoreContext{150};  // after a mismatch, collect a little more for the message

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return "killed by signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
  }
  return "status " + std::to_string(status);
}

// A step that did not hold; line 0 means the start or the end of the test.
struct StepFailure {
  std::size_t line;
  std::string message;
};

// ---- one run of one transcript --------------------------------------------------------------

class Session {
 public:
  explicit Session(const Transcript& t) : t_(t) {}
  ~Session() { cleanup(); }

  // Runs the transcript; returns normally or throws StepFailure.
  void run() {
    setup();
    start();
    if (t_.ready) expect_ready(0);
    for (const Step& s : t_.steps) run_step(s);
    if (!exit_expected_ && !alive())
      throw StepFailure{0, "the module ended (" + describe_status(status_) + ") before the end of the test"};
    if (!t_.ignore_rest && alive()) {
      pump_until(Clock::now() + kTailDrain, [] { return false; });
      if (!buf_.empty())
        throw StepFailure{0, "bytes arrived that no step accounts for: " + escape(buf_) +
                                 "\n(end the transcript with ignore_rest to allow them)"};
    }
    if (!t_.ignore_rest) {
      try {
        peers_.check_consumed();
      } catch (const PeerError& e) {
        throw StepFailure{0, e.what()};
      }
    }
    if (alive()) terminate(0, "at the end of the test");
    peers_.close_all();
  }

  // What a person needs to see when a step fails: the conversation and the module's stderr.
  std::string diagnostics() const {
    std::ostringstream os;
    os << "--- AT port conversation (>> sent, << received, ## http and network peers; one line per LF) ---\n";
    std::vector<std::string> lines;
    for (const auto& [dir, bytes] : log_) {
      if (dir == '#') {  // an http step or a peer's traffic, between the bytes it caused
        lines.push_back("## " + bytes);
        continue;
      }
      std::size_t start = 0;
      while (start < bytes.size()) {
        std::size_t nl = bytes.find('\n', start);
        std::size_t end = nl == std::string::npos ? bytes.size() : nl + 1;
        // An empty line ("\r\n") stays with the line after it: "\r\nOK\r\n" reads as one.
        if (end - start == 2 && bytes.compare(start, 2, "\r\n") == 0 && end < bytes.size()) {
          std::size_t nl2 = bytes.find('\n', end);
          end = nl2 == std::string::npos ? bytes.size() : nl2 + 1;
        }
        lines.push_back(std::string(dir == '>' ? ">> " : "<< ") + escape(bytes.substr(start, end - start)));
        start = end;
      }
    }
    constexpr std::size_t kMaxLines = 200;
    if (lines.size() > kMaxLines) {
      os << "... " << (lines.size() - kMaxLines) << " earlier lines left out\n";
      lines.erase(lines.begin(), lines.end() - kMaxLines);
    }
    for (const auto& l : lines) os << l << "\n";
    if (!buf_.empty()) os << "--- received, not consumed ---\n" << escape(buf_) << "\n";
    if (std::string u = peers_.unconsumed(); !u.empty()) os << "--- network peers: received, not consumed ---\n" << u;
    os << "--- command ---\n" << command_line() << "\n";
    std::string err = stderr_path_.empty() ? "" : read_file(stderr_path_);
    constexpr std::size_t kMaxErr = 16000;
    if (err.size() > kMaxErr) err = "...\n" + err.substr(err.size() - kMaxErr);
    os << "--- module stderr ---\n" << err;
    std::string out = stdout_path_.empty() ? "" : read_file(stdout_path_);
    if (!out.empty()) os << "--- module stdout ---\n" << out.substr(0, kMaxErr);
    if (keep_) os << "--- kept: " << dir_.string() << " ---\n";
    return os.str();
  }

  void cleanup() {
    peers_.close_all();
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
      exited_ = true;
    }
    if (master_ >= 0) ::close(master_), master_ = -1;
    if (slave_ >= 0) ::close(slave_), slave_ = -1;
    if (!dir_.empty() && !keep_) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

 private:
  // -- set-up --
  void setup() {
    keep_ = std::getenv("ESPAT_E2E_KEEP") != nullptr;
    std::string tmpl = (fs::temp_directory_path() / "espat-e2e-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw StepFailure{0, std::string("mkdtemp: ") + std::strerror(errno)};
    dir_ = tmpl;
    flash_ = dir_ / "flash.bin";
    stderr_path_ = dir_ / "stderr.log";
    stdout_path_ = dir_ / "stdout.log";
    // Listeners and UDP sockets declared before the first step: `args` and `build` may use their ports.
    for (const Step& s : t_.setup) run_peer_step(s);

    if (t_.flash) {
      const std::string& f = *t_.flash;
      fs::path src = f.rfind("vectors:", 0) == 0 ? vectors_dir() / f.substr(8) : source_dir() / f.substr(5);
      std::error_code ec;
      fs::copy_file(src, flash_, ec);
      if (ec) throw StepFailure{0, "flash: cannot copy " + src.string() + ": " + ec.message()};
      fs::permissions(flash_, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add);
    }
    if (!t_.build.empty()) build_flash();

    struct termios tio {};
    if (::openpty(&master_, &slave_, nullptr, nullptr, nullptr) != 0)
      throw StepFailure{0, std::string("openpty: ") + std::strerror(errno)};
    for (int fd : {master_, slave_}) {
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      ::tcgetattr(fd, &tio);
      ::cfmakeraw(&tio);
      ::tcsetattr(fd, TCSANOW, &tio);
    }
    ::fcntl(master_, F_SETFL, ::fcntl(master_, F_GETFL) | O_NONBLOCK);
    char name[256];
    if (::ttyname_r(slave_, name, sizeof name) != 0) throw StepFailure{0, "ttyname_r failed"};
    slave_path_ = name;
    // The harness keeps its own slave descriptor open for the whole test, so the master never
    // sees a hang-up while the module restarts and bytes already sent stay readable.
  }

  std::string substitute(std::string s) const {
    const std::pair<const char*, std::string> vars[] = {
        {"${TMP}", dir_.string()}, {"${VECTORS}", vectors_dir().string()}, {"${SOURCE}", source_dir().string()}};
    for (const auto& [k, v] : vars)
      for (std::size_t p; (p = s.find(k)) != std::string::npos;) s.replace(p, std::strlen(k), v);
    return peers_.substitute_known(std::move(s));
  }

  // `build`: the flash file is what `espat image build` makes of the transcript's words.
  void build_flash() {
    std::vector<std::string> a{binary_path(), "image", "build", "-o", flash_.string()};
    for (const auto& w : t_.build) a.push_back(substitute(w));
    const fs::path log = dir_ / "build.log";
    pid_t pid;
    try {
      pid = spawn_module(a, log.string(), log.string());
    } catch (const std::runtime_error& e) {
      throw StepFailure{0, std::string("build: ") + e.what()};
    }
    int st = 0;
    const auto deadline = Clock::now() + scaled(Millis(30000));
    while (::waitpid(pid, &st, WNOHANG) == 0) {
      if (Clock::now() >= deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &st, 0);
        throw StepFailure{0, "build: espat image build did not finish within 30 s"};
      }
      std::this_thread::sleep_for(10ms);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      std::string cmd;
      for (const auto& w : a) cmd += (cmd.empty() ? "" : " ") + w;
      throw StepFailure{0, "build: `" + cmd + "` ended with " + describe_status(st) + ":\n" + read_file(log)};
    }
  }

  std::vector<std::string> argv() const {
    std::vector<std::string> a{binary_path(), "run", "--flash", flash_.string(), "--serial", slave_path_};
    for (const auto& x : t_.args) a.push_back(substitute(x));
    if (t_.control) a.insert(a.end(), {"--control", "0"});
    return a;
  }

  std::string command_line() const {
    std::string s;
    for (const auto& a : argv()) s += (s.empty() ? "" : " ") + a;
    return s;
  }

  void start() {
    ++starts_;
    {
      std::ofstream log(stderr_path_, std::ios::app);
      if (starts_ > 1) log << "\n[e2e harness: start #" << starts_ << "]\n";
    }
    std::vector<std::string> args = argv();
    stderr_mark_ = fs::exists(stderr_path_) ? fs::file_size(stderr_path_) : 0;
    control_port_ = 0;
    pid_t pid;
    try {
      pid = spawn_module(args, stdout_path_.string(), stderr_path_.string());
    } catch (const std::runtime_error& e) {
      throw StepFailure{0, e.what()};
    }
    pid_ = pid;
    exited_ = false;
  }

  // -- the child process --
  bool alive() { return pid_ > 0 && !reap(); }

  // True once the child has exited (its status is then in status_).
  bool reap() {
    if (exited_) return true;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      status_ = st;
    }
    return exited_;
  }

  // Waits for the child to exit while still reading the pty. False on timeout.
  bool wait_exit(Millis timeout) {
    auto deadline = Clock::now() + timeout;
    while (!reap()) {
      if (Clock::now() >= deadline) return false;
      read_some(10ms);
    }
    read_some(0ms);
    return true;
  }

  void terminate(std::size_t line, const std::string& when) {
    if (reap())
      throw StepFailure{line, "the module had already ended (" + describe_status(status_) + ") " + when};
    ::kill(pid_, SIGTERM);
    if (!wait_exit(scaled(kTermTimeout))) {
      ::kill(pid_, SIGKILL);
      wait_exit(5000ms);
      throw StepFailure{line, "the module did not exit within " + std::to_string(scaled(kTermTimeout).count()) +
                                  " ms of SIGTERM " + when + " (hang)"};
    }
    if (!WIFEXITED(status_) || WEXITSTATUS(status_) != 0)
      throw StepFailure{line, "after SIGTERM " + when + " the module ended with " + describe_status(status_) +
                                  " (a clean exit is exit status 0)"};
  }

  // -- the pty --
  // Reads what is available, waiting at most `wait` for the first byte. True if bytes came.
  bool read_some(Millis wait) {
    struct pollfd p {master_, POLLIN, 0};
    int r = ::poll(&p, 1, int(wait.count()));
    if (r <= 0) return false;
    bool got = false;
    char chunk[4096];
    for (;;) {
      ssize_t n = ::read(master_, chunk, sizeof chunk);
      if (n > 0) {
        buf_.append(chunk, std::size_t(n));
        record(false, std::string_view(chunk, std::size_t(n)));
        got = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break;  // EAGAIN, or EIO with no slave open
    }
    if (!got && (p.revents & (POLLHUP | POLLERR))) std::this_thread::sleep_for(wait);
    return got;
  }

  // Reads until done() holds or the deadline passes; fails early if the module dies.
  bool pump_until(Clock::time_point deadline, const std::function<bool()>& done, std::size_t line = 0,
                  const char* what = nullptr) {
    for (;;) {
      if (done()) return true;
      auto now = Clock::now();
      if (now >= deadline) return false;
      auto left = std::chrono::duration_cast<Millis>(deadline - now);
      if (read_some(std::min(left, Millis(20)))) continue;
      if (what && reap()) {
        read_some(0ms);
        if (done()) return true;
        throw StepFailure{line, std::string("the module ended (") + describe_status(status_) + ") while " + what};
      }
    }
  }

  void write_all(std::string_view bytes, std::size_t line) {
    record(true, bytes);
    auto deadline = Clock::now() + scaled(Millis(10000));
    while (!bytes.empty()) {
      ssize_t n = ::write(master_, bytes.data(), bytes.size());
      if (n > 0) {
        bytes.remove_prefix(std::size_t(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        throw StepFailure{line, std::string("write to the pty: ") + std::strerror(errno)};
      if (Clock::now() >= deadline)
        throw StepFailure{line, "send: the module did not read its input for 10 s (" +
                                    std::to_string(bytes.size()) + " bytes left)"};
      // Full: keep reading so that the module's echo cannot block it.
      struct pollfd p {master_, POLLOUT, 0};
      if (::poll(&p, 1, 5) == 0) read_some(0ms);
    }
  }

  void record(bool sent, std::string_view bytes) {
    if (!sent && !log_.empty() && log_.back().first == '<') {
      log_.back().second.append(bytes);
      return;
    }
    log_.emplace_back(sent ? '>' : '<', std::string(bytes));
  }

  // -- steps --
  void expect_bytes(const std::string& want, Millis timeout, std::size_t line, const std::string& label) {
    auto deadline = Clock::now() + scaled(timeout);
    auto differs = [&] {
      std::size_t n = std::min(buf_.size(), want.size());
      return buf_.compare(0, n, want, 0, n) != 0;
    };
    bool done = pump_until(deadline, [&] { return buf_.size() >= want.size() || differs(); }, line,
                           ("waiting for " + label).c_str());
    if (done && !differs()) {
      buf_.erase(0, want.size());
      return;
    }
    std::ostringstream os;
    if (done) {
      pump_until(Clock::now() + kMoreContext, [] { return false; });
      std::size_t k = 0;
      while (k < want.size() && k < buf_.size() && want[k] == buf_[k]) ++k;
      os << label << ": the received bytes differ (first difference at byte " << k << ")";
    } else {
      os << label << ": timed out after " << scaled(timeout).count() << " ms";
      if (!buf_.empty()) os << " (only part of it, or something else, arrived)";
    }
    os << "\n  expected: " << escape(want) << "\n  received: " << escape(buf_);
    throw StepFailure{line, os.str()};
  }

  void expect_ready(std::size_t line) {
    auto deadline = Clock::now() + scaled(kReadyTimeout);
    expect_bytes("\r\nready\r\n", kReadyTimeout, line, "ready");
    if (t_.control) learn_control_port(deadline, line);
  }

  // `control`: this run's stderr names the port (`espat: control API: http://127.0.0.1:<port>`).
  void learn_control_port(Clock::time_point deadline, std::size_t line) {
    static const std::regex re(R"(espat: control API: http://127\.0\.0\.1:(\d+)\n)");
    std::smatch m;
    bool found = pump_until(deadline, [&] {
      std::string err = read_file(stderr_path_);
      err.erase(0, std::min<std::size_t>(stderr_mark_, err.size()));
      if (!std::regex_search(err, m, re)) return false;
      control_port_ = std::stoi(m[1].str());
      return true;
    }, line, "waiting for the control API line on stderr");
    if (!found || control_port_ <= 0 || control_port_ > 65535)
      throw StepFailure{line, "control: the module's stderr did not name the control API port within " +
                                  std::to_string(scaled(kReadyTimeout).count()) + " ms"};
  }

  void http(const Step& s) {
    if (!alive()) throw StepFailure{s.line, "http: the module is not running (" + describe_status(status_) + ")"};
    if (!control_port_) learn_control_port(Clock::now() + scaled(kReadyTimeout), s.line);
    const std::string what = "http " + s.method + " " + s.path + (s.bytes.empty() ? "" : " " + s.bytes);
    log_.emplace_back('#', what);
    httplib::Client cli("127.0.0.1", control_port_);
    const auto timeout = scaled(Millis(10000));
    cli.set_connection_timeout(timeout);
    cli.set_read_timeout(timeout);
    cli.set_write_timeout(timeout);
    const char* type = "application/json";
    const std::string& p = s.path;
    httplib::Result r = s.method == "GET"     ? cli.Get(p)
                        : s.method == "POST"  ? cli.Post(p, s.bytes, type)
                        : s.method == "PUT"   ? cli.Put(p, s.bytes, type)
                        : s.method == "PATCH" ? cli.Patch(p, s.bytes, type)
                                              : cli.Delete(p, s.bytes, type);
    if (!r) throw StepFailure{s.line, what + ": no answer (" + httplib::to_string(r.error()) + ")"};
    log_.back().second += " -> " + std::to_string(r->status);
    bool ok = s.code ? r->status == s.code : r->status / 100 == 2;
    if (!ok)
      throw StepFailure{s.line, what + ": status " + std::to_string(r->status) + ", wanted " +
                                    (s.code ? std::to_string(s.code) : std::string("2xx")) +
                                    "\n  response body: " + escape(r->body)};
  }

  void match(const Step& s) {
    std::regex re;
    try {
      re = std::regex(s.bytes, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw StepFailure{s.line, "match: bad regex " + escape(s.bytes) + ": " + e.what()};
    }
    std::smatch m;
    auto found = [&] {
      return std::regex_search(buf_, m, re, std::regex_constants::match_continuous) && m.length(0) > 0;
    };
    if (pump_until(Clock::now() + scaled(s.duration), found, s.line, "waiting for match")) {
      buf_.erase(0, std::size_t(m.length(0)));
      return;
    }
    throw StepFailure{s.line, "match: nothing matching the regex arrived within " +
                                  std::to_string(scaled(s.duration).count()) + " ms\n  regex:    " +
                                  escape(s.bytes) + "\n  received: " + escape(buf_)};
  }

  void silence(const Step& s) {
    if (!buf_.empty())
      throw StepFailure{s.line, "silence: bytes were already waiting: " + escape(buf_)};
    pump_until(Clock::now() + s.duration, [&] { return !buf_.empty(); }, s.line, "keeping silence");
    if (!buf_.empty()) {
      pump_until(Clock::now() + kMoreContext, [] { return false; });
      throw StepFailure{s.line, "silence: received " + escape(buf_) + " within " +
                                    std::to_string(s.duration.count()) + " ms"};
    }
  }

  void run_peer_step(const Step& s) {
    try {
      peers_.run(peers_.expand(s));
    } catch (const PeerError& e) {
      throw StepFailure{s.line, e.what()};
    }
  }

  void run_step(const Step& raw) {
    if (is_peer_step(raw.kind)) return run_peer_step(raw);
    Step s;
    try {
      s = peers_.expand(raw);  // ${NAME}: a peer's port
    } catch (const PeerError& e) {
      throw StepFailure{raw.line, std::string(e.what())};
    }
    switch (s.kind) {
      case Step::Kind::Send:
        if (!alive()) throw StepFailure{s.line, "send: the module is not running (" + describe_status(status_) + ")"};
        return write_all(s.bytes, s.line);
      case Step::Kind::Expect:
        return expect_bytes(s.bytes, s.duration, s.line, "expect");
      case Step::Kind::Match:
        return match(s);
      case Step::Kind::Silence:
        return silence(s);
      case Step::Kind::Wait:
        pump_until(Clock::now() + s.duration, [] { return false; });
        return;
      case Step::Kind::Restart:
        terminate(s.line, "for restart");
        start();
        return expect_ready(s.line);
      case Step::Kind::Kill:
        if (reap()) throw StepFailure{s.line, "kill: the module had already ended (" + describe_status(status_) + ")"};
        ::kill(pid_, SIGKILL);
        if (!wait_exit(5000ms)) throw StepFailure{s.line, "kill: the module survived SIGKILL for 5 s"};
        start();
        return expect_ready(s.line);
      case Step::Kind::Exit:
        exit_expected_ = true;
        if (!wait_exit(scaled(s.duration)))
          throw StepFailure{s.line, "exit: the module is still running after " +
                                        std::to_string(scaled(s.duration).count()) + " ms"};
        if (!WIFEXITED(status_) || WEXITSTATUS(status_) != s.code)
          throw StepFailure{s.line, "exit: expected exit status " + std::to_string(s.code) + ", got " +
                                        describe_status(status_)};
        return;
      case Step::Kind::Http:
        return http(s);
      case Step::Kind::Stderr: {
        auto deadline = Clock::now() + scaled(s.duration);
        while (read_file(stderr_path_).find(s.bytes) == std::string::npos) {
          if (Clock::now() >= deadline)
            throw StepFailure{s.line, "stderr: the module's stderr does not contain " + escape(s.bytes)};
          read_some(20ms);
        }
        return;
      }
      default:
        return run_peer_step(s);
    }
  }

  const Transcript& t_;
  fs::path dir_, flash_, stderr_path_, stdout_path_;
  bool keep_ = false;
  int master_ = -1, slave_ = -1;
  std::string slave_path_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
  int starts_ = 0;
  bool exit_expected_ = false;  // an `exit` step ran: the module is meant to be gone
  std::string buf_;                                  // received, not yet consumed
  std::vector<std::pair<char, std::string>> log_;    // ('>' sent, '<' received, '#' http), for messages
  std::uintmax_t stderr_mark_ = 0;                   // stderr's size when this run started
  int control_port_ = 0;                             // this run's control API port (`control`)
  // The network peers; while a peer step waits, the AT port is read on (as `wait` does).
  Peers peers_{[this] { read_some(0ms); }, [this](const std::string& line) { log_.emplace_back('#', line); }};
};

// ---- registration ---------------------------------------------------------------------------

class TranscriptTest : public testing::Test {
 public:
  explicit TranscriptTest(fs::path file) : file_(std::move(file)) {}

  void TestBody() override {
    const std::string path = file_.string();
    Transcript t;
    try {
      t = parse_transcript(read_file(file_), path);
    } catch (const ParseError& e) {
      ADD_FAILURE_AT(path.c_str(), int(e.line)) << "transcript syntax: " << e.what();
      return;
    }
    std::error_code ec;
    if (needs_vectors(t) && !fs::is_directory(vectors_dir(), ec))
      GTEST_SKIP() << file_.filename().string() << " needs ../shared/vectors (" << vectors_dir().lexically_normal().string()
                   << "), the files made by Espressif's own tools, which is not there; it is kept outside "
                      "the repository, beside it";
    Session session(t);
    try {
      session.run();
    } catch (const StepFailure& f) {
      ADD_FAILURE_AT(path.c_str(), int(f.line ? f.line : 1)) << f.message << "\n" << session.diagnostics();
    }
  }

 private:
  fs::path file_;
};

std::string identifier(std::string s) {
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  return s.empty() ? "_" : s;
}

struct Registrar {
  Registrar() {
    const fs::path root = transcripts_dir();
    std::error_code ec;
    if (!fs::is_directory(root, ec)) return;
    std::vector<fs::path> files;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_regular_file() && it->path().extension() == ".at") files.push_back(it->path());
    std::sort(files.begin(), files.end());
    std::set<std::string> taken;
    for (const auto& f : files) {
      fs::path rel = fs::relative(f.parent_path(), root);
      std::string suite = rel.empty() || rel == "." ? "e2e" : identifier(rel.generic_string());
      std::string name = identifier(f.stem().string());
      std::string unique = name;
      for (int n = 2; !taken.insert(suite + "." + unique).second; ++n) unique = name + "_" + std::to_string(n);
      testing::RegisterTest(suite.c_str(), unique.c_str(), nullptr, nullptr, f.string().c_str(), 1,
                            [f]() -> TranscriptTest* { return new TranscriptTest(f); });
    }
  }
};

const Registrar registrar;

}  // namespace
}  // namespace espat::e2e
