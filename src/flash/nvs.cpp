// ESP-IDF NVS v2 runtime semantics on a Region (see nvs.hpp and esp-at-formats.md §7.4).
//
// The Storage keeps no copy of the partition: espat runs thousands of modules, each with two
// stores. It keeps an index (nvs_format.hpp): per page its state, sequence number, where its free
// entries start and how many entries hold records; per valid record its place, key, type, span
// and the 8 data bytes of its header (integers, sizes, blob indexes). Strings and blobs are read
// from the region when asked for. The load scans the region into the index; each write then
// updates the index as a fresh scan of the written bytes would, and resolve() works out the
// current values again, so every decision is taken on exactly what a fresh load would see.
// Crash-safe order of the flash writes:
//  * an item: entry bytes, then its bitmap bits WRITTEN (one write), then older versions ERASED;
//  * a blob: chunks (chunkIndex from chunkStart 0 or 128, the one the old version does not use),
//    then the index, then the old index, then the old chunks;
//  * a new page: the full page is marked FULL, then the new header is written ACTIVE;
//  * garbage collection: current page FULL, victim FREEING, new page ACTIVE, live records copied,
//    victim erased. A FREEING page at load is a GC cut short: the newer ACTIVE page it was
//    copying into is erased (once checked to hold nothing but copies) and the copy redone.
// Loading a writable partition repairs what a crash leaves: it finishes an interrupted GC and
// marks ERASED the entries that hold nothing live (older duplicates, orphan blob chunks,
// half-written entries, entries with a bad CRC). Pages that are not valid NVS pages are never
// erased or written, except by erase_all().
// A foreign partition (not blank and no valid NVS page) reads as empty; set/erase_key/
// erase_namespace return Error::ReadOnly on it. erase_all() still formats it (as
// nvs_flash_erase does); afterwards the storage is blank and writable.
// A Storage assumes it is the only writer of its region while it exists.
#include "flash/nvs.hpp"

#include <algorithm>
#include <bitset>
#include <fmt/format.h>
#include <functional>
#include <limits>

#include "flash/nvs_format.hpp"

namespace espat::flash::nvs {

using namespace detail;

const char* to_string(Error e) {
  switch (e) {
    case Error::None: return "none";
    case Error::NotFound: return "not found";
    case Error::TypeMismatch: return "type mismatch";
    case Error::InvalidName: return "invalid name";
    case Error::ValueTooLong: return "value too long";
    case Error::NoSpace: return "no space";
    case Error::TooManyNamespaces: return "too many namespaces";
    case Error::ReadOnly: return "read-only";
  }
  return "unknown";
}

namespace {

bool valid_name(std::string_view s) {
  return !s.empty() && s.size() <= kMaxKeyLen && s.find('\0') == std::string_view::npos;
}

// The value as it reads back: integers cut to their type's width.
std::optional<Value> normalize(const Value& v) {
  Value n{v.type, 0, {}};
  switch (v.type) {
    case Type::U8: n.integer = static_cast<std::uint8_t>(v.integer); break;
    case Type::I8: n.integer = static_cast<std::int8_t>(v.integer); break;
    case Type::U16: n.integer = static_cast<std::uint16_t>(v.integer); break;
    case Type::I16: n.integer = static_cast<std::int16_t>(v.integer); break;
    case Type::U32: n.integer = static_cast<std::uint32_t>(v.integer); break;
    case Type::I32: n.integer = static_cast<std::int32_t>(v.integer); break;
    case Type::U64:
    case Type::I64: n.integer = v.integer; break;
    case Type::Str:
    case Type::Blob: n.bytes = v.bytes; break;
    default: return std::nullopt;
  }
  return n;
}

// The value's type as get() reports it.
Type value_type(const Record& r) {
  if (r.type == type::Str) return Type::Str;
  if (r.type == type::BlobIndex || r.type == type::LegacyBlob) return Type::Blob;
  return static_cast<Type>(r.type);
}

Range range_of(const Record& r) { return {r.page(), r.entry(), r.span}; }

}  // namespace

struct Storage::Impl {
  Region& region;
  std::size_t page_count;
  Index ix;                         // pages and records; updated with each write
  bool needs_repair = false;        // a write failed half-way: repair before the next one
  bool stale = false;               // the index could not be rebuilt after that failure
  std::vector<std::string> notes;   // what repair could not do

