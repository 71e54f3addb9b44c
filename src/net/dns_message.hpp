// DNS messages (RFC 1035) for the module's own resolver: AT+CIPDNS=1 names the servers the
// module asks (spec 3.3.37), so their answers, not the host's resolver, decide. Only what a
// stub resolver needs: one question, recursion desired; the first A or AAAA answer. Pure code,
// fuzzed (fuzz/dns_fuzz.cpp). Written by hand: a packaged resolver (c-ares) would bring its own
// event loop and socket handling for two small functions.
#pragma once
#include <span>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace espat::net {

// The query for `name` (A, or AAAA when v6); empty when the name cannot be encoded (a label
// longer than 63 bytes, or more than 253 bytes in all).
std::vector<std::uint8_t> dns_query(std::uint16_t id, std::string_view name, bool v6);

// What a response says: an address (4 or 16 bytes), or that the name has none.
struct DnsAddress {
  std::vector<std::uint8_t> bytes;
};
struct DnsNoAddress {
  int rcode = 0;  // 3: the name does not exist
};
// nullopt: not an answer to query `id` (or malformed): keep waiting.
std::optional<std::variant<DnsAddress, DnsNoAddress>> dns_answer(std::span<const std::uint8_t> msg, std::uint16_t id, bool v6);

}  // namespace espat::net
