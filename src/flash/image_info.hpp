// `espat image info`: what an image or a single bin holds (partition tables, partitions, mfg_nvs
// namespaces and values with certificates summarised, factory parameters, otadata and the boot
// slot, legacy FC FC factory_param, F1 F1 PKI and 27 95 ble_data), as JSON for tools and as text
// for people.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "flash/blob_summary.hpp"
#include "flash/nvs.hpp"

namespace espat::flash {

// What a file is, from its bytes. Throws ImageError naming `name` when it is none of these.
enum class BinKind { Image, PartitionTable, Nvs, LegacyFactoryParam, LegacyPki, LegacyBleData };
BinKind detect_bin_kind(std::span<const std::uint8_t> bytes, std::string_view name);

// Everything info shows, as JSON: "file", "size", "kind" ("image", "partition-table", "nvs",
// "factory-param", "pki", "ble-data"), and by kind "primary_table", "secondary_table",
// "partitions", "bootloader", "otadata", "factory_params", "mfg_nvs", "nvs",
// "legacy_factory_param", "legacy_pki" (a list; in an image each with "partition" and
// "offset"), "legacy_ble_data" (legacy_info.hpp).
// Throws ImageError / FormatError with the file name when the bytes cannot be read as that kind.
nlohmann::json describe_bin(std::span<const std::uint8_t> bytes, std::string_view name);

// The human-readable rendering of describe_bin's JSON.
std::string format_bin_info(const nlohmann::json& info);

// One NVS partition: {"namespaces": [{"name", "keys": [{"key", "type", "value" | "size","hex",
// "certificates"}]}], "problems": [...]}. Read-only, never writes.
nlohmann::json describe_nvs(std::span<const std::uint8_t> partition);

// The 88 bytes of a legacy FC FC factory_param as written (not as the firmware interprets them).
nlohmann::json describe_legacy_factory_param(std::span<const std::uint8_t> bytes);

}  // namespace espat::flash
