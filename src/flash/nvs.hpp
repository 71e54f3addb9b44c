// ESP-IDF NVS, format version 2 (reference esp-at-formats.md §7.4), written by hand: no packaged
// library reads or writes it. A Storage works on one NVS partition (a Region) the way the
// ESP-IDF runtime does: entries are appended, an overwritten entry is erased after its
// replacement is complete, full pages are reclaimed by garbage collection. Every write is
// ordered so that a crash (kill -9) between any two flash writes leaves the old or the new value.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "flash/region.hpp"

namespace espat::flash::nvs {

enum class Type : std::uint8_t {
  U8 = 0x01, I8 = 0x11, U16 = 0x02, I16 = 0x12, U32 = 0x04, I32 = 0x14, U64 = 0x08, I64 = 0x18,
  Str = 0x21, Blob = 0x42,  // Blob: a v2 multi-page blob (blob_index + blob_data chunks)
};

// The type's name as nvs_partition_gen.py spells the encodings ("u8" ... "i64", "string");
// a blob is "blob" (its CSV encoding depends on how the bytes are written out).
constexpr std::string_view type_name(Type t) {
  switch (t) {
    case Type::U8: return "u8";
    case Type::I8: return "i8";
    case Type::U16: return "u16";
    case Type::I16: return "i16";
    case Type::U32: return "u32";
    case Type::I32: return "i32";
    case Type::U64: return "u64";
    case Type::I64: return "i64";
    case Type::Str: return "string";
    case Type::Blob: return "blob";
  }
  return "?";
}

// A decoded value. Integers keep their NVS type; strings exclude the terminating NUL.
struct Value {
  Type type = Type::U8;
  std::int64_t integer = 0;           // U8..I64 (U64 stored as its bit pattern)
  std::vector<std::uint8_t> bytes;    // Str (without NUL) and Blob

  static Value u8(std::uint8_t v) { return {Type::U8, v, {}}; }
  static Value i8(std::int8_t v) { return {Type::I8, v, {}}; }
  static Value u16(std::uint16_t v) { return {Type::U16, v, {}}; }
  static Value i16(std::int16_t v) { return {Type::I16, v, {}}; }
  static Value u32(std::uint32_t v) { return {Type::U32, v, {}}; }
  static Value i32(std::int32_t v) { return {Type::I32, v, {}}; }
  static Value u64(std::uint64_t v) { return {Type::U64, static_cast<std::int64_t>(v), {}}; }
  static Value i64(std::int64_t v) { return {Type::I64, v, {}}; }
  static Value str(std::string_view s) { return {Type::Str, 0, {s.begin(), s.end()}}; }
  static Value blob(std::vector<std::uint8_t> b) { return {Type::Blob, 0, std::move(b)}; }
  std::string as_string() const { return {bytes.begin(), bytes.end()}; }
  bool operator==(const Value&) const = default;
};

struct KeyInfo {
  std::string key;
  Type type;
};

// Limits of the format (ESP-IDF nvs_flash).
inline constexpr std::size_t kMaxKeyLen = 15;
inline constexpr std::size_t kMaxStringBytes = 4000;  // including the NUL
inline constexpr std::size_t kMaxBlobBytes = 508000;  // runtime limit for v2 blobs on a large partition

enum class Error {
  None,
  NotFound,       // key or namespace absent
  TypeMismatch,   // get with another type than stored
  InvalidName,    // empty or > 15 chars key/namespace
  ValueTooLong,   // string > 4000 bytes with NUL, blob too large for the partition
  NoSpace,        // partition full even after garbage collection
  TooManyNamespaces,
  ReadOnly,       // storage opened read-only
};
const char* to_string(Error);

class Storage {
 public:
  // Loads a partition. A partition with pages that are not NVS (wrong CRC, foreign data) is still
  // loaded: what can be read is read, each problem is listed in problems(), and bad pages are
  // never erased by load. A blank (all-FF) partition is a valid empty store.
  // Throws FlashError when the region is smaller than 3 sectors or not sector aligned.
  // A writable load repairs what a crash left (finishes an interrupted garbage collection, marks
  // stale duplicates and half-written entries erased), so it may write; a read-only one never does.
  explicit Storage(Region& region, bool read_only = false);

  // True when load() found problems (corrupt pages, bad entry CRCs...).
  const std::vector<std::string>& problems() const { return problems_; }
  // True when the partition holds something that is not NVS at all (no valid page, not blank).
  // Nothing is read from it; set/erase_key/erase_namespace return Error::ReadOnly so that it is
  // not overwritten; erase_all() still formats it (like nvs_flash_erase) and clears the flag.
  bool foreign() const { return foreign_; }

  std::vector<std::string> namespaces() const;                    // in index order
  std::vector<KeyInfo> keys(std::string_view ns) const;           // in storage order
  // Strings and blobs are read from the region: a failed read throws FlashError (the store is
  // unchanged and stays usable).
  std::optional<Value> get(std::string_view ns, std::string_view key) const;

  // Writes are skipped when the stored value is equal (spec 3.16 note).
  Error set(std::string_view ns, std::string_view key, const Value& value);
  Error erase_key(std::string_view ns, std::string_view key);
  Error erase_namespace(std::string_view ns);                      // its keys; the ns entry stays
  Error erase_all();                                               // every sector to FF

 private:
  // The implementation keeps an index of pages and records (not the partition's bytes), built
  // by the load and kept up to date by each write; values are read from the region by get().
  struct Impl;
  Region& region_;
  bool read_only_;
  bool foreign_ = false;
  std::vector<std::string> problems_;
  std::shared_ptr<Impl> impl_;
};

}  // namespace espat::flash::nvs
