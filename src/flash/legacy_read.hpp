// Readers of the legacy (ESP-AT v1.x - v3.0) PKI and ble_data partitions (reference
// esp-at-formats.md §4.3, §4.4; vectors README §5). They never throw: what cannot be read is
// listed in `problems` and what can be read is still returned (a partition may be damaged).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace espat::flash {

inline constexpr std::uint8_t kPkiMagic = 0xF1;                       // F1 F1
inline constexpr std::uint8_t kBleDataMagic[2] = {0x27, 0x95};         // after the u16 length
inline constexpr std::size_t kPkiHeaderSize = 8;                      // magic, count, length
inline constexpr std::size_t kPkiItemHeaderSize = 4;                  // type, id, u16 length

bool is_legacy_pki(std::span<const std::uint8_t> bytes);       // F1 F1 at 0
bool is_legacy_ble_data(std::span<const std::uint8_t> bytes);  // 27 95 at 2

struct LegacyPkiItem {
  std::uint8_t type = 0;  // 1 ca, 2 cert, 3 key; the v2.4.0.0 build wrote 2 on every item (§4.3)
  std::uint8_t id = 0;
  std::size_t offset = 0;  // of the item header, from the partition start
  std::vector<std::uint8_t> content;
};

struct LegacyPki {
  std::uint16_t count = 0;   // the header's item count
  std::uint32_t length = 0;  // the header's byte count of all items
  std::vector<LegacyPkiItem> items;
  std::vector<std::string> problems;
};

// F1 F1 | u16 count | u32 length | items (type u8, id u8, u16 length, content, FF padding to 4).
LegacyPki read_legacy_pki(std::span<const std::uint8_t> bytes);

struct LegacyBleData {
  std::uint16_t length = 0;  // the header's JSON length
  std::string json;          // the JSON text (as much of it as the bytes hold)
  std::vector<std::string> problems;
};

// u16 length | 27 95 | JSON text of that length. The JSON itself is not parsed here.
LegacyBleData read_legacy_ble_data(std::span<const std::uint8_t> bytes);

// The services of a legacy ble_data partition as the rows of the >= v3.1 table
// ("index,uuid_len,0xUUID,0xPERM,val_max_len,val_cur_len,VALUE", as ble_data/cfg<N> holds them,
// §6), in the JSON's order; nullopt with `why` when the header, the JSON or an entry is bad.
std::optional<std::vector<std::string>> legacy_ble_rows(std::span<const std::uint8_t> bytes, std::string* why);

const char* pki_type_name(std::uint8_t type);  // "ca", "cert", "key", "unknown"

}  // namespace espat::flash
