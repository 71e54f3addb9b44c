// NVS: the reference images made by Espressif's tools, basic operations, corrupt input.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>

#include "flash/crc32.hpp"
#include "nvs_test_util.hpp"
#include "shared_dirs.hpp"

namespace nvs_test {
namespace {

namespace fs = std::filesystem;
using nvs::Error;
using nvs::Type;
using nvs::Value;

// ---- reference data ------------------------------------------------------------------------

Bytes base64_decode(std::string_view in) {
  auto sextet = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  Bytes out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = sextet(c);
    if (v < 0) continue;  // padding, line breaks
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  return out;
}

Bytes hex_decode(std::string_view in) {
  Bytes out;
  auto nibble = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (std::tolower(c) - 'a' + 10); };
  for (std::size_t i = 0; i + 1 < in.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(nibble(in[i]) << 4 | nibble(in[i + 1])));
  return out;
}

struct Expected {
  std::vector<std::string> order;  // "ns/key" in first-appearance order
  std::map<std::pair<std::string, std::string>, Value> values;
};

// nvs_tool.py's minimal JSON dump: one element per item, a blob as one element per chunk.
Expected load_dump(const std::string& path) {
  const auto j = nlohmann::json::parse(read_file(path));
  static const std::map<std::string, Type> kTypes = {
      {"uint8_t", Type::U8},   {"int8_t", Type::I8},   {"uint16_t", Type::U16}, {"int16_t", Type::I16},
      {"uint32_t", Type::U32}, {"int32_t", Type::I32}, {"uint64_t", Type::U64}, {"int64_t", Type::I64},
      {"string", Type::Str},   {"blob_data", Type::Blob}};
  Expected e;
  for (const auto& item : j) {
    const std::pair<std::string, std::string> id{item.at("namespace"), item.at("key")};
    const Type t = kTypes.at(item.at("encoding").get<std::string>());
    auto [it, fresh] = e.values.try_emplace(id, Value{t, 0, {}});
    if (fresh) e.order.push_back(id.first + "/" + id.second);
    Value& v = it->second;
    if (t == Type::Blob) {
      const Bytes chunk = base64_decode(item.at("data").get<std::string>());
      v.bytes.insert(v.bytes.end(), chunk.begin(), chunk.end());
    } else if (t == Type::Str) {
      v = Value::str(item.at("data").get<std::string>());
    } else if (t == Type::U8 || t == Type::U16 || t == Type::U32 || t == Type::U64) {
      v.integer = static_cast<std::int64_t>(item.at("data").get<std::uint64_t>());
    } else {
      v.integer = item.at("data").get<std::int64_t>();
    }
  }
  return e;
}

std::string dump_for(const fs::path& bin) {
  std::string name = bin.stem().string();
  if (name == "mfg_nvs-WROOM-32-idf-v5.0-generator") name = "mfg_nvs-WROOM-32";  // same content
  return (bin.parent_path() / (name + ".nvs_tool.json")).string();
}

// A fixed list, not a directory listing: the tests exist (and skip) without ../shared/vectors.
const char* const kVectorImages[] = {
    "mfg_nvs/mfg_nvs-MINI-1.bin",      "mfg_nvs/mfg_nvs-WROOM-32-idf-v5.0-generator.bin",
    "mfg_nvs/mfg_nvs-WROOM-32.bin",    "mfg_nvs/mfg_nvs-WROVER-32.bin",
    "nvs/nvs-a-primitives.bin",        "nvs/nvs-b-strings.bin",
    "nvs/nvs-c-blobs.bin",             "nvs/nvs-d-namespaces.bin",
    "nvs/nvs-e-encodings.bin",         "nvs/nvs-f-min-0x3000.bin",
    "nvs/nvs-g-many-entries.bin",      "nvs/nvs-h-empty-0x3000.bin",
};

std::vector<std::string> vector_images() {
  std::vector<std::string> out;
  for (const char* rel : kVectorImages) out.push_back(vectors_dir() + "/" + rel);
  return out;
}

}  // namespace

// The list above is every image of the vectors: a new one gets a test too.
TEST(NvsVectors, Present) {
  REQUIRE_VECTORS();
  std::vector<std::string> found;
  for (const char* dir : {"mfg_nvs", "nvs"})
    for (const auto& e : fs::directory_iterator(fs::path(vectors_dir()) / dir))
      if (e.path().extension() == ".bin") found.push_back(std::string(dir) + "/" + e.path().filename().string());
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, std::vector<std::string>(std::begin(kVectorImages), std::end(kVectorImages)))
      << "the vectors are read from " << vectors_dir();
}

