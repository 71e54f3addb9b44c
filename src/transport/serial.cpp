// A real serial device (or any existing tty): the module's UART is wired to it.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "transport/stream_port.hpp"
#include "transport/tty.hpp"

namespace espat::transport {
namespace {

constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

class SerialPort final : public StreamPort {
 public:
  SerialPort(asio::io_context& io, const PortOptions& opts, int fd, std::string device)
      : StreamPort(io, opts, fd), device_(std::move(device)), settle_(io) {
    retry_delay_ = std::chrono::seconds(1);
  }
  std::string describe() const override { return device_; }

 protected:
  // The new rate must not reach bytes still in the driver or the UART FIFO ("OK" of
  // AT+UART_CUR leaves at the old rate). tcdrain would block the loop, and forever on a pty
  // nobody reads, so the driver queue is polled instead, for at most a few seconds.
  asio::awaitable<void> apply_line(const LineConfig& cfg) override {
    int fd = in_fd();
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    int queued = 0;
    while (!closed() && ioctl(fd, TIOCOUTQ, &queued) == 0 && queued > 0 &&
           std::chrono::steady_clock::now() < give_up) {
      settle_.expires_after(std::chrono::milliseconds(1));
      co_await settle_.async_wait(as_tuple);
    }
    // A 16-byte hardware FIFO may still be shifting out at the old rate.
    Pacer old(line());
    settle_.expires_after(std::chrono::microseconds(
        static_cast<long>(16e6 / old.bytes_per_second())));
    co_await settle_.async_wait(as_tuple);
    if (closed()) co_return;
    tty::apply_line(fd, cfg);
  }

  void close_io() override {
    settle_.cancel();
    StreamPort::close_io();
  }

 private:
  std::string device_;
  asio::steady_timer settle_;
};

}  // namespace

std::unique_ptr<Port> open_serial(asio::io_context& io, const std::string& device,
                                  const PortOptions& opts) {
  int fd = ::open(device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("cannot open serial device " + device + ": " + std::strerror(errno));
  if (!::isatty(fd)) {
    ::close(fd);
    throw std::runtime_error("cannot use " + device + " as a serial device: " + std::strerror(ENOTTY));
  }
  try {
    tty::make_raw(fd, opts.line);
  } catch (const std::exception& e) {
    ::close(fd);
    throw std::runtime_error("cannot configure serial device " + device + ": " + e.what());
  }
  spdlog::info("AT port on {} at {} baud", device, opts.line.baud);
  return std::make_unique<CorePort>(std::make_shared<SerialPort>(io, opts, fd, device));
}

}  // namespace espat::transport
