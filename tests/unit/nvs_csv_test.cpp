// gen-nvs / nvs-dump: the NVS generator CSV format against the nvs_partition_gen.py vectors.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "flash/nvs.hpp"
#include "flash/nvs_csv.hpp"
#include "flash/region.hpp"
#include "shared_dirs.hpp"

namespace {

namespace fs = std::filesystem;
using namespace espat::flash;
using Bytes = std::vector<std::uint8_t>;

const fs::path kVectors = ESPAT_VECTORS_DIR;

struct Case {
  std::string name;
  std::size_t size;
};

// Sizes as in the vectors README §2 and §3.
const std::vector<Case> kCases = {
    {"nvs/nvs-a-primitives", 0x6000},   {"nvs/nvs-b-strings", 0x6000},      {"nvs/nvs-c-blobs", 0xA000},
    {"nvs/nvs-d-namespaces", 0x6000},   {"nvs/nvs-e-encodings", 0x6000},   {"nvs/nvs-f-min-0x3000", 0x3000},
    {"nvs/nvs-g-many-entries", 0x6000}, {"nvs/nvs-h-empty-0x3000", 0x3000}, {"mfg_nvs/mfg_nvs-WROOM-32", 0x1C000},
    {"mfg_nvs/mfg_nvs-MINI-1", 0x1C000}, {"mfg_nvs/mfg_nvs-WROVER-32", 0x1C000},
};

Bytes gen(const std::string& rel, std::size_t size) {
  const fs::path csv = kVectors / (rel + ".csv");
  return generate_nvs(read_text_file(csv), csv.parent_path(), size, csv.string());
}

class NvsCsvVector : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { REQUIRE_VECTORS(); }
};

TEST_P(NvsCsvVector, GeneratesTheVectorByteForByte) {
  const Bytes want = read_binary_file(kVectors / (GetParam().name + ".bin"));
  const Bytes got = gen(GetParam().name, GetParam().size);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t p = 0; p < want.size() / 4096; ++p)
    EXPECT_TRUE(std::equal(want.begin() + p * 4096, want.begin() + (p + 1) * 4096, got.begin() + p * 4096))
        << "page " << p;
}

// CSV -> bin -> CSV -> bin: the dumped CSV regenerates the same partition, and dumping that
// gives the same CSV again.
TEST_P(NvsCsvVector, DumpRoundTrips) {
  const Bytes bin = read_binary_file(kVectors / (GetParam().name + ".bin"));
  std::vector<std::string> problems;
  const std::string csv = dump_nvs_csv(bin, &problems);
  EXPECT_TRUE(problems.empty());
  const Bytes again = generate_nvs(csv, ".", GetParam().size, "dump");
  EXPECT_TRUE(again == bin);
  EXPECT_EQ(dump_nvs_csv(again), csv);
}

std::string case_name(const ::testing::TestParamInfo<Case>& i) {
  std::string n = fs::path(i.param.name).filename().string();
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Vectors, NvsCsvVector, ::testing::ValuesIn(kCases), case_name);

TEST(NvsCsv, EveryNvsVectorIsCovered) {
  REQUIRE_VECTORS();
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(kVectors / "nvs"))
    if (e.path().extension() == ".csv") ++n;
  EXPECT_EQ(n, 8u);
}

TEST(NvsCsv, DumpFormat) {
  REQUIRE_VECTORS();
  const std::string csv = dump_nvs_csv(gen("nvs/nvs-d-namespaces", 0x6000));
  EXPECT_EQ(csv,
            "key,type,encoding,value\n"
            "alpha,namespace,,\nval,data,u32,1000\nname,data,string,alpha-name\ncfg,data,base64,AQEBAQ==\n"
            "beta,namespace,,\nval,data,u32,1001\nname,data,string,beta-name\ncfg,data,base64,AgICAg==\n"
            "gamma,namespace,,\nval,data,u32,1002\nname,data,string,gamma-name\ncfg,data,base64,AwMDAw==\n");
}

