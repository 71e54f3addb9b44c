// NVS: random writes, overwrites and erases against a std::map model, with a fresh load of the
// same bytes after every step, on partitions of 3 to 14 pages.
#include <gtest/gtest.h>

#include "nvs_test_util.hpp"

namespace nvs_test {
namespace {

using nvs::Error;
using nvs::Type;
using nvs::Value;

Value random_value(std::mt19937& rng, std::size_t pages) {
  switch (rng() % 12) {
    case 0: return Value::u8(static_cast<std::uint8_t>(rng()));
    case 1: return Value::i8(static_cast<std::int8_t>(rng()));
    case 2: return Value::u16(static_cast<std::uint16_t>(rng()));
    case 3: return Value::i16(static_cast<std::int16_t>(rng()));
    case 4: return Value::u32(static_cast<std::uint32_t>(rng()));
    case 5: return Value::i32(static_cast<std::int32_t>(rng()));
    case 6: return Value::u64((std::uint64_t{rng()} << 32) | rng());
    case 7: return Value::i64(static_cast<std::int64_t>((std::uint64_t{rng()} << 32) | rng()));
    case 8: return Value::str(random_text(rng, rng() % 80));
    case 9: return Value::str(random_text(rng, rng() % 8 == 0 ? 3999 : rng() % 1200));
    case 10: return Value::blob(random_bytes(rng, rng() % 300));
    default: {
      // Up to a blob that spans most of the partition.
      const std::size_t max = std::min<std::size_t>((pages - 2) * 4000, 30000);
      return Value::blob(random_bytes(rng, rng() % 4 == 0 ? rng() % max : rng() % 5000));
    }
  }
}

struct ChurnStats {
  long sets = 0, no_space = 0, erases = 0, sector_erases = 0;
};

void churn(std::size_t pages, unsigned seed, int steps, ChurnStats& stats) {
  std::mt19937 rng(seed);
  MemoryRegion mem(pages * 4096);
  Model model;
  const std::vector<std::string> spaces = {"alpha", "beta", "fifteen_chars_x"};
  for (int step = 0; step < steps; ++step) {
    const std::string where = "pages " + std::to_string(pages) + " seed " + std::to_string(seed) + " step " +
                              std::to_string(step);
    CrashRegion counting(mem);
    bool formatted = false;
    {
      nvs::Storage s(counting);
      ASSERT_TRUE(s.problems().empty()) << where << ": " << s.problems().front();
      ASSERT_EQ(counting.ops(), 0) << where << ": a clean partition needs no repair";
      const std::string ns = spaces[rng() % spaces.size()];
      const std::string key = "key" + std::to_string(rng() % 12);
      const unsigned op = rng() % 100;
      formatted = op >= 99;
      if (op < 78) {
        const Value v = random_value(rng, pages);
        const Error e = s.set(ns, key, v);
        ++stats.sets;
        if (e == Error::None) {
          model[{ns, key}] = v;
        } else {
          ASSERT_TRUE(e == Error::NoSpace || e == Error::ValueTooLong) << where << ": " << nvs::to_string(e);
          ++stats.no_space;
        }
      } else if (op < 96) {
        const bool present = model.erase({ns, key}) > 0;
        EXPECT_EQ(s.erase_key(ns, key), present ? Error::None : Error::NotFound) << where;
        ++stats.erases;
      } else if (op < 99) {
        const Error e = s.erase_namespace(ns);
        EXPECT_TRUE(e == Error::None || e == Error::NotFound) << where;
        std::erase_if(model, [&](const auto& kv) { return kv.first.first == ns; });
      } else {
        EXPECT_EQ(s.erase_all(), Error::None);
        model.clear();
      }
      expect_matches(s, model, where + " (same storage)");
    }
    if (!formatted) stats.sector_erases += counting.erases();  // erases by garbage collection
    const nvs::Storage fresh(mem, true);
    expect_matches(fresh, model, where + " (reloaded)");
    if (::testing::Test::HasFailure()) return;
  }
}

class NvsChurn : public ::testing::TestWithParam<std::size_t> {};

TEST_P(NvsChurn, RandomOperationsMatchModel) {
  const std::size_t pages = GetParam();
  ChurnStats stats;
  for (unsigned seed = 1; seed <= 2 && !HasFailure(); ++seed) churn(pages, seed * 1000 + pages, 400, stats);
  // Enough churn to reclaim pages many times over.
  EXPECT_GT(stats.sector_erases, 20) << "sets " << stats.sets << " no-space " << stats.no_space;
  RecordProperty("gc_erases", static_cast<int>(stats.sector_erases));
  RecordProperty("sets", static_cast<int>(stats.sets));
  RecordProperty("no_space", static_cast<int>(stats.no_space));
}

INSTANTIATE_TEST_SUITE_P(Pages, NvsChurn, ::testing::Values(3, 4, 5, 6, 8, 10, 14));

// Many small overwrites of the same few keys in the smallest partition: GC every few steps.
TEST(NvsChurnSmall, OverwritesInThreePages) {
  MemoryRegion mem(3 * 4096);
  Model model;
  std::mt19937 rng(99);
  CrashRegion counting(mem);
  nvs::Storage s(counting);
  for (int i = 0; i < 3000; ++i) {
    const std::string key = "k" + std::to_string(i % 5);
    const Value v = (i % 3) ? Value::u32(static_cast<std::uint32_t>(i)) : Value::str(random_text(rng, i % 100));
    ASSERT_EQ(s.set("ns", key, v), Error::None) << i;
    model[{"ns", key}] = v;
    if (i % 97 == 0) expect_matches(nvs::Storage(mem, true), model, "step " + std::to_string(i));
  }
  expect_matches(nvs::Storage(mem, true), model, "end");
  EXPECT_GT(counting.erases(), 25);
}

// A blob as large as the partition allows, rewritten with new content again and again.
TEST(NvsChurnSmall, LargeBlobRewrites) {
  for (std::size_t pages : {4u, 6u, 14u}) {
    MemoryRegion mem(pages * 4096);
    std::mt19937 rng(static_cast<unsigned>(pages));
    nvs::Storage s(mem);
    ASSERT_EQ(s.set("ns", "small", Value::u8(3)), Error::None);
    // Old and new version coexist until the new index is written: half the usable space each.
    const std::size_t size = (pages - 2) * 4000 / 2 - 200;
    Value last = Value::u8(0);
    for (int i = 0; i < 12; ++i) {
      const Value v = Value::blob(random_bytes(rng, size));
      ASSERT_EQ(s.set("ns", "big", v), Error::None) << pages << " pages, round " << i;
      last = v;
      const nvs::Storage fresh(mem, true);
      EXPECT_EQ(fresh.get("ns", "big"), last);
      EXPECT_EQ(fresh.get("ns", "small"), Value::u8(3));
    }
  }
}

// Strings of 4000 bytes with the NUL need an empty page; with the reserve page kept they fit
// as long as one page can be emptied.
TEST(NvsChurnSmall, MaximumStrings) {
  MemoryRegion mem(5 * 4096);
  nvs::Storage s(mem);
  std::mt19937 rng(5);
  Model model;
  for (int i = 0; i < 20; ++i) {
    const std::string key = "s" + std::to_string(i % 2);
    const Value v = Value::str(random_text(rng, 3999));
    const Error e = s.set("ns", key, v);
    ASSERT_TRUE(e == Error::None || e == Error::NoSpace) << i;
    if (e == Error::None) model[{"ns", key}] = v;
    expect_matches(nvs::Storage(mem, true), model, "round " + std::to_string(i));
  }
  EXPECT_EQ(model.size(), 2u);
}

}  // namespace
}  // namespace nvs_test
