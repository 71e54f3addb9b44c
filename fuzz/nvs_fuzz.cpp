// libFuzzer target: an NVS partition made of the input (3 to 16 pages, FF padded) is loaded,
// everything it lists is read, then a few writes and erases run on it. Besides memory errors,
// it traps when a write that reported success does not read back after a reload.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "flash/nvs.hpp"
#include "flash/region.hpp"

namespace {

namespace nvs = espat::flash::nvs;
using espat::flash::kSectorSize;
using espat::flash::MemoryRegion;

constexpr std::size_t kMinPages = 3, kMaxPages = 16;

void read_everything(const nvs::Storage& s) {
  for (const auto& ns : s.namespaces())
    for (const auto& k : s.keys(ns)) {
      const auto v = s.get(ns, k.key);
      if (!v || v->type != k.type) __builtin_trap();  // listed keys must read
    }
}

void expect_reads_back(MemoryRegion& mem, const char* ns, const char* key, const nvs::Value& v) {
  const nvs::Storage again(mem, true);
  const auto got = again.get(ns, key);
  if (!got || !(*got == v)) __builtin_trap();
}

void write_and_check(nvs::Storage& s, MemoryRegion& mem, const char* ns, const char* key, const nvs::Value& v) {
  if (s.set(ns, key, v) == nvs::Error::None) expect_reads_back(mem, ns, key, v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::size_t pages = std::clamp((size + kSectorSize - 1) / kSectorSize, kMinPages, kMaxPages);
  std::vector<std::uint8_t> bytes(pages * kSectorSize, 0xFF);
  std::copy_n(data, std::min(size, bytes.size()), bytes.begin());
  MemoryRegion mem(std::move(bytes));

  nvs::Storage s(mem);
  read_everything(s);
  const auto spaces = s.namespaces();

  // A few writes derived from the input, then erases of what the image held.
  const std::vector<std::uint8_t> head(data, data + std::min<std::size_t>(size, 5000));
  write_and_check(s, mem, "fuzz", "u8", nvs::Value::u8(static_cast<std::uint8_t>(size)));
  write_and_check(s, mem, "fuzz", "str", nvs::Value::str(std::string(head.begin(), head.begin() + std::min<std::size_t>(head.size(), 300))));
  write_and_check(s, mem, "fuzz", "blob", nvs::Value::blob(head));
  if (!spaces.empty()) {
    const auto keys = s.keys(spaces.front());
    if (!keys.empty()) write_and_check(s, mem, spaces.front().c_str(), keys.front().key.c_str(), nvs::Value::i64(-5));
    if (keys.size() > 1) s.erase_key(spaces.front(), keys[1].key);
    s.erase_namespace(spaces.back());
  }
  read_everything(s);
  read_everything(nvs::Storage(mem, true));
  return 0;
}
