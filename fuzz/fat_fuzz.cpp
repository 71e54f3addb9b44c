// libFuzzer target: the fatfs partition (flash/fat.hpp, flash/wear_levelling.hpp). Byte 0 picks
// the mode: even, the rest is a bare FAT volume; odd, a wear-levelled partition with FAT inside
// (FsPartition, never formatting). The volume is FF-padded to whole 4 KiB sectors (at most
// 1 MiB). Whatever mounts is listed and every file read; then a write that reports success must
// read back, and a delete must make the file go. Besides memory errors (ASan/UBSan), it traps
// on a listed file that is not found, a write that does not read back, a mount that refuses
// the volume it just wrote.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flash/fat.hpp"
#include "flash/fs_partition.hpp"
#include "flash/region.hpp"

namespace {
using namespace espat::flash;

void exercise(fat::Volume& v, Region& r, bool wl) {
  for (const auto& e : v.list()) {
    std::vector<std::uint8_t> out;
    if (e.directory || !fat::valid_name(e.name)) continue;
    // A corrupt root may hold the same name twice (one a directory): the first one answers,
    // but a listed name is always found.
    const auto err = v.read(e.name, 0, 1u << 20, out);
    if (err == fat::Error::NotFound || err == fat::Error::BadName) __builtin_trap();
  }
  const std::uint8_t data[] = {'f', 'u', 'z', 'z', 0, 0xFF, '\r', '\n'};
  const char* name = "Fuzz Written Name.txt";
  if (v.write(name, 3, data) != fat::Error::None) return;  // a full or broken volume may refuse
  auto again = wl ? FsPartition::open(r, false) : nullptr;
  std::optional<fat::Volume> raw;
  if (!wl) raw = fat::Volume::mount(r);
  fat::Volume* w = wl ? (again ? &again->volume() : nullptr) : (raw ? &*raw : nullptr);
  if (!w) __builtin_trap();
  std::vector<std::uint8_t> out;
  if (w->read(name, 3, sizeof data, out) != fat::Error::None || !std::equal(out.begin(), out.end(), data, data + sizeof data))
    __builtin_trap();
  if (w->remove(name) != fat::Error::None || w->stat(name)) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool wl = data[0] & 1;
  std::vector<std::uint8_t> bytes(data + 1, data + std::min<std::size_t>(size, (1u << 20) + 1));
  bytes.resize(std::max<std::size_t>(kSectorSize, (bytes.size() + kSectorSize - 1) / kSectorSize * kSectorSize), 0xFF);
  MemoryRegion r(std::move(bytes));
  try {
    if (wl) {
      auto p = FsPartition::open(r, false);
      if (p) exercise(p->volume(), r, true);
    } else if (auto v = fat::Volume::mount(r)) {
      exercise(*v, r, false);
    }
  } catch (const FlashError&) {
    __builtin_trap();  // every access is bounds-checked before it reaches the region
  }
  return 0;
}
