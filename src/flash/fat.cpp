#include "flash/fat.hpp"

#include <algorithm>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace espat::flash::fat {

namespace {
constexpr std::size_t kDirent = 32;
constexpr std::uint8_t kAttrDir = 0x10, kAttrVolume = 0x08, kAttrArchive = 0x20, kAttrLfn = 0x0F;
constexpr std::uint8_t kLowerBase = 0x08, kLowerExt = 0x10;  // NT case flags (byte 12)
constexpr std::uint32_t kMaxFat12 = 0xFF5, kMaxFat16 = 0xFFF5;  // FatFS's cluster-count limits
constexpr int kLfnChars[13] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};

std::uint16_t le16(const std::uint8_t* p) { return std::uint16_t(p[0] | p[1] << 8); }
std::uint32_t le32(const std::uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | std::uint32_t(p[3]) << 24; }
void put16(std::uint8_t* p, std::uint32_t v) { p[0] = std::uint8_t(v), p[1] = std::uint8_t(v >> 8); }
void put32(std::uint8_t* p, std::uint32_t v) { put16(p, v), put16(p + 2, v >> 16); }

std::uint8_t lfn_checksum(const std::uint8_t* sfn) {
  std::uint8_t sum = 0;
  for (int i = 0; i < 11; ++i) sum = std::uint8_t(((sum & 1) << 7) + (sum >> 1) + sfn[i]);
  return sum;
}

// UTF-8 to UCS-2 (FatFS's LFN is UTF-16 in the BMP); nullopt for malformed text.
std::optional<std::u16string> to_ucs2(std::string_view s) {
  std::u16string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = std::uint8_t(s[i]);
    std::uint32_t cp = 0;
    int extra = 0;
    if (b < 0x80) cp = b;
    else if ((b & 0xE0) == 0xC0) cp = b & 0x1F, extra = 1;
    else if ((b & 0xF0) == 0xE0) cp = b & 0x0F, extra = 2;
    else return std::nullopt;  // 4-byte sequences need surrogates: not on this volume
    if (i + extra >= s.size() + (extra == 0)) return std::nullopt;
    for (int k = 1; k <= extra; ++k) {
      const auto c = std::uint8_t(s[i + k]);
      if ((c & 0xC0) != 0x80) return std::nullopt;
      cp = cp << 6 | (c & 0x3F);
    }
    if ((extra == 1 && cp < 0x80) || (extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000)))) return std::nullopt;
    out.push_back(char16_t(cp));
    i += std::size_t(extra) + 1;
  }
  return out;
}

std::string to_utf8(const std::u16string& s) {
  std::string out;
  for (char16_t c : s) {
    if (c < 0x80) out += char(c);
    else if (c < 0x800) out += char(0xC0 | c >> 6), out += char(0x80 | (c & 0x3F));
    else out += char(0xE0 | c >> 12), out += char(0x80 | ((c >> 6) & 0x3F)), out += char(0x80 | (c & 0x3F));
  }
  return out;
}

bool sfn_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'()-@^_`{}~").find(c) != std::string_view::npos;
}
char upper(char c) { return c >= 'a' && c <= 'z' ? char(c - 32) : c; }
std::string lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r)
    if (c >= 'A' && c <= 'Z') c = char(c + 32);
  return r;
}

// The 11-byte SFN as text, lower-cased where the NT flags say so.
std::string sfn_text(const std::uint8_t* e) {
  std::string base, ext;
  for (int i = 0; i < 8 && e[i] != ' '; ++i) base += char(i == 0 && e[0] == 0x05 ? 0xE5 : e[i]);
  for (int i = 8; i < 11 && e[i] != ' '; ++i) ext += char(e[i]);
  if (e[12] & kLowerBase) base = lower(base);
  if (e[12] & kLowerExt) ext = lower(ext);
  return ext.empty() ? base : base + "." + ext;
}

// FAT date and time of now (FatFS's get_fattime: local time).
std::pair<std::uint16_t, std::uint16_t> fat_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  const int year = std::clamp(tm.tm_year + 1900, 1980, 2107);
  return {std::uint16_t((year - 1980) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday),
          std::uint16_t(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2)};
}
}  // namespace

