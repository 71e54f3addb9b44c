// A window on flash memory with NOR semantics: erase sets a 4 KiB sector to 0xFF,
// write may only clear bits. The NVS and partition code see flash only through this.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace espat::flash {

inline constexpr std::size_t kSectorSize = 4096;

struct FlashError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Region {
 public:
  virtual ~Region() = default;
  virtual std::size_t size() const = 0;
  // Throws FlashError on an I/O failure or an out-of-range access.
  virtual void read(std::size_t offset, std::span<std::uint8_t> out) const = 0;
  virtual void write(std::size_t offset, std::span<const std::uint8_t> data) = 0;
  virtual void erase_sector(std::size_t offset) = 0;  // offset is sector aligned

  std::vector<std::uint8_t> read(std::size_t offset, std::size_t len) const {
    std::vector<std::uint8_t> v(len);
    read(offset, v);
    return v;
  }
  void erase_range(std::size_t offset, std::size_t len) {
    for (std::size_t o = offset; o < offset + len; o += kSectorSize) erase_sector(o);
  }
};

// A region in RAM: tests, fuzzers, image tools.
class MemoryRegion : public Region {
 public:
  explicit MemoryRegion(std::size_t size) : bytes_(size, 0xFF) {}
  explicit MemoryRegion(std::vector<std::uint8_t> bytes) : bytes_(std::move(bytes)) {}
  std::size_t size() const override { return bytes_.size(); }
  void read(std::size_t offset, std::span<std::uint8_t> out) const override;
  void write(std::size_t offset, std::span<const std::uint8_t> data) override;
  void erase_sector(std::size_t offset) override;
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }
  using Region::read;

 private:
  void check(std::size_t offset, std::size_t len) const;
  std::vector<std::uint8_t> bytes_;
};

// A sub-window of another region (a partition inside the image).
class SubRegion : public Region {
 public:
  SubRegion(Region& parent, std::size_t offset, std::size_t size);
  std::size_t size() const override { return size_; }
  void read(std::size_t offset, std::span<std::uint8_t> out) const override;
  void write(std::size_t offset, std::span<const std::uint8_t> data) override;
  void erase_sector(std::size_t offset) override;
  using Region::read;

 private:
  void check(std::size_t offset, std::size_t len) const;
  Region& parent_;
  std::size_t offset_, size_;
};

}  // namespace espat::flash
