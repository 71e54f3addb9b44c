#include "net/tcp_stream.hpp"

#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace espat::net {

namespace {
class TcpStream final : public Stream {
 public:
  explicit TcpStream(asio::ip::tcp::socket s) : s_(std::move(s)) {}
  asio::awaitable<std::size_t> read_some(std::span<char> buf) override {
    std::error_code ec;
    std::size_t n = co_await s_.async_read_some(asio::buffer(buf.data(), buf.size()),
                                                asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::eof) co_return 0;
    if (ec) throw std::system_error(ec);
    co_return n;
  }
  asio::awaitable<void> write(std::string_view data) override {
    co_await asio::async_write(s_, asio::buffer(data.data(), data.size()), asio::use_awaitable);
  }
  void close() override {
    std::error_code ec;
    s_.close(ec);
  }
  asio::ip::tcp::socket& socket() override { return s_; }

 private:
  asio::ip::tcp::socket s_;
};
}  // namespace

std::unique_ptr<Stream> tcp_stream(asio::ip::tcp::socket socket) { return std::make_unique<TcpStream>(std::move(socket)); }

}  // namespace espat::net
