#include "flash/crc32.hpp"

#include <zlib.h>

namespace espat::flash {
std::uint32_t esp_crc32(std::span<const std::uint8_t> data) {
  // zlib answers 0 for a null buffer; an empty span may have one, and the ROM answers the seed.
  static const std::uint8_t none = 0;
  const std::uint8_t* p = data.empty() ? &none : data.data();
  return static_cast<std::uint32_t>(::crc32(0xFFFFFFFFul, p, static_cast<uInt>(data.size())));
}
}
