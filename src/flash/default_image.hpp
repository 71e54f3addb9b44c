// The flash image a fresh module gets: ESP32 ESP-AT v4.1.1.0, module WROOM-32, 4 MiB
// (reference esp-at-formats.md §2.1-§2.3, §3.1, §4.2). It has no bootloader and no app:
// espat is the app.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "flash/factory_params.hpp"
#include "flash/partition_table.hpp"
#include "flash/region.hpp"

namespace espat::flash {

inline constexpr std::size_t kDefaultFlashSize = 4u << 20;

PartitionTable default_primary_table();    // partitions_at.csv (§2.1), serialized without MD5
PartitionTable default_secondary_table();  // at_customize.csv v4.1.1.0 (§2.2), serialized with MD5

// The 31 rows of the default raw_data/ble_data/gatts_data.csv (§6), stored as ble_data/cfg<N>.
std::span<const std::string_view> default_gatts_rows();

// Writes namespaces factory_param (§3.1, 13 keys in generator order) and ble_data into an
// erased mfg_nvs partition. Throws FlashError when NVS refuses a value.
void write_default_mfg_nvs(Region& mfg_nvs, const FactoryParams& params);

// FF everywhere; primary table at 0x8000; otadata (boots ota_0), phy_init and nvs erased;
// at_customize table at 0x20000; mfg_nvs at 0x21000.
std::vector<std::uint8_t> make_default_image(const FactoryParams& params = {});

}  // namespace espat::flash
