// Parsing of NVS pages into records and resolved values (see nvs_format.hpp).
#include "flash/nvs_format.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "flash/crc32.hpp"
#include "flash/region.hpp"

namespace espat::flash::nvs::detail {
namespace {

using Bytes = std::span<const std::uint8_t>;


// zlib answers 0 for a null buffer; the ROM CRC of nothing is the seed, 0xFFFFFFFF (the
// generator's zero-length blob chunk carries FF FF FF FF).
std::uint32_t data_crc(Bytes payload) { return payload.empty() ? 0xFFFFFFFFu : esp_crc32(payload); }

std::uint32_t entry_crc(const std::uint8_t* e) {
  std::array<std::uint8_t, 28> buf;
  std::copy(e, e + 4, buf.begin());
  std::copy(e + 8, e + kEntrySize, buf.begin() + 4);
  return esp_crc32(buf);
}

bool is_var_type(std::uint8_t t) {
  return t == type::Str || t == type::LegacyBlob || t == type::BlobData;
}

Bytes entry_at(Bytes page, std::size_t i) {
  return page.subspan(kEntriesOffset + i * kEntrySize, kEntrySize);
}

// ---- pages -------------------------------------------------------------------------------

void classify_page(Layout& L, std::size_t p, Bytes page) {
  PageInfo& info = L.pages[p];
  info.states.fill(EntryState::Empty);
  const std::uint32_t st = le32(page.data());
  const auto where = fmt::format("page 0x{:x}", p * kSectorSize);
  if (st == state::Uninitialized) {
    if (is_erased(page)) return;  // Blank
    L.blank = false;
    info.kind = PageKind::Garbage;
    L.problems.push_back(where + ": no page header but the sector is not blank, skipped");
    return;
  }
  L.blank = false;
  info.state = st;
  info.seq = le32(page.data() + 4);
  if (esp_crc32(page.subspan(4, 24)) != le32(page.data() + 28)) {
    info.kind = PageKind::BadHeader;
    L.problems.push_back(where + ": page header CRC mismatch, skipped");
    return;
  }
  L.max_seq = std::max(L.max_seq.value_or(0), info.seq);
  const std::uint8_t version = page[8];
  if (version != kVersion2 && version != kVersion1) {
    info.kind = PageKind::BadVersion;
    L.problems.push_back(fmt::format("{}: unsupported NVS format version 0x{:02x}, skipped", where, version));
    return;
  }
  if (st != state::Active && st != state::Full && st != state::Freeing) {
    info.kind = PageKind::BadState;
    L.problems.push_back(st == state::Corrupt ? where + ": page marked CORRUPT, skipped"
                                              : fmt::format("{}: unknown page state 0x{:08x}, skipped", where, st));
    return;
  }
  info.kind = PageKind::Valid;
  L.has_valid = true;
  for (std::size_t i = 0; i < kEntriesPerPage; ++i) {
    const std::uint8_t bits = page[kBitmapOffset + i / 4] >> ((i % 4) * 2);
    info.states[i] = static_cast<EntryState>(bits & 3);
  }
}

// ---- entries -----------------------------------------------------------------------------

enum class Verdict { Ok, BadCrc, Invalid };

struct Decoded {
  Verdict verdict = Verdict::Ok;
  std::size_t skip = 1;  // entries covered by this header
  std::string why;       // for Invalid
};

// Decodes the record whose header is entry i (state WRITTEN) into rec.
Decoded decode_record(Bytes page, const PageInfo& info, std::size_t i, Record& rec) {
  const std::uint8_t* e = entry_at(page, i).data();
  if (entry_crc(e) != le32(e + 4)) return {Verdict::BadCrc, 1, {}};
  rec.ns = e[0];
  rec.type = e[1];
  rec.span = e[2];
  rec.chunk = e[3];
  std::copy(e + 24, e + 32, rec.data.begin());
  const bool span_fits = rec.span >= 1 && i + rec.span <= kEntriesPerPage;
  Decoded d{Verdict::Invalid, span_fits ? rec.span : std::size_t{1}, {}};
  const auto key_end = std::find(e + 8, e + 24, 0);
  if (key_end == e + 24) return d.why = "key not NUL-terminated", d;
  rec.key.assign(e + 8, key_end);
  if (!span_fits) return d.why = fmt::format("span {} does not fit the page", rec.span), d;

  if (primitive_width(rec.type) || rec.type == type::BlobIndex) {
    if (rec.span != 1) return d.why = fmt::format("span {} for a fixed-size item", rec.span), d;
    return {Verdict::Ok, 1, {}};
  }
  if (!is_var_type(rec.type)) return d.why = fmt::format("unknown item type 0x{:02x}", rec.type), d;

  const std::size_t size = rec.data[0] | (rec.data[1] << 8);
  if (size > kMaxChunkBytes || var_span(size) != rec.span)
    return d.why = fmt::format("size {} does not match span {}", size, rec.span), d;
  for (std::size_t j = i + 1; j < i + rec.span; ++j)
    if (info.states[j] != EntryState::Written) return d.why = "data entries not written", d;
  const auto payload = page.subspan(kEntriesOffset + (i + 1) * kEntrySize, size);
  if (data_crc(payload) != le32(rec.data.data() + 4)) return d.why = "data CRC mismatch", d;
  rec.payload.assign(payload.begin(), payload.end());
  return {Verdict::Ok, rec.span, {}};
}

void parse_entries(Layout& L, std::size_t p, Bytes page, std::size_t order_pos) {
  PageInfo& info = L.pages[p];
  std::size_t end_used = 0;  // one past the last entry that is not empty-and-FF
  std::size_t bad_crc = 0, first_bad_crc = 0;
  for (std::size_t i = 0; i < kEntriesPerPage;) {
    const EntryState st = info.states[i];
    if (st == EntryState::Empty) {
      if (!is_erased(entry_at(page, i))) {  // written by a write the bitmap never confirmed
        L.garbage.push_back({p, i, 1});
        end_used = i + 1;
      }
      ++i;
      continue;
    }
    end_used = i + 1;
    if (st != EntryState::Written) {
      ++i;
      continue;
    }
    Record rec;
    const Decoded d = decode_record(page, info, i, rec);
    if (d.verdict == Verdict::BadCrc) {
      if (bad_crc++ == 0) first_bad_crc = i;
      L.garbage.push_back({p, i, 1});
    } else if (d.verdict == Verdict::Invalid) {
      L.problems.push_back(fmt::format("page 0x{:x}: entry {} ({}): {}, skipped", p * kSectorSize, i, rec.key, d.why));
      L.garbage.push_back({p, i, d.skip});
    } else {
      rec.page = p;
      rec.entry = i;
      rec.rank = order_pos * kEntriesPerPage + i;
      info.live += rec.span;
      L.records.push_back(std::move(rec));
    }
    end_used = i + d.skip;
    i += d.skip;
  }
  info.next_free = end_used;
  if (bad_crc)
    L.problems.push_back(fmt::format("page 0x{:x}: {} entr{} with a CRC mismatch (first: entry {}), skipped",
                                     p * kSectorSize, bad_crc, bad_crc == 1 ? "y" : "ies", first_bad_crc));
}

// ---- values ------------------------------------------------------------------------------

Value primitive_value(const Record& r) {
  const std::uint8_t* d = r.data.data();
  std::uint64_t u = 0;
  for (std::size_t b = primitive_width(r.type); b-- > 0;) u = (u << 8) | d[b];
  switch (r.type) {
    case 0x01: return Value::u8(static_cast<std::uint8_t>(u));
    case 0x11: return Value::i8(static_cast<std::int8_t>(u));
    case 0x02: return Value::u16(static_cast<std::uint16_t>(u));
    case 0x12: return Value::i16(static_cast<std::int16_t>(u));
    case 0x04: return Value::u32(static_cast<std::uint32_t>(u));
    case 0x14: return Value::i32(static_cast<std::int32_t>(u));
    case 0x08: return Value::u64(u);
    default: return Value::i64(static_cast<std::int64_t>(u));
  }
}

Value string_value(const Record& r) {
  std::vector<std::uint8_t> s = r.payload;
  if (!s.empty() && s.back() == 0) s.pop_back();
  return {Type::Str, 0, std::move(s)};
}

// A v2 blob is complete when every chunk of its index is present and the sizes add up.
std::optional<Item> assemble_blob(const Layout& L, std::size_t index, const std::vector<std::size_t>& chunks) {
  const Record& ix = L.records[index];
  const std::uint32_t total = le32(ix.data.data());
  const std::size_t count = ix.data[4], start = ix.data[5];
  Item item{Value::blob({}), index, {index}};
  std::size_t sum = 0;
  for (std::size_t c = start; c < start + count; ++c) {
    std::optional<std::size_t> newest;
    for (std::size_t r : chunks)
      if (L.records[r].chunk == c) newest = r;  // chunks are in storage order
    if (!newest || c == kChunkAny) return std::nullopt;
    item.parts.push_back(*newest);
    sum += L.records[*newest].payload.size();
  }
  if (sum != total) return std::nullopt;
  item.value.bytes.reserve(sum);
  for (std::size_t k = 1; k < item.parts.size(); ++k) {
    const auto& pl = L.records[item.parts[k]].payload;
    item.value.bytes.insert(item.value.bytes.end(), pl.begin(), pl.end());
  }
  return item;
}

std::optional<Item> version_value(const Layout& L, std::size_t r, const std::vector<std::size_t>& chunks) {
  const Record& rec = L.records[r];
  if (rec.type == type::BlobIndex) return assemble_blob(L, r, chunks);
  if (rec.type == type::Str) return Item{string_value(rec), r, {r}};
  if (rec.type == type::LegacyBlob) return Item{Value::blob(rec.payload), r, {r}};
  return Item{primitive_value(rec), r, {r}};
}

void mark_garbage(Layout& L, std::size_t r) {
  const Record& rec = L.records[r];
  L.garbage.push_back({rec.page, rec.entry, rec.span});
}

// The newest complete version of a key wins; everything else of that key is garbage (an old
// version left by a crash, chunks of an unfinished or replaced blob, GC copies).
void resolve_key(Layout& L, std::uint8_t ns, const std::string& key, const std::vector<std::size_t>& recs) {
  std::vector<std::size_t> versions, chunks;
  for (std::size_t r : recs) (L.records[r].type == type::BlobData ? chunks : versions).push_back(r);
  std::optional<Item> winner;
  for (auto it = versions.rbegin(); it != versions.rend() && !winner; ++it) winner = version_value(L, *it, chunks);
  for (std::size_t r : recs)
    if (!winner || std::find(winner->parts.begin(), winner->parts.end(), r) == winner->parts.end())
      mark_garbage(L, r);
  if (winner) L.items.emplace(std::make_pair(ns, key), std::move(*winner));
}

void resolve(Layout& L) {
  std::map<std::string, std::size_t> ns_records;  // name -> newest namespace record
  std::map<std::pair<std::uint8_t, std::string>, std::vector<std::size_t>> groups;
  for (std::size_t r = 0; r < L.records.size(); ++r) {
    const Record& rec = L.records[r];
    if (rec.ns != 0) {
      groups[{rec.ns, rec.key}].push_back(r);
      continue;
    }
    if (rec.type != 0x01) continue;  // ns 0 holds only namespace entries
    auto [it, fresh] = ns_records.try_emplace(rec.key, r);
    if (!fresh) mark_garbage(L, std::exchange(it->second, r));
  }
  for (const auto& [name, r] : ns_records) {
    const std::uint8_t index = L.records[r].data[0];
    if (index == 0 || index == 0xFF) {
      L.problems.push_back(fmt::format("namespace '{}' has the invalid index {}, ignored", name, index));
      continue;
    }
    L.namespaces[name] = index;
  }
  for (const auto& [id, recs] : groups) resolve_key(L, id.first, id.second, recs);
}

}  // namespace

// ---- public helpers ----------------------------------------------------------------------

bool is_erased(std::span<const std::uint8_t> bytes) {
  static const auto ff = [] {
    std::array<std::uint8_t, kSectorSize> a;
    a.fill(0xFF);
    return a;
  }();
  for (std::size_t off = 0; off < bytes.size(); off += ff.size()) {
    const std::size_t n = std::min(ff.size(), bytes.size() - off);
    if (std::memcmp(bytes.data() + off, ff.data(), n) != 0) return false;
  }
  return true;
}

const Item* Layout::find(std::uint8_t ns, std::string_view key) const {
  auto it = items.find({ns, std::string(key)});
  return it == items.end() ? nullptr : &it->second;
}

std::optional<std::uint8_t> Layout::ns_index(std::string_view name) const {
  auto it = namespaces.find(std::string(name));
  if (it == namespaces.end()) return std::nullopt;
  return it->second;
}

std::size_t primitive_width(std::uint8_t t) {
  switch (t) {
    case 0x01: case 0x11: return 1;
    case 0x02: case 0x12: return 2;
    case 0x04: case 0x14: return 4;
    case 0x08: case 0x18: return 8;
    default: return 0;
  }
}

std::size_t var_span(std::size_t payload_size) { return 1 + (payload_size + kEntrySize - 1) / kEntrySize; }

std::array<std::uint8_t, 32> make_header(std::uint32_t page_state, std::uint32_t seq) {
  std::array<std::uint8_t, 32> h;
  h.fill(0xFF);
  for (int b = 0; b < 4; ++b) {
    h[b] = static_cast<std::uint8_t>(page_state >> (8 * b));
    h[4 + b] = static_cast<std::uint8_t>(seq >> (8 * b));
  }
  h[8] = kVersion2;
  const std::uint32_t crc = esp_crc32(std::span(h).subspan(4, 24));
  for (int b = 0; b < 4; ++b) h[28 + b] = static_cast<std::uint8_t>(crc >> (8 * b));
  return h;
}

EntryBytes make_entry(std::uint8_t ns, std::uint8_t t, std::uint8_t span, std::uint8_t chunk,
                      std::string_view key, const std::array<std::uint8_t, 8>& data) {
  EntryBytes e{};  // the key is zero padded, as the generator and the runtime write it
  e[0] = ns;
  e[1] = t;
  e[2] = span;
  e[3] = chunk;
  std::copy(key.begin(), key.end(), e.begin() + 8);
  std::copy(data.begin(), data.end(), e.begin() + 24);
  const std::uint32_t crc = entry_crc(e.data());
  for (int b = 0; b < 4; ++b) e[4 + b] = static_cast<std::uint8_t>(crc >> (8 * b));
  return e;
}

std::vector<std::uint8_t> make_var_item(std::uint8_t ns, std::uint8_t t, std::uint8_t chunk, std::string_view key,
                                        std::span<const std::uint8_t> payload) {
  const std::size_t span = var_span(payload.size());
  const std::uint32_t crc = data_crc(payload);
  const std::array<std::uint8_t, 8> data{
      static_cast<std::uint8_t>(payload.size()), static_cast<std::uint8_t>(payload.size() >> 8), 0xFF, 0xFF,
      static_cast<std::uint8_t>(crc), static_cast<std::uint8_t>(crc >> 8), static_cast<std::uint8_t>(crc >> 16),
      static_cast<std::uint8_t>(crc >> 24)};
  const EntryBytes header = make_entry(ns, t, static_cast<std::uint8_t>(span), chunk, key, data);
  std::vector<std::uint8_t> out(span * kEntrySize, 0xFF);
  std::copy(header.begin(), header.end(), out.begin());
  std::copy(payload.begin(), payload.end(), out.begin() + kEntrySize);
  return out;
}

std::array<std::uint8_t, 8> primitive_data(Type t, std::int64_t v) {
  std::array<std::uint8_t, 8> d;
  d.fill(0xFF);
  const auto u = static_cast<std::uint64_t>(v);
  for (std::size_t b = 0; b < primitive_width(static_cast<std::uint8_t>(t)); ++b)
    d[b] = static_cast<std::uint8_t>(u >> (8 * b));
  return d;
}

Layout parse(std::span<const std::uint8_t> flash) {
  Layout L;
  const std::size_t n = flash.size() / kSectorSize;
  L.pages.resize(n);
  auto page = [&](std::size_t p) { return flash.subspan(p * kSectorSize, kSectorSize); };
  for (std::size_t p = 0; p < n; ++p) {
    classify_page(L, p, page(p));
    if (L.pages[p].kind == PageKind::Valid) L.order.push_back(p);
  }
  std::stable_sort(L.order.begin(), L.order.end(),
                   [&](std::size_t a, std::size_t b) { return L.pages[a].seq < L.pages[b].seq; });
  for (std::size_t k = 1; k < L.order.size(); ++k)
    if (L.pages[L.order[k]].seq == L.pages[L.order[k - 1]].seq)
      L.problems.push_back(fmt::format("pages 0x{:x} and 0x{:x} have the same sequence number {}",
                                       L.order[k - 1] * kSectorSize, L.order[k] * kSectorSize,
                                       L.pages[L.order[k]].seq));
  for (std::size_t k = 0; k < L.order.size(); ++k) parse_entries(L, L.order[k], page(L.order[k]), k);
  resolve(L);
  if (!L.order.empty() && L.pages[L.order.back()].state == state::Active) L.active = L.order.back();
  return L;
}

}  // namespace espat::flash::nvs::detail
