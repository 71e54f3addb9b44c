// libFuzzer: the partition-table parser and the image validation FlashImage runs on every file
// it opens (a user may point espat at any file), and `espat image info` on the input as a single
// bin (partition table, legacy factory_param, F1 F1 PKI, 27 95 ble_data...). None may crash,
// hang, read out of bounds or throw anything but their own errors.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "flash/factory_params.hpp"
#include "flash/image.hpp"
#include "flash/image_info.hpp"
#include "flash/partition_table.hpp"

using namespace espat::flash;

namespace {

// One 2 MiB flash reused by every run (allocating it per input would dominate the run time).
MemoryRegion& shared_flash() {
  static MemoryRegion flash(kMinImageSize);
  return flash;
}

// Lets a FlashImage use the shared flash without owning it.
class Borrowed : public Region {
 public:
  explicit Borrowed(Region& r) : r_(r) {}
  std::size_t size() const override { return r_.size(); }
  void read(std::size_t o, std::span<std::uint8_t> out) const override { r_.read(o, out); }
  void write(std::size_t o, std::span<const std::uint8_t> d) override { r_.write(o, d); }
  void erase_sector(std::size_t o) override { r_.erase_sector(o); }

 private:
  Region& r_;
};

// Erases [offset, offset + data.size()) and programs data there.
void place(Region& flash, std::size_t offset, std::span<const std::uint8_t> data) {
  const std::size_t first = offset / kSectorSize * kSectorSize;
  for (std::size_t o = first; o < offset + std::max<std::size_t>(data.size(), 1); o += kSectorSize) flash.erase_sector(o);
  flash.write(offset, data);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);

  // 1. The input as a partition table; what parses must serialize and parse back the same.
  try {
    const auto t = PartitionTable::parse(in);
    const auto again = PartitionTable::parse(t.serialize(t.has_md5));
    if (again.entries != t.entries || again.has_md5 != t.has_md5) __builtin_trap();
  } catch (const FormatError&) {
  }

  // 2. `espat image info FILE` and `--json` on the input.
  try {
    const auto info = describe_bin(in, "fuzz.bin");
    (void)format_bin_info(info);
    (void)json_text(info, 2);
  } catch (const ImageError&) {
  }

  // 3. An image: the first 0xC00 input bytes are the primary table at 0x8000, the rest lands at
  //    0x20000 (where at_customize usually is) so the secondary table and factory_param paths run.
  Region& flash = shared_flash();
  const auto primary = in.first(std::min(size, kPartitionTableSize));
  const auto rest = in.subspan(primary.size()).first(std::min(size - primary.size(), flash.size() - 0x20000));
  place(flash, kPrimaryTableOffset, primary);
  place(flash, 0x20000, rest);
  try {
    FlashImage img(std::make_unique<Borrowed>(flash), "fuzz");  // runs validate_image()
    for (const auto& p : img.secondary().entries)
      if (auto part = img.partition(p.label)) (void)part->read(0, std::min<std::size_t>(part->size(), 16));
    (void)read_factory_params(img);
  } catch (const ImageError&) {
  } catch (const FlashError&) {
  }
  flash.erase_range(kPrimaryTableOffset, kSectorSize);
  flash.erase_range(0x20000, (rest.size() + kSectorSize - 1) / kSectorSize * kSectorSize);
  return 0;
}
