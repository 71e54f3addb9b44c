#include "flash/wear_levelling.hpp"

#include <array>
#include <cstring>

#include <fmt/format.h>

#include "flash/crc32.hpp"

namespace espat::flash::wl {

namespace {
constexpr std::size_t kPage = kSectorSize;  // page_size = sector_size = 4096 (CONFIG_WL_SECTOR_SIZE)
constexpr std::size_t kStateBytes = 64;     // sizeof(wl_state_t)
constexpr std::size_t kStateCrcLen = 60;    // WL_STATE_CRC_LEN_V2
constexpr std::size_t kConfigBytes = 36;    // sizeof(wl_config_t) on the 32-bit ESP32
constexpr std::size_t kConfigCrcLen = 32;

std::uint32_t le32(const std::uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | std::uint32_t(p[3]) << 24; }
void put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = std::uint8_t(v >> (8 * i));
}

// WL_Flash::config: one state sector each unless the move records need more, one config sector.
struct Geometry {
  std::size_t state_size = 0, cfg_size = kPage, state1 = 0, state2 = 0, cfg = 0, pages = 0;  // pages: logical
  bool ok = false;
};
Geometry geometry(std::size_t full) {
  Geometry g;
  g.state_size = kPage;
  const std::size_t need = kStateBytes + (full / kPage) * kWriteSize;
  if (g.state_size < need) g.state_size = (need + kPage - 1) / kPage * kPage;
  if (full % kPage || full < 2 * g.state_size + g.cfg_size + 2 * kPage) return g;
  g.cfg = full - g.cfg_size;
  g.state1 = full - 2 * g.state_size - g.cfg_size;
  g.state2 = full - g.state_size - g.cfg_size;
  g.pages = (full - 2 * g.state_size - g.cfg_size) / kPage - 1;  // minus the dummy page
  g.ok = true;
  return g;
}

std::array<std::uint8_t, kStateBytes> encode(const State& s) {
  std::array<std::uint8_t, kStateBytes> b{};
  const std::uint32_t f[] = {s.pos, s.max_pos, s.move_count, s.access_count, s.max_count, s.block_size, s.version, s.device_id};
  for (int i = 0; i < 8; ++i) put32(b.data() + 4 * i, f[i]);  // then reserved[28] = 0
  put32(b.data() + kStateCrcLen, esp_crc32({b.data(), kStateCrcLen}));
  return b;
}

bool decode(const std::vector<std::uint8_t>& b, State& s) {
  if (le32(b.data() + kStateCrcLen) != esp_crc32({b.data(), kStateCrcLen})) return false;
  std::uint32_t f[8];
  for (int i = 0; i < 8; ++i) f[i] = le32(b.data() + 4 * i);
  s = {f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]};
  return true;
}

// The 16-byte record written when the dummy page leaves position n (WL_Flash::fillOkBuff).
std::array<std::uint8_t, kWriteSize> move_record(std::uint32_t device_id, std::uint32_t n) {
  std::array<std::uint8_t, kWriteSize> r{};
  for (std::uint32_t i = 0; i < 4; ++i) {
    std::uint8_t v[4];
    put32(v, device_id + n * 4 + i);
    put32(r.data() + 4 * i, esp_crc32(v));
  }
  return r;
}
}  // namespace

std::size_t WlRegion::logical_size(std::size_t part_size) {
  const auto g = geometry(part_size);
  return g.ok ? g.pages * kPage : 0;
}

WlRegion::WlRegion(Region& part, State s) : part_(part), state_(s), logical_(logical_size(part.size())) {}