  explicit Impl(Region& r) : region(r), page_count(r.size() / kSectorSize) {}

  // Builds the index from what the region holds (at load, and after a failed write).
  void reload(std::vector<std::string>* problems = nullptr) { ix = scan(region, problems); }
  // Works out again which records make up the current values. The pages and records are kept
  // up to date by the writes below; this is the rest of what a fresh scan would find.
  void refresh() { resolve(ix); }

  // Runs a mutation; after an exception (a failed or cut-off flash write, a failed read) the
  // index is rebuilt from the region and the next mutation first repairs, as a reboot would.
  // When the region cannot even be read then, the index is rebuilt before that repair: a
  // repair must never work from an index that misses what the failed operation wrote.
  Error run(const std::function<Error()>& f) {
    try {
      if (stale) {
        reload();
        stale = false;
      }
      if (needs_repair) repair();
      const Error e = f();
      ix.records.shrink_to_fit();  // keep no spare capacity between operations
      return e;
    } catch (...) {
      needs_repair = true;
      try {
        reload();
        stale = false;
      } catch (...) {
        stale = true;
        refresh();  // the items must at least match the records for reads until then
      }
      throw;
    }
  }

  // ---- reads ------------------------------------------------------------------------------

  std::size_t entry_offset(std::size_t page, std::size_t entry) const {
    return page * kSectorSize + kEntriesOffset + entry * kEntrySize;
  }

  std::vector<std::uint8_t> read_page(std::size_t p) const { return region.read(p * kSectorSize, kSectorSize); }

  // The data entries of a string or blob chunk, up to its size.
  std::vector<std::uint8_t> payload(const Record& r) const {
    if (r.payload_size() == 0) return {};
    return region.read(entry_offset(r.page(), r.entry() + 1), r.payload_size());
  }

  Value read_value(const Item& item) const {
    const Record& r = ix.records[item.primary];
    switch (r.type) {
      case type::BlobIndex: {
        Value v = Value::blob({});
        v.bytes.reserve(le32(r.data.data()));
        for (std::uint32_t c : ix.chunks_of(item)) {
          const auto part = payload(ix.records[c]);
          v.bytes.insert(v.bytes.end(), part.begin(), part.end());
        }
        return v;
      }
      case type::Str: {
        std::vector<std::uint8_t> s = payload(r);
        if (!s.empty() && s.back() == 0) s.pop_back();
        return {Type::Str, 0, std::move(s)};
      }
      case type::LegacyBlob: return Value::blob(payload(r));
      default: return primitive_value(r);
    }
  }

  // True when the item holds v. A string or blob of another length is told apart without
  // reading it from the region.
  bool holds(const Item& item, const Value& v) const {
    const Record& r = ix.records[item.primary];
    if (value_type(r) != v.type) return false;
    const std::size_t n = v.bytes.size();
    if (r.type == type::Str && n != r.payload_size() && n + 1 != r.payload_size()) return false;
    if (r.type == type::LegacyBlob && n != r.payload_size()) return false;
    if (r.type == type::BlobIndex && n != le32(r.data.data())) return false;
    return read_value(item) == v;
  }

  // ---- flash writes: the region first, then the index (NOR: bits only clear) --------------

  void program(std::size_t offset, std::span<const std::uint8_t> bytes) { region.write(offset, bytes); }

  void erase_page(std::size_t p) {
    region.erase_sector(p * kSectorSize);
    ix.pages[p] = PageInfo{};
    std::erase(ix.order, p);
    std::erase_if(ix.records, [&](const Record& r) { return r.page() == p; });
    std::erase_if(ix.bad, [&](const Range& b) { return b.page == p; });
  }

