#include "flash/fs_partition.hpp"

#include <algorithm>
#include <random>

namespace espat::flash {

namespace {
bool blank(const Region& r, std::size_t len) {
  std::vector<std::uint8_t> buf(kSectorSize);
  for (std::size_t o = 0; o < len; o += kSectorSize) {
    r.read(o, std::span(buf).first(std::min(kSectorSize, len - o)));
    if (std::any_of(buf.begin(), buf.end(), [](std::uint8_t b) { return b != 0xFF; })) return false;
  }
  return true;
}
std::uint32_t random_id() { return std::random_device{}(); }  // esp_random() in WL and FatFS
}  // namespace

std::unique_ptr<FsPartition> FsPartition::open(Region& part, bool format_blank, std::string* why) {
  std::unique_ptr<FsPartition> p(new FsPartition);
  std::string reason;
  p->wl_ = wl::WlRegion::open(part, &reason);
  if (!p->wl_) {
    if (!format_blank || !blank(part, part.size())) {
      if (why) *why = blank(part, part.size()) ? "blank partition (never mounted: no file system yet)" : reason;
      return nullptr;
    }
    p->wl_ = wl::WlRegion::format(part, random_id());
  }
  p->volume_ = fat::Volume::mount(*p->wl_, &reason);
  if (!p->volume_ && format_blank && blank(*p->wl_, kSectorSize)) {
    fat::format(*p->wl_, random_id());
    p->volume_ = fat::Volume::mount(*p->wl_, &reason);
  }
  if (!p->volume_) {
    if (why) *why = reason;
    return nullptr;
  }
  return p;
}

}  // namespace espat::flash
