// Helpers shared by the NVS unit tests.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "flash/nvs.hpp"
#include "flash/region.hpp"

namespace nvs_test {

namespace nvs = espat::flash::nvs;
using espat::flash::MemoryRegion;
using espat::flash::Region;
using Bytes = std::vector<std::uint8_t>;

inline Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

inline std::string vectors_dir() { return ESPAT_VECTORS_DIR; }

// Thrown by CrashRegion in place of the write that a power cut prevents.
struct PowerCut : std::runtime_error {
  PowerCut() : std::runtime_error("power cut") {}
};

// A region that forwards to another and cuts the power before its Nth write or erase call
// (N counted from 0; a negative limit never cuts). Counts the calls it let through.
class CrashRegion : public Region {
 public:
  explicit CrashRegion(Region& inner, long limit = -1) : inner_(inner), limit_(limit) {}
  std::size_t size() const override { return inner_.size(); }
  void read(std::size_t offset, std::span<std::uint8_t> out) const override { inner_.read(offset, out); }
  void write(std::size_t offset, std::span<const std::uint8_t> data) override {
    step();
    inner_.write(offset, data);
  }
  void erase_sector(std::size_t offset) override {
    step();
    ++erases_;
    inner_.erase_sector(offset);
  }
  using Region::read;
  long ops() const { return ops_; }
  long erases() const { return erases_; }

 private:
  void step() {
    if (ops_ == limit_) throw PowerCut();
    ++ops_;
  }
  Region& inner_;
  long limit_;
  long ops_ = 0, erases_ = 0;
};

inline Bytes random_bytes(std::mt19937& rng, std::size_t n) {
  Bytes b(n);
  for (auto& c : b) c = static_cast<std::uint8_t>(rng());
  return b;
}

inline std::string random_text(std::mt19937& rng, std::size_t n) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.";
  std::string s(n, ' ');
  for (auto& c : s) c = kChars[rng() % (sizeof(kChars) - 1)];
  return s;
}

inline std::string describe(const nvs::Value& v) {
  std::string s = "type 0x" + std::to_string(static_cast<int>(v.type));
  if (v.type == nvs::Type::Str || v.type == nvs::Type::Blob) return s + " len " + std::to_string(v.bytes.size());
  return s + " value " + std::to_string(v.integer);
}

using Model = std::map<std::pair<std::string, std::string>, nvs::Value>;

// Everything the storage lists equals the model (namespaces may exist with no keys).
inline void expect_matches(const nvs::Storage& s, const Model& model, const std::string& where) {
  std::map<std::string, std::vector<std::string>> model_keys;
  for (const auto& [id, v] : model) model_keys[id.first].push_back(id.second);
  const auto spaces = s.namespaces();
  for (const auto& [ns, keys] : model_keys)
    EXPECT_NE(std::find(spaces.begin(), spaces.end(), ns), spaces.end()) << where << ": namespace " << ns;
  for (const auto& ns : spaces) {
    std::vector<std::string> listed;
    for (const auto& k : s.keys(ns)) listed.push_back(k.key);
    std::sort(listed.begin(), listed.end());
    auto expected = model_keys[ns];
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(listed, expected) << where << ": keys of " << ns;
  }
  for (const auto& [id, v] : model) {
    const auto got = s.get(id.first, id.second);
    ASSERT_TRUE(got.has_value()) << where << ": " << id.first << "/" << id.second << " missing";
    EXPECT_TRUE(*got == v) << where << ": " << id.first << "/" << id.second << " is " << describe(*got)
                           << ", expected " << describe(v);
  }
}

}  // namespace nvs_test