// The dump and `image info` name the types through one helper (nvs::type_name); the dump spells
// a blob by its CSV encoding, base64.
TEST(NvsCsv, DumpNamesEveryType) {
  REQUIRE_VECTORS();
  std::vector<std::string> encodings;
  const std::string csv = dump_nvs_csv(read_binary_file(kVectors / "nvs/nvs-a-primitives.bin"));
  for (std::size_t at = 0; (at = csv.find(",data,", at)) != std::string::npos; at += 6) {
    const std::string name = csv.substr(at + 6, csv.find(',', at + 6) - at - 6);
    if (encodings.empty() || encodings.back() != name) encodings.push_back(name);
  }
  EXPECT_EQ(encodings, (std::vector<std::string>{"u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "u8"}));
  EXPECT_EQ(nvs::type_name(nvs::Type::Str), "string");
  EXPECT_EQ(nvs::type_name(nvs::Type::Blob), "blob");
}

TEST(NvsCsv, QuotedStringsRoundTrip) {
  const std::string in =
      "key,type,encoding,value\nns,namespace,,\n"
      "a,data,string,\"x, \"\"quoted\"\"\nline two\"\nb,data,i64,-5\nc,data,u16,0x1234\n";
  const Bytes bin = generate_nvs(in, ".", 0x3000);
  MemoryRegion mem(bin);
  nvs::Storage s(mem, true);
  EXPECT_EQ(s.get("ns", "a")->as_string(), "x, \"quoted\"\nline two");
  EXPECT_EQ(s.get("ns", "c")->integer, 0x1234);
  EXPECT_EQ(generate_nvs(dump_nvs_csv(bin), ".", 0x3000), bin);
}

// A namespace opened again later: its entries keep its own index (nvs_partition_gen.py 0.1.x
// tags them with the newest namespace's index instead; see the vectors README §2).
TEST(NvsCsv, ReopenedNamespaceKeepsItsIndex) {
  const Bytes bin = generate_nvs(
      "key,type,encoding,value\nalpha,namespace,,\na,data,u8,1\nbeta,namespace,,\nb,data,u8,2\n"
      "alpha,namespace,,\nc,data,u8,3\n",
      ".", 0x3000);
  MemoryRegion mem(bin);
  nvs::Storage s(mem, true);
  EXPECT_EQ(s.namespaces(), (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(s.get("alpha", "c"), nvs::Value::u8(3));
  EXPECT_EQ(s.get("beta", "c"), std::nullopt);
}

// A blob whose first chunk starts on the last free entry of a page. nvs_partition_gen.py
// (write_varlen_binary_data) computes that page's tailroom as (126 - entry_num - 1) * 32 = 0,
// still writes chunk 0 there with 0 bytes (span 1, size 0, data CRC zlib.crc32(b'', 0xFFFFFFFF)
// = FF FF FF FF), marks the page FULL and writes chunk 1 on a new page; the index counts both
// chunks. Layout of this CSV:
//   page 0 entry 0         ns (namespace index 1)
//   page 0 entries 1..124  s: 3935 chars + NUL = 123 data entries, span 124 (1 + 124 < 126, so
//                          the generator's string test keeps it on page 0)
//   page 0 entry 125       b chunk 0, zero-length: offset 0x40 + 125 * 32 = 0xFE0
//   page 1 entries 0..4    b chunk 1: the 100 bytes (4 data entries), offset 0x1040
//   page 1 entry 5         b index: size 100, chunkCount 2, chunkStart 0, offset 0x10E0
//   page 1 entry 6         t
// The CRCs were computed outside espat with zlib.crc32(..., 0xFFFFFFFF) (entry: bytes 0..3 + 8..31).
const std::string kLastEntryBlobCsv = [] {
  std::string hex;
  for (int i = 0; i < 100; ++i) hex += {"0123456789abcdef"[i >> 4], "0123456789abcdef"[i & 15]};
  return "key,type,encoding,value\nns,namespace,,\ns,data,string," + std::string(3935, 'a') +
         "\nb,data,hex2bin," + hex + "\nt,data,u8,7\n";
}();

Bytes slice(const Bytes& b, std::size_t offset, std::size_t n) { return {b.begin() + offset, b.begin() + offset + n}; }

TEST(NvsCsv, BlobStartingOnAPagesLastEntryGetsAZeroLengthChunk) {
  const Bytes bin = generate_nvs(kLastEntryBlobCsv, ".", 0x3000);
  EXPECT_EQ(slice(bin, 0x0000, 4), (Bytes{0xFC, 0xFF, 0xFF, 0xFF}));  // page 0 FULL
  Bytes bitmap(32, 0xAA);                                             // all 126 entries written
  bitmap[31] = 0xFA;
  EXPECT_EQ(slice(bin, 0x0020, 32), bitmap);
  EXPECT_EQ(slice(bin, 0x0FE0, 32),
            (Bytes{0x01, 0x42, 0x01, 0x00, 0x81, 0xBD, 0xC6, 0x97, 'b',  0,    0,    0,    0,    0,    0,    0,
                   0,    0,    0,    0,    0,    0,    0,    0,    0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(slice(bin, 0x1000, 4), (Bytes{0xFE, 0xFF, 0xFF, 0xFF}));  // page 1 ACTIVE
  EXPECT_EQ(slice(bin, 0x1004, 4), (Bytes{1, 0, 0, 0}));              // seq 1
  EXPECT_EQ(slice(bin, 0x1040, 32),
            (Bytes{0x01, 0x42, 0x05, 0x01, 0x89, 0xAA, 0xFC, 0x53, 'b',  0,    0,    0,    0,    0,    0,    0,
                   0,    0,    0,    0,    0,    0,    0,    0,    0x64, 0x00, 0xFF, 0xFF, 0xC0, 0x0B, 0xBE, 0x3E}));
  EXPECT_EQ(slice(bin, 0x10E0, 32),
            (Bytes{0x01, 0x48, 0x01, 0xFF, 0xF8, 0xC9, 0xAC, 0x24, 'b',  0,    0,    0,    0,    0,    0,    0,
                   0,    0,    0,    0,    0,    0,    0,    0,    0x64, 0x00, 0x00, 0x00, 0x02, 0x00, 0xFF, 0xFF}));
  EXPECT_EQ(bin[0x1100 + 8], 't');
  EXPECT_EQ(slice(bin, 0x1020, 2), (Bytes{0xAA, 0xEA}));  // entries 0..6 written
}

// The zero-length chunk is part of the blob: it reads back, a writable load keeps it (it is not
// garbage), the dump regenerates the same bytes, and set() on a blank partition writes them.
TEST(NvsCsv, ZeroLengthChunkReadsBackAndRoundTrips) {
  const Bytes bin = generate_nvs(kLastEntryBlobCsv, ".", 0x3000);
  Bytes hundred(100);
  for (std::size_t i = 0; i < hundred.size(); ++i) hundred[i] = static_cast<std::uint8_t>(i);
  MemoryRegion mem(bin);
  {
    nvs::Storage s(mem);
    EXPECT_TRUE(s.problems().empty());
    EXPECT_EQ(s.get("ns", "b"), nvs::Value::blob(hundred));
    EXPECT_EQ(s.get("ns", "t"), nvs::Value::u8(7));
  }
  EXPECT_EQ(mem.bytes(), bin);
  EXPECT_EQ(generate_nvs(dump_nvs_csv(bin), ".", 0x3000), bin);

  MemoryRegion blank(0x3000);
  nvs::Storage w(blank);
  ASSERT_EQ(w.set("ns", "s", nvs::Value::str(std::string(3935, 'a'))), nvs::Error::None);
  ASSERT_EQ(w.set("ns", "b", nvs::Value::blob(hundred)), nvs::Error::None);
  ASSERT_EQ(w.set("ns", "t", nvs::Value::u8(7)), nvs::Error::None);
  EXPECT_EQ(blank.bytes(), bin);
  // A rewrite (chunkStart 128) erases the old chunks, the zero-length one included.
  ASSERT_EQ(w.set("ns", "b", nvs::Value::blob({1, 2, 3})), nvs::Error::None);
  EXPECT_EQ(nvs::Storage(blank, true).get("ns", "b"), nvs::Value::blob({1, 2, 3}));
  EXPECT_EQ(blank.bytes()[0x3F], 0xF2);  // bitmap of page 0 entries 124..125: written, erased
}

// The other side of the boundary: nvs_partition_gen.py (write_varlen_data) raises PageFullError
// for a string when entry_num + span >= 126, so a string that would end exactly on entry 125
// goes to a new page and leaves the end of its page empty. Here ns is entry 0, a entry 1, and s
// (span 124) would take entries 2..125: it is written at page 1 entry 0 (offset 0x1040) instead.
TEST(NvsCsv, StringEndingOnAPagesLastEntryStartsANewPage) {
  const Bytes bin = generate_nvs(
      "key,type,encoding,value\nns,namespace,,\na,data,u8,1\ns,data,string," + std::string(3935, 'a') + "\n", ".", 0x3000);
  EXPECT_EQ(slice(bin, 0x0000, 4), (Bytes{0xFC, 0xFF, 0xFF, 0xFF}));  // page 0 FULL
  EXPECT_EQ(slice(bin, 0x0020, 2), (Bytes{0xFA, 0xFF}));              // entries 0..1 written
  EXPECT_EQ(slice(bin, 0x0080, 32), Bytes(32, 0xFF));                 // entry 2 left empty
  EXPECT_EQ(slice(bin, 0x1000, 4), (Bytes{0xFE, 0xFF, 0xFF, 0xFF}));  // page 1 ACTIVE
  EXPECT_EQ(slice(bin, 0x1040, 32),
            (Bytes{0x01, 0x21, 0x7C, 0xFF, 0xF8, 0xE8, 0x0D, 0x5D, 's',  0,    0,    0,    0,    0,    0,    0,
                   0,    0,    0,    0,    0,    0,    0,    0,    0x60, 0x0F, 0xFF, 0xFF, 0x53, 0xCD, 0x9A, 0x36}));
  Bytes bitmap(32, 0xAA);  // entries 0..123 written
  bitmap[31] = 0xFF;
  EXPECT_EQ(slice(bin, 0x1020, 32), bitmap);
  MemoryRegion mem(bin);
  EXPECT_EQ(nvs::Storage(mem, true).get("ns", "s"), nvs::Value::str(std::string(3935, 'a')));
}

void expect_error(const std::string& csv, const std::string& fragment, std::size_t size = 0x3000) {
  try {
    generate_nvs(csv, ESPAT_VECTORS_DIR "/nvs", size, "in.csv");
    ADD_FAILURE() << "accepted: " << csv.substr(0, 200);
  } catch (const CsvError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

const std::string kHead = "key,type,encoding,value\nns,namespace,,\n";

TEST(NvsCsvBadInput, KeyLongerThan15) {
  expect_error(kHead + "key_15_chars_xx,data,u8,1\nkey_16_chars_xxx,data,u8,1\n", "in.csv:4: key `key_16_chars_xxx`");
  expect_error("key,type,encoding,value\nnamespace_16_chr,namespace,,\n", "in.csv:2:");
}

TEST(NvsCsvBadInput, ValueOutOfRange) {
  expect_error(kHead + "k,data,u8,256\n", "in.csv:3: value 256 out of range for u8");
  expect_error(kHead + "k,data,i8,-129\n", "out of range for i8");
  expect_error(kHead + "k,data,u16,-1\n", "out of range for u16");
  expect_error(kHead + "k,data,i32,2147483648\n", "out of range for i32");
  expect_error(kHead + "k,data,u32,4294967296\n", "out of range for u32");
  expect_error(kHead + "k,data,u64,18446744073709551616\n", "not an integer");
  expect_error(kHead + "k,data,i64,9223372036854775808\n", "out of range for i64");
  expect_error(kHead + "k,data,u8,abc\n", "in.csv:3: `abc` is not an integer");
}

TEST(NvsCsvBadInput, StringLimits) {
  // 3967 characters + NUL is the largest string the generator writes; one more is refused.
  EXPECT_NO_THROW(generate_nvs(kHead + "k,data,string," + std::string(3967, 'x') + "\n", ".", 0x3000));
  expect_error(kHead + "k,data,string," + std::string(3968, 'x') + "\n", "in.csv:3: string of 3968 bytes");
  expect_error(kHead + "k,data,string," + std::string(4001, 'x') + "\n", "runtime limit 4000");
}

TEST(NvsCsvBadInput, BadLines) {
  REQUIRE_VECTORS();
  expect_error("key,type,value\n", "in.csv:1: the first line must be the header");
  expect_error(kHead + "k,data,u8\n", "in.csv:3: expected 4 fields");
  expect_error(kHead + "k,blob,u8,1\n", "in.csv:3: unknown type `blob`");
  expect_error(kHead + "k,data,float,1\n", "in.csv:3: unknown encoding `float`");
  expect_error("key,type,encoding,value\nk,data,u8,1\n", "in.csv:2: a data row before any namespace");
  expect_error(kHead + "k,data,hex2bin,abc\n", "in.csv:3: hex2bin value");
  expect_error(kHead + "k,data,hex2bin,zz\n", "in.csv:3: hex2bin value");
  expect_error(kHead + "k,data,base64,@@@@\n", "in.csv:3: base64 value");
  expect_error(kHead + "k,file,binary,no_such_file.dat\n", "in.csv:3: cannot read file");
  expect_error(kHead + "k,file,binary,/dev/zero\n", "in.csv:3: `/dev/zero` is not a regular file");  // never ends
  expect_error(kHead + "k,file,binary,.\n", "is not a regular file");                             // reads as empty
  expect_error(kHead + "k" + std::string(1, '\0') + "x,data,u8,1\n", "in.csv:3: the key contains a NUL byte");
  expect_error(kHead + "\nk,data,string,\"unterminated\n", "line 4: unterminated");
  expect_error("", "no header");
}

TEST(NvsCsvBadInput, PartitionTooSmallOrBadSize) {
  REQUIRE_VECTORS();
  expect_error(kHead + "k,file,binary,blob_20000.dat\n", "in.csv:3: ns/k:");
  expect_error(kHead, "partition size", 0x2000);
  expect_error(kHead, "partition size", 0x3001);
}

}  // namespace
