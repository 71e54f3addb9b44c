// `espat image edit`: what ESP-AT's tools/at.py modify_bin does (reference esp-at-formats.md §5,
// vectors README §6), on a copy of the input.
//  - NVS mode (the image has a secondary partition table with `mfg_nvs`): the partition is read,
//    the requested values replaced, and the whole partition regenerated as at.py's built-in
//    generator writes it: items in the same order, every page but the last initialised and
//    FULL (no ACTIVE page), the last page FF.
//  - Legacy mode (no mfg_nvs entry; a 4 KiB FC FC factory_param block at a 4 KiB boundary, or a
//    bare 4096-byte factory_param bin): the 88-byte structure is rewritten in place.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace espat::flash {

struct EditError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct EditOptions {
  std::optional<std::string> platform;      // legacy only: ESP32, ESP8266, ESP32S2, ESP32C3
  std::optional<std::string> module_name;
  std::optional<int> tx_power;              // 40..84 (0.25 dBm)
  std::optional<int> uart_num;              // 0..2
  std::optional<int> start_channel, channel_number;  // 1..14
  std::optional<std::string> country_code;  // 1..4 characters
  std::optional<long long> baud;
  std::optional<int> tx_pin, rx_pin, cts_pin, rts_pin;
  std::optional<int> tx_control_pin, rx_control_pin;  // legacy only
  // NVS mode only: blob keys (server_ca, client_cert.0, mqtt_key, wpa2_ca...) -> new content;
  // ble_data cfg<N> -> new string.
  std::map<std::string, std::vector<std::uint8_t>> blobs;
  std::map<int, std::string> gatts;
};

struct EditResult {
  std::vector<std::uint8_t> image;
  bool nvs_mode = false;
  std::size_t offset = 0, size = 0;  // the rewritten partition or structure
};

// Throws EditError on bad input (image size, no parameter area, a value out of range, a key the
// image does not hold, an option the mode has no place for).
EditResult edit_image(std::span<const std::uint8_t> input, const EditOptions& opt);

// at.py's own NVS layout from a partition written by the current generator (or Storage):
// pages in use become FULL, the free pages but the last are initialised FULL and empty.
void to_at_py_layout(std::vector<std::uint8_t>& partition);

}  // namespace espat::flash
