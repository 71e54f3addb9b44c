// The ESP-IDF partition-table CSV (gen_esp32part.py, IDF v5.4): `Name, Type, SubType, Offset,
// Size, Flags` rows, `#` comments, type/subtype names or numbers, sizes like 8K/1M/0x2000, empty
// offsets placed with the IDF alignment rules (data 4 KiB, app 64 KiB) after the table sector.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "flash/partition_table.hpp"

namespace espat::flash {

// A CSV that gen_esp32part.py would refuse; the message starts with "line N:" when one row is
// at fault.
struct PartitionCsvError : std::runtime_error {
  using runtime_error::runtime_error;
};

// Parses and verifies like gen_esp32part.py: unknown types/subtypes, bad or empty sizes,
// misaligned or overlapping partitions, duplicate names, over-long names and a second otadata
// are refused. table_offset: where the table lives (--offset, default 0x8000); the first free
// offset is table_offset + 0x1000.
PartitionTable parse_partition_csv(std::string_view csv, std::uint32_t table_offset = 0x8000);

// gen_esp32part.py's bin-to-CSV text (its default formatting: names for known types and
// subtypes, sizes in K/M when whole).
std::string partition_table_to_csv(const PartitionTable& table);

// Names for display: "app"/"data"/number and the subtype's name or number.
std::string partition_type_name(std::uint8_t type);
std::string partition_subtype_name(std::uint8_t type, std::uint8_t subtype);

}  // namespace espat::flash
