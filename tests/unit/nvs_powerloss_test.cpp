// NVS: a power cut before each flash write or erase of an operation (and of the repair that the
// next load does) leaves exactly the old or exactly the new value, and every other key intact.
#include <gtest/gtest.h>

#include <functional>

#include "nvs_test_util.hpp"

namespace nvs_test {
namespace {

using nvs::Error;
using nvs::Type;
using nvs::Value;
using Id = std::pair<std::string, std::string>;

struct Scenario {
  std::string name;
  Bytes before;  // a clean image
  Model others;  // keys the operation must not disturb
  Id id;
  std::optional<Value> old_value, new_value;  // nullopt: absent
  std::function<Error(nvs::Storage&)> action;
  bool expect_gc = false;
};

// What a load of these bytes shows for the key, after checking everything else.
std::optional<Value> observe(const Bytes& bytes, const Scenario& sc, bool writable, const std::string& where) {
  MemoryRegion mem(bytes);
  const nvs::Storage s(mem, !writable);
  EXPECT_TRUE(s.problems().empty()) << where << ": " << s.problems().front();
  EXPECT_FALSE(s.foreign()) << where;
  for (const auto& [id, v] : sc.others) EXPECT_EQ(s.get(id.first, id.second), v) << where << ": " << id.second;
  return s.get(sc.id.first, sc.id.second);
}

bool is_old_or_new(const std::optional<Value>& v, const Scenario& sc) {
  return v == sc.old_value || v == sc.new_value;
}

// Loads the bytes left by a cut (which repairs), cutting the power again at each step of that
// repair; the value seen must not change.
void check_repair(const Bytes& cut, const Scenario& sc, const std::optional<Value>& seen, const std::string& where) {
  MemoryRegion probe(cut);
  CrashRegion counting(probe);
  { nvs::Storage s(counting); }
  const long repair_ops = counting.ops();
  for (long m = 0; m < repair_ops; ++m) {
    MemoryRegion mem(cut);
    CrashRegion crash(mem, m);
    EXPECT_THROW(nvs::Storage{crash}, PowerCut);
    const std::string w = where + ", repair cut at " + std::to_string(m);
    EXPECT_EQ(observe(mem.bytes(), sc, false, w), seen) << w;
    EXPECT_EQ(observe(mem.bytes(), sc, true, w), seen) << w;
  }
  // After a full repair the partition is clean: loading again writes nothing.
  CrashRegion again(probe);
  { nvs::Storage s(again); }
  EXPECT_EQ(again.ops(), 0) << where;
}

// The storage left by a cut keeps working: a further write is read back.
void check_usable(const Bytes& cut, const Scenario& sc, const std::string& where) {
  MemoryRegion mem(cut);
  {
    nvs::Storage s(mem);
    ASSERT_EQ(s.set(sc.id.first, sc.id.second, Value::str("after the cut")), Error::None) << where;
  }
  const nvs::Storage s(mem, true);
  EXPECT_EQ(s.get(sc.id.first, sc.id.second), Value::str("after the cut")) << where;
  for (const auto& [id, v] : sc.others) EXPECT_EQ(s.get(id.first, id.second), v) << where << ": " << id.second;
}

void run(const Scenario& sc) {
  if (!sc.action) return;  // the builder already failed
  // The uninterrupted operation, to count its flash calls.
  MemoryRegion full(sc.before);
  CrashRegion counting(full);
  {
    nvs::Storage s(counting);
    ASSERT_EQ(counting.ops(), 0) << sc.name << ": the start image must be clean";
    ASSERT_EQ(sc.action(s), Error::None) << sc.name;
  }
  const long total = counting.ops();
  ASSERT_GT(total, 0) << sc.name;
  ::testing::Test::RecordProperty("flash_calls", static_cast<int>(total));
  ::testing::Test::RecordProperty("sector_erases", static_cast<int>(counting.erases()));
  if (sc.expect_gc) {
    ASSERT_GT(counting.erases(), 0) << sc.name << ": no garbage collection happened";
  }
  ASSERT_EQ(observe(full.bytes(), sc, false, sc.name), sc.new_value) << sc.name;

  bool seen_new = false;
  for (long n = 0; n < total; ++n) {
    const std::string where = sc.name + ", cut before flash call " + std::to_string(n) + "/" + std::to_string(total);
    MemoryRegion mem(sc.before);
    CrashRegion crash(mem, n);
    {
      nvs::Storage s(crash);
      EXPECT_THROW(sc.action(s), PowerCut) << where;
    }
    const Bytes cut = mem.bytes();
    const auto seen = observe(cut, sc, false, where + " (read-only)");
    EXPECT_TRUE(is_old_or_new(seen, sc)) << where << ": neither old nor new value";
    // Once the new value is committed, it stays.
    if (seen_new) {
      EXPECT_EQ(seen, sc.new_value) << where << ": went back to the old value";
    }
    seen_new = seen_new || (seen == sc.new_value && sc.new_value != sc.old_value);
    EXPECT_EQ(observe(cut, sc, true, where + " (repaired)"), seen) << where;
    check_repair(cut, sc, seen, where);
    check_usable(cut, sc, where);
    if (::testing::Test::HasFailure()) return;
  }
}

// ---- scenario builders -------------------------------------------------------------------------

struct Builder {
  MemoryRegion mem;
  Model others;
  std::mt19937 rng{42};

