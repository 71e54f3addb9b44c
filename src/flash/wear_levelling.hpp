// ESP-IDF's wear-levelling layer (components/wear_levelling, WL_Flash, version 2) as ESP-AT's
// `fatfs` partition holds it: esp_vfs_fat_spiflash_mount_rw_wl() mounts FATFS through it, and
// ESP-AT's image tools (tools/mkfatfs, fatfsgen.py --wl) build it. README "File system".
//
// Partition layout, 4 KiB pages: [logical pages, rotated, plus one dummy page] [state 1]
// [state 2] [config]. Each state sector holds wl_state_t (64 bytes, CRC32 over the first 60)
// followed by one 16-byte record per dummy-page move; the config sector holds wl_config_t
// (36 bytes, CRC32 over the first 32). Logical page L lives at physical page
//   p = (pages - move_count + L) % pages, plus one when p >= pos (the dummy page),
// where pos is the number of valid move records in state 1.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "flash/region.hpp"

namespace espat::flash::wl {

inline constexpr std::uint32_t kVersion = 2;
inline constexpr std::uint32_t kUpdateRate = 16;  // WL_DEFAULT_UPDATERATE
inline constexpr std::uint32_t kWriteSize = 16;   // WL_DEFAULT_WRITE_SIZE
inline constexpr std::uint32_t kTempBuffSize = 32;

struct State {
  std::uint32_t pos = 0, max_pos = 0, move_count = 0, access_count = 0, max_count = 0, block_size = 0,
                version = 0, device_id = 0;
};

// The logical sectors of a wear-levelled partition, as a Region (read, write, erase translate
// page by page). Valid while the partition region lives.
class WlRegion : public Region {
 public:
  // The layer on `part` when one of its two state copies is valid (version 2, 4 KiB pages,
  // this partition's geometry); nullptr otherwise, with *why set. Reads only.
  static std::unique_ptr<WlRegion> open(Region& part, std::string* why = nullptr);
  // Writes a fresh state and config (WL_Flash::initSections); the data pages are left as they are.
  static std::unique_ptr<WlRegion> format(Region& part, std::uint32_t device_id);
  // Logical size for a partition of `part_size` bytes (0 when too small).
  static std::size_t logical_size(std::size_t part_size);

  std::size_t size() const override { return logical_; }
  void read(std::size_t offset, std::span<std::uint8_t> out) const override;
  void write(std::size_t offset, std::span<const std::uint8_t> data) override;
  void erase_sector(std::size_t offset) override;
  using Region::read;
  const State& state() const { return state_; }

 private:
  WlRegion(Region& part, State s);
  std::size_t physical(std::size_t logical_page) const;
  void check(std::size_t offset, std::size_t len) const;
  Region& part_;
  State state_;
  std::size_t logical_;  // bytes
};

}  // namespace espat::flash::wl
