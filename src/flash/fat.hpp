// A small FAT12/FAT16 file system on a flash::Region: the root directory only (AT+FS lists
// nothing else, spec 3.8.2), 8.3 names with the NT lower-case flags and long file names as
// FatFS (FF_USE_LFN) writes them. Mounting reads only; a region that is not a FAT volume is
// refused untouched. Sectors are rewritten by read, erase, write of their 4 KiB flash sector.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flash/region.hpp"

namespace espat::flash::fat {

enum class Error { None, NotFound, BadName, NoSpace, IsDirectory, TooBig };
const char* describe(Error e);

struct Entry {
  std::string name;  // the long name when there is one
  std::uint32_t size = 0;
  bool directory = false;
};

// A name AT+FS may use: one component of the root directory, never "." or "..", no path
// separator (the firmware's root /fatfs cannot be left), no character FAT forbids.
bool valid_name(std::string_view name);

// FAT12/16 with FatFS f_mkfs's choices (FM_SFD, two FATs, 512 root entries, one sector per
// cluster, media 0xF8); `sector` 512..4096 (ESP-IDF's wear-levelled FATFS: 4096).
void format(Region& r, std::uint32_t volume_id, std::size_t sector = kSectorSize);

class Volume {
 public:
  // nullopt, with *why, when the region holds no FAT12/16 volume this code can read.
  static std::optional<Volume> mount(Region& r, std::string* why = nullptr);

  std::vector<Entry> list() const;
  std::optional<Entry> stat(std::string_view name) const;
  // Up to `len` bytes from `offset` (fewer at the end of the file).
  Error read(std::string_view name, std::uint32_t offset, std::uint32_t len, std::vector<std::uint8_t>& out) const;
  // Creates the file when missing; a gap before `offset` reads as zeros.
  Error write(std::string_view name, std::uint32_t offset, std::span<const std::uint8_t> data);
  Error remove(std::string_view name);
  std::uint64_t free_bytes() const;
  std::uint64_t total_bytes() const;
  bool fat12() const { return fat12_; }

 private:
  struct Dirent;  // a root entry with its slot range
  explicit Volume(Region& r) : r_(&r) {}
  std::uint32_t next(std::uint32_t c) const;
  void set_next(std::uint32_t c, std::uint32_t v);
  bool is_eoc(std::uint32_t v) const;
  std::vector<std::uint32_t> chain(std::uint32_t first) const;  // stops at loops and bad links
  std::vector<Dirent> entries() const;
  std::optional<Dirent> find(std::string_view name) const;
  std::optional<std::uint32_t> allocate();
  void read_bytes(std::uint64_t off, std::span<std::uint8_t> out) const;
  void write_bytes(std::uint64_t off, std::span<const std::uint8_t> data);
  void flush_fat();
  void flush_root();
  std::uint64_t cluster_offset(std::uint32_t c) const;
  std::string short_name_for(std::string_view name, bool& need_lfn, std::uint8_t& case_flags) const;

  Region* r_;
  bool fat12_ = true;
  std::uint32_t ss_ = 512, spc_ = 1, n_fats_ = 2, fat_sectors_ = 0, clusters_ = 0, root_entries_ = 0;
  std::uint64_t fat_off_ = 0, root_off_ = 0, data_off_ = 0;
  std::vector<std::uint8_t> fat_;   // the first FAT, all copies written from it
  std::vector<std::uint8_t> root_;  // the root directory
  std::uint32_t hint_ = 2;
};

}  // namespace espat::flash::fat
