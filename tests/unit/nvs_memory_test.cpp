// NVS: the RAM a Storage keeps. espat runs up to 10,000 modules in one process, each with two
// stores (nvs and mfg_nvs), so a store keeps an index and reads values from its region instead
// of a copy of the partition. Measured by counting what operator new hands out (usable bytes,
// as malloc_usable_size reports them) while the store exists; glibc adds 8 bytes per block.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <malloc.h>
#include <new>

#include "flash/default_image.hpp"
#include "nvs_test_util.hpp"

// Counting replacements of the global operator new and delete, for the whole unit-test binary
// (mallinfo2 cannot be used: glibc's per-thread cache hides small blocks from it).
namespace {
std::atomic<long long> g_heap_bytes{0}, g_heap_blocks{0};
void* counted_alloc(std::size_t n) {
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  g_heap_bytes.fetch_add(static_cast<long long>(malloc_usable_size(p)), std::memory_order_relaxed);
  g_heap_blocks.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void counted_free(void* p) noexcept {
  if (!p) return;
  g_heap_bytes.fetch_sub(static_cast<long long>(malloc_usable_size(p)), std::memory_order_relaxed);
  g_heap_blocks.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }

namespace nvs_test {
namespace {

using espat::flash::SubRegion;
using nvs::Value;

// The default image's partitions (default_image.cpp): nvs 0x12000+0xE000, mfg_nvs 0x21000+0x1C000.
constexpr std::size_t kNvsOffset = 0x12000, kNvsSize = 0xE000;
constexpr std::size_t kMfgOffset = 0x21000, kMfgSize = 0x1C000;

struct Held {
  long long bytes, blocks;
};

// The heap a store holds once loaded, the Storage object included.
Held store_heap(Region& region) {
  const long long bytes = g_heap_bytes, blocks = g_heap_blocks;
  const auto store = std::make_unique<nvs::Storage>(region);
  return {g_heap_bytes - bytes, g_heap_blocks - blocks};
}

// What the firmware keeps in nvs once a module has been configured: Wi-Fi, UART, server and
// MQTT settings, a certificate-sized blob.
void configure(Region& nvs_region) {
  nvs::Storage s(nvs_region);
  std::mt19937 rng(1);
  for (int i = 0; i < 12; ++i) ASSERT_EQ(s.set("NVM_011", "u8_" + std::to_string(i), Value::u8(1)), nvs::Error::None);
  for (int i = 0; i < 8; ++i) ASSERT_EQ(s.set("NVM_012", "u32_" + std::to_string(i), Value::u32(115200)), nvs::Error::None);
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(s.set("nvs.net80211", "str_" + std::to_string(i), Value::str(random_text(rng, 32))), nvs::Error::None);
  ASSERT_EQ(s.set("mqtt", "cert", Value::blob(random_bytes(rng, 1800))), nvs::Error::None);
}

TEST(NvsMemory, BytesPerStoreOfADefaultModule) {
  MemoryRegion flash(espat::flash::make_default_image());
  SubRegion nvs_part(flash, kNvsOffset, kNvsSize), mfg_part(flash, kMfgOffset, kMfgSize);
  const Held blank_nvs = store_heap(nvs_part);
  const Held mfg = store_heap(mfg_part);
  configure(nvs_part);
  const Held used_nvs = store_heap(nvs_part);
  std::printf("heap per store (bytes in blocks): nvs blank %lld in %lld, nvs configured %lld in %lld, "
              "mfg_nvs default %lld in %lld\n",
              blank_nvs.bytes, blank_nvs.blocks, used_nvs.bytes, used_nvs.blocks, mfg.bytes, mfg.blocks);
  RecordProperty("nvs_blank_bytes", static_cast<int>(blank_nvs.bytes));
  RecordProperty("nvs_configured_bytes", static_cast<int>(used_nvs.bytes));
  RecordProperty("mfg_nvs_bytes", static_cast<int>(mfg.bytes));
  // A few KB per store, not a copy of the partition.
  EXPECT_LT(blank_nvs.bytes, 1024);
  EXPECT_LT(used_nvs.bytes, 4096);
  EXPECT_LT(mfg.bytes, 4096);
}

}  // namespace
}  // namespace nvs_test