  // One write for the bitmap bytes of a range of entries. The bytes around the range are
  // written as they are on flash, so they are read from it first.
  void set_states(const Range& r, EntryState s) {
    const std::size_t base = r.page * kSectorSize + kBitmapOffset;
    const std::size_t lo = r.first / 4, hi = (r.first + r.count - 1) / 4;
    const std::vector<std::uint8_t> now = region.read(base + lo, hi - lo + 1);
    std::vector<std::uint8_t> bytes = now;
    for (std::size_t i = r.first; i < r.first + r.count; ++i) {
      const unsigned shift = (i % 4) * 2;
      bytes[i / 4 - lo] &= static_cast<std::uint8_t>(~(3u << shift) | (static_cast<unsigned>(s) << shift));
    }
    if (bytes != now) program(base + lo, bytes);
    if (s != EntryState::Erased) return;
    // Erased entries hold no record, and are no longer bad.
    std::erase_if(ix.records, [&](const Record& rec) {
      const bool inside = rec.page() == r.page && rec.entry() >= r.first && rec.entry() < r.first + r.count;
      if (inside) ix.pages[r.page].live = static_cast<std::uint8_t>(ix.pages[r.page].live - rec.span);
      return inside;
    });
    std::erase_if(ix.bad, [&](const Range& b) {
      return b.page == r.page && b.first >= r.first && b.first + b.count <= r.first + r.count;
    });
  }

  // A whole record at the free end of the newest page: its entries, then their bitmap state.
  void write_record(std::size_t page, std::size_t first, std::span<const std::uint8_t> bytes) {
    const std::size_t span = bytes.size() / kEntrySize;
    program(entry_offset(page, first), bytes);
    set_states({page, first, span}, EntryState::Written);
    // The newest page sorts last and the entry follows every other on it: storage order holds.
    ix.records.push_back(record_of(page, first, bytes.first(kEntrySize)));
    ix.pages[page].next_free = static_cast<std::uint8_t>(first + span);
    ix.pages[page].live = static_cast<std::uint8_t>(ix.pages[page].live + span);
  }

  void set_page_state(std::size_t p, std::uint32_t s) {
    const std::array<std::uint8_t, 4> b{static_cast<std::uint8_t>(s), static_cast<std::uint8_t>(s >> 8),
                                        static_cast<std::uint8_t>(s >> 16), static_cast<std::uint8_t>(s >> 24)};
    program(p * kSectorSize, b);
    ix.pages[p].state &= s;
  }

  void init_page(std::size_t p, std::uint32_t seq) {
    if (ix.pages[p].kind != PageKind::Blank) erase_page(p);  // only a blank page is all FF
    program(p * kSectorSize, make_header(state::Active, seq));
    ix.pages[p] = PageInfo{state::Active, seq, PageKind::Valid, 0, 0};
    ix.order.push_back(static_cast<std::uint32_t>(p));  // its seq is above every other
  }

  std::uint32_t next_seq() const {
    const auto max = ix.max_seq();
    return max ? *max + 1 : 0;
  }
  // A new page must sort after every other one; past the last sequence number none can.
  bool seq_exhausted() const { return ix.max_seq() == std::numeric_limits<std::uint32_t>::max(); }

  // ---- pages ------------------------------------------------------------------------------

  std::size_t blank_count() const {
    return static_cast<std::size_t>(std::count_if(ix.pages.begin(), ix.pages.end(),
                                                  [](const PageInfo& p) { return p.kind == PageKind::Blank; }));
  }

  // The first blank page after the newest one, so that pages are used in turn.
  std::optional<std::size_t> pick_blank() const {
    const std::size_t start = ix.order.empty() ? 0 : ix.order.back() + 1;
    for (std::size_t k = 0; k < page_count; ++k) {
      const std::size_t p = (start + k) % page_count;
      if (ix.pages[p].kind == PageKind::Blank) return p;
    }
    return std::nullopt;
  }

