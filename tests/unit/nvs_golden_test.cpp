// NVS: golden digests of fixed seeded sequences of operations. Each sequence runs set,
// erase_key, erase_namespace and erase_all with garbage-collection pressure, cuts and tears
// writes (the store is then used on, or reopened, which repairs), clears bits of the partition
// behind the store's back (corrupt entries and page states, then a reopen that repairs and
// reports), and reads everything back. Three digests pin its behaviour down:
//   log   every write and erase the store made, in order, with offset and bytes;
//   bytes the partition at the end;
//   view  every result code, problems() of every load, and what namespaces()/keys()/get() show.
// The digests were recorded with the Storage that mirrored its whole partition in RAM; any
// implementation must keep reproducing them exactly.
#include <gtest/gtest.h>

#include <filesystem>

#include "nvs_test_util.hpp"
#include "shared_dirs.hpp"

namespace nvs_test {
namespace {

namespace fs = std::filesystem;
using espat::flash::FlashError;
using nvs::Error;
using nvs::Type;
using nvs::Value;

// FNV-1a, 64 bits.
struct Digest {
  std::uint64_t h = 0xcbf29ce484222325ull;
  void add(std::span<const std::uint8_t> bytes) {
    for (std::uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
    add_int(bytes.size());
  }
  void add(std::string_view s) { add({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}); }
  void add_int(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xFF)) * 0x100000001b3ull;
  }
};

// Forwards to a region and hashes each write and erase. fail_at(n, torn) makes the n-th next
// write or erase throw FlashError: a torn write first programs the first half of its bytes.
class LogRegion : public Region {
 public:
  LogRegion(Region& inner, Digest& log) : inner_(inner), log_(log) {}
  std::size_t size() const override { return inner_.size(); }
  void read(std::size_t offset, std::span<std::uint8_t> out) const override { inner_.read(offset, out); }
  void write(std::size_t offset, std::span<const std::uint8_t> data) override {
    if (failing()) {
      log_.add("torn write");
      log_.add_int(offset);
      if (torn_) inner_.write(offset, data.first(data.size() / 2));
      throw FlashError("injected write failure");
    }
    log_.add("write");
    log_.add_int(offset);
    log_.add(data);
    inner_.write(offset, data);
  }
  void erase_sector(std::size_t offset) override {
    if (failing()) {
      log_.add("failed erase");
      throw FlashError("injected erase failure");
    }
    log_.add("erase");
    log_.add_int(offset);
    inner_.erase_sector(offset);
  }
  using Region::read;
  void fail_at(long n, bool torn) {
    countdown_ = n;
    torn_ = torn;
  }
  void disarm() { countdown_ = -1; }

 private:
  bool failing() {
    if (countdown_ < 0) return false;
    return countdown_-- == 0;
  }
  Region& inner_;
  Digest& log_;
  long countdown_ = -1;
  bool torn_ = false;
};

struct Digests {
  std::uint64_t log, bytes, view;
};

class Sequence {
 public:
  Sequence(MemoryRegion& mem, unsigned seed) : mem_(mem), region_(mem, log_), rng_(seed) {}

  Digests run(int steps) {
    open();
    for (int step = 0; step < steps; ++step) one_step();
    store_.reset();
    region_.disarm();
    MemoryRegion copy(mem_.bytes());
    const nvs::Storage fresh(copy, true);
    look(fresh);
    bytes_.add(mem_.bytes());
    return {log_.h, bytes_.h, view_.h};
  }

 private:
  std::size_t pages() const { return mem_.size() / 4096; }
  // Draws from rng_ are kept in separate statements: the order in which function arguments
  // are evaluated is unspecified, and the sequence must not depend on the compiler.
  std::uint64_t draw64() {
    const std::uint64_t hi = rng_();
    return (hi << 32) | rng_();
  }
  void arm(unsigned within) {
    const long n = static_cast<long>(rng_() % within);
    region_.fail_at(n, rng_() % 2 == 0);
  }

  // A writable load; one cut short by an injected failure is retried, as a reboot would.
  void open() {
    store_.reset();
    for (int attempt = 0;; ++attempt) {
      if (attempt < 2 && rng_() % 4 == 0) arm(6);
      try {
        store_ = std::make_unique<nvs::Storage>(region_);
        region_.disarm();
        break;
      } catch (const FlashError&) {
        view_.add("load failed");
        region_.disarm();
      }
    }
    view_.add_int(store_->foreign());
    for (const auto& p : store_->problems()) view_.add(p);
  }

  std::string pick_ns() {
    static const char* kNames[] = {"alpha", "beta", "fifteen_chars_x", "g", "nvs.net80211"};
    if (rng_() % 40 == 0) return "ns" + std::to_string(rng_() % 400);
    return kNames[rng_() % 5];
  }
  std::string pick_key() {
    if (rng_() % 60 == 0) return rng_() % 2 ? "" : "sixteen_chars_xx";  // refused names
    if (rng_() % 10 == 0) return "key_of_15_chars";
    return "k" + std::to_string(rng_() % 14);
  }

