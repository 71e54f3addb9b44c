// What the tests that run espat themselves (not through a transcript) share: an AT port reached
// through the pty link espat made, and an `espat run` child with its control API.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace espat::e2e {

using Millis = std::chrono::milliseconds;

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One AT port: the pty slave that espat made, reached through its link.
class AtPort {
 public:
  explicit AtPort(const std::filesystem::path& link);
  ~AtPort();
  AtPort(const AtPort&) = delete;
  AtPort& operator=(const AtPort&) = delete;

  void send(std::string_view bytes);
  // The next bytes must be exactly `want`, within `timeout`; fails at the first byte that differs.
  void expect(std::string_view want, Millis timeout = Millis(3000));
  // An ECMAScript regex that must match the start of the bytes received next, within
  // `timeout`; consumes and returns the match. End it with a literal terminator like \r\n.
  std::string match(const std::string& regex, Millis timeout = Millis(3000));
  // Nothing may arrive for `d`.
  void silence(Millis d);
  // Everything that arrives until nothing has for `quiet`; returned, not checked.
  std::string drain(Millis quiet);

 private:
  void read_some(Millis wait);

  int fd_ = -1;
  std::string buf_;
};

// `espat run ARGS...` as a child, stdout to /dev/null, stderr to a file.
class EspatRun {
 public:
  EspatRun(const std::vector<std::string>& run_args, std::filesystem::path stderr_path);
  ~EspatRun();  // SIGKILL if still running
  EspatRun(const EspatRun&) = delete;
  EspatRun& operator=(const EspatRun&) = delete;

  // The port of `espat: control API: http://127.0.0.1:<port>` on stderr. Throws Failure when
  // it does not come within the (scaled) timeout, or espat ends first.
  int control_port(Millis timeout = Millis(5000));
  // The exit status once espat has exited by itself, or nullopt when it still runs after
  // `timeout` (scaled) or was killed by a signal.
  std::optional<int> exit_status(Millis timeout);
  // SIGTERM; true when espat then exits with status 0 within 5 s (scaled). SIGKILL otherwise.
  bool stop();
  std::string stderr_text() const;

 private:
  std::filesystem::path stderr_;
  pid_t pid_ = -1;
  int status_ = 0;
};

// A fresh temporary directory (mkdtemp under the system's temp folder), removed with its files.
class TempDir {
 public:
  explicit TempDir(const std::string& stem);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// `espat run --pty <dir>/<name> --boot-ms 0 ARGS...`, its AT port opened and "ready" read;
// stderr in <dir>/<name>.err. Destroying it stops espat with SIGTERM.
class PtyModule {
 public:
  PtyModule(const std::filesystem::path& dir, std::vector<std::string> args, const std::string& name = "at");
  ~PtyModule();
  AtPort& at() { return *at_; }
  EspatRun& run() { return run_; }
  // Closes the port and stops espat: true when it exited with status 0.
  bool stop();

 private:
  static std::vector<std::string> with_pty(const std::filesystem::path& link, std::vector<std::string> args);
  std::filesystem::path link_;
  EspatRun run_;
  std::optional<AtPort> at_;
  bool stopped_ = false;
};

// `espat run --modules N --pty <dir>/at --flash <dir>/flash.bin --boot-ms 20 --control 0 ARGS...`:
// module k's port is at-<k> (at for 0), each one's "ready" read and its echo turned off (ATE0).
// Throws Failure when a port does not open or answer. Destroying it stops espat with SIGTERM.
class ModuleGroup {
 public:
  ModuleGroup(const std::filesystem::path& dir, int modules, std::vector<std::string> args = {});
  ~ModuleGroup();
  int control_port() const { return control_port_; }
  AtPort& at(int k) { return *at_.at(std::size_t(k)); }
  EspatRun& run() { return run_; }
  // Closes the ports and stops espat: true when it exited with status 0.
  bool stop();

 private:
  EspatRun run_;
  int control_port_ = 0;
  std::vector<std::unique_ptr<AtPort>> at_;
  bool stopped_ = false;
};

// A loopback TCP port nothing listens on now: bound once to learn a free one, then closed (for a
// peer that needs its port written down before it starts, or a connect that must fail).
int unused_port();

}  // namespace espat::e2e
