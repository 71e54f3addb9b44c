// Parameter kinds the families share, as schema entries the engine checks before a handler
// runs: addresses in the text forms the guide uses, and one-of-strings.
#pragma once
#include <initializer_list>
#include <string>
#include <string_view>

#include "at/params.hpp"

namespace espat::commands {

bool is_mac(std::string_view text);   // "aa:bb:cc:dd:ee:ff"
bool is_ipv4(std::string_view text);  // dotted quad
bool is_ipv6(std::string_view text);  // RFC 4291 text form

inline at::Str mac(const char* name, bool optional = false) { return {name, 17, 0, optional, &is_mac}; }
inline at::Str ipv4(const char* name, bool optional = false) { return {name, 15, 0, optional, &is_ipv4}; }
inline at::Str ipv6(const char* name, bool optional = false) { return {name, 45, 0, optional, &is_ipv6}; }
inline at::Str one_of(const char* name, std::initializer_list<std::string> choices, bool optional = false) {
  return {name, 256, 0, optional, nullptr, choices};
}

}  // namespace espat::commands
