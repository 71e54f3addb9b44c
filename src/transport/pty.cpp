// A pseudo-terminal: host programs open its slave (/dev/pts/N, or the symlink) as their serial
// port; the module sits on the master.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "transport/stream_port.hpp"
#include "transport/tty.hpp"

namespace espat::transport {
namespace {

namespace fs = std::filesystem;

std::runtime_error sys_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

// Points link at target, replacing an older symlink atomically; never replaces anything else.
void make_link(const std::string& link, const std::string& target) {
  std::error_code ec;
  auto st = fs::symlink_status(link, ec);
  if (!ec && fs::exists(st) && !fs::is_symlink(st))
    throw std::runtime_error("cannot create the pty link " + link + ": it exists and is not a symlink");
  std::string tmp = link + ".espat-tmp";
  fs::remove(tmp, ec);
  fs::create_symlink(target, tmp, ec);
  if (!ec) fs::rename(tmp, link, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot create the pty link " + link + ": " + ec.message());
  }
}

class PtyPort final : public StreamPort {
 public:
  PtyPort(asio::io_context& io, const PortOptions& opts, int master, int slave, std::string path,
          std::optional<std::string> link)
      : StreamPort(io, opts, master), slave_(slave), path_(std::move(path)), link_(std::move(link)) {}
  ~PtyPort() override { release(); }

  std::string describe() const override { return path_; }

 protected:
  // The slave's termios shows the module's rate (stty -F); the pty itself ignores it.
  asio::awaitable<void> apply_line(const LineConfig& cfg) override {
    if (slave_ >= 0) tty::apply_line(slave_, cfg);
    co_return;
  }

  void close_io() override {
    StreamPort::close_io();
    release();
  }

 private:
  void release() {
    if (slave_ >= 0) ::close(slave_);
    slave_ = -1;
    if (!link_) return;
    // Only our own link: another espat may have taken the name since.
    std::error_code ec;
    if (fs::read_symlink(*link_, ec) == path_) fs::remove(*link_, ec);
    link_.reset();
  }

  int slave_;
  std::string path_;
  std::optional<std::string> link_;
};

}  // namespace

std::unique_ptr<Port> open_pty(asio::io_context& io, const std::optional<std::string>& link,
                               const PortOptions& opts) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) throw sys_error("cannot create a pty");
  std::array<char, 128> name{};
  if (::grantpt(master) != 0 || ::unlockpt(master) != 0 ||
      ::ptsname_r(master, name.data(), name.size()) != 0) {
    auto e = sys_error("cannot set up the pty");
    ::close(master);
    throw e;
  }
  std::string path = name.data();
  // Held open for the life of the port: without it the master reads EIO (and loses what the
  // module wrote) each time the host program closes the slave.
  int slave = ::open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    auto e = sys_error("cannot open " + path);
    ::close(master);
    throw e;
  }
  try {
    tty::make_raw(slave, opts.line);
    if (link) make_link(*link, path);
  } catch (const std::exception& e) {
    ::close(slave);
    ::close(master);
    throw std::runtime_error(e.what());
  }
  std::fprintf(stderr, "espat: AT port on %s\n", path.c_str());
  std::fflush(stderr);
  if (link) spdlog::info("pty link {} -> {}", *link, path);
  return std::make_unique<CorePort>(
      std::make_shared<PtyPort>(io, opts, master, slave, path, link));
}

}  // namespace espat::transport