  // The page whose collection frees the most entries; the oldest on a tie.
  std::optional<std::size_t> pick_victim() const {
    std::optional<std::size_t> best;
    for (std::size_t p : ix.order) {
      const PageInfo& info = ix.pages[p];
      if (info.state == state::Freeing) continue;
      if (!best || info.live < ix.pages[*best].live) best = p;
    }
    return best;
  }

  void close_active() {
    const auto active = ix.active();
    if (!active) return;
    set_page_state(*active, state::Full);
    refresh();
  }

  void copy_records(std::size_t from, std::size_t to) {
    std::size_t next = ix.pages[to].next_free;
    const std::vector<std::uint8_t> page = read_page(from);
    std::vector<Range> moving;
    for (const Record& r : ix.records)
      if (r.page() == from) moving.push_back(range_of(r));
    for (const Range& r : moving) {
      write_record(to, next, std::span(page).subspan(kEntriesOffset + r.first * kEntrySize, r.count * kEntrySize));
      next += r.count;
    }
    refresh();
  }

  // Garbage collection of one page into the reserve page.
  void collect(std::size_t victim, std::size_t target) {
    set_page_state(victim, state::Freeing);
    init_page(target, next_seq());
    refresh();
    copy_records(victim, target);
    erase_page(victim);
    refresh();
  }

  // Makes the active page hold at least `span` free entries, keeping one blank page in reserve.
  Error make_room(std::size_t span) {
    const auto active = ix.active();
    if (active && ix.pages[*active].free() >= span) return Error::None;
    const auto blank = pick_blank();
    if (!blank || seq_exhausted()) return Error::NoSpace;
    if (blank_count() >= 2) {
      close_active();
      init_page(*blank, next_seq());
      refresh();
      return Error::None;
    }
    const auto victim = pick_victim();
    if (!victim || kEntriesPerPage - ix.pages[*victim].live < span) return Error::NoSpace;
    close_active();
    collect(*victim, *blank);
    return Error::None;
  }

  // Appends whole entries to the active page: bytes first, then their bitmap state.
  Error append(std::span<const std::uint8_t> bytes) {
    const std::size_t span = bytes.size() / kEntrySize;
    if (Error e = make_room(span); e != Error::None) return e;
    const std::size_t page = *ix.active();
    write_record(page, ix.pages[page].next_free, bytes);
    refresh();
    return Error::None;
  }

  // ---- recovery ---------------------------------------------------------------------------

  // True when every record of `page` is a byte-identical copy of one in `victim`.
  bool holds_only_copies(std::size_t page, std::size_t victim) const {
    const std::vector<std::uint8_t> a = read_page(page), b = read_page(victim);
    auto bytes = [](const std::vector<std::uint8_t>& pg, const Record& r) {
      return std::span(pg).subspan(kEntriesOffset + r.entry() * kEntrySize, r.span * kEntrySize);
    };
    for (const Record& r : ix.records) {
      if (r.page() != page) continue;
      const bool copied = std::any_of(ix.records.begin(), ix.records.end(), [&](const Record& q) {
        return q.page() == victim && q.span == r.span && std::ranges::equal(bytes(b, q), bytes(a, r));
      });
      if (!copied) return false;
    }
    return true;
  }