  Value random_value() {
    if (!last_.empty() && rng_() % 8 == 0) return last_[rng_() % last_.size()];  // often equal: skipped
    const std::size_t max_blob = std::min<std::size_t>((pages() - 2) * 4000, 40000);
    switch (rng_() % 14) {
      case 0: return Value::u8(static_cast<std::uint8_t>(rng_()));
      case 1: return Value::i8(static_cast<std::int8_t>(rng_()));
      case 2: return Value::u16(static_cast<std::uint16_t>(rng_()));
      case 3: return Value::i16(static_cast<std::int16_t>(rng_()));
      case 4: return Value::u32(rng_());
      case 5: return Value::i32(static_cast<std::int32_t>(rng_()));
      case 6: return Value::u64(draw64());
      case 7: return Value::i64(static_cast<std::int64_t>(draw64()));
      case 8: return Value::str(random_text(rng_, rng_() % 60));
      case 9: return Value::str(random_text(rng_, rng_() % 6 == 0 ? 3999 + rng_() % 2 : rng_() % 1500));
      case 10: return Value::blob(random_bytes(rng_, rng_() % 200));
      case 11: return Value::blob(random_bytes(rng_, rng_() % 5 == 0 ? rng_() % (max_blob + 500) : rng_() % 6000));
      case 12: return Value{Type::U16, static_cast<std::int64_t>(rng_()), {}};  // cut to 16 bits
      default: return Value::str("");
    }
  }

  void result(Error e) { view_.add_int(static_cast<std::uint64_t>(e)); }

  void mutate() {
    const unsigned op = rng_() % 100;
    const std::string ns = pick_ns(), key = pick_key();
    if (op < 72) {
      Value v = random_value();
      if (last_.size() < 16) last_.push_back(v); else last_[rng_() % 16] = v;
      result(store_->set(ns, key, v));
    } else if (op < 90) {
      result(store_->erase_key(ns, key));
    } else if (op < 98) {
      result(store_->erase_namespace(ns));
    } else {
      result(store_->erase_all());
    }
  }

  // Clears a few bits behind the store's back, where the store would notice: entries, their
  // bitmap, a page state (FULL, FREEING, CORRUPT or nonsense).
  void corrupt() {
    store_.reset();
    const std::size_t page = rng_() % pages();
    std::size_t offset = page * 4096;
    switch (rng_() % 3) {
      case 0: offset += 64 + rng_() % (126 * 32); break;
      case 1: offset += 32 + rng_() % 32; break;
      default: break;
    }
    const unsigned bit1 = rng_() % 8, bit2 = rng_() % 8;
    const std::uint8_t mask[1] = {static_cast<std::uint8_t>(~(1u << bit1) & ~(1u << bit2))};
    mem_.write(offset, mask);
    log_.add("corrupt");
    log_.add_int(offset);
    open();
  }

  void one_step() {
    const unsigned what = rng_() % 100;
    if (what < 84) {
      mutate();
    } else if (what < 92) {
      // A write or erase fails half-way: the store is used on (it repairs first).
      arm(12);
      try {
        mutate();
        view_.add("no failure");
      } catch (const FlashError&) {
        view_.add("failed");
      }
      region_.disarm();
    } else if (what < 95) {
      // The same, then a reboot.
      arm(12);
      try {
        mutate();
      } catch (const FlashError&) {
        view_.add("failed before reboot");
      }
      region_.disarm();
      open();
    } else if (what < 97) {
      open();
    } else if (what < 98) {
      corrupt();
    } else {
      const nvs::Storage ro(region_, true);  // writes nothing
      look(ro);
    }
    if (rng_() % 10 == 0) look(*store_);
  }

  void look(const nvs::Storage& s) {
    view_.add_int(s.foreign());
    for (const auto& ns : s.namespaces()) {
      view_.add(ns);
      for (const auto& k : s.keys(ns)) {
        view_.add(k.key);
        view_.add_int(static_cast<std::uint64_t>(k.type));
        const auto v = s.get(ns, k.key);
        view_.add_int(v.has_value());
        if (!v) continue;
        view_.add_int(static_cast<std::uint64_t>(v->type));
        view_.add_int(static_cast<std::uint64_t>(v->integer));
        view_.add(v->bytes);
      }
    }
  }

