#include "flash/region.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

namespace espat::flash {

void MemoryRegion::check(std::size_t offset, std::size_t len) const {
  if (offset > bytes_.size() || len > bytes_.size() - offset)
    throw FlashError(fmt::format("flash access 0x{:x}+0x{:x} outside 0x{:x} bytes", offset, len, bytes_.size()));
}

void MemoryRegion::read(std::size_t offset, std::span<std::uint8_t> out) const {
  check(offset, out.size());
  std::memcpy(out.data(), bytes_.data() + offset, out.size());
}

void MemoryRegion::write(std::size_t offset, std::span<const std::uint8_t> data) {
  check(offset, data.size());
  // NOR flash: programming only clears bits.
  for (std::size_t i = 0; i < data.size(); ++i) bytes_[offset + i] &= data[i];
}

void MemoryRegion::erase_sector(std::size_t offset) {
  check(offset, kSectorSize);
  if (offset % kSectorSize) throw FlashError(fmt::format("erase at unaligned 0x{:x}", offset));
  std::fill_n(bytes_.begin() + static_cast<std::ptrdiff_t>(offset), kSectorSize, 0xFF);
}

SubRegion::SubRegion(Region& parent, std::size_t offset, std::size_t size)
    : parent_(parent), offset_(offset), size_(size) {
  if (offset > parent.size() || size > parent.size() - offset)
    throw FlashError(fmt::format("region 0x{:x}+0x{:x} outside flash of 0x{:x} bytes", offset, size, parent.size()));
}

void SubRegion::check(std::size_t offset, std::size_t len) const {
  if (offset > size_ || len > size_ - offset)
    throw FlashError(fmt::format("access 0x{:x}+0x{:x} outside partition of 0x{:x} bytes", offset, len, size_));
}

void SubRegion::read(std::size_t offset, std::span<std::uint8_t> out) const {
  check(offset, out.size());
  parent_.read(offset_ + offset, out);
}

void SubRegion::write(std::size_t offset, std::span<const std::uint8_t> data) {
  check(offset, data.size());
  parent_.write(offset_ + offset, data);
}

void SubRegion::erase_sector(std::size_t offset) {
  check(offset, kSectorSize);
  parent_.erase_sector(offset_ + offset);
}

}  // namespace espat::flash