const char* describe(Error e) {
  switch (e) {
    case Error::None: return "ok";
    case Error::NotFound: return "no such file";
    case Error::BadName: return "invalid file name";
    case Error::NoSpace: return "volume full";
    case Error::IsDirectory: return "is a directory";
    case Error::TooBig: return "file too large";
  }
  return "?";
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  if (name.front() == ' ' || name.back() == ' ' || name.back() == '.') return false;  // FatFS strips them
  for (char c : name)
    if (std::uint8_t(c) < 0x20 || c == 0x7F || std::string_view("\"*/:<>?\\|").find(c) != std::string_view::npos)
      return false;
  const auto u = to_ucs2(name);
  return u && u->size() <= 255;
}

struct Volume::Dirent {
  std::size_t first_slot = 0, sfn_slot = 0;
  std::string name, short_name;
  std::uint8_t attr = 0;
  std::uint32_t cluster = 0, size = 0;
};

void format(Region& r, std::uint32_t volume_id, std::size_t ss) {
  if (ss < 512 || ss > kSectorSize || (ss & (ss - 1))) throw FlashError(fmt::format("FAT sector size {} not supported", ss));
  if (r.size() % kSectorSize) throw FlashError("FAT volume size is not a multiple of 4 KiB");
  const std::uint32_t tot = std::uint32_t(r.size() / ss), n_root = 512, sz_dir = n_root * kDirent / std::uint32_t(ss);
  // f_mkfs: size the FAT for every sector being a cluster, then count what is left.
  auto fat_sectors = [&](std::uint32_t n, bool f12) {
    const std::uint32_t bytes = f12 ? (n * 3 + 1) / 2 + 3 : n * 2 + 4;
    return (bytes + std::uint32_t(ss) - 1) / std::uint32_t(ss);
  };
  bool f12 = tot <= kMaxFat12;
  std::uint32_t sz_fat = fat_sectors(tot, f12);
  if (tot <= 1 + 2 * sz_fat + sz_dir) throw FlashError("volume too small for FAT");
  const std::uint32_t n_clst = tot - 1 - 2 * sz_fat - sz_dir;
  f12 = n_clst <= kMaxFat12;  // the type a reader will see
  if (n_clst > kMaxFat16) throw FlashError("volume too large for FAT16");
  sz_fat = std::max(sz_fat, fat_sectors(n_clst + 2, f12));

  std::vector<std::uint8_t> meta((1 + 2 * sz_fat + sz_dir) * ss, 0);
  std::uint8_t* b = meta.data();
  b[0] = 0xEB, b[1] = 0xFE, b[2] = 0x90;
  std::memcpy(b + 3, "MSDOS5.0", 8);
  put16(b + 11, std::uint32_t(ss));
  b[13] = 1;        // sectors per cluster (allocation unit = sector, ESP-IDF's default)
  put16(b + 14, 1);  // reserved sectors
  b[16] = 2;        // FATs
  put16(b + 17, n_root);
  if (tot < 0x10000) put16(b + 19, tot);
  else put32(b + 32, tot);
  b[21] = 0xF8;
  put16(b + 22, sz_fat);
  put16(b + 24, 63), put16(b + 26, 255);  // sectors per track, heads
  b[36] = 0x80, b[38] = 0x29;
  put32(b + 39, volume_id);
  std::memcpy(b + 43, "NO NAME    ", 11);
  std::memcpy(b + 54, f12 ? "FAT12   " : "FAT16   ", 8);
  b[510] = 0x55, b[511] = 0xAA;
  for (int i = 0; i < 2; ++i) {
    std::uint8_t* f = b + (1 + i * sz_fat) * ss;
    f[0] = 0xF8, f[1] = 0xFF, f[2] = 0xFF;
    if (!f12) f[3] = 0xFF;
  }
  r.erase_range(0, r.size());
  r.write(0, meta);
}

