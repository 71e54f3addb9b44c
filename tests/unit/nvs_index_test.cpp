// NVS: a Storage reads strings and blobs from its region through its index. A failed read or
// write throws FlashError and leaves the store usable: its next operation works on what the
// region holds.
#include <gtest/gtest.h>

#include "nvs_test_util.hpp"

namespace nvs_test {
namespace {

using espat::flash::FlashError;
using nvs::Error;
using nvs::Value;

// Forwards to a region; reads, or the n-th next write or erase, can be made to fail.
class FailingRegion : public Region {
 public:
  explicit FailingRegion(Region& inner) : inner_(inner) {}
  std::size_t size() const override { return inner_.size(); }
  void read(std::size_t offset, std::span<std::uint8_t> out) const override {
    if (fail_reads) throw FlashError("read failed");
    inner_.read(offset, out);
  }
  void write(std::size_t offset, std::span<const std::uint8_t> data) override {
    step();
    inner_.write(offset, data);
  }
  void erase_sector(std::size_t offset) override {
    step();
    inner_.erase_sector(offset);
  }
  using Region::read;
  bool fail_reads = false;
  long fail_write_in = -1;  // the write or erase after this many succeeds fails

 private:
  void step() {
    if (fail_write_in >= 0 && fail_write_in-- == 0) throw FlashError("write failed");
  }
  Region& inner_;
};

Model fill(nvs::Storage& s, std::mt19937& rng) {
  Model model;
  auto put = [&](const std::string& key, const Value& v) {
    EXPECT_EQ(s.set("app", key, v), Error::None) << key;
    model[{"app", key}] = v;
  };
  put("n", Value::u32(42));
  put("text", Value::str(random_text(rng, 500)));
  put("cert", Value::blob(random_bytes(rng, 6000)));
  return model;
}

TEST(NvsIndex, ValuesAreReadFromTheRegion) {
  MemoryRegion mem(6 * 4096);
  FailingRegion region(mem);
  nvs::Storage s(region);
  std::mt19937 rng(3);
  const Model model = fill(s, rng);
  region.fail_reads = true;
  EXPECT_THROW(s.get("app", "text"), FlashError);
  EXPECT_THROW(s.get("app", "cert"), FlashError);
  EXPECT_EQ(s.get("app", "n"), Value::u32(42)) << "integers are in the index";
  EXPECT_EQ(s.get("app", "absent"), std::nullopt);
  region.fail_reads = false;
  expect_matches(s, model, "after failed reads");
}

TEST(NvsIndex, FailedReadsDuringWritesLeaveTheStoreUsable) {
  MemoryRegion mem(6 * 4096);
  FailingRegion region(mem);
  nvs::Storage s(region);
  std::mt19937 rng(4);
  Model model = fill(s, rng);
  region.fail_reads = true;
  const Value text = Value::str(random_text(rng, 500));  // as long as the old one: compared by reading it
  EXPECT_THROW(s.set("app", "text", text), FlashError);
  EXPECT_THROW(s.set("app", "cert", Value::blob(random_bytes(rng, 7000))), FlashError);
  region.fail_reads = false;
  expect_matches(s, model, "after the failures");
  ASSERT_EQ(s.set("app", "text", text), Error::None);
  model[{"app", "text"}] = text;
  expect_matches(s, model, "written after the failures");
  expect_matches(nvs::Storage(mem, true), model, "reloaded");
}

// A write that fails at each flash call of a set in turn, with the store used on afterwards:
// it repairs first, and then agrees with a fresh load of the region.
TEST(NvsIndex, FailedWritesLeaveTheStoreUsable) {
  std::mt19937 rng(5);
  for (long n = 0;; ++n) {
    MemoryRegion mem(5 * 4096);
    FailingRegion region(mem);
    nvs::Storage s(region);
    std::mt19937 values(6);
    Model model = fill(s, values);
    for (int i = 0; i < 20; ++i) ASSERT_EQ(s.set("fill", "k" + std::to_string(i % 4), Value::i32(i)), Error::None);
    model[{"fill", "k0"}] = Value::i32(16);
    model[{"fill", "k1"}] = Value::i32(17);
    model[{"fill", "k2"}] = Value::i32(18);
    model[{"fill", "k3"}] = Value::i32(19);
    const Value cert = Value::blob(random_bytes(values, 5000));
    region.fail_write_in = n;
    bool failed = false;
    try {
      EXPECT_EQ(s.set("app", "cert", cert), Error::None);
    } catch (const FlashError&) {
      failed = true;
    }
    region.fail_write_in = -1;
    const std::string where = "failure at call " + std::to_string(n);
    const nvs::Storage fresh(mem, true);
    const auto seen = fresh.get("app", "cert");
    ASSERT_TRUE(seen == model.at({"app", "cert"}) || seen == cert) << where;
    model[{"app", "cert"}] = *seen;
    expect_matches(s, model, where + ": same store");
    const Value after = Value::str(random_text(rng, 300));
    ASSERT_EQ(s.set("app", "after", after), Error::None) << where;
    model[{"app", "after"}] = after;
    expect_matches(s, model, where + ": same store, written on");
    expect_matches(nvs::Storage(mem, true), model, where + ": reloaded");
    if (!failed || HasFailure()) break;
  }
}

}  // namespace
}  // namespace nvs_test
