// The AT port as a TCP server: the one connected client is the wire of the UART.
#include <array>
#include <cstdio>
#include <stdexcept>

#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <spdlog/spdlog.h>

#include "transport/port_core.hpp"

namespace espat::transport {
namespace {

using asio::ip::tcp;
constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);

std::string endpoint_text(const tcp::endpoint& ep) {
  auto addr = ep.address().to_string();
  if (ep.address().is_v6()) addr = "[" + addr + "]";
  return addr + ":" + std::to_string(ep.port());
}

class TcpPort final : public PortCore {
 public:
  TcpPort(asio::io_context& io, const PortOptions& opts, tcp::acceptor acceptor)
      : PortCore(io, opts), acceptor_(std::move(acceptor)), accept_retry_(io),
        where_(endpoint_text(acceptor_.local_endpoint())) {}

  std::string describe() const override { return where_; }

 protected:
  void begin_input() override {
    auto self = std::static_pointer_cast<TcpPort>(shared_from_this());
    spawn(io_, [self] { return self->acceptor(); });
  }

  // No client: the bytes go nowhere, like a UART with no wire attached.
  asio::awaitable<void> put(std::span<const std::uint8_t> bytes) override {
    auto client = client_;
    if (!client) co_return;
    auto [ec, n] = co_await asio::async_write(*client, asio::buffer(bytes.data(), bytes.size()),
                                              as_tuple);
    if (ec && ec != asio::error::operation_aborted) drop(client, ec);
  }

  void close_io() override {
    std::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_.cancel();
    if (client_) client_->close(ignored);
    client_.reset();
  }

 private:
  using Socket = std::shared_ptr<tcp::socket>;

  asio::awaitable<void> acceptor() {
    while (!closed()) {
      auto [ec, socket] = co_await acceptor_.async_accept(as_tuple);
      if (closed()) break;
      if (ec) {
        // Out of descriptors and the like: wait, then accept again.
        spdlog::warn("{}: accept: {}", where_, ec.message());
        accept_retry_.expires_after(std::chrono::milliseconds(100));
        co_await accept_retry_.async_wait(as_tuple);
        continue;
      }
      std::error_code peer_ec;
      auto peer = socket.remote_endpoint(peer_ec);
      std::string who = peer_ec ? "?" : endpoint_text(peer);
      if (client_) {
        spdlog::info("{}: refused {}: a client is already connected", where_, who);
        socket.close(peer_ec);
        continue;
      }
      socket.set_option(tcp::no_delay(true), peer_ec);
      client_ = std::make_shared<tcp::socket>(std::move(socket));
      spdlog::info("{}: client {} connected", where_, who);
      auto self = std::static_pointer_cast<TcpPort>(shared_from_this());
      auto client = client_;
      spawn(io_, [self, client] { return self->reader(client); });
    }
  }

  asio::awaitable<void> reader(Socket client) {
    std::array<std::uint8_t, 4096> buf;
    while (!closed() && client == client_) {
      co_await input_room();
      if (closed() || client != client_) break;
      auto [ec, n] = co_await client->async_read_some(asio::buffer(buf), as_tuple);
      if (closed()) break;
      if (n > 0) received(std::span(buf.data(), n));
      if (ec) {
        drop(client, ec);
        break;
      }
    }
  }

  void drop(const Socket& client, std::error_code ec) {
    if (client != client_) return;
    spdlog::info("{}: client gone ({})", where_, ec.message());
    std::error_code ignored;
    client_->close(ignored);
    client_.reset();
  }

  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_;
  std::string where_;
  Socket client_;
};

}  // namespace

std::unique_ptr<Port> open_tcp(asio::io_context& io, const std::string& host, std::uint16_t port,
                               const PortOptions& opts) {
  std::error_code ec;
  tcp::resolver resolver(io);
  auto found = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || found.empty())
    throw std::runtime_error("cannot resolve " + host + ": " + ec.message());
  std::string last_error;
  for (const auto& entry : found) {
    tcp::acceptor acceptor(io);
    auto ep = entry.endpoint();
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      last_error = ec.message();
      continue;
    }
    auto core = std::make_shared<TcpPort>(io, opts, std::move(acceptor));
    std::fprintf(stderr, "espat: AT port on tcp %s\n", core->describe().c_str());
    std::fflush(stderr);
    return std::make_unique<CorePort>(core);
  }
  throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                           last_error);
}

}  // namespace espat::transport
