#include "commands/kinds.hpp"

#include <arpa/inet.h>

#include "sim/addr.hpp"

namespace espat::commands {

bool is_mac(std::string_view text) { return sim::Mac::parse(text).has_value(); }
bool is_ipv4(std::string_view text) { return sim::Ipv4::parse(text).has_value(); }

bool is_ipv6(std::string_view text) {
  in6_addr a;
  return text.size() < INET6_ADDRSTRLEN && inet_pton(AF_INET6, std::string(text).c_str(), &a) == 1;
}

}  // namespace espat::commands
