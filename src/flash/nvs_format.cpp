// Scanning of NVS pages into an index of records, and the resolution of keys (see nvs_format.hpp).
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

using States = std::array<EntryState, kEntriesPerPage>;

void classify_page(Index& ix, std::size_t p, Bytes page, std::vector<std::string>& problems) {
  PageInfo& info = ix.pages[p];
  const std::uint32_t st = le32(page.data());
  const auto where = fmt::format("page 0x{:x}", p * kSectorSize);
  if (st == state::Uninitialized) {
    if (is_erased(page)) return;  // Blank
    ix.blank = false;
    info.kind = PageKind::Garbage;
    problems.push_back(where + ": no page header but the sector is not blank, skipped");
    return;
  }
  ix.blank = false;
  info.state = st;
  info.seq = le32(page.data() + 4);
  if (esp_crc32(page.subspan(4, 24)) != le32(page.data() + 28)) {
    info.kind = PageKind::BadHeader;
    problems.push_back(where + ": page header CRC mismatch, skipped");
    return;
  }
  const std::uint8_t version = page[8];
  if (version != kVersion2 && version != kVersion1) {
    info.kind = PageKind::BadVersion;
    problems.push_back(fmt::format("{}: unsupported NVS format version 0x{:02x}, skipped", where, version));
    return;
  }
  if (st != state::Active && st != state::Full && st != state::Freeing) {
    info.kind = PageKind::BadState;
    problems.push_back(st == state::Corrupt ? where + ": page marked CORRUPT, skipped"
                                            : fmt::format("{}: unknown page state 0x{:08x}, skipped", where, st));
    return;
  }
  info.kind = PageKind::Valid;
  ix.has_valid = true;
}

States entry_states(Bytes page) {
  States states;
  for (std::size_t i = 0; i < kEntriesPerPage; ++i) {
    const std::uint8_t bits = page[kBitmapOffset + i / 4] >> ((i % 4) * 2);
    states[i] = static_cast<EntryState>(bits & 3);
  }
  return states;
}

// ---- entries -----------------------------------------------------------------------------

enum class Verdict { Ok, BadCrc, Invalid };

struct Decoded {
  Verdict verdict = Verdict::Ok;
  std::size_t skip = 1;  // entries covered by this header
  std::string why;       // for Invalid
};

// Decodes the record whose header is entry i (state WRITTEN) into rec.
Decoded decode_record(Bytes page, const States& states, std::size_t i, Record& rec) {
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
  std::copy(e + 8, key_end, rec.key.begin());
  if (!span_fits) return d.why = fmt::format("span {} does not fit the page", rec.span), d;

  if (primitive_width(rec.type) || rec.type == type::BlobIndex) {
    if (rec.span != 1) return d.why = fmt::format("span {} for a fixed-size item", rec.span), d;
    return {Verdict::Ok, 1, {}};
  }
  if (!is_var_type(rec.type)) return d.why = fmt::format("unknown item type 0x{:02x}", rec.type), d;

  const std::size_t size = rec.payload_size();
  if (size > kMaxChunkBytes || var_span(size) != rec.span)
    return d.why = fmt::format("size {} does not match span {}", size, rec.span), d;
  for (std::size_t j = i + 1; j < i + rec.span; ++j)
    if (states[j] != EntryState::Written) return d.why = "data entries not written", d;
  const auto payload = page.subspan(kEntriesOffset + (i + 1) * kEntrySize, size);
  if (data_crc(payload) != le32(rec.data.data() + 4)) return d.why = "data CRC mismatch", d;
  return {Verdict::Ok, rec.span, {}};
}

