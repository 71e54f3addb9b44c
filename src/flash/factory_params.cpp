#include "flash/factory_params.hpp"

#include <array>
#include <cstring>
#include <optional>

#include "flash/image.hpp"
#include "flash/nvs.hpp"

namespace espat::flash {
namespace {

// ESP32 rows of esp_at_module_info; id 0 is the default.
constexpr std::array<std::string_view, 9> kModules = {
    "WROOM-32", "WROOM-32", "WROVER-32", "PICO-D4", "SOLO-1", "MINI-1", "ESP32-SDIO", "ESP32-D2WD", "ESP32_QCLOUD",
};
constexpr std::size_t kFirmwareReadLen = 128;  // AT_BUFFER_ON_STACK_SIZE: what the firmware reads

// esp_at_set_module_id_by_str: exact match, else the id stays 0.
std::string known_module_name(std::string_view name) {
  for (auto m : kModules)
    if (m == name) return std::string(m);
  return std::string(kModules[0]);
}

// wifi_country_t.cc is 3 bytes: the firmware copies no more of the stored code.
std::string country_of(std::string_view stored) {
  stored = stored.substr(0, 3);
  return std::string(stored.substr(0, stored.find('\0')));
}

std::optional<std::int64_t> get_int(const nvs::Storage& s, std::string_view key, nvs::Type type) {
  auto v = s.get("factory_param", key);
  if (!v || v->type != type) return std::nullopt;  // nvs_get_<type> finds only that type
  return v->integer;
}

std::optional<std::string> get_str(const nvs::Storage& s, std::string_view key) {
  auto v = s.get("factory_param", key);
  if (!v || v->type != nvs::Type::Str) return std::nullopt;
  return v->as_string();
}

}  // namespace

std::string_view module_name_by_id(unsigned id) { return id < kModules.size() ? kModules[id] : "Unknown"; }

FactoryParams read_factory_params_nvs(const nvs::Storage& s) {
  FactoryParams p;
  p.source = FactoryParams::Source::MfgNvs;
  auto set_int = [&](int& field, std::string_view key, nvs::Type type) {
    if (auto v = get_int(s, key, type)) field = static_cast<int>(*v);
  };
  if (auto v = get_str(s, "module_name")) p.module_name = known_module_name(*v);
  set_int(p.max_tx_power, "max_tx_power", nvs::Type::I8);
  if (auto v = get_str(s, "country_code")) p.country_code = country_of(*v);
  set_int(p.start_channel, "start_channel", nvs::Type::U8);
  set_int(p.channel_num, "channel_num", nvs::Type::U8);
  set_int(p.uart_port, "uart_port", nvs::Type::I8);
  set_int(p.uart_baudrate, "uart_baudrate", nvs::Type::I32);
  set_int(p.tx_pin, "uart_tx_pin", nvs::Type::I32);
  set_int(p.rx_pin, "uart_rx_pin", nvs::Type::I32);
  set_int(p.cts_pin, "uart_cts_pin", nvs::Type::I32);
  set_int(p.rts_pin, "uart_rts_pin", nvs::Type::I32);
  set_int(p.sys_store, "sys_store", nvs::Type::U8);
  return p;
}

FactoryParams parse_legacy_factory_params(std::span<const std::uint8_t> bytes) {
  FactoryParams p;
  if (bytes.size() < kFirmwareReadLen || bytes[0] != 0xFC || bytes[1] != 0xFC) return p;
  const auto* b = bytes.data();
  p.source = FactoryParams::Source::LegacyPartition;
  const std::uint8_t version = b[2];
  // at_module_config_init: version <= 2 stores a module id in byte 3, later versions a name at 56.
  if (version <= 2) {
    p.module_name = std::string(module_name_by_id(b[3]));
  } else {
    const char* name = reinterpret_cast<const char*>(b + 56);
    p.module_name = known_module_name(std::string_view(name, strnlen(name, kFirmwareReadLen - 56)));
  }
  // at_wifi_config_init: tx power unless FF (version 1 files used small values for "unset").
  if (b[4] != 0xFF && (version != 1 || b[4] >= 10)) p.max_tx_power = static_cast<std::int8_t>(b[4]);
  // Byte 7 is taken as the *end* channel: nchan = b7 - b6 + 1; an invalid range applies nothing.
  if (b[6] != 0xFF && b[7] != 0xFF && b[8] != 0xFF && b[6] >= 1 && b[7] <= 14 && b[7] >= b[6]) {
    p.start_channel = b[6];
    p.channel_num = b[7] - b[6] + 1;
    p.country_code = country_of(std::string_view(reinterpret_cast<const char*>(b + 8), 4));
  }
  // at_mfg_uart_baudrate_get / at_mfg_uart_port_pins_get.
  if (b[12] != 0xFF || b[13] != 0xFF || b[14] != 0xFF || b[15] != 0xFF)
    p.uart_baudrate = static_cast<std::int32_t>(std::uint32_t(b[12]) | std::uint32_t(b[13]) << 8 |
                                                std::uint32_t(b[14]) << 16 | std::uint32_t(b[15]) << 24);
  p.uart_port = static_cast<std::int8_t>(b[5]);
  if (b[16] != 0xFF && b[17] != 0xFF) {
    p.tx_pin = b[16];
    p.rx_pin = b[17];
  }
  p.cts_pin = b[18] != 0xFF ? b[18] : -1;
  p.rts_pin = b[19] != 0xFF ? b[19] : -1;
  return p;  // no sys_store in the legacy format: default 1
}

FactoryParams read_factory_params(FlashImage& image) {
  // at_nvs_flash_init_partition: mfg_nvs (data/nvs) in the secondary table first.
  const Partition* mfg = image.secondary().find("mfg_nvs");
  if (mfg && mfg->type == kTypeData && mfg->subtype == kSubtypeNvs) {
    try {
      SubRegion region(image.flash(), mfg->offset, mfg->size);
      const nvs::Storage storage(region, /*read_only=*/true);
      return read_factory_params_nvs(storage);
    } catch (const FlashError&) {
      return {};  // nvs_flash_init_partition_ptr failed: the firmware uses no parameters
    }
  }
  const Partition* legacy = image.secondary().find("factory_param");
  if (legacy && legacy->type == kTypeAtCustom) {
    if (legacy->size < kFirmwareReadLen) return {};
    return parse_legacy_factory_params(image.flash().read(legacy->offset, kFirmwareReadLen));
  }
  return {};
}

}  // namespace espat::flash