std::optional<Volume> Volume::mount(Region& r, std::string* why) {
  auto fail = [&](std::string w) -> std::optional<Volume> {
    if (why) *why = std::move(w);
    return std::nullopt;
  };
  if (r.size() < 512 || r.size() % kSectorSize) return fail("not a FAT volume (size)");
  const auto bs = r.read(0, 512);
  const std::uint8_t* b = bs.data();
  if (b[510] != 0x55 || b[511] != 0xAA || (b[0] != 0xEB && b[0] != 0xE9))
    return fail("not a FAT volume (no boot sector signature)");
  Volume v(r);
  v.ss_ = le16(b + 11);
  v.spc_ = b[13];
  const std::uint32_t rsv = le16(b + 14);
  v.n_fats_ = b[16];
  v.root_entries_ = le16(b + 17);
  const std::uint32_t tot = le16(b + 19) ? le16(b + 19) : le32(b + 32);
  v.fat_sectors_ = le16(b + 22);
  if (v.ss_ < 512 || v.ss_ > 4096 || (v.ss_ & (v.ss_ - 1)) || v.spc_ == 0 || (v.spc_ & (v.spc_ - 1)) || rsv == 0 ||
      v.n_fats_ < 1 || v.n_fats_ > 2)
    return fail("not a FAT volume (bad BPB)");
  if (v.fat_sectors_ == 0 || v.root_entries_ == 0) return fail("FAT32 volumes are not supported");
  if (v.root_entries_ % (v.ss_ / kDirent)) return fail("not a FAT volume (bad root directory size)");
  if (std::uint64_t(tot) * v.ss_ > r.size()) return fail("FAT volume larger than its partition");
  const std::uint32_t root_sectors = v.root_entries_ * kDirent / v.ss_;
  const std::uint64_t meta = std::uint64_t(rsv) + std::uint64_t(v.n_fats_) * v.fat_sectors_ + root_sectors;
  if (tot <= meta) return fail("not a FAT volume (no data area)");
  v.clusters_ = std::uint32_t((tot - meta) / v.spc_);
  if (v.clusters_ == 0) return fail("not a FAT volume (no clusters)");
  if (v.clusters_ > kMaxFat16) return fail("FAT32 volumes are not supported");
  v.fat12_ = v.clusters_ <= kMaxFat12;
  const std::uint64_t fat_bytes = std::uint64_t(v.fat_sectors_) * v.ss_;
  const std::uint64_t need = v.fat12_ ? (std::uint64_t(v.clusters_ + 2) * 3 + 1) / 2 : std::uint64_t(v.clusters_ + 2) * 2;
  if (need > fat_bytes) return fail("not a FAT volume (FAT too small for its clusters)");
  v.fat_off_ = std::uint64_t(rsv) * v.ss_;
  v.root_off_ = v.fat_off_ + std::uint64_t(v.n_fats_) * fat_bytes;
  v.data_off_ = v.root_off_ + std::uint64_t(root_sectors) * v.ss_;
  v.fat_ = r.read(v.fat_off_, fat_bytes);
  v.root_ = r.read(v.root_off_, std::size_t(root_sectors) * v.ss_);
  return v;
}

std::uint32_t Volume::next(std::uint32_t c) const {
  if (fat12_) {
    const std::size_t o = c + c / 2;
    const std::uint16_t w = le16(&fat_[o]);
    return c & 1 ? w >> 4 : w & 0xFFF;
  }
  return le16(&fat_[std::size_t(c) * 2]);
}

void Volume::set_next(std::uint32_t c, std::uint32_t v) {
  if (fat12_) {
    const std::size_t o = c + c / 2;
    std::uint16_t w = le16(&fat_[o]);
    w = c & 1 ? std::uint16_t((w & 0x000F) | (v & 0xFFF) << 4) : std::uint16_t((w & 0xF000) | (v & 0xFFF));
    put16(&fat_[o], w);
  } else {
    put16(&fat_[std::size_t(c) * 2], v);
  }
}

bool Volume::is_eoc(std::uint32_t v) const { return v >= (fat12_ ? 0xFF8u : 0xFFF8u); }

std::vector<std::uint32_t> Volume::chain(std::uint32_t c) const {
  std::vector<std::uint32_t> out;
  std::vector<bool> seen(clusters_ + 2);  // a corrupt FAT may loop: each cluster once
  while (c >= 2 && c < clusters_ + 2 && !seen[c]) {
    seen[c] = true;
    out.push_back(c);
    const std::uint32_t n = next(c);
    if (is_eoc(n)) break;
    c = n;
  }
  return out;
}

std::uint64_t Volume::cluster_offset(std::uint32_t c) const { return data_off_ + std::uint64_t(c - 2) * spc_ * ss_; }

