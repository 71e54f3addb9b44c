// mfg_nvs.bin as the ESP-AT v4.1.1.0 build makes it (reference esp-at-formats.md §4.1-4.2,
// generation_tools/mfg_nvs.py): a CSV of certificate namespaces, factory_param and ble_data,
// turned into an NVS v2 partition by the NVS generator (nvs_csv.hpp).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace espat::flash {

inline constexpr std::size_t kMfgNvsSize = 0x1C000;

struct MfgOptions {
  std::string module = "WROOM-32";
  std::string platform = "PLATFORM_ESP32";
  bool mqtt = true;   // mqtt_cert/key/ca (off for modules built without MQTT, e.g. WROVER-32)
  bool wpa2 = false;  // wpa2_cert/key/ca (only with CONFIG_AT_EAP_*; off by default)
  bool ble = true;    // ble_data namespace from ble_data/gatts_data.csv
  std::size_t size = kMfgNvsSize;
};

// The certificate directories in the build's dependency order.
std::vector<std::string> mfg_cert_dirs(const MfgOptions& opt);

// The mfg_nvs.csv the build writes; `file` rows name `raw_dir / <dir> / <file>` as given.
// Throws CsvError (file and line) on bad factory_param or gatts CSVs, or a module not found.
std::string gen_mfg_csv(const std::filesystem::path& raw_dir, const MfgOptions& opt);
// The partition (generate_nvs on the CSV above).
std::vector<std::uint8_t> gen_mfg_nvs(const std::filesystem::path& raw_dir, const MfgOptions& opt);

}  // namespace espat::flash
