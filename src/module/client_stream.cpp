// The module's own clients' connections (see client_stream.hpp). The faults are applied around
// the stream — a delay before each write and after each read, and each way a pace of
// `bandwidth` bytes per second — and read anew on every operation, so a fault set through the
// control API reaches a connection that is already open.
#include "module/client_stream.hpp"

#include <algorithm>

#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "at/engine.hpp"
#include "module/context.hpp"
#include "module/net.hpp"
#include "net/tcp_stream.hpp"

namespace espat::module {

namespace {
using Clock = std::chrono::steady_clock;

asio::awaitable<void> pause_until(Clock::time_point t) {
  if (t <= Clock::now()) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, t);
  co_await timer.async_wait(asio::use_awaitable);  // a cancelled wait throws, like the I/O would
}

Clock::duration wire_time(std::size_t n, std::int64_t bps) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(double(n) / double(bps)));
}

class FaultedStream final : public net::Stream {
 public:
  FaultedStream(Context& ctx, std::unique_ptr<net::Stream> inner, asio::ip::address local, std::string name)
      : ctx_(ctx), inner_(std::move(inner)), local_(local), name_(std::move(name)) {}
  // No trace from the destructor: a coroutine frame holding the stream may be destroyed after
  // its module.

  asio::awaitable<std::size_t> read_some(std::span<char> buf) override {
    const std::size_t n = co_await inner_->read_some(buf);
    const auto f = ctx_.net().faults_from(local_);
    auto due = Clock::now() + std::chrono::milliseconds(f.latency_ms);
    if (f.bandwidth > 0) due = rx_free_ = std::max(due, rx_free_) + wire_time(n, f.bandwidth);
    co_await pause_until(due);
    if (n) event(fmt::format("received {}", n));
    co_return n;
  }
  asio::awaitable<void> write(std::string_view data) override {
    auto f = ctx_.net().faults_from(local_);
    if (f.latency_ms > 0) co_await pause_until(Clock::now() + std::chrono::milliseconds(f.latency_ms));
    std::size_t off = 0;
    while (off < data.size()) {
      f = ctx_.net().faults_from(local_);
      std::size_t n = data.size() - off;
      if (f.bandwidth > 0) {
        n = std::min(n, std::size_t(std::max<std::int64_t>(64, f.bandwidth / 20)));  // ~50 ms slices
        tx_free_ = std::max(Clock::now(), tx_free_) + wire_time(n, f.bandwidth);
        co_await pause_until(tx_free_);
      }
      co_await inner_->write(data.substr(off, n));
      off += n;
    }
    event(fmt::format("sent {}", data.size()));
  }
  void close() override {
    if (!closed_) event("closed");
    closed_ = true;
    inner_->close();
  }
  asio::ip::tcp::socket& socket() override { return inner_->socket(); }

 private:
  void event(const std::string& what) {
    auto& w = ctx_.world();
    if (w.observed()) w.note(fmt::format("client m{} {} {}", ctx_.index(), name_, what));
  }
  Context& ctx_;
  std::unique_ptr<net::Stream> inner_;
  asio::ip::address local_;
  std::string name_;
  Clock::time_point tx_free_{}, rx_free_{};
  bool closed_ = false;
};

asio::awaitable<bool> connect(asio::ip::tcp::socket& sock, asio::ip::tcp::endpoint to, std::error_code& ec) {
  co_await sock.async_connect(to, asio::redirect_error(asio::use_awaitable, ec));
  co_return true;
}
}  // namespace

asio::awaitable<ClientStream> open_client_stream(Context& ctx, ClientTarget t, std::chrono::milliseconds timeout,
                                                 async::StopToken stop) {
  auto& n = ctx.net();
  auto& io = ctx.engine().io();
  ClientStream out;
  auto fail = [&out](ClientFailure f, std::string why) {
    out.failure = f;
    out.why = std::move(why);
    out.stream.reset();
  };
  if (!n.has_address()) {
    fail(ClientFailure::NoAddress, "the module has no IP address");
    co_return out;
  }
  std::error_code ec;
  std::optional<asio::ip::address> ip;
  if (auto literal = asio::ip::make_address(t.host, ec); !ec) ip = literal;
  if (!ip) ip = co_await n.lookup(t.host, false, stop);
  if (!ip) ip = co_await n.lookup(t.host, true, stop);
  if (!ip) {
    fail(ClientFailure::Resolve, "cannot resolve " + t.host);
    co_return out;
  }
  asio::ip::tcp::socket sock(io);
  asio::ip::address local;
  try {
    sock.open(ip->is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4());
    if (auto from = n.source_for(*ip)) sock.bind({*from, 0});
    local = sock.local_endpoint().address();
  } catch (const std::system_error& e) {
    fail(ClientFailure::Connect, e.what());
    co_return out;
  }
  const std::string to = fmt::format("{}:{}", ip->to_string(), t.port);
  if (n.refuses_connect(local, to)) {
    fail(ClientFailure::Refused, "connection refused (network fault)");
    co_return out;
  }
  if (!co_await stop.race(io, connect(sock, {*ip, std::uint16_t(t.port)}, ec), timeout)) {
    fail(ClientFailure::Timeout, "connect timeout");
    co_return out;
  }
  if (ec) {
    fail(ClientFailure::Connect, ec.message());
    co_return out;
  }
  const auto here = sock.local_endpoint();
  std::unique_ptr<net::Stream> s;
  if (!t.tls) {
    s = net::tcp_stream(std::move(sock));
  } else {
    try {
      s = co_await net::tls_connect(std::move(sock), *t.tls, timeout);
    } catch (const net::TlsError& e) {
      stop.throw_if_requested();
      fail(ClientFailure::Tls, e.what());
      co_return out;
    }
  }
  auto& w = ctx.world();
  if (w.observed())
    w.note(fmt::format("client m{} {} connect {}{} local {}:{}", ctx.index(), t.label, to, t.tls ? " (TLS)" : "",
                       here.address().to_string(), here.port()));
  out.stream = std::make_unique<FaultedStream>(ctx, std::move(s), local, t.label);
  co_return out;
}

}  // namespace espat::module