std::vector<Volume::Dirent> Volume::entries() const {
  std::vector<Dirent> out;
  std::u16string parts[20];
  int lfn_count = 0, lfn_seen = 0;
  std::uint8_t lfn_sum = 0;
  std::size_t lfn_start = 0;
  const std::size_t slots = root_.size() / kDirent;
  for (std::size_t i = 0; i < slots; ++i) {
    const std::uint8_t* e = &root_[i * kDirent];
    if (e[0] == 0x00) break;
    if (e[0] == 0xE5) {
      lfn_count = 0;
      continue;
    }
    if ((e[11] & 0x3F) == kAttrLfn) {
      const int ord = e[0] & 0x3F;
      if (e[0] & 0x40) {
        lfn_count = ord, lfn_seen = 0, lfn_sum = e[13], lfn_start = i;
        for (auto& p : parts) p.clear();
      }
      if (lfn_count == 0 || ord < 1 || ord > 20 || ord > lfn_count || e[13] != lfn_sum) {
        lfn_count = 0;
        continue;
      }
      std::u16string piece;
      for (int k : kLfnChars) piece.push_back(char16_t(le16(e + k)));
      parts[ord - 1] = piece;
      ++lfn_seen;
      continue;
    }
    if (e[11] & kAttrVolume) {
      lfn_count = 0;
      continue;
    }
    Dirent d;
    d.sfn_slot = i;
    d.first_slot = i;
    d.short_name = sfn_text(e);
    d.name = d.short_name;
    d.attr = e[11];
    d.cluster = le16(e + 26);
    d.size = le32(e + 28);
    if (lfn_count > 0 && lfn_seen == lfn_count && lfn_checksum(e) == lfn_sum) {
      std::u16string full;
      for (int k = 0; k < lfn_count; ++k) full += parts[k];
      if (auto z = full.find(u'\0'); z != std::u16string::npos) full.resize(z);
      if (!full.empty()) d.name = to_utf8(full), d.first_slot = lfn_start;
    }
    lfn_count = 0;
    if (d.short_name == "." || d.short_name == ".." || d.short_name.empty()) continue;
    out.push_back(std::move(d));
  }
  return out;
}

std::optional<Volume::Dirent> Volume::find(std::string_view name) const {
  const std::string want = lower(name);
  for (auto& d : entries())
    if (lower(d.name) == want || lower(d.short_name) == want) return d;
  return std::nullopt;
}

std::vector<Entry> Volume::list() const {
  std::vector<Entry> out;
  for (auto& d : entries()) out.push_back({d.name, d.attr & kAttrDir ? 0 : d.size, bool(d.attr & kAttrDir)});
  return out;
}

std::optional<Entry> Volume::stat(std::string_view name) const {
  if (!valid_name(name)) return std::nullopt;
  auto d = find(name);
  if (!d) return std::nullopt;
  return Entry{d->name, d->attr & kAttrDir ? 0 : d->size, bool(d->attr & kAttrDir)};
}

std::uint64_t Volume::total_bytes() const { return std::uint64_t(clusters_) * spc_ * ss_; }
std::uint64_t Volume::free_bytes() const {
  std::uint64_t n = 0;
  for (std::uint32_t c = 2; c < clusters_ + 2; ++c) n += next(c) == 0;
  return n * spc_ * ss_;
}

void Volume::read_bytes(std::uint64_t off, std::span<std::uint8_t> out) const { r_->read(std::size_t(off), out); }

// Flash is rewritten a 4 KiB sector at a time: read it, erase it, write it back changed.
void Volume::write_bytes(std::uint64_t off, std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> block(kSectorSize);
  for (std::size_t done = 0; done < data.size();) {
    const std::size_t o = std::size_t(off) + done, base = o / kSectorSize * kSectorSize, in = o - base;
    const std::size_t n = std::min(kSectorSize - in, data.size() - done);
    if (n < kSectorSize) r_->read(base, block);
    std::memcpy(block.data() + in, data.data() + done, n);
    r_->erase_sector(base);
    r_->write(base, block);
    done += n;
  }
}

void Volume::flush_fat() {
  for (std::uint32_t i = 0; i < n_fats_; ++i) write_bytes(fat_off_ + std::uint64_t(i) * fat_.size(), fat_);
}
void Volume::flush_root() { write_bytes(root_off_, root_); }

std::optional<std::uint32_t> Volume::allocate() {
  for (std::uint32_t k = 0; k < clusters_; ++k) {
    const std::uint32_t c = 2 + (hint_ - 2 + k) % clusters_;
    if (next(c) == 0) {
      set_next(c, fat12_ ? 0xFFF : 0xFFFF);
      hint_ = c;
      return c;
    }
  }
  return std::nullopt;
}

