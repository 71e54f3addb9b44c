// libFuzzer: the DNS answer reader (net/dns_message.cpp, AT+CIPDNS's resolver). Any datagram a
// server (or anyone) sends is read without a crash or a hang; an address it returns has the
// size of its family.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <variant>

#include "net/dns_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint16_t id = std::uint16_t(data[0] << 8 | data[1]);
  for (bool v6 : {false, true}) {
    auto a = espat::net::dns_answer({data, size}, id, v6);
    if (a)
      if (auto* addr = std::get_if<espat::net::DnsAddress>(&*a); addr && addr->bytes.size() != (v6 ? 16u : 4u)) std::abort();
  }
  auto q = espat::net::dns_query(id, std::string_view(reinterpret_cast<const char*>(data), size), false);
  if (!q.empty() && q.size() < 17) std::abort();
  return 0;
}
