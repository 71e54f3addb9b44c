// HOST:PORT as written on the command line.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace espat::cli {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

// "HOST:PORT", "[V6ADDR]:PORT", ":PORT" or "PORT"; an omitted host is 127.0.0.1.
std::optional<HostPort> parse_host_port(const std::string& text);

}  // namespace espat::cli