void parse_entries(Index& ix, std::size_t p, Bytes page, std::vector<std::string>& problems) {
  PageInfo& info = ix.pages[p];
  const States states = entry_states(page);
  std::size_t end_used = 0;  // one past the last entry that is not empty-and-FF
  std::size_t bad_crc = 0, first_bad_crc = 0, live = 0;
  for (std::size_t i = 0; i < kEntriesPerPage;) {
    const EntryState st = states[i];
    if (st == EntryState::Empty) {
      if (!is_erased(entry_at(page, i))) {  // written by a write the bitmap never confirmed
        ix.bad.push_back({p, i, 1});
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
    const Decoded d = decode_record(page, states, i, rec);
    if (d.verdict == Verdict::BadCrc) {
      if (bad_crc++ == 0) first_bad_crc = i;
      ix.bad.push_back({p, i, 1});
    } else if (d.verdict == Verdict::Invalid) {
      problems.push_back(fmt::format("page 0x{:x}: entry {} ({}): {}, skipped", p * kSectorSize, i,
                                     rec.key_view(), d.why));
      ix.bad.push_back({p, i, d.skip});
    } else {
      rec.slot = static_cast<std::uint32_t>(p * kEntriesPerPage + i);
      live += rec.span;
      ix.records.push_back(rec);
    }
    end_used = i + d.skip;
    i += d.skip;
  }
  info.next_free = static_cast<std::uint8_t>(end_used);
  info.live = static_cast<std::uint8_t>(live);
  if (bad_crc)
    problems.push_back(fmt::format("page 0x{:x}: {} entr{} with a CRC mismatch (first: entry {}), skipped",
                                   p * kSectorSize, bad_crc, bad_crc == 1 ? "y" : "ies", first_bad_crc));
}

// ---- resolution --------------------------------------------------------------------------

bool key_less(const Record& a, const Record& b) {
  return a.ns != b.ns ? a.ns < b.ns : a.key_view() < b.key_view();
}

// A v2 blob is complete when every chunk of its index is present and the sizes add up; its
// chunks are appended to `parts`, which is left as it was when it is not.
bool assemble_blob(const Index& ix, std::uint32_t index, std::span<const std::uint32_t> chunks,
                   std::vector<std::uint32_t>& parts) {
  const Record& rec = ix.records[index];
  const std::uint32_t total = le32(rec.data.data());
  const std::size_t count = rec.data[4], start = rec.data[5];
  const std::size_t first = parts.size();
  std::size_t sum = 0;
  for (std::size_t c = start; c < start + count; ++c) {
    std::optional<std::uint32_t> newest;
    for (std::uint32_t r : chunks)
      if (ix.records[r].chunk == c) newest = r;  // chunks are in storage order
    if (!newest || c == kChunkAny) {
      parts.resize(first);
      return false;
    }
    parts.push_back(*newest);
    sum += ix.records[*newest].payload_size();
  }
  if (sum != total) parts.resize(first);
  return sum == total;
}

// The newest complete version of a key wins; everything else of that key is a loser (an old
// version left by a crash, chunks of an unfinished or replaced blob, GC copies).
void resolve_key(Index& ix, std::span<const std::uint32_t> recs, std::vector<Item>& items,
                 std::vector<std::uint32_t>& chunks, std::vector<std::uint32_t>& losers) {
  std::vector<std::uint32_t> versions, key_chunks;
  for (std::uint32_t r : recs) (ix.records[r].type == type::BlobData ? key_chunks : versions).push_back(r);
  const std::size_t first_chunk = chunks.size();
  std::optional<std::uint32_t> winner;
  for (auto it = versions.rbegin(); it != versions.rend() && !winner; ++it)
    if (ix.records[*it].type != type::BlobIndex || assemble_blob(ix, *it, key_chunks, chunks)) winner = *it;
  const auto parts = std::span(chunks).subspan(first_chunk);
  for (std::uint32_t r : recs)
    if (!winner || (r != *winner && std::find(parts.begin(), parts.end(), r) == parts.end())) losers.push_back(r);
  if (winner)
    items.push_back({*winner, static_cast<std::uint32_t>(first_chunk), static_cast<std::uint32_t>(parts.size())});
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

namespace {

// Binary search of the items for (ns, key).
auto item_position(const Index& ix, std::uint8_t ns, std::string_view key) {
  return std::lower_bound(ix.items.begin(), ix.items.end(), std::pair(ns, key), [&](const Item& it, const auto& id) {
    const Record& r = ix.records[it.primary];
    return r.ns != id.first ? r.ns < id.first : r.key_view() < id.second;
  });
}

auto namespace_position(const Index& ix, std::string_view name) {
  return std::lower_bound(ix.namespaces.begin(), ix.namespaces.end(), name,
                          [&](std::uint32_t r, std::string_view n) { return ix.records[r].key_view() < n; });
}

}  // namespace

const Item* Index::find(std::uint8_t ns, std::string_view key) const {
  const auto it = item_position(*this, ns, key);
  if (it == items.end()) return nullptr;
  const Record& r = records[it->primary];
  return r.ns == ns && r.key_view() == key ? &*it : nullptr;
}

std::optional<std::uint8_t> Index::ns_index(std::string_view name) const {
  const auto it = namespace_position(*this, name);
  if (it == namespaces.end() || records[*it].key_view() != name) return std::nullopt;
  return records[*it].data[0];
}

std::optional<std::uint32_t> Index::max_seq() const {
  std::optional<std::uint32_t> max;
  for (const PageInfo& p : pages)
    if (p.has_header()) max = std::max(max.value_or(0), p.seq);
  return max;
}

std::optional<std::size_t> Index::active() const {
  if (order.empty() || pages[order.back()].state != state::Active) return std::nullopt;
  return order.back();
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

Value primitive_value(const Record& r) {
  std::uint64_t u = 0;
  for (std::size_t b = primitive_width(r.type); b-- > 0;) u = (u << 8) | r.data[b];
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

Record record_of(std::size_t page, std::size_t entry, std::span<const std::uint8_t> header) {
  Record rec;
  rec.slot = static_cast<std::uint32_t>(page * kEntriesPerPage + entry);
  rec.ns = header[0];
  rec.type = header[1];
  rec.span = header[2];
  rec.chunk = header[3];
  std::copy(header.begin() + 24, header.begin() + 32, rec.data.begin());
  const auto key = header.subspan(8, 16);
  std::copy(key.begin(), std::find(key.begin(), key.end(), 0), rec.key.begin());
  return rec;
}

Index scan(const Region& region, std::vector<std::string>* problems) {
  std::vector<std::string> found;
  Index ix;
  const std::size_t n = region.size() / kSectorSize;
  ix.pages.resize(n);
  // One read of the whole partition, dropped once scanned: a single pread on a flash file, a
  // single open of a fleet module's overlay.
  const std::vector<std::uint8_t> flash = region.read(0, region.size());
  auto read_page = [&](std::size_t p) { return Bytes(flash).subspan(p * kSectorSize, kSectorSize); };
  for (std::size_t p = 0; p < n; ++p) {
    classify_page(ix, p, read_page(p), found);
    if (ix.pages[p].kind == PageKind::Valid) ix.order.push_back(static_cast<std::uint32_t>(p));
  }
  std::stable_sort(ix.order.begin(), ix.order.end(),
                   [&](std::size_t a, std::size_t b) { return ix.pages[a].seq < ix.pages[b].seq; });
  for (std::size_t k = 1; k < ix.order.size(); ++k)
    if (ix.pages[ix.order[k]].seq == ix.pages[ix.order[k - 1]].seq)
      found.push_back(fmt::format("pages 0x{:x} and 0x{:x} have the same sequence number {}",
                                  ix.order[k - 1] * kSectorSize, ix.order[k] * kSectorSize, ix.pages[ix.order[k]].seq));
  for (std::uint32_t p : ix.order) parse_entries(ix, p, read_page(p), found);
  ix.records.shrink_to_fit();
  ix.order.shrink_to_fit();
  resolve(ix, &found);
  if (problems) problems->insert(problems->end(), found.begin(), found.end());
  return ix;
}

void resolve(Index& ix, std::vector<std::string>* problems) {
  std::vector<std::uint32_t> names;   // the newest namespace record of each name
  std::vector<std::uint32_t> keyed;   // the records of keys
  std::vector<std::uint32_t> losers;  // older namespace records first, then key by key
  for (std::uint32_t r = 0; r < ix.records.size(); ++r) {
    const Record& rec = ix.records[r];
    if (rec.ns != 0) {
      keyed.push_back(r);
      continue;
    }
    if (rec.type != 0x01) continue;  // ns 0 holds only namespace entries
    auto same = std::find_if(names.begin(), names.end(),
                             [&](std::uint32_t n) { return ix.records[n].key_view() == rec.key_view(); });
    if (same == names.end()) {
      names.push_back(r);
    } else {
      losers.push_back(std::exchange(*same, r));
    }
  }
  std::sort(names.begin(), names.end(),
            [&](std::uint32_t a, std::uint32_t b) { return ix.records[a].key_view() < ix.records[b].key_view(); });
  std::erase_if(names, [&](std::uint32_t r) {
    const std::uint8_t index = ix.records[r].data[0];
    if (index != 0 && index != 0xFF) return false;
    if (problems)
      problems->push_back(fmt::format("namespace '{}' has the invalid index {}, ignored", ix.records[r].key_view(), index));
    return true;
  });

  // Group the records by key, each group in storage order, the groups by (ns, key).
  std::stable_sort(keyed.begin(), keyed.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return key_less(ix.records[a], ix.records[b]); });
  std::vector<Item> items;
  std::vector<std::uint32_t> chunks;
  for (std::size_t g = 0; g < keyed.size();) {
    std::size_t end = g + 1;
    while (end < keyed.size() && !key_less(ix.records[keyed[g]], ix.records[keyed[end]])) ++end;
    resolve_key(ix, std::span(keyed).subspan(g, end - g), items, chunks, losers);
    g = end;
  }
  names.shrink_to_fit();
  items.shrink_to_fit();
  chunks.shrink_to_fit();
  ix.namespaces = std::move(names);
  ix.items = std::move(items);
  ix.chunks = std::move(chunks);
  ix.losers = std::move(losers);
}

}  // namespace espat::flash::nvs::detail
