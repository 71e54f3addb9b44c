// ESP-AT's `fatfs` partition as the firmware mounts it (esp_vfs_fat_spiflash_mount_rw_wl with
// format_if_mount_failed): FATFS inside ESP-IDF's wear-levelling layer. README "File system".
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "flash/fat.hpp"
#include "flash/wear_levelling.hpp"

namespace espat::flash {

inline constexpr std::string_view kFatfsLabel = "fatfs";

class FsPartition {
 public:
  // Mounts the volume on `part`. With `format_blank`, a blank partition (all 0xFF) or a blank
  // volume inside a valid wear-levelling layer is formatted first, as the firmware does on its
  // first mount. Anything else that does not mount is refused untouched: nullptr, with *why.
  static std::unique_ptr<FsPartition> open(Region& part, bool format_blank, std::string* why = nullptr);

  fat::Volume& volume() { return *volume_; }
  const wl::WlRegion& wl() const { return *wl_; }

 private:
  std::unique_ptr<wl::WlRegion> wl_;
  std::optional<fat::Volume> volume_;
};

}  // namespace espat::flash