  // Redoes a garbage collection cut short: the victim still holds every live record, the newer
  // ACTIVE page it was copying into holds only copies and is started again.
  bool finish_gc(std::size_t victim) {
    if (ix.pages[victim].live == 0) {  // nothing left to copy
      erase_page(victim);
      refresh();
      return true;
    }
    const std::size_t newest = ix.order.back();
    if (newest != victim && ix.pages[newest].state == state::Active && ix.pages[newest].seq > ix.pages[victim].seq) {
      if (!holds_only_copies(newest, victim)) {
        notes.push_back(fmt::format("page 0x{:x} is FREEING but page 0x{:x} holds more than its copies: left as is",
                                    victim * kSectorSize, newest * kSectorSize));
        return false;
      }
      erase_page(newest);
      refresh();
    }
    const auto blank = pick_blank();
    if (!blank || seq_exhausted()) {
      notes.push_back(fmt::format("no free page to finish the collection of page 0x{:x}", victim * kSectorSize));
      return false;
    }
    init_page(*blank, next_seq());
    refresh();
    copy_records(victim, *blank);
    erase_page(victim);
    refresh();
    return true;
  }

  // Finishes an interrupted garbage collection, then marks erased what holds nothing live:
  // entries that are no record (in scan order), then the losers.
  void repair() {
    for (std::size_t guard = 0; guard < page_count; ++guard) {
      auto it = std::find_if(ix.order.begin(), ix.order.end(),
                             [&](std::size_t p) { return ix.pages[p].state == state::Freeing; });
      if (it == ix.order.end() || !finish_gc(*it)) break;
    }
    std::vector<Range> garbage = ix.bad;
    for (std::uint32_t r : ix.losers) garbage.push_back(range_of(ix.records[r]));
    if (!garbage.empty()) {
      for (const Range& r : garbage) set_states(r, EntryState::Erased);
      refresh();
    }
    needs_repair = false;
  }

  // ---- items ------------------------------------------------------------------------------

  // Marks records erased: indexes and single items before blob chunks, so that a crash in
  // between leaves orphan chunks, never an index without its chunks.
  void erase_records(const std::function<bool(const Record&)>& pick) {
    std::vector<Range> first, later;
    for (const Record& rec : ix.records) {
      if (!pick(rec)) continue;
      (rec.type == type::BlobData ? later : first).push_back(range_of(rec));
    }
    for (const Range& rg : first) set_states(rg, EntryState::Erased);
    for (const Range& rg : later) set_states(rg, EntryState::Erased);
    refresh();
  }

  static bool same_key(const Record& r, std::uint8_t ns, std::string_view key) {
    return r.ns == ns && r.key_view() == key;
  }

  // Erases every record of the key that is not part of its current value.
  void erase_losers(std::uint8_t ns, std::string_view key) {
    std::vector<std::uint32_t> keep;  // slots of the current value's records
    if (const Item* item = ix.find(ns, key)) {
      keep.push_back(ix.records[item->primary].slot);
      for (std::uint32_t c : ix.chunks_of(*item)) keep.push_back(ix.records[c].slot);
    }
    erase_records([&](const Record& r) {
      return same_key(r, ns, key) && std::find(keep.begin(), keep.end(), r.slot) == keep.end();
    });
  }

  Error create_namespace(std::string_view name, std::optional<std::uint8_t>& index) {
    std::bitset<256> used;
    for (const Record& r : ix.records) used.set(r.ns);
    for (std::uint32_t r : ix.namespaces) used.set(ix.records[r].data[0]);
    std::uint8_t idx = 1;
    while (idx < 0xFF && used.test(idx)) ++idx;
    if (idx == 0xFF) return Error::TooManyNamespaces;
    const auto entry = make_entry(0, 0x01, 1, kChunkAny, name, primitive_data(Type::U8, idx));
    if (Error e = append(entry); e != Error::None) return e;
    index = ix.ns_index(name);
    return index ? Error::None : Error::NoSpace;
  }