namespace {

void expect_dump(const nvs::Storage& s, const Expected& e, const std::string& where) {
  std::set<std::string> spaces;
  for (const auto& [id, v] : e.values) spaces.insert(id.first);
  const auto listed = s.namespaces();
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), spaces) << where;
  std::vector<std::string> order;
  for (const auto& ns : listed)
    for (const auto& k : s.keys(ns)) {
      order.push_back(ns + "/" + k.key);
      EXPECT_EQ(k.type, e.values.at({ns, k.key}).type) << where << ": " << ns << "/" << k.key;
    }
  // The dumps list namespaces in storage order too; compare key order within each namespace.
  auto per_ns = [](std::vector<std::string> v) {
    std::stable_sort(v.begin(), v.end(), [](const std::string& a, const std::string& b) {
      return a.substr(0, a.find('/')) < b.substr(0, b.find('/'));
    });
    return v;
  };
  EXPECT_EQ(per_ns(order), per_ns(e.order)) << where;
  for (const auto& [id, v] : e.values) {
    const auto got = s.get(id.first, id.second);
    ASSERT_TRUE(got) << where << ": " << id.first << "/" << id.second;
    EXPECT_TRUE(*got == v) << where << ": " << id.first << "/" << id.second << " = " << describe(*got)
                           << ", dump has " << describe(v);
  }
}

// ---- every reference image equals its nvs_tool.py dump ----------------------------------------

class NvsVectorImage : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { REQUIRE_VECTORS(); }
};

TEST_P(NvsVectorImage, MatchesNvsToolDump) {
  const Bytes image = read_file(GetParam());
  const Expected expected = load_dump(dump_for(GetParam()));
  MemoryRegion ro(image);
  const nvs::Storage reader(ro, /*read_only=*/true);
  EXPECT_TRUE(reader.problems().empty()) << reader.problems().front();
  EXPECT_FALSE(reader.foreign());
  expect_dump(reader, expected, GetParam());
  EXPECT_EQ(reader.get("no_such_ns", "x"), std::nullopt);
}

TEST_P(NvsVectorImage, WritableLoadWritesNothing) {
  const Bytes image = read_file(GetParam());
  MemoryRegion mem(image);
  CrashRegion counting(mem);
  const nvs::Storage s(counting);
  EXPECT_EQ(counting.ops(), 0);
  EXPECT_EQ(mem.bytes(), image);
}

// Writing into a generator image keeps every value and adds the new ones, on both layouts.
TEST_P(NvsVectorImage, AcceptsWritesAndKeepsContent) {
  const Bytes image = read_file(GetParam());
  Expected expected = load_dump(dump_for(GetParam()));
  MemoryRegion mem(image);
  {
    nvs::Storage s(mem);
    ASSERT_EQ(s.set("added", "u32", Value::u32(0xC0FFEE)), Error::None);
    ASSERT_EQ(s.set("added", "text", Value::str("written after generation")), Error::None);
    if (!expected.values.empty()) {
      // Overwrite the first item with a value of another type.
      const auto first = expected.values.begin()->first;
      ASSERT_EQ(s.set(first.first, first.second, Value::i16(-7)), Error::None);
      expected.values[first] = Value::i16(-7);
    }
  }
  expected.values[{"added", "u32"}] = Value::u32(0xC0FFEE);
  expected.values[{"added", "text"}] = Value::str("written after generation");
  const nvs::Storage again(mem, true);
  EXPECT_TRUE(again.problems().empty());
  for (const auto& [id, v] : expected.values) {
    const auto got = again.get(id.first, id.second);
    ASSERT_TRUE(got) << id.first << "/" << id.second;
    EXPECT_TRUE(*got == v) << id.first << "/" << id.second;
  }
}

std::string image_test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = fs::path(info.param).stem().string();
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Vectors, NvsVectorImage, ::testing::ValuesIn(vector_images()), image_test_name);

// Replaying the items through set() on a blank partition writes the generator's bytes exactly:
// same entry encoding, same page filling, same blob chunking.
// (Not for the old-layout variant, nor for the image whose only content is an empty page header.)
class NvsGeneratorImage : public NvsVectorImage {};