Error Volume::read(std::string_view name, std::uint32_t offset, std::uint32_t len, std::vector<std::uint8_t>& out) const {
  out.clear();
  if (!valid_name(name)) return Error::BadName;
  auto d = find(name);
  if (!d) return Error::NotFound;
  if (d->attr & kAttrDir) return Error::IsDirectory;
  if (offset >= d->size) return Error::None;
  const std::uint64_t cb = std::uint64_t(spc_) * ss_;
  const auto ch = chain(d->cluster);
  std::uint64_t end = std::min<std::uint64_t>(std::uint64_t(offset) + len, d->size);
  end = std::min<std::uint64_t>(end, ch.size() * cb);  // a chain shorter than its size: what there is
  for (std::uint64_t p = offset; p < end;) {
    const std::uint64_t in = p % cb, n = std::min(cb - in, end - p);
    const std::size_t at = out.size();
    out.resize(at + n);
    read_bytes(cluster_offset(ch[p / cb]) + in, {out.data() + at, std::size_t(n)});
    p += n;
  }
  return Error::None;
}

std::string Volume::short_name_for(std::string_view name, bool& need_lfn, std::uint8_t& flags) const {
  const auto dot = name.rfind('.');
  std::string_view base = name.substr(0, dot), ext = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  auto one_case = [](std::string_view s, std::uint8_t bit, std::uint8_t& f) {
    bool lo = false, up = false;
    for (char c : s) lo |= c >= 'a' && c <= 'z', up |= c >= 'A' && c <= 'Z';
    if (lo && up) return false;
    if (lo) f |= bit;
    return true;
  };
  flags = 0;
  const bool fits = !base.empty() && base.size() <= 8 && ext.size() <= 3 &&
                    std::all_of(base.begin(), base.end(), sfn_char) && std::all_of(ext.begin(), ext.end(), sfn_char) &&
                    one_case(base, kLowerBase, flags) && one_case(ext, kLowerExt, flags);
  auto pad = [](std::string s, std::size_t n) { return (s + "        ").substr(0, n); };
  auto up = [](std::string_view s) {
    std::string r;
    for (char c : s)
      if (c != ' ' && c != '.') r += sfn_char(c) ? upper(c) : '_';
    return r;
  };
  if (fits) {
    need_lfn = false;
    return pad(up(base), 8) + pad(up(ext), 3);
  }
  need_lfn = true;
  flags = 0;
  std::string b = up(base), x = up(ext).substr(0, 3);
  if (b.empty()) b = "_";
  std::vector<std::string> taken;
  for (std::size_t i = 0; i + kDirent <= root_.size(); i += kDirent) {
    if (root_[i] == 0) break;
    taken.emplace_back(reinterpret_cast<const char*>(&root_[i]), 11);
  }
  for (int n = 1; n < 1000000; ++n) {
    const std::string tail = "~" + std::to_string(n);
    const std::string cand = pad(b.substr(0, 8 - tail.size()) + tail, 8) + pad(x, 3);
    if (std::find(taken.begin(), taken.end(), cand) == taken.end()) return cand;
  }
  return {};
}

