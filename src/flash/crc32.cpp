#include "flash/crc32.hpp"

#include <zlib.h>

namespace espat::flash {
std::uint32_t esp_crc32(std::span<const std::uint8_t> data) {
  return static_cast<std::uint32_t>(::crc32(0xFFFFFFFFul, data.data(), static_cast<uInt>(data.size())));
}
}