  Error write_single(std::uint8_t ns, std::string_view key, const Value& v) {
    std::vector<std::uint8_t> bytes;
    if (v.type == Type::Str) {
      std::vector<std::uint8_t> payload = v.bytes;
      payload.push_back(0);
      bytes = make_var_item(ns, type::Str, kChunkAny, key, payload);
      // The generator never lets a string end on a page's last entry (its test is entry_num +
      // span >= 126): it starts a new page. A 126-entry string (runtime only) fills a page anyway.
      // When no page can be had, make_room changes nothing and the string still fits where it is.
      const std::size_t span = bytes.size() / kEntrySize;
      if (span < kEntriesPerPage && ix.active() && ix.pages[*ix.active()].free() == span) (void)make_room(span + 1);
    } else {
      const auto t = static_cast<std::uint8_t>(v.type);
      const auto e = make_entry(ns, t, 1, kChunkAny, key, primitive_data(v.type, v.integer));
      bytes.assign(e.begin(), e.end());
    }
    if (Error e = append(bytes); e != Error::None) return e;
    erase_losers(ns, key);
    return Error::None;
  }

  std::uint8_t free_chunk_start(std::uint8_t ns, std::string_view key) const {
    for (const Record& r : ix.records)
      if (same_key(r, ns, key) && r.type == type::BlobIndex && r.data[5] == 0) return kBlobVersionOffset;
    return 0;
  }

  // The chunks then the index; on failure the new chunks are erased and the old value stays.
  Error write_blob(std::uint8_t ns, std::string_view key, std::span<const std::uint8_t> data) {
    const std::uint8_t start = free_chunk_start(ns, key);
    auto fail = [&](Error e) {
      erase_losers(ns, key);
      return e;
    };
    std::size_t off = 0, count = 0;
    do {
      if (count == kMaxChunks) return fail(Error::NoSpace);
      const std::size_t remaining = data.size() - off;
      // A chunk takes whatever room the page has left, as the partition generator does. The
      // first one even takes a lone last entry: the generator writes a zero-length chunk there
      // (its tailroom is 0) and goes on with the next chunk index on a new page.
      const bool last_entry = count == 0 && ix.active() && ix.pages[*ix.active()].free() == 1;
      if (Error e = make_room(last_entry ? 1 : std::min<std::size_t>(var_span(remaining), 2)); e != Error::None)
        return fail(e);
      const std::size_t room = (ix.pages[*ix.active()].free() - 1) * kEntrySize;
      const std::size_t len = std::min(remaining, room);
      const auto chunk = static_cast<std::uint8_t>(start + count);
      if (Error e = append(make_var_item(ns, type::BlobData, chunk, key, data.subspan(off, len))); e != Error::None)
        return fail(e);
      off += len;
      ++count;
    } while (off < data.size());
    const auto size = static_cast<std::uint32_t>(data.size());
    const std::array<std::uint8_t, 8> index{static_cast<std::uint8_t>(size), static_cast<std::uint8_t>(size >> 8),
                                            static_cast<std::uint8_t>(size >> 16), static_cast<std::uint8_t>(size >> 24),
                                            static_cast<std::uint8_t>(count), start, 0xFF, 0xFF};
    if (Error e = append(make_entry(ns, type::BlobIndex, 1, kChunkAny, key, index)); e != Error::None) return fail(e);
    erase_losers(ns, key);
    return Error::None;
  }

  Error set(std::string_view ns, std::string_view key, const Value& v) {
    auto index = ix.ns_index(ns);
    if (index) {
      const Item* item = ix.find(*index, key);
      if (item && holds(*item, v)) return Error::None;
    } else if (Error e = create_namespace(ns, index); e != Error::None) {
      return e;
    }
    return v.type == Type::Blob ? write_blob(*index, key, v.bytes) : write_single(*index, key, v);
  }

  Error erase_key(std::string_view ns, std::string_view key) {
    const auto index = ix.ns_index(ns);
    if (!index || !ix.find(*index, key)) return Error::NotFound;
    erase_records([&](const Record& r) { return same_key(r, *index, key); });
    return Error::None;
  }

  Error erase_namespace(std::string_view ns) {
    const auto index = ix.ns_index(ns);
    if (!index) return Error::NotFound;
    erase_records([&](const Record& r) { return r.ns == *index; });
    return Error::None;
  }