Error Volume::write(std::string_view name, std::uint32_t offset, std::span<const std::uint8_t> data) {
  if (!valid_name(name)) return Error::BadName;
  const std::uint64_t end = std::uint64_t(offset) + data.size();
  if (end > 0xFFFFFFFFull) return Error::TooBig;
  auto d = find(name);
  if (d && (d->attr & kAttrDir)) return Error::IsDirectory;
  const std::uint64_t cb = std::uint64_t(spc_) * ss_;
  const std::uint32_t old_size = d ? d->size : 0;
  const std::uint64_t new_size = std::max<std::uint64_t>(old_size, end);
  auto ch = d ? chain(d->cluster) : std::vector<std::uint32_t>{};
  const std::uint64_t need = (new_size + cb - 1) / cb;
  const std::uint64_t more = need > ch.size() ? need - ch.size() : 0;
  if (more * cb > free_bytes()) return Error::NoSpace;

  const auto saved_root = root_;
  if (!d) {  // new directory entry: LFN slots (when needed) then the SFN, in consecutive free slots
    bool need_lfn = false;
    std::uint8_t flags = 0;
    const std::string sfn = short_name_for(name, need_lfn, flags);
    const auto u = *to_ucs2(name);
    const std::size_t n_lfn = need_lfn ? (u.size() + 12) / 13 : 0, want = n_lfn + 1, slots = root_.size() / kDirent;
    std::size_t start = slots, run = 0;
    for (std::size_t i = 0; i < slots; ++i) {
      const std::uint8_t b0 = root_[i * kDirent];
      if (b0 == 0x00) {  // the end marker: everything after it is free; keep it clean
        std::fill(root_.begin() + std::ptrdiff_t(i * kDirent), root_.end(), 0);
        if (slots - i + run >= want) start = i - run;
        break;
      }
      run = b0 == 0xE5 ? run + 1 : 0;
      if (run == want) {
        start = i + 1 - want;
        break;
      }
    }
    if (start == slots) {
      root_ = saved_root;
      return Error::NoSpace;
    }
    std::uint8_t e[kDirent] = {};
    std::memcpy(e, sfn.data(), 11);
    e[11] = kAttrArchive;
    e[12] = flags;
    const auto [date, time] = fat_now();
    put16(e + 14, time), put16(e + 16, date), put16(e + 18, date), put16(e + 22, time), put16(e + 24, date);
    const std::uint8_t sum = lfn_checksum(e);
    for (std::size_t k = 0; k < n_lfn; ++k) {
      const std::size_t ord = n_lfn - k;  // the last part comes first
      std::uint8_t* l = &root_[(start + k) * kDirent];
      std::memset(l, 0, kDirent);
      l[0] = std::uint8_t(ord | (k == 0 ? 0x40 : 0));
      l[11] = kAttrLfn;
      l[13] = sum;
      for (int j = 0; j < 13; ++j) {
        const std::size_t at = (ord - 1) * 13 + std::size_t(j);
        const std::uint16_t ch16 = at < u.size() ? u[at] : at == u.size() ? 0x0000 : 0xFFFF;
        put16(l + kLfnChars[j], ch16);
      }
    }
    std::memcpy(&root_[(start + n_lfn) * kDirent], e, kDirent);
    d = Dirent{start, start + n_lfn, std::string(name), sfn, kAttrArchive, 0, 0};
  }
  const auto saved_fat = fat_;
  for (std::uint64_t k = 0; k < more; ++k) {
    const auto c = allocate();
    if (!c) {  // counted free above; kept for a FAT that lies
      fat_ = saved_fat, root_ = saved_root;
      return Error::NoSpace;
    }
    if (!ch.empty()) set_next(ch.back(), *c);
    ch.push_back(*c);
  }
  // The gap between the old end and offset reads as zeros, then the data.
  auto put = [&](std::uint64_t from, std::span<const std::uint8_t> bytes) {
    for (std::uint64_t p = from, i = 0; i < bytes.size();) {
      const std::uint64_t in = p % cb, n = std::min<std::uint64_t>(cb - in, bytes.size() - i);
      write_bytes(cluster_offset(ch[p / cb]) + in, bytes.subspan(std::size_t(i), std::size_t(n)));
      p += n, i += n;
    }
  };
  if (offset > old_size) put(old_size, std::vector<std::uint8_t>(offset - old_size, 0));
  put(offset, data);
  std::uint8_t* e = &root_[d->sfn_slot * kDirent];
  const std::uint32_t first = ch.empty() ? 0 : ch.front();
  put16(e + 26, first);
  put32(e + 28, std::uint32_t(new_size));
  e[11] |= kAttrArchive;
  const auto [date, time] = fat_now();
  put16(e + 22, time), put16(e + 24, date), put16(e + 18, date);
  flush_fat();
  flush_root();
  return Error::None;
}

Error Volume::remove(std::string_view name) {
  if (!valid_name(name)) return Error::BadName;
  auto d = find(name);
  if (!d) return Error::NotFound;
  if (d->attr & kAttrDir) return Error::IsDirectory;  // AT+FS deletes files
  for (auto c : chain(d->cluster)) set_next(c, 0);
  for (std::size_t s = d->first_slot; s <= d->sfn_slot; ++s) root_[s * kDirent] = 0xE5;
  flush_fat();
  flush_root();
  return Error::None;
}

}  // namespace espat::flash::fat