TEST_P(NvsGeneratorImage, WriterReproducesIt) {
  const Bytes image = read_file(GetParam());
  const Expected expected = load_dump(dump_for(GetParam()));
  MemoryRegion mem(image.size());
  nvs::Storage s(mem);
  for (const auto& name : expected.order) {
    const auto slash = name.find('/');
    const std::pair<std::string, std::string> id{name.substr(0, slash), name.substr(slash + 1)};
    ASSERT_EQ(s.set(id.first, id.second, expected.values.at(id)), Error::None) << name;
  }
  for (std::size_t p = 0; p < image.size() / 4096; ++p)
    EXPECT_TRUE(std::equal(image.begin() + p * 4096, image.begin() + (p + 1) * 4096, mem.bytes().begin() + p * 4096))
        << "page " << p;
}

std::vector<std::string> generator_images() {
  auto v = vector_images();
  std::erase_if(v, [](const std::string& p) {
    return p.find("idf-v5.0-generator") != std::string::npos || p.find("nvs-h-empty") != std::string::npos;
  });
  return v;
}
INSTANTIATE_TEST_SUITE_P(Vectors, NvsGeneratorImage, ::testing::ValuesIn(generator_images()), image_test_name);

TEST(NvsVectors, AllImagesAreTested) {
  const auto images = vector_images();
  EXPECT_EQ(images.size(), 12u);
  EXPECT_NE(std::find_if(images.begin(), images.end(),
                         [](const std::string& p) { return p.ends_with("mfg_nvs-WROOM-32-idf-v5.0-generator.bin"); }),
            images.end());
}

// ---- values checked against the CSV inputs ----------------------------------------------------

nvs::Storage open_vector(MemoryRegion& mem, const std::string& rel) {
  mem = MemoryRegion(read_file(vectors_dir() + "/" + rel));
  return nvs::Storage(mem, true);
}

std::optional<Value> str_of(std::string_view s) { return Value::str(s); }
Value blob_file(const std::string& rel) { return Value::blob(read_file(vectors_dir() + "/" + rel)); }

TEST(NvsVectors, PrimitivesMatchCsv) {
  REQUIRE_VECTORS();
  MemoryRegion mem(0);
  const auto s = open_vector(mem, "nvs/nvs-a-primitives.bin");
  EXPECT_EQ(s.get("prim", "u8_max"), Value::u8(255));
  EXPECT_EQ(s.get("prim", "i8_min"), Value::i8(-128));
  EXPECT_EQ(s.get("prim", "u16_1234"), Value::u16(0x1234));
  EXPECT_EQ(s.get("prim", "i16_min"), Value::i16(-32768));
  EXPECT_EQ(s.get("prim", "u32_12345678"), Value::u32(0x12345678));
  EXPECT_EQ(s.get("prim", "i32_min"), Value::i32(INT32_MIN));
  EXPECT_EQ(s.get("prim", "u64_max"), Value::u64(UINT64_MAX));
  EXPECT_EQ(s.get("prim", "u64_0123456789"), Value::u64(0x0123456789ABCDEFull));
  EXPECT_EQ(s.get("prim", "i64_min"), Value::i64(INT64_MIN));
  EXPECT_EQ(s.get("prim", "i64_neg2"), Value::i64(-2));
  EXPECT_EQ(s.get("prim", "key_15_chars_xx"), Value::u8(15));
  EXPECT_EQ(std::string("key_15_chars_xx").size(), nvs::kMaxKeyLen);
}

TEST(NvsVectors, StringsMatchCsv) {
  REQUIRE_VECTORS();
  MemoryRegion mem(0);
  const auto s = open_vector(mem, "nvs/nvs-b-strings.bin");
  EXPECT_EQ(s.get("str", "s_empty"), str_of(""));
  EXPECT_EQ(s.get("str", "s_31"), str_of("abcdefghijklmnopqrstuvwxyzABCDE"));
  EXPECT_EQ(s.get("str", "s_utf8"), str_of("h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac"));
  const Bytes s3967 = read_file(vectors_dir() + "/nvs/str_3967.txt");
  ASSERT_EQ(s3967.size(), 3967u);
  EXPECT_EQ(s.get("str", "s_3967"), Value::str(std::string(s3967.begin(), s3967.end())));
  EXPECT_EQ(s.get("str", "s_after"), str_of("after-max-string"));
}