  Error erase_all() {
    for (std::size_t p = 0; p < page_count; ++p)
      if (ix.pages[p].kind != PageKind::Blank) erase_page(p);
    refresh();
    needs_repair = false;
    return Error::None;
  }
};

Storage::Storage(Region& region, bool read_only) : region_(region), read_only_(read_only) {
  if (region.size() < 3 * kSectorSize || region.size() % kSectorSize)
    throw FlashError(fmt::format("NVS partition of 0x{:x} bytes: needs at least 3 whole 4 KiB sectors", region.size()));
  impl_ = std::make_shared<Impl>(region);
  impl_->reload(&problems_);
  foreign_ = !impl_->ix.blank && !impl_->ix.has_valid;
  if (foreign_) {
    problems_.push_back("the partition holds no valid NVS page and is not blank: not NVS, left untouched");
    return;
  }
  if (read_only_) return;
  impl_->repair();
  problems_.insert(problems_.end(), impl_->notes.begin(), impl_->notes.end());
}

std::vector<std::string> Storage::namespaces() const {
  const Index& ix = impl_->ix;
  std::vector<std::pair<std::uint8_t, std::string>> list;
  for (std::uint32_t r : ix.namespaces) list.emplace_back(ix.records[r].data[0], ix.records[r].key_view());
  std::sort(list.begin(), list.end());
  std::vector<std::string> out;
  for (auto& [index, name] : list) out.push_back(std::move(name));
  return out;
}

std::vector<KeyInfo> Storage::keys(std::string_view ns) const {
  const Index& ix = impl_->ix;
  const auto index = ix.ns_index(ns);
  if (!index) return {};
  std::vector<std::pair<std::uint32_t, KeyInfo>> list;  // records are in storage order
  for (const Item& item : ix.items) {
    const Record& r = ix.records[item.primary];
    if (r.ns == *index) list.push_back({item.primary, {std::string(r.key_view()), value_type(r)}});
  }
  std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<KeyInfo> out;
  for (auto& [position, info] : list) out.push_back(std::move(info));
  return out;
}

std::optional<Value> Storage::get(std::string_view ns, std::string_view key) const {
  const Index& ix = impl_->ix;
  const auto index = ix.ns_index(ns);
  if (!index) return std::nullopt;
  const Item* item = ix.find(*index, key);
  if (!item) return std::nullopt;
  return impl_->read_value(*item);
}
Error Storage::set(std::string_view ns, std::string_view key, const Value& value) {
  if (read_only_ || foreign_) return Error::ReadOnly;
  if (!valid_name(ns) || !valid_name(key)) return Error::InvalidName;
  const auto v = normalize(value);
  if (!v) return Error::TypeMismatch;
  if (v->type == Type::Str && v->bytes.size() + 1 > kMaxStringBytes) return Error::ValueTooLong;
  const std::size_t usable_pages = std::min<std::size_t>(impl_->page_count - 1, kMaxChunks);
  if (v->type == Type::Blob && v->bytes.size() > std::min(kMaxBlobBytes, usable_pages * kMaxChunkBytes))
    return Error::ValueTooLong;
  return impl_->run([&] { return impl_->set(ns, key, *v); });
}

Error Storage::erase_key(std::string_view ns, std::string_view key) {
  if (read_only_ || foreign_) return Error::ReadOnly;
  if (!valid_name(ns) || !valid_name(key)) return Error::InvalidName;
  return impl_->run([&] { return impl_->erase_key(ns, key); });
}

Error Storage::erase_namespace(std::string_view ns) {
  if (read_only_ || foreign_) return Error::ReadOnly;
  if (!valid_name(ns)) return Error::InvalidName;
  return impl_->run([&] { return impl_->erase_namespace(ns); });
}

Error Storage::erase_all() {
  if (read_only_) return Error::ReadOnly;
  const Error e = impl_->run([&] { return impl_->erase_all(); });
  foreign_ = false;
  return e;
}

}  // namespace espat::flash::nvs
