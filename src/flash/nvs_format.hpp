// Internal to the NVS implementation: the on-flash layout of NVS pages (esp-at-formats.md §7.4)
// and the scan that turns a partition into an index of pages and records.
// Nothing here writes flash; nvs.cpp decides what to write from the Index.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flash/nvs.hpp"
#include "flash/region.hpp"

namespace espat::flash::nvs::detail {

inline constexpr std::size_t kEntrySize = 32;
inline constexpr std::size_t kEntriesPerPage = 126;
inline constexpr std::size_t kBitmapOffset = 32;
inline constexpr std::size_t kEntriesOffset = 64;
inline constexpr std::uint8_t kVersion1 = 0xFF;
inline constexpr std::uint8_t kVersion2 = 0xFE;
inline constexpr std::uint8_t kChunkAny = 0xFF;
inline constexpr std::size_t kMaxChunkBytes = (kEntriesPerPage - 1) * kEntrySize;  // 4000
inline constexpr std::uint8_t kBlobVersionOffset = 128;  // chunkStart alternates 0 / 128
inline constexpr std::size_t kMaxChunks = 127;           // chunk indices of one version

namespace state {
inline constexpr std::uint32_t Uninitialized = 0xFFFFFFFF;
inline constexpr std::uint32_t Active = 0xFFFFFFFE;
inline constexpr std::uint32_t Full = 0xFFFFFFFC;
inline constexpr std::uint32_t Freeing = 0xFFFFFFF8;
inline constexpr std::uint32_t Corrupt = 0xFFFFFFF0;
}  // namespace state

namespace type {
inline constexpr std::uint8_t Str = 0x21;
inline constexpr std::uint8_t LegacyBlob = 0x41;
inline constexpr std::uint8_t BlobData = 0x42;
inline constexpr std::uint8_t BlobIndex = 0x48;
}  // namespace type

// 2-bit entry states of the bitmap; a transition may only clear bits.
enum class EntryState : std::uint8_t { Erased = 0, Illegal = 1, Written = 2, Empty = 3 };

enum class PageKind : std::uint8_t {
  Blank,       // all FF: free
  Valid,       // ACTIVE, FULL or FREEING with a good header
  Garbage,     // no header but not all FF
  BadHeader,   // header CRC mismatch
  BadVersion,  // a format this code does not know
  BadState,    // CORRUPT or an unknown state word
};

// What the store keeps of a page. The 2-bit entry states stay on flash: they are read when a
// range of them changes, and every decision needs only where the free entries start and how
// many entries hold records.
struct PageInfo {
  std::uint32_t state = state::Uninitialized;
  std::uint32_t seq = 0;
  PageKind kind = PageKind::Blank;
  std::uint8_t next_free = 0;  // entries [next_free, 126) are empty and all FF
  std::uint8_t live = 0;       // entries held by valid records
  std::size_t free() const { return kEntriesPerPage - next_free; }
  bool has_header() const {  // a header with a good CRC: its seq counts
    return kind == PageKind::Valid || kind == PageKind::BadVersion || kind == PageKind::BadState;
  }
};

// One valid item on flash: a header entry with a good CRC and, for strings and blob chunks,
// its data entries with a good data CRC (checked when the page is scanned). The payload stays
// on flash; data[] is the header's 8 data bytes (an integer, a payload size, a blob index).
struct Record {
  std::uint32_t slot = 0;  // page * kEntriesPerPage + index of the header entry
  std::uint8_t ns = 0, type = 0, span = 1, chunk = kChunkAny;
  std::array<std::uint8_t, 8> data{};
  std::array<char, 16> key{};  // NUL padded (a key has at most 15 characters)

  std::size_t page() const { return slot / kEntriesPerPage; }
  std::size_t entry() const { return slot % kEntriesPerPage; }
  std::string_view key_view() const { return {key.data(), std::char_traits<char>::length(key.data())}; }
  std::size_t payload_size() const { return data[0] | (data[1] << 8); }  // strings, blob chunks
};

// A key's current value: its record (the index entry for v2 blobs) and, for v2 blobs, the
// chunks in order, as Index::chunks[first_chunk, first_chunk + chunk_count).
struct Item {
  std::uint32_t primary = 0;  // index in Index::records
  std::uint32_t first_chunk = 0;
  std::uint32_t chunk_count = 0;
};

struct Range {
  std::size_t page, first, count;
};

// What a Storage keeps in RAM of its partition. scan() builds the pages and records from the
// region; a Storage then updates them along with each flash write it makes, and resolve()
// derives the namespaces and items (which version of a key is current) from the records.
struct Index {
  std::vector<PageInfo> pages;
  std::vector<std::uint32_t> order;  // Valid pages by ascending seq
  std::vector<Record> records;       // valid records in storage order (page by seq, then entry)
  std::vector<Range> bad;            // entries that are no record: half-written, bad CRC, invalid
  bool blank = true;                 // every page all FF (at the scan)
  bool has_valid = false;            // at least one Valid page (at the scan)

  // From resolve():
  std::vector<std::uint32_t> namespaces;  // newest namespace record of each name, by name
  std::vector<Item> items;                // by (namespace index, key)
  std::vector<std::uint32_t> chunks;      // record indices of the blob chunks of items
  std::vector<std::uint32_t> losers;      // records that hold nothing live, in the order to erase

  const Item* find(std::uint8_t ns, std::string_view key) const;
  std::optional<std::uint8_t> ns_index(std::string_view name) const;
  std::optional<std::uint32_t> max_seq() const;  // over all pages with a good header
  std::optional<std::size_t> active() const;     // the newest page when it is ACTIVE: takes new entries
  std::span<const std::uint32_t> chunks_of(const Item& item) const {
    return std::span(chunks).subspan(item.first_chunk, item.chunk_count);
  }
};

// Reads the partition into an index (then resolve()d). Problems found are appended to
// *problems when given.
Index scan(const Region& region, std::vector<std::string>* problems = nullptr);
// Derives namespaces, items and losers from the records: the newest complete version of a key
// wins, everything else of that key is a loser.
void resolve(Index& ix, std::vector<std::string>* problems = nullptr);
// The header entry of a record written by this code (its CRC is known good).
Record record_of(std::size_t page, std::size_t entry, std::span<const std::uint8_t> header);
bool is_erased(std::span<const std::uint8_t> bytes);  // all FF

using EntryBytes = std::array<std::uint8_t, kEntrySize>;
std::array<std::uint8_t, 32> make_header(std::uint32_t page_state, std::uint32_t seq);
EntryBytes make_entry(std::uint8_t ns, std::uint8_t type, std::uint8_t span, std::uint8_t chunk,
                      std::string_view key, const std::array<std::uint8_t, 8>& data);
// Header entry followed by the data entries of a string or blob chunk.
std::vector<std::uint8_t> make_var_item(std::uint8_t ns, std::uint8_t type, std::uint8_t chunk,
                                        std::string_view key, std::span<const std::uint8_t> payload);
std::size_t var_span(std::size_t payload_size);
std::array<std::uint8_t, 8> primitive_data(Type t, std::int64_t v);
std::size_t primitive_width(std::uint8_t type);  // 0 when not a primitive type
Value primitive_value(const Record& r);          // r holds a primitive type

inline std::uint32_t le32(const std::uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

}  // namespace espat::flash::nvs::detail
