#include "flash/default_image.hpp"

#include <array>
#include <fmt/format.h>

#include "flash/image.hpp"
#include "flash/nvs.hpp"

namespace espat::flash {
namespace {

// raw_data/ble_data/gatts_data.csv of ESP-AT v4.1.1.0 (public sample data):
// index,uuid_len,uuid,perm,max_len,cur_len,value
constexpr std::array<std::string_view, 31> kGattsRows = {
    "0,16,0x2800,0x01,2,2,A002",     "1,16,0x2803,0x01,1,1,02",       "2,16,0xC300,0x01,1,1,30",
    "3,16,0x2901,0x11,1,1,30",       "4,16,0x2803,0x01,1,1,02",       "5,16,0xC301,0x01,512,512,",
    "6,16,0x2901,0x11,512,512,",     "7,16,0x2803,0x01,1,1,08",       "8,16,0xC302,0x10,1,1,30",
    "9,16,0x2901,0x01,1,1,01",       "10,16,0x2803,0x01,1,1,04",      "11,16,0xC303,0x10,1,1,30",
    "12,16,0x2901,0x10,1,1,30",      "13,16,0x2803,0x01,1,1,08",      "14,16,0xC304,0x10,512,512,",
    "15,16,0x2803,0x01,1,1,10",      "16,16,0xC305,0x01,1,1,00",      "17,16,0x2902,0x11,2,2,0000",
    "18,16,0x2803,0x01,1,1,20",      "19,16,0xC306,0x01,1,1,00",      "20,16,0x2902,0x11,2,2,0000",
    "21,16,0x2803,0x01,1,1,02",      "22,16,0xC307,0x01,1,1,30",      "23,16,0x2901,0x11,256,1,30",
    "24,16,0x2800,0x01,2,2,A003",    "25,16,0x2803,0x01,1,1,02",      "26,16,0xC400,0x01,1,1,30",
    "27,16,0x2901,0x11,1,1,30",      "28,16,0x2803,0x01,1,1,02",      "29,16,0xC401,0x01,1,1,30",
    "30,16,0x2901,0x11,256,1,30",
};

constexpr std::uint32_t kMfgNvsOffset = 0x21000, kMfgNvsSize = 0x1C000;  // 112K

void put(nvs::Storage& s, std::string_view ns, std::string_view key, const nvs::Value& v) {
  if (auto err = s.set(ns, key, v); err != nvs::Error::None)
    throw FlashError(fmt::format("mfg_nvs: cannot store {}/{}: {}", ns, key, nvs::to_string(err)));
}

}  // namespace

PartitionTable default_primary_table() {
  return {{
      {"phy_init", kTypeData, kSubtypePhy, 0xF000, 0x1000},
      {"otadata", kTypeData, kSubtypeOta, 0x10000, 0x2000},
      {"nvs", kTypeData, kSubtypeNvs, 0x12000, 0xE000},
      {"at_customize", kTypeAtCustom, 0x00, 0x20000, 0xE0000},
      {"ota_0", kTypeApp, kSubtypeOta0, 0x100000, 0x180000},
      {"ota_1", kTypeApp, kSubtypeOta1, 0x280000, 0x180000},
  }};
}

PartitionTable default_secondary_table() {
  return {{
      {"mfg_nvs", kTypeData, kSubtypeNvs, kMfgNvsOffset, kMfgNvsSize},
      {"fatfs", kTypeData, kSubtypeFat, 0x70000, 0x90000},  // 576K
  }, /*has_md5=*/true};
}

std::span<const std::string_view> default_gatts_rows() { return kGattsRows; }

void write_default_mfg_nvs(Region& mfg_nvs, const FactoryParams& p) {
  using nvs::Value;
  nvs::Storage s(mfg_nvs);
  // The certificate namespaces the real build puts first (server_cert ... mqtt_ca, §4.2) are not
  // in the default image yet; they come with the PKI work.
  constexpr std::string_view fp = "factory_param";
  put(s, fp, "version", Value::i8(4));
  put(s, fp, "module_name", Value::str(p.module_name));
  put(s, fp, "max_tx_power", Value::i8(static_cast<std::int8_t>(p.max_tx_power)));
  put(s, fp, "country_code", Value::str(p.country_code));
  put(s, fp, "start_channel", Value::u8(static_cast<std::uint8_t>(p.start_channel)));
  put(s, fp, "channel_num", Value::u8(static_cast<std::uint8_t>(p.channel_num)));
  put(s, fp, "uart_port", Value::i8(static_cast<std::int8_t>(p.uart_port)));
  put(s, fp, "uart_baudrate", Value::i32(p.uart_baudrate));
  put(s, fp, "uart_tx_pin", Value::i32(p.tx_pin));
  put(s, fp, "uart_rx_pin", Value::i32(p.rx_pin));
  put(s, fp, "uart_cts_pin", Value::i32(p.cts_pin));
  put(s, fp, "uart_rts_pin", Value::i32(p.rts_pin));
  put(s, fp, "sys_store", Value::u8(static_cast<std::uint8_t>(p.sys_store)));
  for (std::size_t i = 0; i < kGattsRows.size(); ++i)
    put(s, "ble_data", fmt::format("cfg{}", i), Value::str(kGattsRows[i]));
}

std::vector<std::uint8_t> make_default_image(const FactoryParams& params) {
  MemoryRegion flash(kDefaultFlashSize);  // erased: otadata FF boots ota_0, nvs and phy_init blank
  const PartitionTable primary = default_primary_table();
  flash.write(kPrimaryTableOffset, primary.serialize(/*with_md5=*/false));  // CONFIG_PARTITION_TABLE_MD5=n
  flash.write(primary.find(kAtCustomizeLabel)->offset, default_secondary_table().serialize(/*with_md5=*/true));
  SubRegion mfg(flash, kMfgNvsOffset, kMfgNvsSize);
  write_default_mfg_nvs(mfg, params);
  return flash.bytes();
}

}  // namespace espat::flash
