// PartitionTable against the gen_esp32part.py vectors (vectors/README.md §1).
#include "flash/partition_table.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "flash/default_image.hpp"
#include "shared_dirs.hpp"

namespace espat::flash {
namespace {

const std::string kDir = std::string(ESPAT_VECTORS_DIR) + "/partition-table/";

std::vector<std::uint8_t> load(const std::string& name) {
  std::ifstream f(kDir + name, std::ios::binary);
  if (!f) throw std::runtime_error("missing vector " + name);
  return {std::istreambuf_iterator<char>(f), {}};
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r");
  const auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The subset of gen_esp32part.py's CSV syntax the vectors use.
std::uint32_t csv_number(const std::string& s) {
  std::uint32_t mult = 1;
  std::string n = s;
  if (n.back() == 'K') mult = 1024, n.pop_back();
  if (n.back() == 'M') mult = 1024 * 1024, n.pop_back();
  return static_cast<std::uint32_t>(std::stoul(n, nullptr, 0)) * mult;
}

std::vector<Partition> load_csv(const std::string& name) {
  std::ifstream f(kDir + name);
  std::vector<Partition> rows;
  for (std::string line; std::getline(f, line);) {
    if (trim(line).empty() || trim(line)[0] == '#') continue;
    std::vector<std::string> c;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) c.push_back(trim(cell));
    const std::uint8_t type = c[1] == "app" ? 0 : c[1] == "data" ? 1 : static_cast<std::uint8_t>(csv_number(c[1]));
    const std::map<std::string, std::uint8_t> subtypes = {{"ota", 0},     {"phy", 1},      {"nvs", 2},
                                                          {"fat", 0x81},  {"ota_0", 0x10}, {"ota_1", 0x11}};
    const std::uint8_t sub =
        subtypes.count(c[2]) ? subtypes.at(c[2]) : static_cast<std::uint8_t>(csv_number(c[2]));
    rows.push_back({c[0], type, sub, csv_number(c[3]), csv_number(c[4])});
  }
  return rows;
}

struct GoodVector {
  const char* bin;
  const char* csv;
  bool md5;
};
const GoodVector kGood[] = {
    {"partitions_at-v4.1.1.0.bin", "partitions_at-v4.1.1.0.csv", false},
    {"at_customize-v4.1.1.0.bin", "at_customize-v4.1.1.0.csv", true},
    {"at_customize-v2.4.0.0.bin", "at_customize-v2.4.0.0.csv", true},
};

TEST(PartitionTable, ParsesVectorsAsTheirCsv) {
  REQUIRE_VECTORS();
  for (const auto& v : kGood) {
    SCOPED_TRACE(v.bin);
    const auto t = PartitionTable::parse(load(v.bin));
    EXPECT_EQ(t.has_md5, v.md5);
    EXPECT_EQ(t.entries, load_csv(v.csv));
  }
}

TEST(PartitionTable, SerializesByteIdenticalToGenEsp32part) {
  REQUIRE_VECTORS();
  for (const auto& v : kGood) {
    SCOPED_TRACE(v.bin);
    const auto bytes = load(v.bin);
    EXPECT_EQ(PartitionTable::parse(bytes).serialize(v.md5), bytes);
    PartitionTable from_csv{load_csv(v.csv)};
    EXPECT_EQ(from_csv.serialize(v.md5), bytes);
  }
}

TEST(PartitionTable, DefaultTablesEqualTheVectors) {
  REQUIRE_VECTORS();
  EXPECT_EQ(default_primary_table().serialize(false), load("partitions_at-v4.1.1.0.bin"));
  EXPECT_EQ(default_secondary_table().serialize(true), load("at_customize-v4.1.1.0.bin"));
}

TEST(PartitionTable, RejectsBadMd5) {
  REQUIRE_VECTORS();
  for (const char* name : {"at_customize-v4.1.1.0-bad-md5.bin", "at_customize-v2.4.0.0-bad-md5.bin"}) {
    SCOPED_TRACE(name);
    try {
      PartitionTable::parse(load(name));
      FAIL() << "accepted";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("MD5 mismatch"), std::string::npos) << e.what();
    }
  }
}

TEST(PartitionTable, FindsByLabel) {
  REQUIRE_VECTORS();
  const auto t = PartitionTable::parse(load("at_customize-v2.4.0.0.bin"));
  const Partition* p = t.find("factory_param");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->type, 0x40);
  EXPECT_EQ(p->subtype, 8);
  EXPECT_EQ(p->offset, 0x30000u);
  EXPECT_EQ(p->size, 0x1000u);
  EXPECT_EQ(t.find("mfg_nvs"), nullptr);
}