TEST(NvsVectors, BlobsMatchInputFiles) {
  REQUIRE_VECTORS();
  MemoryRegion mem(0);
  const auto s = open_vector(mem, "nvs/nvs-c-blobs.bin");
  for (const char* n : {"10", "4000", "5000", "20000"})
    EXPECT_EQ(s.get("blob", std::string("b_") + n), blob_file(std::string("nvs/blob_") + n + ".dat")) << n;
  EXPECT_EQ(s.get("blob", "b_20000")->bytes.size(), 20000u);
  EXPECT_EQ(s.get("blob", "b_tail_u8"), Value::u8(170));
}

TEST(NvsVectors, EncodingsMatchCsv) {
  REQUIRE_VECTORS();
  MemoryRegion mem(0);
  const auto s = open_vector(mem, "nvs/nvs-e-encodings.bin");
  EXPECT_EQ(s.get("enc", "hex_small"), Value::blob(hex_decode("0123456789abcdef")));
  EXPECT_EQ(s.get("enc", "hex_upper"), Value::blob({0xDE, 0xAD, 0xBE, 0xEF}));
  EXPECT_EQ(s.get("enc", "hex_empty"), Value::blob({}));  // a zero-length blob exists
  EXPECT_EQ(s.get("enc", "hex_4500")->bytes.size(), 4500u);
  EXPECT_EQ(s.get("enc", "b64_hello"), Value::blob(Bytes{'H', 'e', 'l', 'l', 'o', ',', ' ', 'N', 'V', 'S', '!'}));
  const Bytes hex = read_file(vectors_dir() + "/nvs/enc_file.hex");
  EXPECT_EQ(s.get("enc", "hex_file"), Value::blob(hex_decode(std::string(hex.begin(), hex.end()))));
  const Bytes b64 = read_file(vectors_dir() + "/nvs/enc_file.b64");
  EXPECT_EQ(s.get("enc", "b64_file"), Value::blob(base64_decode(std::string(b64.begin(), b64.end()))));
  EXPECT_EQ(s.get("enc", "b64_file")->bytes.size(), 100u);
}

TEST(NvsVectors, NamespacesInIndexOrder) {
  REQUIRE_VECTORS();
  MemoryRegion mem(0);
  const auto s = open_vector(mem, "nvs/nvs-d-namespaces.bin");
  EXPECT_EQ(s.namespaces(), (std::vector<std::string>{"alpha", "beta", "gamma"}));
  EXPECT_EQ(s.get("beta", "val"), Value::u32(1001));
  EXPECT_EQ(s.get("gamma", "name"), str_of("gamma-name"));
  EXPECT_EQ(s.get("alpha", "cfg"), Value::blob({1, 1, 1, 1}));
  const auto keys = s.keys("beta");
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].key, "val");
  EXPECT_EQ(keys[1].key, "name");
  EXPECT_EQ(keys[2].key, "cfg");
  EXPECT_EQ(keys[2].type, Type::Blob);
}

TEST(NvsVectors, MfgNvsMatchesRawFiles) {
  REQUIRE_VECTORS();
  for (const char* image : {"mfg_nvs/mfg_nvs-WROOM-32.bin", "mfg_nvs/mfg_nvs-WROOM-32-idf-v5.0-generator.bin"}) {
    MemoryRegion mem(0);
    const auto s = open_vector(mem, image);
    EXPECT_EQ(s.get("client_cert", "client_cert.0"), blob_file("mfg_nvs/raw_data/client_cert/client_cert_00.crt"));
    EXPECT_EQ(s.get("client_key", "client_key.1"), blob_file("mfg_nvs/raw_data/client_key/client_key_01.key"));
    EXPECT_EQ(s.get("mqtt_ca", "mqtt_ca"), blob_file("mfg_nvs/raw_data/mqtt_ca/mqtt_ca.crt"));
    EXPECT_EQ(s.get("factory_param", "uart_baudrate"), Value::i32(115200));
    EXPECT_EQ(s.get("factory_param", "module_name"), str_of("WROOM-32"));
    EXPECT_EQ(s.get("factory_param", "sys_store"), Value::u8(1));
    EXPECT_EQ(s.keys("ble_data").size(), 31u);
    EXPECT_EQ(s.namespaces().size(), 11u);
    EXPECT_EQ(s.namespaces()[9], "factory_param");
  }
}

