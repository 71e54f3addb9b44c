#pragma once
#include <cstdint>
#include <span>

namespace espat::flash {
// The ESP32 ROM crc32_le(0xFFFFFFFF, buf, len) used by NVS and otadata; it equals
// zlib's crc32 seeded with 0xFFFFFFFF (check value for "123456789": 0xD202D277).
std::uint32_t esp_crc32(std::span<const std::uint8_t> data);
}
