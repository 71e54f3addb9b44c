// A plain TCP link's stream.
#pragma once
#include <memory>

#include "net/stream.hpp"

namespace espat::net {

std::unique_ptr<Stream> tcp_stream(asio::ip::tcp::socket socket);

}  // namespace espat::net
