// The process's own stdin/stdout as the AT port: a person typing at a terminal, a pipe, or a
// script of command lines (--script, transport/script_feeder.hpp).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>

#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include "transport/script_feeder.hpp"
#include "transport/stream_port.hpp"
#include "transport/terminal_guard.hpp"

namespace espat::transport {
namespace {

constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
// After stdin ends, the module gets this long without output to finish answering.
constexpr auto kQuietAfterEof = std::chrono::milliseconds(500);

// Exit goes through the CLI's SIGINT handler, the one clean shutdown path.
void request_exit() {
  static bool requested = false;
  if (!requested) std::raise(SIGINT);
  requested = true;
}

class StdioPort final : public StreamPort {
 public:
  StdioPort(asio::io_context& io, const PortOptions& opts, int in, int out, bool terminal, bool script)
      : StreamPort(io, opts, in, out), terminal_(terminal), eof_timer_(io) {
    if (script) script_.emplace();
  }
  ~StdioPort() override { terminal::restore(); }

  std::string describe() const override { return terminal_ ? "terminal" : "stdin/stdout"; }

 protected:
  // A terminal sends CR (or LF) for Enter; AT commands end with CR-LF.
  void on_read(std::span<const std::uint8_t> bytes) override {
    if (script_) {
      script_->add_input({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
      feed();
      return;
    }
    if (!terminal_) {
      received(bytes);
      return;
    }
    std::string out;
    for (auto b : bytes) {
      if (b == 0x03 || b == 0x04) {  // Ctrl-C, Ctrl-D
        pass(out);
        request_exit();
        return;
      }
      bool lf_after_cr = b == '\n' && last_was_cr_;
      last_was_cr_ = b == '\r';
      if (lf_after_cr) continue;
      if (b == '\r' || b == '\n') out += "\r\n";
      else out += static_cast<char>(b);
    }
    pass(out);
  }

  asio::awaitable<bool> on_read_error(std::error_code ec) override {
    if (ec == asio::error::operation_aborted) co_return false;
    if (terminal_ || ec != asio::error::eof) {  // a hung-up terminal, a broken stdin
      request_exit();
      co_return false;
    }
    if (script_) {
      script_->end_input();
      feed();
      co_return false;
    }
    auto self = std::static_pointer_cast<StdioPort>(shared_from_this());
    spawn(io_, [self] { return self->finish_after_eof(); });
    co_return false;
  }

  // The script follows what the module writes; once the writer has nothing left to write, it
  // may be time for its next line.
  asio::awaitable<void> put(std::span<const std::uint8_t> bytes) override {
    co_await StreamPort::put(bytes);
    if (!script_) co_return;
    script_->output({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    auto self = std::static_pointer_cast<StdioPort>(shared_from_this());
    asio::post(io_, [self] { self->feed(); });  // runs once the writer has gone idle or on
  }

  void close_io() override {
    eof_timer_.cancel();
    StreamPort::close_io();
    terminal::restore();
  }

 private:
  void pass(const std::string& s) {
    received(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
  }

  // A piped script has ended: leave once its input has reached the module and the answers
  // have stopped coming and have been written out.
  asio::awaitable<void> finish_after_eof() {
    auto eof_at = clock::now();
    while (!closed()) {
      eof_timer_.expires_after(std::chrono::milliseconds(20));
      co_await eof_timer_.async_wait(as_tuple);
      if (closed()) co_return;
      auto quiet_since = std::max(eof_at, last_output());
      if (input_backlog() == 0 && output_idle() && clock::now() - quiet_since >= kQuietAfterEof) {
        request_exit();
        co_return;
      }
    }
  }

  void feed() {
    if (closed() || !output_idle()) return;  // the last put() of a burst calls again
    if (auto bytes = script_->next()) {
      pass(*bytes);
    } else if (script_->finished()) {
      request_exit();
    }
  }

  bool terminal_;
  std::optional<ScriptFeeder> script_;  // --script
  bool last_was_cr_ = false;
  asio::steady_timer eof_timer_;
};

}  // namespace

std::unique_ptr<Port> open_stdio(asio::io_context& io, const PortOptions& opts, bool script) {
  bool terminal = ::isatty(0);
  if (script && terminal)
    throw std::runtime_error("--script reads its command lines from stdin, which is a terminal here: "
                             "pipe them in (printf 'AT\\r\\n' | espat run --script) or redirect a file (< FILE)");
  int in = ::fcntl(0, F_DUPFD_CLOEXEC, 3);
  int out = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (in < 0 || out < 0) {
    auto e = std::runtime_error(std::string("cannot use stdin/stdout: ") + std::strerror(errno));
    if (in >= 0) ::close(in);
    if (out >= 0) ::close(out);
    throw e;
  }
  if (terminal)
    std::fprintf(stderr, "espat: AT port on this terminal (Enter sends CR-LF; Ctrl-C or Ctrl-D exits)\n");
  try {
    terminal::enter_raw(terminal);
  } catch (const std::exception& e) {
    ::close(in);
    ::close(out);
    throw std::runtime_error(e.what());
  }
  return std::make_unique<CorePort>(std::make_shared<StdioPort>(io, opts, in, out, terminal, script));
}

}  // namespace espat::transport
