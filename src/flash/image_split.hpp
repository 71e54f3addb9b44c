// `espat image split`: an image cut into the bins it is made of, with a download.config that
// `espat image build --config` turns back into the identical image (reference esp-at-formats.md
// §2.2, §2.3).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace espat::flash {

struct SplitFile {
  std::string file_name;
  std::uint32_t offset;
  std::vector<std::uint8_t> bytes;
  // Listed in download.config. False for a partition that holds others (at_customize: its table
  // and the secondary partitions) and for download.config itself.
  bool in_config = true;
};

// The files, in flash order, then download.config:
//  - bootloader.bin (0x1000-0x8000) unless erased;
//  - partition-table.bin: the primary table (0xC00 bytes at 0x8000);
//  - at_customize-table.bin: the secondary table (0xC00 bytes at the start of at_customize;
//    ESP-AT's build calls it at_customize.bin);
//  - <label>.bin: every partition of both tables, its full size. A partition that overlaps one
//    listed before it (secondary partitions come first, so at_customize.bin, the whole
//    partition) is written but not listed in download.config;
//  - gap-0x<offset>.bin: bytes that no listed file covers and that are not FF, from the first
//    such byte to the last one of each uncovered stretch;
//  - download.config: the listed files at their offsets.
// Throws ImageError when the bytes are not an ESP-AT image, BuildError when two files would
// have the same name.
std::vector<SplitFile> split_image(const std::vector<std::uint8_t>& image, std::string_view name);

}  // namespace espat::flash
