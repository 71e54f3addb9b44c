#include "transport/stream_port.hpp"

#include <array>

#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <spdlog/spdlog.h>

namespace espat::transport {
namespace {
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
}

StreamPort::StreamPort(asio::io_context& io, const PortOptions& opts, int in_fd, int out_fd)
    : PortCore(io, opts), in_(io, in_fd), retry_timer_(io) {
  if (out_fd >= 0 && out_fd != in_fd) out_.emplace(io, out_fd);
}

void StreamPort::begin_input() {
  auto self = std::static_pointer_cast<StreamPort>(shared_from_this());
  spawn(io_, [self] { return self->reader(); });
}

asio::awaitable<void> StreamPort::reader() {
  // 16 KiB a read: a pty fed at full speed (passthrough) takes as much per wake-up as socat.
  std::array<std::uint8_t, 16384> buf;
  while (!closed()) {
    co_await input_room();
    if (closed()) break;
    auto [ec, n] = co_await in_.async_read_some(asio::buffer(buf), as_tuple);
    if (closed()) break;
    if (n > 0) on_read(std::span(buf.data(), n));
    if (!ec) continue;
    if (!co_await on_read_error(ec)) break;
    retry_timer_.expires_after(retry_delay_);
    co_await retry_timer_.async_wait(as_tuple);
  }
}

// A pty master reads EIO while no program has the slave open, a USB serial adapter while it is
// unplugged: neither ends the module, so the read is retried.
asio::awaitable<bool> StreamPort::on_read_error(std::error_code ec) {
  if (ec == asio::error::operation_aborted) co_return false;
  if (!read_error_logged_) spdlog::warn("{}: read: {}; retrying", describe(), ec.message());
  read_error_logged_ = true;
  co_return true;
}

// Output that cannot be written is lost, as on a UART with nothing attached.
asio::awaitable<void> StreamPort::put(std::span<const std::uint8_t> bytes) {
  auto& d = out_ ? *out_ : in_;
  auto [ec, n] = co_await asio::async_write(d, asio::buffer(bytes.data(), bytes.size()), as_tuple);
  if (ec && ec != asio::error::operation_aborted && !write_error_logged_) {
    spdlog::warn("{}: write: {}; output discarded", describe(), ec.message());
    write_error_logged_ = true;
  }
}

void StreamPort::close_io() {
  std::error_code ignored;
  retry_timer_.cancel();
  in_.close(ignored);
  if (out_) out_->close(ignored);
}

}  // namespace espat::transport
