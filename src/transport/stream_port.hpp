// A port over posix file descriptors (a tty, a pty master, stdin/stdout), read and written
// through asio::posix::stream_descriptor.
#pragma once
#include <chrono>
#include <optional>
#include <system_error>

#include <asio/posix/stream_descriptor.hpp>

#include "transport/port_core.hpp"

namespace espat::transport {

class StreamPort : public PortCore {
 public:
  // Takes ownership of in_fd, and of out_fd when it is a different descriptor (-1: same as in).
  StreamPort(asio::io_context& io, const PortOptions& opts, int in_fd, int out_fd = -1);

 protected:
  void begin_input() override;
  asio::awaitable<void> put(std::span<const std::uint8_t> bytes) override;
  void close_io() override;

  // Bytes read from the device; the default hands them to received().
  virtual void on_read(std::span<const std::uint8_t> bytes) { received(bytes); }
  // A read failed (end of file included). Returns true to read again after retry_delay_.
  virtual asio::awaitable<bool> on_read_error(std::error_code ec);

  int in_fd() { return in_.native_handle(); }
  std::chrono::milliseconds retry_delay_{100};

 private:
  asio::awaitable<void> reader();

  asio::posix::stream_descriptor in_;
  asio::steady_timer retry_timer_;
  std::optional<asio::posix::stream_descriptor> out_;
  bool read_error_logged_ = false, write_error_logged_ = false;
};

}  // namespace espat::transport
