// Internal to the NVS implementation: the on-flash layout of NVS pages (esp-at-formats.md §7.4)
// and a pure parser that turns the bytes of a partition into pages, records and resolved values.
// Nothing here writes flash; nvs.cpp decides what to write from a parsed Layout.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flash/nvs.hpp"

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

enum class PageKind {
  Blank,       // all FF: free
  Valid,       // ACTIVE, FULL or FREEING with a good header
  Garbage,     // no header but not all FF
  BadHeader,   // header CRC mismatch
  BadVersion,  // a format this code does not know
  BadState,    // CORRUPT or an unknown state word
};

struct PageInfo {
  PageKind kind = PageKind::Blank;
  std::uint32_t state = state::Uninitialized;
  std::uint32_t seq = 0;
  std::array<EntryState, kEntriesPerPage> states{};
  std::size_t next_free = 0;  // entries [next_free, 126) are empty and all FF
  std::size_t live = 0;       // entries held by valid records
  std::size_t free() const { return kEntriesPerPage - next_free; }
};

// One valid item on flash: a header entry with a good CRC and, for strings and blob chunks,
// its data entries with a good data CRC.
struct Record {
  std::size_t page = 0;   // sector index in the partition
  std::size_t entry = 0;  // index of the header entry
  std::uint8_t ns = 0, type = 0, span = 1, chunk = kChunkAny;
  std::string key;
  std::array<std::uint8_t, 8> data{};
  std::vector<std::uint8_t> payload;  // strings, blob chunks, legacy blobs
  std::size_t rank = 0;               // storage order: page by seq, then entry index
};

// The value a key resolves to and the records that make it up.
struct Item {
  Value value;
  std::size_t primary = 0;          // index in Layout::records (the index entry for v2 blobs)
  std::vector<std::size_t> parts;   // primary first, then blob chunks
};

struct Range {
  std::size_t page, first, count;
};

struct Layout {
  std::vector<PageInfo> pages;
  std::vector<std::size_t> order;  // Valid pages by ascending seq
  std::vector<Record> records;     // valid records in storage order
  std::map<std::string, std::uint8_t> namespaces;
  std::map<std::pair<std::uint8_t, std::string>, Item> items;
  std::vector<Range> garbage;  // entries holding nothing live: losers, orphans, half-written, bad
  std::vector<std::string> problems;
  bool blank = true;       // every page all FF
  bool has_valid = false;  // at least one Valid page
  std::optional<std::uint32_t> max_seq;  // over all pages with a good header
  std::optional<std::size_t> active;     // the newest page when it is ACTIVE: takes new entries

  const Item* find(std::uint8_t ns, std::string_view key) const;
  std::optional<std::uint8_t> ns_index(std::string_view name) const;
};

Layout parse(std::span<const std::uint8_t> flash);
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

inline std::uint32_t le32(const std::uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

}  // namespace espat::flash::nvs::detail
