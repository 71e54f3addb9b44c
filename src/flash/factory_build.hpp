// `espat image build` and `split`: a factory image from a download.config or ADDR=FILE pairs (what
// `esptool merge_bin --fill-flash-size` makes, reference esp-at-formats.md §2.3), and the reverse.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace espat::flash {

struct BuildError : std::runtime_error {
  using runtime_error::runtime_error;
};

// "1MB", "2MB", "4MB", "8MB", "16MB" (esptool's names; also "4M", "0x400000") to bytes.
std::size_t parse_flash_size(std::string_view text);

struct DownloadConfig {
  std::string flash_mode, flash_freq, flash_size;  // empty when the config does not say
  struct File {
    std::uint32_t address;
    std::filesystem::path path;  // as written, relative to the config's folder
  };
  std::vector<File> files;
};

// The download.config of an ESP-AT build: `--flash_mode dio --flash_freq 40m --flash_size 4MB
// 0x1000 bootloader/bootloader.bin ...` on one or more lines. Unknown options are refused.
DownloadConfig parse_download_config(std::string_view text, std::string_view name = "download.config");

struct ImagePart {
  std::uint32_t address;
  std::vector<std::uint8_t> bytes;
  std::string name;  // for messages
};

// FF-filled flash of flash_size with every part at its address. Overlapping parts and parts past
// the end are refused (BuildError naming both files).
std::vector<std::uint8_t> build_image(const std::vector<ImagePart>& parts, std::size_t flash_size);

// Reads a download.config and the files it names (relative to its folder). flash_size overrides
// the config's --flash_size; neither: 4 MiB.
std::vector<std::uint8_t> build_image_from_config(const std::filesystem::path& config,
                                                  std::optional<std::size_t> flash_size);

struct SplitFile {
  std::string file_name;  // "<label>.bin", "partition-table.bin", "at_customize.bin"
  std::uint32_t offset;
  std::vector<std::uint8_t> bytes;
};

// Each partition of both tables as <label>.bin (full partition size), the primary table (0xC00
// bytes at 0x8000) as partition-table.bin, the at_customize table as at_customize.bin (as the
// ESP-AT build names it; the at_customize partition itself is only that table plus the secondary
// partitions, so it is not written whole), bootloader.bin (0x1000-0x8000) when not erased, and a
// download.config listing them all, so `build --config DIR/download.config` makes the image again.
std::vector<SplitFile> split_image(const std::vector<std::uint8_t>& image, std::string_view name);

// The whole file; throws BuildError naming the path.
std::vector<std::uint8_t> read_input_file(const std::filesystem::path& path);
// Writes through a temporary file and a rename, so a failure leaves no half file.
void write_output_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes);

}  // namespace espat::flash