  MemoryRegion& mem_;
  Digest log_, bytes_, view_;
  LogRegion region_;
  std::mt19937 rng_;
  std::unique_ptr<nvs::Storage> store_;
  std::vector<Value> last_;
};

struct Case {
  std::string name;
  std::size_t pages;  // of a blank partition; 0: a reference image
  unsigned seed;
  int steps;
  Digests golden;
};

void check(const Case& c, MemoryRegion& mem) {
  const Digests d = Sequence(mem, c.seed).run(c.steps);
  EXPECT_EQ(d.log, c.golden.log) << c.name << ": writes and erases differ";
  EXPECT_EQ(d.bytes, c.golden.bytes) << c.name << ": partition bytes differ";
  EXPECT_EQ(d.view, c.golden.view) << c.name << ": results or reads differ";
  if (d.log == c.golden.log && d.bytes == c.golden.bytes && d.view == c.golden.view) return;
  std::printf("    {\"%s\", %zu, %u, %d, {0x%016llxull, 0x%016llxull, 0x%016llxull}},\n", c.name.c_str(), c.pages,
              c.seed, c.steps, static_cast<unsigned long long>(d.log), static_cast<unsigned long long>(d.bytes),
              static_cast<unsigned long long>(d.view));
}

const std::vector<Case> kBlank = {
    {"3 pages", 3, 1, 4000, {0x9ed2a5f5d093e1aaull, 0xfaba70dad62dd730ull, 0xdcd92a592af7fc61ull}},
    {"4 pages", 4, 2, 4000, {0x5169ef60fc473d30ull, 0x51f25afa1bfca4d0ull, 0x9d9a96caec5fa08cull}},
    {"6 pages", 6, 3, 4000, {0x9e53b26e0f23a40dull, 0xef892ba719738ff3ull, 0xb577dd40388fce8bull}},
    {"14 pages (nvs)", 14, 4, 4000, {0x2b58465129c63978ull, 0x9a2f7dc88e99358bull, 0xe374ca335a91f148ull}},
    {"28 pages (mfg_nvs)", 28, 5, 3000, {0xe769586b4b6db80aull, 0x1ea00ac1dd1b9ff1ull, 0xb7458501d86ddd7aull}},
};

TEST(NvsGolden, BlankPartitions) {
  for (const Case& c : kBlank) {
    MemoryRegion mem(c.pages * 4096);
    check(c, mem);
  }
}

// The generator's images (both layouts, v1 and v2 blobs), used on with the same churn.
const std::vector<Case> kImages = {
    {"nvs/nvs-a-primitives.bin", 0, 11, 1000, {0xef44417e8db4a5aeull, 0x95588d2d41b041cdull, 0xc7f302db813af508ull}},
    {"nvs/nvs-b-strings.bin", 0, 12, 1000, {0x5b1642309bfb294dull, 0x37aa130934863a63ull, 0x57241a1f1a1bb9e9ull}},
    {"nvs/nvs-c-blobs.bin", 0, 13, 1000, {0x9496a56d57f86899ull, 0xe37945a0809145c2ull, 0x58232aababc70253ull}},
    {"nvs/nvs-d-namespaces.bin", 0, 14, 1000, {0x4351008d7baf50b9ull, 0x598598ed23251b99ull, 0x908e949edde4d447ull}},
    {"nvs/nvs-e-encodings.bin", 0, 15, 1000, {0x2135e8ef76c10dd6ull, 0xbe0aadb7ee8f89d5ull, 0x3d71ccbeab726d9aull}},
    {"nvs/nvs-f-min-0x3000.bin", 0, 16, 1000, {0x64867dc20b4835e0ull, 0x1b30b516296dccf7ull, 0x6709de0dba25257bull}},
    {"nvs/nvs-g-many-entries.bin", 0, 17, 1000, {0xaf7fe86c69eeca1aull, 0xa304e6fc4569294dull, 0xcfe03fffdeb5864aull}},
    {"mfg_nvs/mfg_nvs-WROOM-32.bin", 0, 18, 1000, {0x521fcf5beae0c4a0ull, 0x977951c824df70abull, 0xe9102c48bbb6d9b6ull}},
    {"mfg_nvs/mfg_nvs-WROOM-32-idf-v5.0-generator.bin", 0, 19, 1000, {0x4fc7c8e82abf9482ull, 0xd484a2291c2d9bd0ull, 0xa21ac2dc20e2fd7bull}},
    {"mfg_nvs/mfg_nvs-MINI-1.bin", 0, 20, 1000, {0x8b1ba7536685421dull, 0x1e6c9faab335e1d1ull, 0x4dea5a8a12e4cab6ull}},
};

TEST(NvsGolden, ReferenceImages) {
  REQUIRE_VECTORS();
  for (const Case& c : kImages) {
    MemoryRegion mem(read_file((fs::path(vectors_dir()) / c.name).string()));
    check(c, mem);
  }
}

// Random bytes are not NVS: refused until erase_all() formats them.
TEST(NvsGolden, ForeignPartition) {
  std::mt19937 rng(77);
  MemoryRegion mem(random_bytes(rng, 5 * 4096));
  check({"foreign", 5, 21, 1500, {0xbd17a927d9d03631ull, 0x06c87c0c4badb860ull, 0x5094136081cb6ce2ull}}, mem);
}

}  // namespace
}  // namespace nvs_test
