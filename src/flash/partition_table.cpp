#include "flash/partition_table.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <fmt/format.h>

namespace espat::flash {
namespace {

using Md5 = std::array<std::uint8_t, 16>;

Md5 md5(std::span<const std::uint8_t> data) {
  Md5 out{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_md5(), nullptr) != 1 || len != out.size())
    throw std::runtime_error("OpenSSL MD5 failed");
  return out;
}

std::uint32_t le32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}

void put_le32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::string hex_bytes(std::span<const std::uint8_t> b) {
  std::string s;
  for (auto c : b) s += fmt::format("{}{:02x}", s.empty() ? "" : " ", c);
  return s;
}

// The checks gen_esp32part.py's PartitionTable.verify() makes on a table read from binary.
void verify(const std::vector<Partition>& parts) {
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& p = parts[i];
    const std::uint32_t align = p.type == kTypeApp ? 0x10000 : 0x1000;
    if (p.offset % align)
      throw FormatError(fmt::format("partition \"{}\" (entry {} at 0x{:x}): offset 0x{:x} is not aligned to 0x{:x}",
                                    p.label, i, i * kPartitionEntrySize, p.offset, align));
    if (p.size == 0 || std::uint64_t(p.offset) + p.size > 0x100000000ull)
      throw FormatError(fmt::format("partition \"{}\" (entry {} at 0x{:x}): invalid size 0x{:x}", p.label, i,
                                    i * kPartitionEntrySize, p.size));
    for (std::size_t j = 0; j < i; ++j)
      if (parts[j].label == p.label)
        throw FormatError(fmt::format("partition \"{}\" (entry {} at 0x{:x}): label already used by entry {}",
                                      p.label, i, i * kPartitionEntrySize, j));
  }
  std::vector<const Partition*> sorted;
  for (const auto& p : parts) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    const auto& prev = *sorted[i - 1];
    if (sorted[i]->offset < std::uint64_t(prev.offset) + prev.size)
      throw FormatError(fmt::format("partition \"{}\" at 0x{:x} overlaps \"{}\" at 0x{:x}-0x{:x}", sorted[i]->label,
                                    sorted[i]->offset, prev.label, prev.offset, prev.offset + prev.size - 1));
  }
}

}  // namespace

PartitionTable PartitionTable::parse(std::span<const std::uint8_t> bytes) {
  PartitionTable t;
  const std::size_t slots = std::min(bytes.size(), kPartitionTableSize) / kPartitionEntrySize;
  for (std::size_t i = 0; i < slots; ++i) {
    const std::size_t off = i * kPartitionEntrySize;
    const std::uint8_t* e = bytes.data() + off;
    if (e[0] == 0xAA && e[1] == 0x50) {
      Partition p;
      p.type = e[2];
      p.subtype = e[3];
      p.offset = le32(e + 4);
      p.size = le32(e + 8);
      const char* label = reinterpret_cast<const char*>(e + 12);
      p.label.assign(label, strnlen(label, 16));
      p.flags = le32(e + 28);
      t.entries.push_back(std::move(p));
    } else if (e[0] == 0xEB && e[1] == 0xEB) {
      // The runtime allows one MD5 entry, over every entry byte before it.
      if (t.has_md5) throw FormatError(fmt::format("second MD5 entry at 0x{:x}", off));
      const Md5 want = md5(bytes.first(off));
      if (std::memcmp(want.data(), e + 16, 16) != 0)
        throw FormatError(fmt::format("MD5 mismatch in the MD5 entry at 0x{:x}: stored {}, computed {}", off,
                                      hex_bytes({e + 16, 16}), hex_bytes(want)));
      t.has_md5 = true;
    } else if (e[0] == 0xFF && e[1] == 0xFF && e[2] == 0xFF && e[3] == 0xFF) {
      verify(t.entries);  // end marker (esp_partition_table_verify: magic, type, subtype all FF)
      return t;
    } else {
      throw FormatError(fmt::format("entry {} at 0x{:x}: bad magic {:02x} {:02x} (want aa 50, eb eb or ff ff)", i,
                                    off, e[0], e[1]));
    }
  }
  throw FormatError(fmt::format("no end-of-table marker in the first 0x{:x} bytes", slots * kPartitionEntrySize));
}

std::vector<std::uint8_t> PartitionTable::serialize(bool with_md5) const {
  std::vector<std::uint8_t> out;
  for (const auto& p : entries) {
    if (p.label.size() > 16) throw FormatError(fmt::format("partition label \"{}\" is longer than 16 bytes", p.label));
    std::uint8_t e[kPartitionEntrySize] = {0xAA, 0x50, p.type, p.subtype};
    put_le32(e + 4, p.offset);
    put_le32(e + 8, p.size);
    std::memcpy(e + 12, p.label.data(), p.label.size());  // NUL padded like struct '16s'
    put_le32(e + 28, p.flags);
    out.insert(out.end(), e, e + sizeof e);
  }
  if (with_md5) {
    const Md5 sum = md5(out);
    out.insert(out.end(), {0xEB, 0xEB});
    out.insert(out.end(), 14, 0xFF);
    out.insert(out.end(), sum.begin(), sum.end());
  }
  // gen_esp32part.py keeps room for at least the FF end marker.
  if (out.size() >= kPartitionTableSize)
    throw FormatError(fmt::format("partition table of {} bytes is longer than the maximum 0x{:x}", out.size(),
                                  kPartitionTableSize));
  out.resize(kPartitionTableSize, 0xFF);
  return out;
}

const Partition* PartitionTable::find(std::string_view label) const {
  for (const auto& p : entries)
    if (p.label == label) return &p;
  return nullptr;
}

}  // namespace espat::flash
