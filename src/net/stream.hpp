// A connected byte stream of a link (spec 3.3): plain TCP or TLS over TCP. The module's links
// read and write through it without knowing which; the socket underneath stays reachable for
// the options AT+CIPTCPOPT sets and for the addresses AT+CIPSTATE prints.
#pragma once
#include <cstddef>
#include <span>
#include <string_view>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

namespace espat::net {

class Stream {
 public:
  virtual ~Stream() = default;
  // Some bytes into buf; 0 when the peer closed cleanly. Throws std::system_error on a reset
  // or a TLS failure.
  virtual asio::awaitable<std::size_t> read_some(std::span<char> buf) = 0;
  // All of data, or throws std::system_error.
  virtual asio::awaitable<void> write(std::string_view data) = 0;
  // Closes at once (no TLS close_notify wait); pending reads and writes end with an error.
  virtual void close() = 0;
  virtual asio::ip::tcp::socket& socket() = 0;
};

}  // namespace espat::net
