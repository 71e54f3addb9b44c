// The partition-table CSV against gen_esp32part.py's vectors (vectors/README.md §1) and its
// bad-input rules.
#include "flash/partition_csv.hpp"
#include "shared_dirs.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace espat::flash {
namespace {

const std::string kDir = std::string(ESPAT_VECTORS_DIR) + "/partition-table/";

std::vector<std::uint8_t> load(const std::string& name) {
  std::ifstream f(kDir + name, std::ios::binary);
  if (!f) throw std::runtime_error("missing vector " + name);
  return {std::istreambuf_iterator<char>(f), {}};
}

std::string load_text(const std::string& name) {
  const auto b = load(name);
  return {b.begin(), b.end()};
}

struct Vector {
  const char* name;
  bool md5;
};
constexpr Vector kVectors[] = {
    {"partitions_at-v4.1.1.0", false},  // --disable-md5sum
    {"at_customize-v4.1.1.0", true},
    {"at_customize-v2.4.0.0", true},
};

TEST(PartitionCsv, EveryVectorCsvGivesItsBinByteForByte) {
  REQUIRE_VECTORS();
  for (const auto& v : kVectors) {
    SCOPED_TRACE(v.name);
    const auto table = parse_partition_csv(load_text(std::string(v.name) + ".csv"));
    EXPECT_EQ(table.serialize(v.md5), load(std::string(v.name) + ".bin"));
  }
}

TEST(PartitionCsv, BinToCsvToBinRoundTrips) {
  REQUIRE_VECTORS();
  for (const auto& v : kVectors) {
    SCOPED_TRACE(v.name);
    const auto bin = load(std::string(v.name) + ".bin");
    const auto csv = partition_table_to_csv(PartitionTable::parse(bin));
    EXPECT_EQ(parse_partition_csv(csv).serialize(v.md5), bin) << csv;
  }
}

TEST(PartitionCsv, CsvTextIsGenEsp32partFormat) {
  REQUIRE_VECTORS();
  const auto csv = partition_table_to_csv(PartitionTable::parse(load("partitions_at-v4.1.1.0.bin")));
  EXPECT_EQ(csv,
            "# ESP-IDF Partition Table\n"
            "# Name, Type, SubType, Offset, Size, Flags\n"
            "phy_init,data,phy,0xf000,4K,\n"
            "otadata,data,ota,0x10000,8K,\n"
            "nvs,data,nvs,0x12000,56K,\n"
            "at_customize,64,0,0x20000,896K,\n"
            "ota_0,app,ota_0,0x100000,1536K,\n"
            "ota_1,app,ota_1,0x280000,1536K,\n");
}

TEST(PartitionCsv, EmptyOffsetsFollowTheIdfAlignment) {
  const auto t = parse_partition_csv(
      "# Name, Type, SubType, Offset, Size, Flags\n"
      "nvs,      data, nvs,     ,        0x6000,\n"
      "phy_init, data, phy,     ,        0x1000,\n"
      "factory,  app,  factory, ,        1M,\n"
      "storage,  data, ,        ,        8k,    encrypted\n"
      "custom,   0x40, 3,       ,        4K,    readonly\n");
  ASSERT_EQ(t.entries.size(), 5u);
  EXPECT_EQ(t.entries[0].offset, 0x9000u);
  EXPECT_EQ(t.entries[1].offset, 0xF000u);
  EXPECT_EQ(t.entries[2].offset, 0x10000u);
  EXPECT_EQ(t.entries[2].size, 0x100000u);
  EXPECT_EQ(t.entries[3].offset, 0x110000u);
  EXPECT_EQ(t.entries[3].subtype, 0x06);  // empty data subtype: undefined
  EXPECT_EQ(t.entries[3].flags, 1u);
  EXPECT_EQ(t.entries[4].offset, 0x112000u);
  EXPECT_EQ(t.entries[4].type, 0x40);
  EXPECT_EQ(t.entries[4].flags, 2u);
  // Another table offset moves the first free offset.
  EXPECT_EQ(parse_partition_csv("nvs,data,nvs,,0x4000\n", 0x10000).entries[0].offset, 0x11000u);
}

TEST(PartitionCsv, NamesAndNumbers) {
  const auto t = parse_partition_csv(
      "a,APP,OTA_15,0x10000,64K\n"
      "b,0,0x20,0x20000,64K\n"
      "c,data,littlefs,0x30000,0x1000\n"
      "d,1,nvs_keys,0x31000,4096\n"
      "e,data,coredump,0x32000,1M\n");
  EXPECT_EQ(t.entries[0].subtype, 0x1F);
  EXPECT_EQ(t.entries[1].subtype, 0x20);
  EXPECT_EQ(t.entries[2].subtype, 0x83);
  EXPECT_EQ(t.entries[3].subtype, 0x04);
  EXPECT_EQ(t.entries[4].size, 0x100000u);
  EXPECT_EQ(partition_type_name(0), "app");
  EXPECT_EQ(partition_subtype_name(1, 0x81), "fat");
  EXPECT_EQ(partition_subtype_name(0x40, 1), "0x01");
}

void expect_error(const std::string& csv, const std::string& fragment) {
  try {
    parse_partition_csv(csv);
    ADD_FAILURE() << "accepted:\n" << csv;
  } catch (const PartitionCsvError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what() << "\nwanted: " << fragment;
  }
}

TEST(PartitionCsv, BadInputNamesTheLine) {
  const std::string head = "# Name, Type, SubType, Offset, Size\nnvs,data,nvs,0x9000,0x6000\n";
  // overlapping
  expect_error(head + "phy,data,phy,0xe000,0x1000\n", "line 3");
  expect_error(head + "phy,data,phy,0xe000,0x1000\n", "overlaps");
  expect_error("a,data,nvs,0x9000,0x6000\nb,data,nvs,0x10000,0x1000\nc,data,nvs,0xa000,0x1000\n", "line 3");
  expect_error("a,data,nvs,0x8000,0x1000\n", "line 1: partition \"a\" at 0x8000 overlaps the partition table");
  // misaligned
  expect_error(head + "app0,app,factory,0x18000,1M\n", "line 3: partition \"app0\": offset 0x18000 is not aligned to 0x10000");
  expect_error(head + "x,data,nvs,0xf800,0x1000\n", "line 3");
  expect_error(head + "x,data,nvs,0xf800,0x1000\n", "not aligned");
  expect_error(head + "app0,app,factory,0x10000,0x10800\n", "size 0x10800 is not aligned");
  // unknown types and subtypes
  expect_error(head + "x,dta,nvs,,4K\n", "line 3: type \"dta\"");
  expect_error(head + "x,data,nvx,,4K\n", "line 3: subtype \"nvx\"");
  expect_error(head + "x,0x40,nvs,,4K\n", "line 3: invalid subtype \"nvs\"");
  expect_error(head + "x,0x100,0,,4K\n", "line 3");
  expect_error(head + "x,app,,,64K\n", "line 3: an app partition cannot have an empty subtype");
  // bad sizes
  expect_error(head + "x,data,nvs,,\n", "line 3: the size is empty");
  expect_error(head + "x,data,nvs,,12Q\n", "line 3: invalid size \"12Q\"");
  expect_error(head + "x,data,nvs,,0\n", "line 3: size \"0\" is not valid");
  expect_error(head + "x,data,nvs,,-4K\n", "line 3");
  expect_error(head + "x,data,nvs,0xzz,4K\n", "line 3: invalid offset");
  expect_error(head + "x,data,nvs,,1MMMMMMMMMMMMM\n", "line 3: invalid size");  // fuzz find: no overflow
  // duplicate names
  expect_error(head + "nvs,data,nvs,,4K\n", "line 3: partition name \"nvs\" is already used on line 2");
  // other rules
  expect_error(head + "a_name_of_17_char,data,nvs,,4K\n", "line 3");
  expect_error(head + "ota,data,ota,,4K\n", "otadata partition must have size 0x2000");
  expect_error(head + "o1,data,ota,,8K\no2,data,ota,,8K\n", "line 4: a second otadata");
  expect_error(head + "x,data,nvs,,4K,secret\n", "line 3: unknown flag \"secret\"");
  expect_error(head + ",data,nvs,,4K\n", "line 3: the name is empty");
  expect_error(head + "o" + std::string(1, '\0') + "x,data,nvs,,4K\n", "line 3: the name contains a NUL byte");  // fuzz find
}

}  // namespace
}  // namespace espat::flash
