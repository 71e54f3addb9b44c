// Manufacturing parameters the firmware applies at boot (reference esp-at-formats.md §1.6, §3):
// module name, Wi-Fi tx power and country, UART port/pins/baud, default AT+SYSSTORE mode.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace espat::flash {

class FlashImage;
namespace nvs { class Storage; }

struct FactoryParams {
  std::string module_name = "WROOM-32";
  int max_tx_power = 78;  // 0.25 dBm units
  std::string country_code = "CN";
  int start_channel = 1, channel_num = 13, uart_port = 1, uart_baudrate = 115200, tx_pin = 17, rx_pin = 16,
      cts_pin = 15, rts_pin = 14;
  int sys_store = 1;
  enum class Source { MfgNvs, LegacyPartition, None } source = Source::None;
  bool operator==(const FactoryParams&) const = default;
};

// As the firmware does (§1.6): namespace `factory_param` of the secondary table's `mfg_nvs`
// when it has one, else the legacy FC FC `factory_param` partition (type 0x40), else defaults.
// A missing (or wrongly typed) key keeps its default. module_name is the name the firmware
// ends up with: a name it does not know becomes "WROOM-32" (module id 0).
FactoryParams read_factory_params(FlashImage& image);

// The two sources, for tools and tests.
FactoryParams read_factory_params_nvs(const nvs::Storage& mfg_nvs);
// The first 128 bytes of a legacy factory_param partition, with the firmware's quirks (§3.2).
// Bad magic: defaults with Source::None (the firmware applies nothing).
FactoryParams parse_legacy_factory_params(std::span<const std::uint8_t> bytes);

// The ESP32 module table of the core (esp_at_module_info): id -> name, "Unknown" past the end.
std::string_view module_name_by_id(unsigned id);

}  // namespace espat::flash