// at.py rewrites mfg_nvs with its own generator (old layout): the requested changes, nothing else.
TEST(NvsVectors, AtPyOutputsHoldTheRequestedChanges) {
  REQUIRE_VECTORS();
  const Expected base = load_dump(vectors_dir() + "/mfg_nvs/mfg_nvs-WROOM-32.nvs_tool.json");
  struct Case {
    const char* image;
    std::map<std::pair<std::string, std::string>, Value> changes;
  };
  const std::vector<Case> cases = {
      {"image-wroom32-baud921600-tx4-rx5",
       {{{"factory_param", "uart_baudrate"}, Value::i32(921600)},
        {{"factory_param", "uart_tx_pin"}, Value::i32(4)},
        {{"factory_param", "uart_rx_pin"}, Value::i32(5)}}},
      {"image-wroom32-module-MY-MODULE-US-ch1-11",
       {{{"factory_param", "module_name"}, Value::str("MY-MODULE")},
        {{"factory_param", "country_code"}, Value::str("US")},
        {{"factory_param", "start_channel"}, Value::u8(1)},
        {{"factory_param", "channel_num"}, Value::u8(11)}}},
      {"image-wroom32-client_cert0-replaced",
       {{{"client_cert", "client_cert.0"}, blob_file("at-py/new_client_cert.crt")}}},
  };
  for (const auto& c : cases) {
    Expected e = base;
    for (const auto& [id, v] : c.changes) e.values[id] = v;
    MemoryRegion mem(0);
    const auto s = open_vector(mem, std::string("at-py/") + c.image + ".mfg_nvs.bin");
    EXPECT_TRUE(s.problems().empty()) << c.image;
    expect_dump(s, e, c.image);
  }
}

// ---- basic operations ------------------------------------------------------------------------

TEST(NvsBasics, Crc32CheckValue) {
  const std::string_view check = "123456789";
  EXPECT_EQ(espat::flash::esp_crc32({reinterpret_cast<const std::uint8_t*>(check.data()), check.size()}),
            0xD202D277u);
}

TEST(NvsBasics, RejectsTooSmallOrUnalignedRegions) {
  MemoryRegion small(2 * 4096), odd(3 * 4096 + 100);
  EXPECT_THROW(nvs::Storage{small}, espat::flash::FlashError);
  EXPECT_THROW(nvs::Storage{odd}, espat::flash::FlashError);
}

TEST(NvsBasics, BlankPartitionIsEmptyAndWritable) {
  MemoryRegion mem(3 * 4096);
  nvs::Storage s(mem);
  EXPECT_FALSE(s.foreign());
  EXPECT_TRUE(s.problems().empty());
  EXPECT_TRUE(s.namespaces().empty());
  EXPECT_EQ(s.set("ns", "k", Value::u8(1)), Error::None);
  // The first page gets sequence number 0 and version 2, as the runtime writes it.
  EXPECT_EQ(mem.bytes()[0], 0xFE);
  EXPECT_EQ(mem.bytes()[4], 0x00);
  EXPECT_EQ(mem.bytes()[8], 0xFE);
  const nvs::Storage again(mem, true);
  EXPECT_EQ(again.get("ns", "k"), Value::u8(1));
}

TEST(NvsBasics, ValidatesNamesAndSizes) {
  MemoryRegion mem(4 * 4096);
  nvs::Storage s(mem);
  EXPECT_EQ(s.set("", "k", Value::u8(1)), Error::InvalidName);
  EXPECT_EQ(s.set("ns", "", Value::u8(1)), Error::InvalidName);
  EXPECT_EQ(s.set("ns", "sixteen_chars_xx", Value::u8(1)), Error::InvalidName);
  EXPECT_EQ(s.set("sixteen_chars_xx", "k", Value::u8(1)), Error::InvalidName);
  EXPECT_EQ(s.set("ns", std::string("a\0b", 3), Value::u8(1)), Error::InvalidName);
  EXPECT_EQ(s.set("ns", "fifteen_chars_x", Value::u8(1)), Error::None);
  EXPECT_EQ(s.set("ns", "s", Value::str(std::string(4000, 'x'))), Error::ValueTooLong);
  EXPECT_EQ(s.set("ns", "s", Value::str(std::string(3999, 'x'))), Error::None);
  EXPECT_EQ(s.get("ns", "s")->bytes.size(), 3999u);
  EXPECT_EQ(s.set("ns", "b", Value::blob(Bytes(3 * 4000 + 1))), Error::ValueTooLong);  // 3 usable pages
  EXPECT_EQ(s.set("ns", "t", Value{static_cast<Type>(0x77), 0, {}}), Error::TypeMismatch);
  EXPECT_EQ(s.erase_key("ns", ""), Error::InvalidName);
  EXPECT_EQ(s.erase_key("ns", "absent"), Error::NotFound);
  EXPECT_EQ(s.erase_key("absent", "k"), Error::NotFound);
  EXPECT_EQ(s.erase_namespace("absent"), Error::NotFound);
}