std::unique_ptr<WlRegion> WlRegion::open(Region& part, std::string* why) {
  auto fail = [&](std::string w) -> std::unique_ptr<WlRegion> {
    if (why) *why = std::move(w);
    return nullptr;
  };
  const auto g = geometry(part.size());
  if (!g.ok) return fail(fmt::format("partition of 0x{:x} bytes is too small for wear levelling", part.size()));
  State s1, s2;
  const bool ok1 = decode(part.read(g.state1, kStateBytes), s1);
  const bool ok2 = decode(part.read(g.state2, kStateBytes), s2);
  if (!ok1 && !ok2) return fail("no valid wear-levelling state (both copies fail their CRC)");
  // The firmware repairs a broken copy from the good one; reading takes the good one as is.
  State s = ok1 ? s1 : s2;
  const std::size_t records = ok1 ? g.state1 : g.state2;
  if (s.version != kVersion) return fail(fmt::format("wear-levelling version {} (only {} is read)", s.version, kVersion));
  if (s.block_size != kPage || s.max_pos != g.pages + 1 || s.move_count >= s.max_pos)
    return fail("wear-levelling state does not fit this partition");
  // pos: the number of consecutive valid move records (WL_Flash::recoverPos).
  std::uint32_t pos = 0;
  for (; pos < s.max_pos; ++pos) {
    const auto want = move_record(s.device_id, pos);
    const auto got = part.read(records + kStateBytes + pos * kWriteSize, kWriteSize);
    if (!std::equal(want.begin(), want.end(), got.begin())) break;
  }
  if (pos == s.max_pos) --pos;
  s.pos = pos;
  return std::unique_ptr<WlRegion>(new WlRegion(part, s));
}

std::unique_ptr<WlRegion> WlRegion::format(Region& part, std::uint32_t device_id) {
  const auto g = geometry(part.size());
  if (!g.ok) throw FlashError(fmt::format("partition of 0x{:x} bytes is too small for wear levelling", part.size()));
  State s;
  s.max_pos = std::uint32_t(g.pages + 1);
  s.max_count = kUpdateRate;
  s.block_size = kPage;
  s.version = kVersion;
  s.device_id = device_id;
  const auto st = encode(s);
  part.erase_range(g.state1, g.state_size);
  part.write(g.state1, st);
  part.erase_range(g.state2, g.state_size);
  part.write(g.state2, st);
  // wl_config_t as wl_mount() fills it: start 0, the partition size, 4 KiB pages and sectors.
  std::array<std::uint8_t, kConfigBytes> c{};
  const std::uint32_t f[] = {0, std::uint32_t(part.size()), kPage, kPage, kUpdateRate, kWriteSize, kVersion, kTempBuffSize};
  for (int i = 0; i < 8; ++i) put32(c.data() + 4 * i, f[i]);
  put32(c.data() + kConfigCrcLen, esp_crc32({c.data(), kConfigCrcLen}));
  part.erase_range(g.cfg, g.cfg_size);
  part.write(g.cfg, c);
  return std::unique_ptr<WlRegion>(new WlRegion(part, s));
}

std::size_t WlRegion::physical(std::size_t page) const {
  const std::size_t pages = logical_ / kPage;
  std::size_t p = (pages - state_.move_count % pages + page) % pages;  // WL_Flash::calcAddr
  if (p >= state_.pos) ++p;
  return p * kPage;
}

void WlRegion::check(std::size_t offset, std::size_t len) const {
  if (offset > logical_ || len > logical_ - offset)
    throw FlashError(fmt::format("access 0x{:x}+0x{:x} outside wear-levelled volume of 0x{:x} bytes", offset, len, logical_));
}

void WlRegion::read(std::size_t offset, std::span<std::uint8_t> out) const {
  check(offset, out.size());
  for (std::size_t done = 0; done < out.size();) {
    const std::size_t o = offset + done, in_page = o % kPage, n = std::min(kPage - in_page, out.size() - done);
    part_.read(physical(o / kPage) + in_page, out.subspan(done, n));
    done += n;
  }
}

// Writes go to the page's current place. The dummy page is never moved: a file's flash does not
// wear, and a layout left by the firmware (any pos, any move_count) stays valid for it.
void WlRegion::write(std::size_t offset, std::span<const std::uint8_t> data) {
  check(offset, data.size());
  for (std::size_t done = 0; done < data.size();) {
    const std::size_t o = offset + done, in_page = o % kPage, n = std::min(kPage - in_page, data.size() - done);
    part_.write(physical(o / kPage) + in_page, data.subspan(done, n));
    done += n;
  }
}

void WlRegion::erase_sector(std::size_t offset) {
  check(offset, kPage);
  if (offset % kPage) throw FlashError(fmt::format("erase at unaligned 0x{:x}", offset));
  part_.erase_sector(physical(offset / kPage));
}

}  // namespace espat::flash::wl
