// A fleet module's flash (README "Several modules"): a shared, read-only base image and a
// per-module overlay file holding only the 4 KiB sectors this module has written, so that a
// module costs on disk what it wrote, not 4 MiB. `espat image export` turns an overlay back
// into a plain image. Written by hand: no packaged library keeps a copy-on-write flash.
//
// The overlay file (little-endian):
//   0x000  "ESPATOVL", u32 version (1), u32 sector count, u32 base size
//   0x014  the base image's path (absolute, NUL-terminated, at most 1024 bytes)
//   0x800  one bit per sector: set = the sector lives in this file
//   0x1000 + s * 0x1000: sector s (a sparse file: sectors never written take no disk)
// The first write to a sector copies the base sector with the write applied, then sets its bit:
// a kill between the two leaves the bit clear, as if the write had not started, which keeps the
// NVS crash-safe write order intact. The file is opened per access, so that ten thousand
// modules do not hold ten thousand descriptors.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "flash/region.hpp"

namespace espat::flash {

class OverlayRegion : public Region {
 public:
  // Opens the overlay, creating it when missing. Throws FlashError when the file is not an
  // overlay, or belongs to a base of another size.
  OverlayRegion(std::string path, std::shared_ptr<const Region> base, const std::string& base_path);

  std::size_t size() const override { return base_->size(); }
  void read(std::size_t offset, std::span<std::uint8_t> out) const override;
  void write(std::size_t offset, std::span<const std::uint8_t> data) override;
  void erase_sector(std::size_t offset) override;
  using Region::read;

  void sync();  // fdatasync
  const std::string& path() const { return path_; }
  std::size_t sectors_written() const;

  // The base image path an overlay file names (for `espat image export`).
  static std::string base_path_of(const std::string& overlay_path);

 private:
  bool present(std::size_t sector) const { return bits_[sector / 8] & (1u << (sector % 8)); }
  void check(std::size_t offset, std::size_t len) const;
  // Makes the sector live in the overlay: the base sector with `apply` run on it.
  void materialize(std::size_t sector, const std::function<void(std::span<std::uint8_t>)>& apply);
  std::string path_;
  std::shared_ptr<const Region> base_;
  std::vector<std::uint8_t> bits_;
};

}  // namespace espat::flash