TEST(NvsBasics, EmptyStringAndBlob) {
  MemoryRegion mem(3 * 4096);
  nvs::Storage s(mem);
  ASSERT_EQ(s.set("ns", "s", Value::str("")), Error::None);
  ASSERT_EQ(s.set("ns", "b", Value::blob({})), Error::None);
  const nvs::Storage again(mem, true);
  EXPECT_TRUE(again.problems().empty());
  EXPECT_EQ(again.get("ns", "s"), str_of(""));
  EXPECT_EQ(again.get("ns", "b"), Value::blob({}));
  // The zero-length chunk (entry 3) carries the CRC of nothing, FF FF FF FF, like the generator's.
  const std::size_t chunk = 64 + 3 * 32;
  EXPECT_EQ(mem.bytes()[chunk + 1], 0x42);
  EXPECT_EQ(Bytes(mem.bytes().begin() + chunk + 24, mem.bytes().begin() + chunk + 32),
            (Bytes{0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
}

// Like the generator, a string that would end on a page's last entry starts a new page; when
// no page can be had (only the reserve is blank and collecting frees too little) it still takes
// those last entries rather than fail.
TEST(NvsBasics, StringEndingOnThePagesLastEntry) {
  MemoryRegion mem(3 * 4096);
  nvs::Storage s(mem);
  for (int i = 0; i < 125 + 124; ++i)  // page 0: ns + 125 keys, FULL; page 1: entries 0..123
    ASSERT_EQ(s.set("ns", "k" + std::to_string(i), Value::u8(1)), Error::None);
  ASSERT_EQ(s.set("ns", "s", Value::str("two entries")), Error::None);
  const std::size_t entry124 = 4096 + 64 + 124 * 32;
  EXPECT_EQ(mem.bytes()[entry124 + 1], 0x21);
  EXPECT_EQ(nvs::Storage(mem, true).get("ns", "s"), str_of("two entries"));
}

TEST(NvsBasics, IntegersReadBackInTheirWidth) {
  MemoryRegion mem(3 * 4096);
  nvs::Storage s(mem);
  EXPECT_EQ(s.set("ns", "u8", Value{Type::U8, 0x1FF, {}}), Error::None);
  EXPECT_EQ(s.set("ns", "i16", Value{Type::I16, 0x18000, {}}), Error::None);
  const nvs::Storage again(mem);
  EXPECT_EQ(again.get("ns", "u8"), Value::u8(0xFF));
  EXPECT_EQ(again.get("ns", "i16"), Value::i16(-32768));
}

TEST(NvsBasics, EqualValueIsNotRewritten) {
  MemoryRegion mem(3 * 4096);
  {
    nvs::Storage s(mem);
    ASSERT_EQ(s.set("ns", "k", Value::str("same")), Error::None);
    ASSERT_EQ(s.set("ns", "b", Value::blob({1, 2, 3})), Error::None);
  }
  CrashRegion counting(mem);
  nvs::Storage s(counting);
  EXPECT_EQ(s.set("ns", "k", Value::str("same")), Error::None);
  EXPECT_EQ(s.set("ns", "b", Value::blob({1, 2, 3})), Error::None);
  EXPECT_EQ(counting.ops(), 0);
  EXPECT_EQ(s.set("ns", "k", Value::str("other")), Error::None);
  EXPECT_GT(counting.ops(), 0);
}

TEST(NvsBasics, TypeChangeReplacesTheKey) {
  MemoryRegion mem(3 * 4096);
  nvs::Storage s(mem);
  ASSERT_EQ(s.set("ns", "k", Value::u32(5)), Error::None);
  ASSERT_EQ(s.set("ns", "k", Value::str("five")), Error::None);
  ASSERT_EQ(s.set("ns", "k", Value::blob({5})), Error::None);
  const nvs::Storage again(mem, true);
  ASSERT_EQ(again.keys("ns").size(), 1u);
  EXPECT_EQ(again.keys("ns")[0].type, Type::Blob);
  EXPECT_EQ(again.get("ns", "k"), Value::blob({5}));
}

TEST(NvsBasics, KeysInStorageOrder) {
  MemoryRegion mem(3 * 4096);
  nvs::Storage s(mem);
  for (const char* k : {"zeta", "alpha", "mid"}) ASSERT_EQ(s.set("ns", k, Value::u8(1)), Error::None);
  ASSERT_EQ(s.set("ns", "zeta", Value::u8(2)), Error::None);  // rewritten: now the newest
  std::vector<std::string> names;
  for (const auto& k : nvs::Storage(mem, true).keys("ns")) names.push_back(k.key);
  EXPECT_EQ(names, (std::vector<std::string>{"alpha", "mid", "zeta"}));
}

TEST(NvsBasics, EraseKeyNamespaceAndAll) {
  MemoryRegion mem(4 * 4096);
  nvs::Storage s(mem);
  ASSERT_EQ(s.set("a", "x", Value::u8(1)), Error::None);
  ASSERT_EQ(s.set("a", "big", Value::blob(Bytes(6000, 0x5A))), Error::None);
  ASSERT_EQ(s.set("b", "y", Value::str("why")), Error::None);
  EXPECT_EQ(s.erase_key("a", "big"), Error::None);
  EXPECT_EQ(nvs::Storage(mem, true).get("a", "big"), std::nullopt);
  EXPECT_EQ(s.erase_namespace("a"), Error::None);
  {
    const nvs::Storage again(mem, true);
    EXPECT_TRUE(again.keys("a").empty());
    EXPECT_EQ(again.namespaces(), (std::vector<std::string>{"a", "b"}));  // the namespace entry stays
    EXPECT_EQ(again.get("b", "y"), str_of("why"));
  }
  EXPECT_EQ(s.erase_all(), Error::None);
  EXPECT_TRUE(std::all_of(mem.bytes().begin(), mem.bytes().end(), [](std::uint8_t c) { return c == 0xFF; }));
  EXPECT_TRUE(s.namespaces().empty());
  EXPECT_EQ(s.set("c", "z", Value::i64(-1)), Error::None);
  EXPECT_EQ(nvs::Storage(mem, true).get("c", "z"), Value::i64(-1));
}

TEST(NvsBasics, ReadOnlyStorageRefusesWrites) {
  REQUIRE_VECTORS();
  MemoryRegion mem(read_file(vectors_dir() + "/nvs/nvs-f-min-0x3000.bin"));
  const Bytes before = mem.bytes();
  nvs::Storage s(mem, true);
  EXPECT_EQ(s.set("min", "u8", Value::u8(2)), Error::ReadOnly);
  EXPECT_EQ(s.erase_key("min", "u8"), Error::ReadOnly);
  EXPECT_EQ(s.erase_namespace("min"), Error::ReadOnly);
  EXPECT_EQ(s.erase_all(), Error::ReadOnly);
  EXPECT_EQ(mem.bytes(), before);
}

TEST(NvsBasics, TooManyNamespaces) {
  MemoryRegion mem(8 * 4096);
  nvs::Storage s(mem);
  for (int i = 1; i <= 254; ++i) ASSERT_EQ(s.set("n" + std::to_string(i), "k", Value::u8(1)), Error::None) << i;
  EXPECT_EQ(s.set("one_more", "k", Value::u8(1)), Error::TooManyNamespaces);
  EXPECT_EQ(nvs::Storage(mem, true).namespaces().size(), 254u);
}

// ---- corrupt and foreign input ----------------------------------------------------------------

TEST(NvsCorrupt, BadPageHeaderIsReportedAndSkipped) {
  REQUIRE_VECTORS();
  Bytes image = read_file(vectors_dir() + "/nvs/nvs-c-blobs.bin");  // FFFFFFFA--
  image[7 * 4096 + 28] ^= 0x01;                                      // header CRC of the ACTIVE page
  MemoryRegion mem(image);
  {
    nvs::Storage s(mem);
    ASSERT_EQ(s.problems().size(), 1u);
    EXPECT_NE(s.problems()[0].find("0x7000"), std::string::npos) << s.problems()[0];
    EXPECT_FALSE(s.foreign());
    // b_10 .. b_5000 live on pages 0-2 and still read; b_20000 ends on page 7 and is gone.
    EXPECT_EQ(s.get("blob", "b_10"), blob_file("nvs/blob_10.dat"));
    EXPECT_EQ(s.get("blob", "b_5000"), blob_file("nvs/blob_5000.dat"));
    EXPECT_EQ(s.get("blob", "b_20000"), std::nullopt);
    EXPECT_EQ(s.get("blob", "b_tail_u8"), std::nullopt);
    // Writes go elsewhere; the bad page is left as it is.
    EXPECT_EQ(s.set("blob", "new", Value::u16(7)), Error::None);
  }
  EXPECT_TRUE(std::equal(image.begin() + 7 * 4096, image.begin() + 8 * 4096, mem.bytes().begin() + 7 * 4096));
  EXPECT_EQ(nvs::Storage(mem, true).get("blob", "new"), Value::u16(7));
}

TEST(NvsCorrupt, BadEntryIsReportedAndSkipped) {
  REQUIRE_VECTORS();
  Bytes image = read_file(vectors_dir() + "/nvs/nvs-a-primitives.bin");
  image[64 + 2 * 32 + 24] ^= 0x40;  // data of entry 2 (u8_max)
  MemoryRegion mem(image);
  const nvs::Storage s(mem, true);
  ASSERT_EQ(s.problems().size(), 1u);
  EXPECT_NE(s.problems()[0].find("page 0x0"), std::string::npos);
  EXPECT_NE(s.problems()[0].find("entry 2"), std::string::npos);
  EXPECT_EQ(s.get("prim", "u8_max"), std::nullopt);
  EXPECT_EQ(s.get("prim", "u8_mid"), Value::u8(90));
  EXPECT_EQ(s.keys("prim").size(), 25u);
}

TEST(NvsCorrupt, BadStringDataIsReported) {
  REQUIRE_VECTORS();
  Bytes image = read_file(vectors_dir() + "/nvs/nvs-f-min-0x3000.bin");
  image[64 + 4 * 32 + 3] ^= 0x01;  // payload of "str" (entries 3-4)
  MemoryRegion mem(image);
  const nvs::Storage s(mem, true);
  ASSERT_EQ(s.problems().size(), 1u);
  EXPECT_NE(s.problems()[0].find("data CRC"), std::string::npos);
  EXPECT_EQ(s.get("min", "str"), std::nullopt);
  EXPECT_EQ(s.get("min", "i32"), Value::i32(-123456));
}

TEST(NvsCorrupt, RandomBytesAreForeignAndUntouched) {
  std::mt19937 rng(7);
  for (std::size_t pages : {3u, 5u, 14u}) {
    const Bytes image = random_bytes(rng, pages * 4096);
    MemoryRegion mem(image);
    nvs::Storage s(mem);
    EXPECT_TRUE(s.foreign());
    EXPECT_FALSE(s.problems().empty());
    EXPECT_TRUE(s.namespaces().empty());
    EXPECT_EQ(s.set("ns", "k", Value::u8(1)), Error::ReadOnly);
    EXPECT_EQ(s.erase_key("ns", "k"), Error::ReadOnly);
    EXPECT_EQ(s.erase_namespace("ns"), Error::ReadOnly);
    EXPECT_EQ(mem.bytes(), image);
    // erase_all is the explicit format.
    EXPECT_EQ(s.erase_all(), Error::None);
    EXPECT_FALSE(s.foreign());
    EXPECT_EQ(s.set("ns", "k", Value::u8(1)), Error::None);
    EXPECT_EQ(nvs::Storage(mem, true).get("ns", "k"), Value::u8(1));
  }
}

TEST(NvsCorrupt, GarbageInAnUninitialisedPageIsReportedNotErased) {
  REQUIRE_VECTORS();
  Bytes image = read_file(vectors_dir() + "/nvs/nvs-f-min-0x3000.bin");  // A--
  image[2 * 4096 + 100] = 0x00;
  MemoryRegion mem(image);
  nvs::Storage s(mem);
  ASSERT_EQ(s.problems().size(), 1u);
  EXPECT_NE(s.problems()[0].find("0x2000"), std::string::npos);
  EXPECT_EQ(s.get("min", "u8"), Value::u8(1));
  EXPECT_EQ(mem.bytes(), image);
}

}  // namespace
}  // namespace nvs_test