std::string error_of(const std::vector<std::uint8_t>& bytes) {
  try {
    PartitionTable::parse(bytes);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

TEST(PartitionTable, RejectsMalformedTables) {
  REQUIRE_VECTORS();
  const auto good = load("partitions_at-v4.1.1.0.bin");

  auto bad_magic = good;
  bad_magic[0x40] = 0x12;
  EXPECT_NE(error_of(bad_magic).find("at 0x40: bad magic"), std::string::npos) << error_of(bad_magic);

  PartitionTable overlap = PartitionTable::parse(good);
  overlap.entries[2].size = 0x20000;  // nvs runs into at_customize
  EXPECT_NE(error_of(overlap.serialize(false)).find("overlaps"), std::string::npos);

  PartitionTable misaligned = PartitionTable::parse(good);
  misaligned.entries[4].offset = 0x101000;  // an app must be 64 KiB aligned
  EXPECT_NE(error_of(misaligned.serialize(false)).find("\"ota_0\" (entry 4 at 0x80): offset 0x101000 is not aligned"),
            std::string::npos)
      << error_of(misaligned.serialize(false));

  PartitionTable dup = PartitionTable::parse(good);
  dup.entries[1].label = "nvs";
  EXPECT_NE(error_of(dup.serialize(false)).find("label already used"), std::string::npos);

  std::vector<std::uint8_t> no_end(kPartitionTableSize, 0);
  for (std::size_t o = 0; o < no_end.size(); o += 32) no_end[o] = 0xEB, no_end[o + 1] = 0xEB;
  EXPECT_FALSE(error_of(no_end).empty());

  std::vector<std::uint8_t> truncated(good.begin(), good.begin() + 0xC0);  // no end marker within the bytes
  EXPECT_NE(error_of(truncated).find("no end-of-table marker"), std::string::npos);

  EXPECT_FALSE(error_of({}).empty());
}

TEST(PartitionTable, StopsAtTheFirstEndMarker) {
  REQUIRE_VECTORS();
  auto bytes = load("partitions_at-v4.1.1.0.bin");
  // Anything after the FF entry is not part of the table (esp_partition_table_verify).
  std::fill(bytes.begin() + 0x100, bytes.begin() + 0x120, 0x00);
  EXPECT_EQ(PartitionTable::parse(bytes).entries.size(), 6u);
}

TEST(PartitionTable, RoundTripsFlagsAndLongLabels) {
  PartitionTable t{{{"sixteen_chars_xx", kTypeData, kSubtypeNvs, 0x9000, 0x6000, 1}}};
  const auto bytes = t.serialize(true);
  EXPECT_EQ(bytes.size(), kPartitionTableSize);
  EXPECT_EQ(bytes[28], 1);
  const auto back = PartitionTable::parse(bytes);
  EXPECT_TRUE(back.has_md5);
  EXPECT_EQ(back.entries, t.entries);

  t.entries[0].label = "seventeen_chars_x";
  EXPECT_THROW(t.serialize(false), FormatError);
}

TEST(PartitionTable, RefusesTablesTooLongForTheSector) {
  PartitionTable t;
  for (std::uint32_t i = 0; i < 95; ++i)
    t.entries.push_back({"p" + std::to_string(i), kTypeData, 0x99, 0x10000 + i * 0x1000, 0x1000});
  EXPECT_EQ(t.serialize(false).size(), kPartitionTableSize);  // 95 entries + end marker fit
  EXPECT_THROW(t.serialize(true), FormatError);               // no room for the MD5 entry
  EXPECT_EQ(PartitionTable::parse(t.serialize(false)).entries.size(), 95u);
}

}  // namespace
}  // namespace espat::flash
