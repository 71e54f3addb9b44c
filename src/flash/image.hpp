// A whole ESP-AT flash image: the flash (a file, or any Region in tests) and its two partition
// tables (reference esp-at-formats.md §2). Opening never rewrites an existing file: a file that
// is not an ESP-AT image is refused with a message saying why.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "flash/partition_table.hpp"
#include "flash/region.hpp"

namespace espat::flash {

inline constexpr std::uint32_t kPrimaryTableOffset = 0x8000;  // CONFIG_PARTITION_TABLE_OFFSET
inline constexpr std::size_t kMinImageSize = 2u << 20;        // ESP32 modules: 2 MiB (D2WD) ...
inline constexpr std::size_t kMaxImageSize = 16u << 20;       // ... to 16 MiB
inline constexpr std::string_view kAtCustomizeLabel = "at_customize";

struct ImageError : std::runtime_error {
  using runtime_error::runtime_error;
};

// The two tables of a valid image.
struct ImageLayout {
  PartitionTable primary;    // at 0x8000 (ESP-AT builds it without MD5)
  PartitionTable secondary;  // inside the primary's `at_customize` (type 0x40) partition
};

// The checks FlashImage makes, on any Region (the fuzzer runs them on a MemoryRegion): size a
// multiple of 4 KiB within 2..16 MiB, both tables parse, every partition inside the flash.
// Throws ImageError "<name>: not an ESP-AT flash image: <why>".
ImageLayout validate_image(const Region& flash, std::string_view name);

class FlashImage {
 public:
  // Opens the image file read-write and locks it; creates it from make_default_image() when it
  // does not exist (temp file + rename, so a crash never leaves half an image).
  static FlashImage open(const std::string& path);
  // A fleet module's flash: an overlay file (created when missing) over a shared base image
  // (flash/overlay.hpp). The base is read, never written.
  static FlashImage open_overlay(const std::string& path, std::shared_ptr<const Region> base,
                                 const std::string& base_path);
  // Opens an existing image for inspection (shared lock; writes throw FlashError).
  static FlashImage open_read_only(const std::string& path);
  // Any Region (tests, in-memory tools); validated like a file. `name` is used in messages.
  explicit FlashImage(std::unique_ptr<Region> flash, std::string name = "<memory>");

  Region& flash() { return *flash_; }
  const Region& flash() const { return *flash_; }
  const PartitionTable& primary() const { return layout_.primary; }
  const PartitionTable& secondary() const { return layout_.secondary; }
  // Looks in the primary table, then the secondary (as ESP-AT's wrapped esp_partition_find does).
  const Partition* find(std::string_view label) const;
  // A window on that partition, or nullptr when no table has it. Valid while this image lives.
  std::unique_ptr<Region> partition(std::string_view label);
  std::string path() const { return path_; }
  void sync();  // fdatasync when the flash is a file

 private:
  std::unique_ptr<Region> flash_;
  std::string path_;
  ImageLayout layout_;
};

}  // namespace espat::flash
