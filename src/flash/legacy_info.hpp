// `espat image info` on the legacy (v2.x) PKI partitions (F1 F1: server_*, client_*, mqtt_*...)
// and the legacy ble_data partition (27 95 + JSON), inside an image or as single bins
// (reference esp-at-formats.md §4.3, §4.4): JSON for tools and the human-readable text.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

namespace espat::flash {

// {"count", "length", "items": [{"type", "type_name", "id", "offset", and summarize_blob's
// fields}], "problems"}. Items are described by what they hold as well as by their type byte,
// which the v2.4.0.0 build set to cert on keys and CAs too (§4.3).
nlohmann::json describe_legacy_pki(std::span<const std::uint8_t> bytes);

// {"length", "services": [the JSON's "Service" rows as written], "problems"}.
nlohmann::json describe_legacy_ble_data(std::span<const std::uint8_t> bytes);

// Text for one describe_legacy_pki / describe_legacy_ble_data result; `title` is its first line
// (which partition or file it is).
void format_legacy_pki(std::string& out, const nlohmann::json& pki, const std::string& title);
void format_legacy_ble_data(std::string& out, const nlohmann::json& ble, const std::string& title);

}  // namespace espat::flash
