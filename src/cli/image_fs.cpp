#include "cli/image_fs.hpp"

#include <memory>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "cli/image.hpp"
#include "flash/factory_build.hpp"
#include "flash/fs_partition.hpp"
#include "flash/image.hpp"

namespace espat::cli {
namespace {
using namespace espat::flash;

// The image in memory and its mounted fatfs volume. Only fs-put formats a blank partition,
// as the firmware would on its first mount; the readers refuse it.
struct Opened {
  MemoryRegion* flash = nullptr;
  std::unique_ptr<FlashImage> image;
  std::unique_ptr<Region> part;
  std::unique_ptr<FsPartition> fs;
};

Opened open(const std::string& path, bool format_blank) {
  Opened o;
  auto mem = std::make_unique<MemoryRegion>(read_input_file(path));
  o.flash = mem.get();
  o.image = std::make_unique<FlashImage>(std::move(mem), path);
  o.part = o.image->partition(kFatfsLabel);
  if (!o.part) throw std::runtime_error(path + ": no fatfs partition");
  std::string why;
  o.fs = FsPartition::open(*o.part, format_blank, &why);
  if (!o.fs) throw std::runtime_error(fmt::format("{}: fatfs partition: {}", path, why));
  return o;
}

void check(fat::Error e, const std::string& name) {
  if (e != fat::Error::None) throw std::runtime_error(fmt::format("{}: {}", name, fat::describe(e)));
}
}  // namespace

void add_image_fs_commands(CLI::App& image) {
  {
    auto file = std::make_shared<std::string>();
    auto* c = image.add_subcommand("fs-ls", "The files of an image's fatfs partition: size and name, one a line.");
    c->add_option("IMAGE", *file, "Flash image")->required();
    c->callback(guarded("fs-ls", [file] {
      auto o = open(*file, false);
      for (const auto& e : o.fs->volume().list())
        fmt::print("{:>8} {}{}\n", e.size, e.name, e.directory ? "/" : "");
      fmt::print("{} of {} bytes free\n", o.fs->volume().free_bytes(), o.fs->volume().total_bytes());
    }));
  }
  {
    struct O {
      std::string image, name, out;
    };
    auto o = std::make_shared<O>();
    auto* c = image.add_subcommand("fs-get", "One file of an image's fatfs partition, to a file.");
    c->add_option("IMAGE", o->image, "Flash image")->required();
    c->add_option("NAME", o->name, "File name in the partition's root")->required();
    c->add_option("-o,--output", o->out, "Output file")->required();
    c->callback(guarded("fs-get", [o] {
      auto opened = open(o->image, false);
      std::vector<std::uint8_t> data;
      check(opened.fs->volume().read(o->name, 0, 0xFFFFFFFF, data), o->name);
      write_output_file(o->out, data);
    }));
  }
  {
    struct O {
      std::string image, file, name, out;
    };
    auto o = std::make_shared<O>();
    auto* c = image.add_subcommand(
        "fs-put", "A copy of the image with FILE added to (or replacing a file of) its fatfs partition; a blank "
                  "partition is formatted first, as the firmware does.");
    c->add_option("IMAGE", o->image, "Flash image")->required();
    c->add_option("FILE", o->file, "File to add")->required();
    c->add_option("--name", o->name, "Name in the partition (default: FILE's name)");
    c->add_option("-o,--output", o->out, "Output image")->required();
    c->callback(guarded("fs-put", [o] {
      auto opened = open(o->image, true);
      const auto data = read_input_file(o->file);
      const std::string name = o->name.empty() ? std::filesystem::path(o->file).filename().string() : o->name;
      auto& vol = opened.fs->volume();
      if (vol.stat(name)) check(vol.remove(name), name);  // replace, not overwrite in place
      check(vol.write(name, 0, data), name);
      write_output_file(o->out, opened.flash->bytes());
    }));
  }
  {
    struct O {
      std::string image, name, out;
    };
    auto o = std::make_shared<O>();
    auto* c = image.add_subcommand("fs-rm", "A copy of the image without one file of its fatfs partition.");
    c->add_option("IMAGE", o->image, "Flash image")->required();
    c->add_option("NAME", o->name, "File name in the partition's root")->required();
    c->add_option("-o,--output", o->out, "Output image")->required();
    c->callback(guarded("fs-rm", [o] {
      auto opened = open(o->image, false);
      check(opened.fs->volume().remove(o->name), o->name);
      write_output_file(o->out, opened.flash->bytes());
    }));
  }
}

}  // namespace espat::cli
