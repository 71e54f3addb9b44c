#include "cli/image.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "flash/factory_build.hpp"
#include "flash/image.hpp"
#include "flash/image_file.hpp"
#include "flash/image_info.hpp"
#include "flash/overlay.hpp"
#include "flash/image_split.hpp"
#include "flash/partition_csv.hpp"

namespace espat::cli {
namespace {

namespace fs = std::filesystem;
using namespace espat::flash;

std::string as_text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }

std::uint32_t parse_address(const std::string& s) {
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(s, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() || s.empty() || v > 0xFFFFFFFFull) throw BuildError(fmt::format("bad address \"{}\"", s));
  return static_cast<std::uint32_t>(v);
}

}  // namespace

CLI::App* add_image_command(CLI::App& app) {
  auto* image = app.add_subcommand("image", "Build, inspect and edit ESP-AT flash images and their bins.");
  image->require_subcommand(1);

  {
    struct O {
      std::string file;
      bool json = false;
    };
    auto o = std::make_shared<O>();
    auto* c = image->add_subcommand(
        "info",
        "What an image or a single bin (partition table, NVS partition, legacy factory_param, PKI or ble_data) holds.");
    c->add_option("FILE", o->file, "Flash image or bin")->required();
    c->add_flag("--json", o->json, "JSON output for tools");
    c->callback(guarded("info", [o] {
      const auto bytes = read_input_file(o->file);
      const auto info = describe_bin(bytes, o->file);
      if (o->json) fmt::print("{}\n", json_text(info, 2));
      else fmt::print("{}", format_bin_info(info));
    }));
  }
  {
    struct O {
      std::string csv, bin, offset = "0x8000";
      bool no_md5 = false;
    };
    auto o = std::make_shared<O>();
    auto* c = image->add_subcommand("gen-partitions", "Partition-table CSV to bin, as ESP-IDF's gen_esp32part.py.");
    c->add_option("CSV", o->csv, "Partition table CSV (Name, Type, SubType, Offset, Size, Flags)")->required();
    c->add_option("BIN", o->bin, "Output bin (0xC00 bytes)")->required();
    c->add_flag("--no-md5,--disable-md5sum", o->no_md5, "No MD5 entry (ESP-AT's primary table is built so)");
    c->add_option("--offset", o->offset, "Table offset; the first free offset is 0x1000 after it (default 0x8000)")
        ->type_name("ADDR");
    c->callback(guarded("gen-partitions", [o] {
      const auto text = as_text(read_input_file(o->csv));
      PartitionTable t;
      try {
        t = parse_partition_csv(text, parse_address(o->offset));
      } catch (const PartitionCsvError& e) {
        throw PartitionCsvError(fmt::format("{}: {}", o->csv, e.what()));
      }
      write_output_file(o->bin, t.serialize(!o->no_md5));
    }));
  }
  {
    struct O {
      std::string bin, csv;
    };
    auto o = std::make_shared<O>();
    auto* c = image->add_subcommand("partitions-csv", "Partition-table bin back to CSV (gen_esp32part.py's format).");
    c->add_option("BIN", o->bin, "Partition table bin (or a flash image: its table at 0x8000)")->required();
    c->add_option("CSV", o->csv, "Output CSV")->required();
    c->callback(guarded("partitions-csv", [o] {
      auto bytes = read_input_file(o->bin);
      if (detect_bin_kind(bytes, o->bin) == BinKind::Image)
        bytes = std::vector<std::uint8_t>(bytes.begin() + 0x8000, bytes.begin() + 0x8000 + kPartitionTableSize);
      PartitionTable t;
      try {
        t = PartitionTable::parse(bytes);
      } catch (const FormatError& e) {
        throw FormatError(fmt::format("{}: {}", o->bin, e.what()));
      }
      const auto csv = partition_table_to_csv(t);
      write_output_file(o->csv, {csv.begin(), csv.end()});
    }));
  }
  {
    struct O {
      std::string out, config, flash_size;
      std::vector<std::string> pairs;
    };
    auto o = std::make_shared<O>();
    auto* c = image->add_subcommand(
        "build", "A factory image from a download.config or ADDR=FILE pairs, filled with FF to the flash size.");
    c->add_option("-o,--output", o->out, "Output image")->required();
    c->add_option("--flash-size", o->flash_size, "1MB, 2MB, 4MB, 8MB, 16MB (default: the config's, else 4MB)");
    auto* cfg = c->add_option("--config", o->config, "download.config; its paths are relative to its folder");
    auto* pairs = c->add_option("PAIRS", o->pairs, "ADDR=FILE, e.g. 0x8000=partition-table.bin");
    cfg->excludes(pairs);
    c->callback(guarded("build", [o] {
      std::optional<std::size_t> size;
      if (!o->flash_size.empty()) size = parse_flash_size(o->flash_size);
      std::vector<std::uint8_t> image;
      if (!o->config.empty()) {
        image = build_image_from_config(o->config, size);
      } else {
        if (o->pairs.empty()) throw BuildError("give --config download.config or ADDR=FILE pairs");
        std::vector<ImagePart> parts;
        for (const auto& p : o->pairs) {
          const auto eq = p.find('=');
          if (eq == std::string::npos) throw BuildError(fmt::format("\"{}\" is not ADDR=FILE", p));
          const std::string file = p.substr(eq + 1);
          parts.push_back({parse_address(p.substr(0, eq)), read_input_file(file), file});
        }
        image = build_image(parts, size.value_or(4u << 20));
      }
      write_output_file(o->out, image);
    }));
  }
  {
    struct O {
      std::string image, dir;
    };
    auto o = std::make_shared<O>();
    auto* c = image->add_subcommand(
        "split",
        "Each partition of an image to DIR/<label>.bin, the tables, the bootloader, the bytes outside them and a "
        "download.config that builds the same image again.");
    c->add_option("IMAGE", o->image, "Flash image")->required();
    c->add_option("-d,--dir", o->dir, "Output folder (created)")->required();
    c->callback(guarded("split", [o] {
      const auto files = split_image(read_input_file(o->image), o->image);
      fs::create_directories(o->dir);
      for (const auto& f : files) write_output_file(fs::path(o->dir) / f.file_name, f.bytes);
      for (const auto& f : files)
        if (f.file_name != "download.config")
          fmt::print("0x{:06x} {:>8} {}{}\n", f.offset, f.bytes.size(), (fs::path(o->dir) / f.file_name).string(),
                     f.in_config ? "" : " (not in download.config: the files listed there hold its bytes)");
    }));
  }
  {
    struct O {
      std::string overlay, base, out;
    };
    auto o = std::make_shared<O>();
    auto* c = image->add_subcommand(
        "export", "A fleet module's flash (a .overlay of espat run --flash-overlays) as a plain image: its base "
                  "image with the sectors the module wrote.");
    c->add_option("OVERLAY", o->overlay, "The module's overlay file")->required();
    c->add_option("--base", o->base, "Base image (default: the one the overlay names)");
    c->add_option("-o,--output", o->out, "Output image")->required();
    c->callback(guarded("export", [o] {
      if (!fs::exists(o->overlay)) throw std::runtime_error(o->overlay + ": no such overlay");
      const std::string base_path = o->base.empty() ? OverlayRegion::base_path_of(o->overlay) : o->base;
      auto base = std::make_shared<FileRegion>(base_path, FileRegion::Access::ReadOnly);
      OverlayRegion overlay(o->overlay, base, base_path);
      validate_image(overlay, o->overlay);
      write_output_file(o->out, overlay.read(0, overlay.size()));
      fmt::print("{}: {} of {} sectors from {}, the rest from {}\n", o->out, overlay.sectors_written(),
                 overlay.size() / kSectorSize, o->overlay, base_path);
    }));
  }
  return image;
}

}  // namespace espat::cli
