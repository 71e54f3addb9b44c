#include "flash/image_split.hpp"

#include <algorithm>
#include <set>
#include <span>

#include <fmt/format.h>

#include "flash/factory_build.hpp"
#include "flash/image.hpp"

namespace espat::flash {
namespace {

constexpr std::uint32_t kBootloaderOffset = 0x1000;

bool all_ff(std::span<const std::uint8_t> b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c == 0xFF; });
}

bool overlap(const SplitFile& a, const SplitFile& b) {
  return a.offset < b.offset + b.bytes.size() && b.offset < a.offset + a.bytes.size();
}

// The non-FF bytes of [begin, end) as one file from the first such byte to the last, if any.
void add_gap(std::vector<SplitFile>& out, const std::vector<std::uint8_t>& image, std::size_t begin,
             std::size_t end) {
  const auto first = std::find_if(image.begin() + begin, image.begin() + end, [](auto c) { return c != 0xFF; });
  if (first == image.begin() + end) return;
  const auto last = std::find_if(std::make_reverse_iterator(image.begin() + end), std::make_reverse_iterator(first),
                                 [](auto c) { return c != 0xFF; });
  const auto offset = static_cast<std::uint32_t>(first - image.begin());
  out.push_back({fmt::format("gap-0x{:06x}.bin", offset), offset, {first, last.base()}});
}

}  // namespace

std::vector<SplitFile> split_image(const std::vector<std::uint8_t>& image, std::string_view name) {
  MemoryRegion region(image);
  const ImageLayout layout = validate_image(region, name);
  std::vector<SplitFile> out;
  auto add = [&](std::string file, std::uint32_t off, std::size_t len) {
    SplitFile f{std::move(file), off, {image.begin() + off, image.begin() + off + len}};
    f.in_config = std::none_of(out.begin(), out.end(), [&](const SplitFile& o) { return o.in_config && overlap(o, f); });
    out.push_back(std::move(f));
  };
  const auto boot = std::span(image).subspan(kBootloaderOffset, kPrimaryTableOffset - kBootloaderOffset);
  if (!all_ff(boot)) add("bootloader.bin", kBootloaderOffset, boot.size());
  add("partition-table.bin", kPrimaryTableOffset, kPartitionTableSize);
  if (const Partition* custom = layout.primary.find(kAtCustomizeLabel))
    add(std::string(kAtCustomizeLabel) + "-table.bin", custom->offset, kPartitionTableSize);
  for (const auto* t : {&layout.secondary, &layout.primary})
    for (const auto& p : t->entries) add(p.label + ".bin", p.offset, p.size);

  // What no listed file covers, so that build gives back every byte.
  std::vector<std::pair<std::size_t, std::size_t>> covered;
  for (const auto& f : out)
    if (f.in_config) covered.emplace_back(f.offset, f.offset + f.bytes.size());
  std::sort(covered.begin(), covered.end());
  std::size_t at = 0;
  for (const auto& [begin, end] : covered) {
    if (begin > at) add_gap(out, image, at, begin);
    at = std::max(at, end);
  }
  add_gap(out, image, at, image.size());

  std::set<std::string> names;
  for (const auto& f : out)
    if (!names.insert(f.file_name).second)
      throw BuildError(fmt::format("{}: two parts would both be written to {}", name, f.file_name));

  std::stable_sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.offset < b.offset; });
  std::string config = fmt::format("--flash_mode dio --flash_freq 40m --flash_size {}", flash_size_name(image.size()));
  for (const auto& f : out)
    if (f.in_config) config += fmt::format(" 0x{:x} {}", f.offset, f.file_name);
  config += "\n";
  out.push_back({"download.config", 0, {config.begin(), config.end()}, false});
  return out;
}

}  // namespace espat::flash
