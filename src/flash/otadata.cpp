#include "flash/otadata.hpp"

#include <cstring>
#include <fmt/format.h>

#include "flash/crc32.hpp"
#include "flash/image.hpp"

namespace espat::flash {
namespace {

constexpr std::size_t kEntrySize = 32;

std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

void put_le32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint32_t seq_crc(std::uint32_t seq) {
  std::uint8_t b[4];
  put_le32(b, seq);
  return esp_crc32(b);
}

void check_region(const Region& otadata) {
  if (otadata.size() < 2 * kSectorSize)
    throw FlashError(fmt::format("otadata partition of 0x{:x} bytes is smaller than two sectors", otadata.size()));
}

// bootloader_common_get_active_otadata: -1 when neither entry is valid.
int active_entry(const std::array<OtaEntry, 2>& e) {
  if (e[0].valid() && e[1].valid()) return e[0].seq >= e[1].seq ? 0 : 1;
  if (e[0].valid()) return 0;
  if (e[1].valid()) return 1;
  return -1;
}

// The number of ota_N app partitions (get_ota_partition_count).
int ota_app_count(const FlashImage& image) {
  int n = 0;
  for (const auto& p : image.primary().entries)
    if (p.type == kTypeApp && p.subtype >= kSubtypeOta0 && p.subtype < kSubtypeOta0 + 16) ++n;
  return n;
}

}  // namespace

bool OtaEntry::valid() const {
  const bool invalid = seq == 0xFFFFFFFF || state == static_cast<std::uint32_t>(OtaState::Invalid) ||
                       state == static_cast<std::uint32_t>(OtaState::Aborted);
  return !invalid && crc == seq_crc(seq);
}

std::array<OtaEntry, 2> read_otadata(const Region& otadata) {
  check_region(otadata);
  std::array<OtaEntry, 2> out;
  for (int i = 0; i < 2; ++i) {
    const auto b = otadata.read(i * kSectorSize, kEntrySize);
    out[i].seq = le32(b.data());
    std::memcpy(out[i].seq_label.data(), b.data() + 4, 20);
    out[i].state = le32(b.data() + 24);
    out[i].crc = le32(b.data() + 28);
  }
  return out;
}

int boot_slot(const Region& otadata, int app_count) {
  if (app_count <= 0) return 0;
  const auto e = read_otadata(otadata);
  const int active = active_entry(e);
  if (active < 0) return 0;  // erased: no factory app in ESP-AT, so ota_0
  return static_cast<int>((e[active].seq - 1) % static_cast<std::uint32_t>(app_count));
}

void set_boot_slot(Region& otadata, int slot, int app_count, OtaState state) {
  if (slot < 0 || slot >= app_count)
    throw FlashError(fmt::format("OTA slot {} does not exist ({} app slots)", slot, app_count));
  auto e = read_otadata(otadata);
  const int active = active_entry(e);
  const auto n = static_cast<std::uint32_t>(app_count);
  const auto id = static_cast<std::uint32_t>(slot);
  int next;
  std::uint32_t seq;
  if (active >= 0) {
    // esp_rewrite_ota_data: the smallest (id + 1) % n + i * n not below the active seq, in the
    // other entry. (For the last slot this can equal the active seq; ESP-IDF does the same.)
    std::uint32_t i = 0;
    while (e[active].seq > (id + 1) % n + i * n) ++i;
    next = active ^ 1;
    seq = (id + 1) % n + i * n;
  } else {
    next = 0;
    seq = id + 1;
  }
  // rewrite_ota_seq: the entry keeps its old seq_label bytes; erase its sector, write 32 bytes.
  std::uint8_t b[kEntrySize];
  put_le32(b, seq);
  std::memcpy(b + 4, e[next].seq_label.data(), 20);
  put_le32(b + 24, static_cast<std::uint32_t>(state));
  put_le32(b + 28, seq_crc(seq));
  otadata.erase_sector(next * kSectorSize);
  otadata.write(next * kSectorSize, b);
}

int boot_slot(FlashImage& image) {
  auto otadata = image.partition("otadata");
  if (!otadata) return 0;
  return boot_slot(*otadata, ota_app_count(image));
}

void set_boot_slot(FlashImage& image, int slot) {
  auto otadata = image.partition("otadata");
  if (!otadata) throw ImageError(fmt::format("{}: the image has no otadata partition", image.path()));
  set_boot_slot(*otadata, slot, ota_app_count(image));
}

}  // namespace espat::flash