  explicit Builder(std::size_t pages) : mem(pages * 4096) {
    nvs::Storage s(mem);
    put(s, "other", "u8", Value::u8(7));
    put(s, "other", "i64", Value::i64(-1234567890123));
    put(s, "other", "text", Value::str(random_text(rng, 300)));
    put(s, "other", "blob", Value::blob(random_bytes(rng, 700)));
    put(s, "cfg", "neighbour", Value::u16(0xBEEF));
  }
  void put(nvs::Storage& s, const std::string& ns, const std::string& key, const Value& v) {
    ASSERT_EQ(s.set(ns, key, v), Error::None);
    others[{ns, key}] = v;
  }

  Scenario overwrite(std::string name, Id id, const Value& old_value, const Value& new_value) {
    {
      nvs::Storage s(mem);
      EXPECT_EQ(s.set(id.first, id.second, old_value), Error::None);
    }
    Scenario sc{std::move(name), mem.bytes(), others, id, old_value, new_value, nullptr};
    sc.action = [id, new_value](nvs::Storage& s) { return s.set(id.first, id.second, new_value); };
    return sc;
  }

  // Overwrites the key with filler values until the next write of new_value would collect a page.
  Scenario overwrite_with_gc(std::string name, Id id, const std::function<Value(int)>& filler, const Value& new_value) {
    for (int i = 0; i < 5000; ++i) {
      const Value old_value = filler(i);
      {
        nvs::Storage s(mem);
        EXPECT_EQ(s.set(id.first, id.second, old_value), Error::None);
      }
      MemoryRegion trial(mem.bytes());
      CrashRegion counting(trial);
      nvs::Storage s(counting);
      if (s.set(id.first, id.second, new_value) == Error::None && counting.erases() > 0) {
        Scenario sc = overwrite(std::move(name), id, old_value, new_value);
        sc.expect_gc = true;
        return sc;
      }
    }
    ADD_FAILURE() << name << ": never reached a garbage collection";
    return {};
  }
};

TEST(NvsPowerLoss, PrimitiveOverwrite) {
  Builder b(3);
  run(b.overwrite("u32", {"app", "counter"}, Value::u32(1), Value::u32(2)));
}

TEST(NvsPowerLoss, TypeChange) {
  Builder b(3);
  run(b.overwrite("u32 to string", {"app", "counter"}, Value::u32(1), Value::str("one")));
}

TEST(NvsPowerLoss, StringOverwrite) {
  Builder b(4);
  run(b.overwrite("string", {"app", "name"}, Value::str(random_text(b.rng, 1000)),
                  Value::str(random_text(b.rng, 1500))));
}

TEST(NvsPowerLoss, MultiPageBlobOverwrite) {
  Builder b(8);
  const Value old_blob = Value::blob(random_bytes(b.rng, 9000));
  const Value new_blob = Value::blob(random_bytes(b.rng, 9500));
  run(b.overwrite("blob 9000 -> 9500", {"app", "cert"}, old_blob, new_blob));
}

TEST(NvsPowerLoss, BlobOverwriteWithGarbageCollection) {
  Builder b(5);
  auto filler = [&](int i) { return Value::blob(random_bytes(b.rng, 2500 + static_cast<std::size_t>(i % 3) * 500)); };
  run(b.overwrite_with_gc("blob with GC", {"app", "cert"}, filler, Value::blob(random_bytes(b.rng, 5000))));
}

TEST(NvsPowerLoss, PrimitiveOverwriteWithGarbageCollection) {
  Builder b(3);
  auto filler = [](int i) { return Value::i32(i); };
  run(b.overwrite_with_gc("i32 with GC", {"app", "counter"}, filler, Value::i32(-1)));
}

TEST(NvsPowerLoss, StringOverwriteWithGarbageCollection) {
  Builder b(3);
  auto filler = [&](int i) { return Value::str(random_text(b.rng, 200 + static_cast<std::size_t>(i % 7) * 50)); };
  run(b.overwrite_with_gc("string with GC", {"app", "name"}, filler, Value::str(random_text(b.rng, 600))));
}

TEST(NvsPowerLoss, EraseBlob) {
  Builder b(6);
  Scenario sc = b.overwrite("erase blob", {"app", "cert"}, Value::blob(random_bytes(b.rng, 6000)), Value::u8(0));
  sc.new_value = std::nullopt;
  sc.action = [](nvs::Storage& s) { return s.erase_key("app", "cert"); };
  run(sc);
}

TEST(NvsPowerLoss, NewKeyInNewNamespace) {
  Builder b(3);
  Scenario sc{"new key", b.mem.bytes(), b.others, {"fresh", "key"}, std::nullopt, Value::str("hello"), nullptr};
  sc.action = [](nvs::Storage& s) { return s.set("fresh", "key", Value::str("hello")); };
  run(sc);
}

// Random writes and erases, each cut at a random flash call (or not at all), each next step
// starting from the repaired image: the key is old or new, the rest as modelled.
TEST(NvsPowerLoss, RandomCutsDuringChurn) {
  for (std::size_t pages : {3u, 4u, 6u}) {
    std::mt19937 rng(static_cast<unsigned>(pages) * 31);
    MemoryRegion mem(pages * 4096);
    Model model;
    long cuts = 0;
    for (int step = 0; step < 300 && !HasFailure(); ++step) {
      const std::string where = std::to_string(pages) + " pages, step " + std::to_string(step);
      const Id id{step % 3 ? "app" : "sys", "k" + std::to_string(rng() % 6)};
      std::optional<Value> next;
      switch (rng() % 5) {
        case 0: next = Value::u32(rng()); break;
        case 1: next = Value::str(random_text(rng, rng() % 700)); break;
        case 2: next = Value::blob(random_bytes(rng, rng() % (pages * 900))); break;
        case 3: next = Value::i8(static_cast<std::int8_t>(rng())); break;
        default: break;  // erase
      }
      auto op = [&](nvs::Storage& s) {
        return next ? s.set(id.first, id.second, *next) : s.erase_key(id.first, id.second);
      };
      MemoryRegion trial(mem.bytes());
      CrashRegion counting(trial);
      Error result;
      {
        nvs::Storage s(counting);
        result = op(s);
      }
      if (result != Error::None) {  // no space or nothing to erase: the old value stays
        ASSERT_TRUE(result == Error::NoSpace || result == Error::NotFound) << where;
        mem = MemoryRegion(trial.bytes());
        continue;
      }
      const long n = static_cast<long>(rng() % static_cast<unsigned>(counting.ops() + 1));
      MemoryRegion cut(mem.bytes());
      {
        CrashRegion crash(cut, n);
        nvs::Storage s(crash);
        try {
          op(s);
        } catch (const PowerCut&) {
          ++cuts;
        }
      }
      const auto it = model.find(id);
      const std::optional<Value> old = it == model.end() ? std::nullopt : std::optional<Value>(it->second);
      Model others = model;
      others.erase(id);
      Scenario sc{where, {}, others, id, old, next, nullptr};
      const auto seen = observe(cut.bytes(), sc, false, where + " (read-only)");
      ASSERT_TRUE(is_old_or_new(seen, sc)) << where;
      const auto repaired = observe(cut.bytes(), sc, true, where + " (repaired)");
      ASSERT_EQ(repaired, seen) << where;
      nvs::Storage{cut};  // repair for the next step
      if (seen) model[id] = *seen; else model.erase(id);
      mem = MemoryRegion(cut.bytes());
    }
    EXPECT_GT(cuts, 150) << pages << " pages";
  }
}

// ---- recovery of page states written by hand -------------------------------------------------

// Page 0 FULL with 125 keys, page 1 ACTIVE with the rest.
Model two_pages(MemoryRegion& mem) {
  Model model;
  nvs::Storage s(mem);
  for (int i = 0; i < 140; ++i) {
    const std::string key = "k" + std::to_string(i);
    EXPECT_EQ(s.set("ns", key, Value::u32(static_cast<std::uint32_t>(i * 7))), Error::None);
    model[{"ns", key}] = Value::u32(static_cast<std::uint32_t>(i * 7));
  }
  EXPECT_EQ(mem.bytes()[0], 0xFC);
  EXPECT_EQ(mem.bytes()[4096], 0xFE);
  return model;
}

void set_state_byte(MemoryRegion& mem, std::size_t page, std::uint8_t state) {
  const std::uint8_t b[1] = {state};
  mem.write(page * 4096, b);
}

TEST(NvsRecovery, FreeingPageWithoutTargetIsCollected) {
  MemoryRegion mem(4 * 4096);
  const Model model = two_pages(mem);
  set_state_byte(mem, 1, 0xFC);  // FULL
  set_state_byte(mem, 0, 0xF8);  // FREEING, cut before the new page was started
  expect_matches(nvs::Storage(mem, true), model, "read-only");
  {
    nvs::Storage s(mem);
    EXPECT_TRUE(s.problems().empty());
    expect_matches(s, model, "repaired");
  }
  EXPECT_EQ(mem.bytes()[0], 0xFF) << "the collected page is erased";
  CrashRegion counting(mem);
  expect_matches(nvs::Storage(counting), model, "reloaded");
  EXPECT_EQ(counting.ops(), 0);
}

TEST(NvsRecovery, FreeingPageNeverErasesANewerPageWithOtherData) {
  MemoryRegion mem(4 * 4096);
  const Model model = two_pages(mem);
  set_state_byte(mem, 0, 0xF8);  // FREEING while page 1 holds keys of its own
  const Bytes page1(mem.bytes().begin() + 4096, mem.bytes().begin() + 8192);
  nvs::Storage s(mem);
  ASSERT_EQ(s.problems().size(), 1u);
  EXPECT_NE(s.problems()[0].find("FREEING"), std::string::npos) << s.problems()[0];
  expect_matches(s, model, "after load");
  EXPECT_TRUE(std::equal(page1.begin(), page1.end(), mem.bytes().begin() + 4096));
  // Still writable, and the values survive further writes.
  Model more = model;
  for (int i = 0; i < 300; ++i) {
    const std::string key = "k" + std::to_string(i % 150);
    ASSERT_EQ(s.set("ns", key, Value::i32(-i)), Error::None) << i;
    more[{"ns", key}] = Value::i32(-i);
  }
  expect_matches(nvs::Storage(mem, true), more, "after writes");
}

}  // namespace
}  // namespace nvs_test
