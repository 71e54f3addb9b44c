// `espat image build`: a factory image from a download.config or ADDR=FILE pairs (what
// `esptool merge_bin --fill-flash-size` makes, reference esp-at-formats.md §2.3). The reverse,
// `split`, is image_split.hpp.
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
// The other way: "4MB", or "0x..." for a size that is not a whole number of MiB.
std::string flash_size_name(std::size_t bytes);

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

// The whole file; throws BuildError naming the path.
std::vector<std::uint8_t> read_input_file(const std::filesystem::path& path);
// Writes through a temporary file and a rename, so a failure leaves no half file.
void write_output_file(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes);

}  // namespace espat::flash
