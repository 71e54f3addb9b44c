// The legacy (ESP-AT v1.x - v3.0) bins, generated as Espressif's tools make them
// (reference esp-at-formats.md §3.2, §4.3, §4.4; vectors README §4, §5):
//  - factory_param_<MODULE>.bin: 4096 bytes, magic FC FC (tools/factory_param_generate.py);
//  - PKI partitions: magic F1 F1 (tools/AtPKI.py generate_bin);
//  - ble_data.bin: u16 length, 27 95, JSON (tools/BLEService.py).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace espat::flash {

inline constexpr std::size_t kLegacyFactoryParamSize = 4096;

// `type_csv`: `param_name,offset,type,size` (v2.x factory_param_type.csv); `data_csv`: one row per
// platform/module. Every field of the type CSV with an offset >= 0 that is a column of the data
// CSV is zero-filled, then written (integers little-endian truncated to their size, strings
// NUL-padded/truncated); the rest stays FF. Throws CsvError (naming the file and line) on bad
// input or when no row has this platform and module.
std::vector<std::uint8_t> gen_legacy_factory_param(std::string_view module, std::string_view data_csv,
                                                   std::string_view type_csv,
                                                   std::string_view platform = "PLATFORM_ESP32",
                                                   std::string_view data_name = "factory_param_data.csv",
                                                   std::string_view type_name = "factory_param_type.csv");

enum class PkiType : std::uint8_t { Ca = 1, Cert = 2, Key = 3 };
struct PkiItem {
  PkiType type;
  std::vector<std::uint8_t> content;
};
// F1 F1 | u16 count | u32 length | items grouped by type in order of first appearance, ids
// 0,1,... within a type; each item: type, id, u16 length, content, FF padding to 4 bytes.
std::vector<std::uint8_t> gen_pki(const std::vector<PkiItem>& items);
bool parse_pki_type(std::string_view name, PkiType& out);  // ca, cert, key

// From a BLEService.py CSV (`index,uuid_len,uuid,perm,val_max_len,val_cur_len,value`).
std::vector<std::uint8_t> gen_ble_data(std::string_view csv, std::string_view source = "CSV");

}  // namespace espat::flash
