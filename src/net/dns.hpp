// The module's stub resolver (spec 3.3.37): one query to one server over UDP, from the module's
// own address.
#pragma once
#include <chrono>
#include <optional>
#include <string>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/udp.hpp>

namespace espat::net {

// The address of `name` (A, or AAAA when v6), nullopt when the server says there is none or
// does not answer within `timeout`. Throws std::system_error when the socket cannot be opened.
asio::awaitable<std::optional<asio::ip::address>> dns_lookup(asio::io_context& io, asio::ip::udp::endpoint server,
                                                             std::optional<asio::ip::address> local, std::string name,
                                                             bool v6, std::chrono::milliseconds timeout);

}  // namespace espat::net
