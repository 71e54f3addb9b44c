// ESP-IDF partition table binary (reference esp-at-formats.md §2.2): 32-byte entries
// `AA 50 type subtype offset size label[16] flags`, an optional MD5 entry (`EB EB`, 14×FF, MD5 of
// the entries before it), then FF up to 0xC00 bytes. ESP-AT has two: the primary at 0x8000
// (no MD5) and the `at_customize` secondary table (with MD5).
#pragma once
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace espat::flash {

inline constexpr std::size_t kPartitionTableSize = 0xC00;  // gen_esp32part MAX_PARTITION_LENGTH
inline constexpr std::size_t kPartitionEntrySize = 32;

// Partition types and subtypes used by ESP-AT (ESP-IDF esp_partition.h).
inline constexpr std::uint8_t kTypeApp = 0x00, kTypeData = 0x01, kTypeAtCustom = 0x40;
inline constexpr std::uint8_t kSubtypeOta = 0x00, kSubtypePhy = 0x01, kSubtypeNvs = 0x02, kSubtypeFat = 0x81;
inline constexpr std::uint8_t kSubtypeOta0 = 0x10, kSubtypeOta1 = 0x11;

struct Partition {
  std::string label;
  std::uint8_t type, subtype;
  std::uint32_t offset, size, flags = 0;
  bool operator==(const Partition&) const = default;
};

// A malformed table; the message names the entry and its offset inside the table.
struct FormatError : std::runtime_error {
  using runtime_error::runtime_error;
};

struct PartitionTable {
  std::vector<Partition> entries;
  bool has_md5 = false;

  // Parses as the ESP-IDF runtime does (esp_partition_table_verify): entries until the first
  // FF end marker, an MD5 entry is checked when present ("MD5 mismatch"). Then the checks of
  // gen_esp32part.py: offsets aligned (app 64 KiB, others 4 KiB), no overlap, unique labels.
  static PartitionTable parse(std::span<const std::uint8_t> bytes);
  // 0xC00 bytes, byte-identical to gen_esp32part.py (with_md5 = without --disable-md5sum).
  std::vector<std::uint8_t> serialize(bool with_md5) const;
  const Partition* find(std::string_view label) const;
};

}  // namespace espat::flash
