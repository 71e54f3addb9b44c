// FlashImage, FileRegion and the default image (reference esp-at-formats.md §2, §3.1, §4.2).
#include "flash/image.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sys/wait.h>
#include <unistd.h>

#include "flash/default_image.hpp"
#include "flash/image_file.hpp"
#include "flash/nvs.hpp"
#include "shared_dirs.hpp"

namespace espat::flash {
namespace {

namespace fs = std::filesystem;
const std::string kVectors = ESPAT_VECTORS_DIR;

std::vector<std::uint8_t> load(const fs::path& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw std::runtime_error("cannot read " + path.string());
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(f.tellg()));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

void save(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::uint8_t> slice(const std::vector<std::uint8_t>& v, std::size_t off, std::size_t len) {
  return {v.begin() + static_cast<std::ptrdiff_t>(off), v.begin() + static_cast<std::ptrdiff_t>(off + len)};
}

bool all_ff(const std::vector<std::uint8_t>& v, std::size_t off, std::size_t len) {
  for (std::size_t i = off; i < off + len; ++i)
    if (v[i] != 0xFF) return false;
  return true;
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("espat-image-test-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // Opening must fail with a message containing `want` and leave the file byte-identical.
  void expect_refused(const std::string& file, const std::string& want) {
    const auto before = load(file);
    try {
      FlashImage::open(file);
      ADD_FAILURE() << file << " was accepted";
    } catch (const ImageError& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).rfind(file, 0), 0u) << "message should start with the path: " << e.what();
    }
    EXPECT_EQ(load(file), before) << "refused file was modified";
  }
  fs::path dir_;
};

TEST(DefaultImage, LayoutMatchesTheReleaseImage) {
  REQUIRE_VECTORS();
  const auto img = make_default_image();
  ASSERT_EQ(img.size(), 4u << 20);
  EXPECT_EQ(slice(img, 0x8000, 0xC00), load(kVectors + "/partition-table/partitions_at-v4.1.1.0.bin"));
  EXPECT_EQ(slice(img, 0x20000, 0xC00), load(kVectors + "/partition-table/at_customize-v4.1.1.0.bin"));
  EXPECT_TRUE(all_ff(img, 0, 0x8000));              // no bootloader: espat is the app
  EXPECT_TRUE(all_ff(img, 0x8C00, 0x20000 - 0x8C00));  // rest of the table sector, phy_init, otadata, nvs
  EXPECT_TRUE(all_ff(img, 0x20C00, 0x400));
  EXPECT_FALSE(all_ff(img, 0x21000, 0x1000));       // mfg_nvs written
  EXPECT_TRUE(all_ff(img, 0x3D000, img.size() - 0x3D000));  // fatfs, apps
}

TEST(DefaultImage, MfgNvsHoldsFactoryParamAndBleData) {
  REQUIRE_VECTORS();
  MemoryRegion flash(make_default_image());
  SubRegion mfg(flash, 0x21000, 0x1C000);
  const nvs::Storage s(mfg, true);
  EXPECT_TRUE(s.problems().empty());
  EXPECT_EQ(s.namespaces(), (std::vector<std::string>{"factory_param", "ble_data"}));

  using nvs::Type;
  const std::vector<std::pair<std::string, Type>> want = {
      {"version", Type::I8},        {"module_name", Type::Str},   {"max_tx_power", Type::I8},
      {"country_code", Type::Str},  {"start_channel", Type::U8},  {"channel_num", Type::U8},
      {"uart_port", Type::I8},      {"uart_baudrate", Type::I32}, {"uart_tx_pin", Type::I32},
      {"uart_rx_pin", Type::I32},   {"uart_cts_pin", Type::I32},  {"uart_rts_pin", Type::I32},
      {"sys_store", Type::U8}};
  const auto keys = s.keys("factory_param");
  ASSERT_EQ(keys.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(keys[i].key, want[i].first);
    EXPECT_EQ(keys[i].type, want[i].second) << want[i].first;
  }
  EXPECT_EQ(s.get("factory_param", "version"), nvs::Value::i8(4));
  EXPECT_EQ(s.get("factory_param", "module_name"), nvs::Value::str("WROOM-32"));
  EXPECT_EQ(s.get("factory_param", "uart_baudrate"), nvs::Value::i32(115200));

  // ble_data: cfg<N> = row N of the default gatts_data.csv.
  std::ifstream csv(kVectors + "/mfg_nvs/raw_data/ble_data/gatts_data.csv");
  std::vector<std::string> rows;
  for (std::string line; std::getline(csv, line);)
    if (!line.empty() && line[0] != '#') rows.push_back(line.substr(0, line.find_last_not_of("\r") + 1));
  ASSERT_EQ(rows.size(), 31u);
  ASSERT_EQ(s.keys("ble_data").size(), 31u);
  for (std::size_t i = 0; i < rows.size(); ++i)
    EXPECT_EQ(s.get("ble_data", "cfg" + std::to_string(i)), nvs::Value::str(rows[i])) << i;
}

TEST(FlashImage, OpensAnInMemoryImage) {
  FlashImage img(std::make_unique<MemoryRegion>(make_default_image()));
  EXPECT_EQ(img.primary().entries.size(), 6u);
  EXPECT_FALSE(img.primary().has_md5);
  EXPECT_TRUE(img.secondary().has_md5);
  EXPECT_EQ(img.path(), "<memory>");

  auto nvs = img.partition("nvs");  // primary
  ASSERT_TRUE(nvs);
  EXPECT_EQ(nvs->size(), 0xE000u);
  auto mfg = img.partition("mfg_nvs");  // secondary
  ASSERT_TRUE(mfg);
  EXPECT_EQ(mfg->size(), 0x1C000u);
  EXPECT_EQ(mfg->read(0, 4), img.flash().read(0x21000, 4));
  EXPECT_EQ(img.partition("server_cert"), nullptr);

  // A partition window writes through to the flash.
  const std::uint8_t data[] = {0x12, 0x34};
  nvs->write(0x10, data);
  EXPECT_EQ(img.flash().read(0x12010, 2), (std::vector<std::uint8_t>{0x12, 0x34}));
}

TEST(FlashImage, OpensTheLegacyLayout) {
  REQUIRE_VECTORS();
  // ESP-AT v2.4: the secondary table holds type-0x40 partitions, factory_param among them.
  auto bytes = make_default_image();
  const auto legacy = load(kVectors + "/partition-table/at_customize-v2.4.0.0.bin");
  std::fill(bytes.begin() + 0x20000, bytes.begin() + 0x3D000, 0xFF);
  std::copy(legacy.begin(), legacy.end(), bytes.begin() + 0x20000);
  FlashImage img(std::make_unique<MemoryRegion>(bytes), "legacy");
  EXPECT_EQ(img.secondary().entries.size(), 15u);
  auto fp = img.partition("factory_param");
  ASSERT_TRUE(fp);
  EXPECT_EQ(fp->size(), 0x1000u);
  EXPECT_EQ(img.partition("mfg_nvs"), nullptr);
}

std::string refusal(std::vector<std::uint8_t> bytes) {
  try {
    FlashImage img(std::make_unique<MemoryRegion>(std::move(bytes)), "img");
  } catch (const ImageError& e) {
    return e.what();
  }
  return "";
}

TEST(FlashImage, RefusesBrokenLayouts) {
  const auto good = make_default_image();
  {
    auto b = good;
    b[0x8000] = 0x12, b[0x8001] = 0x34;
    EXPECT_NE(refusal(b).find("img: not an ESP-AT flash image: no partition table at 0x8000 (found 12 34 01 01"),
              std::string::npos)
        << refusal(b);
  }
  {
    auto b = good;
    b[0x20050] ^= 0xFF;  // secondary MD5
    EXPECT_NE(refusal(b).find("at_customize partition table at 0x20000: MD5 mismatch"), std::string::npos)
        << refusal(b);
  }
  {
    auto b = good;
    std::fill(b.begin() + 0x20000, b.begin() + 0x21000, 0xFF);
    EXPECT_NE(refusal(b).find("no at_customize partition table at 0x20000 (found ff ff"), std::string::npos)
        << refusal(b);
  }
  {
    PartitionTable t = default_primary_table();
    t.entries[3].label = "custom";
    auto b = good;
    const auto tb = t.serialize(false);
    std::copy(tb.begin(), tb.end(), b.begin() + 0x8000);
    EXPECT_NE(refusal(b).find("has no at_customize partition"), std::string::npos) << refusal(b);
  }
  // The 4 MiB layout in a 2 MiB flash: the apps would lie outside it.
  EXPECT_NE(refusal(slice(good, 0, 2u << 20)).find("\"ota_0\" (0x100000+0x180000) ends beyond"), std::string::npos)
      << refusal(slice(good, 0, 2u << 20));
  EXPECT_NE(refusal(slice(good, 0, 0x9000)).find("outside 2 MiB..16 MiB"), std::string::npos);
  EXPECT_NE(refusal(slice(good, 0, 0x100123)).find("not a multiple of 4 KiB"), std::string::npos);
  EXPECT_NE(refusal({}).find("not an ESP-AT flash image"), std::string::npos);
}

using FlashImageFile = TempDir;

TEST_F(FlashImageFile, CreatesTheDefaultImageAndReopensIt) {
  const std::string file = path("flash.bin");
  {
    auto img = FlashImage::open(file);
    EXPECT_EQ(img.path(), file);
    EXPECT_EQ(img.flash().size(), 4u << 20);
    const std::uint8_t mark[] = {0x00, 0x5A};
    img.partition("nvs")->write(0, mark);
  }
  auto want = make_default_image();
  want[0x12000] = 0x00;
  want[0x12001] = 0x5A;
  EXPECT_EQ(load(file), want);
  std::size_t entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1u) << "temp file left behind";

  auto again = FlashImage::open(file);  // existing file: opened as is, not recreated
  EXPECT_EQ(again.flash().read(0x12000, 2), (std::vector<std::uint8_t>{0x00, 0x5A}));
  EXPECT_EQ(again.secondary().entries.size(), 2u);
}

TEST_F(FlashImageFile, RefusesForeignFilesWithoutTouchingThem) {
  std::vector<std::uint8_t> random(4u << 20);
  std::mt19937 rng(42);
  for (std::size_t i = 0; i < random.size(); i += 4) {
    const std::uint32_t r = rng();
    std::memcpy(&random[i], &r, 4);
  }
  random[0x8000] = 0x12, random[0x8001] = 0x34;
  save(path("random.bin"), random);
  expect_refused(path("random.bin"), "not an ESP-AT flash image: no partition table at 0x8000 (found 12 34 ");

  const std::string text = "AT+GMR\r\nhello, this is not a flash image\n";
  save(path("notes.txt"), {text.begin(), text.end()});
  expect_refused(path("notes.txt"), "is not a multiple of 4 KiB");

  save(path("empty.bin"), {});
  expect_refused(path("empty.bin"), "not an ESP-AT flash image");

  auto truncated = make_default_image();
  truncated.resize(1u << 20);
  save(path("truncated.bin"), truncated);
  expect_refused(path("truncated.bin"), "outside 2 MiB..16 MiB");

  auto cut = make_default_image();
  cut.resize(0x20800);
  save(path("cut.bin"), cut);
  expect_refused(path("cut.bin"), "not a multiple of 4 KiB");
}

TEST_F(FlashImageFile, RefusesASecondOpener) {
  const std::string file = path("flash.bin");
  auto first = FlashImage::open(file);
  try {
    FlashImage::open(file);
    FAIL() << "second open succeeded";
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("in use by another process"), std::string::npos) << e.what();
  }
  EXPECT_THROW(FlashImage::open_read_only(file), ImageError);
}

TEST_F(FlashImageFile, ReadOnlyOpenNeverWrites) {
  const std::string file = path("flash.bin");
  { FlashImage::open(file); }
  auto a = FlashImage::open_read_only(file);
  auto b = FlashImage::open_read_only(file);  // shared lock: inspection may run side by side
  const std::uint8_t zero[] = {0};
  EXPECT_THROW(a.flash().write(0, zero), FlashError);
  EXPECT_THROW(a.flash().erase_sector(0), FlashError);
  EXPECT_THROW(FlashImage::open_read_only(path("missing.bin")), ImageError);
  EXPECT_FALSE(fs::exists(path("missing.bin")));
}

TEST_F(FlashImageFile, FileRegionHasNorSemantics) {
  const std::string file = path("raw.bin");
  save(file, std::vector<std::uint8_t>(3 * kSectorSize, 0xFF));
  FileRegion r(file);
  EXPECT_EQ(r.size(), 3 * kSectorSize);
  const std::uint8_t a[] = {0xF0, 0x0F}, b[] = {0x3C, 0xFF};
  r.write(kSectorSize - 1, a);  // across a sector boundary
  r.write(kSectorSize - 1, b);
  EXPECT_EQ(r.read(kSectorSize - 1, 2), (std::vector<std::uint8_t>{0x30, 0x0F}));
  r.erase_sector(kSectorSize);
  EXPECT_EQ(r.read(kSectorSize - 1, 2), (std::vector<std::uint8_t>{0x30, 0xFF}));
  EXPECT_THROW(r.erase_sector(100), FlashError);
  EXPECT_THROW(r.read(3 * kSectorSize - 1, 2), FlashError);
  try {
    r.write(3 * kSectorSize, a);
    FAIL();
  } catch (const FlashError& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("0x3000"), std::string::npos) << e.what();
  }
  r.sync();
}

TEST_F(FlashImageFile, WritesSurviveKill9) {
  const std::string file = path("flash.bin");
  { FlashImage::open(file); }
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      auto img = FlashImage::open(file);
      const std::uint8_t data[] = {0xAB, 0xCD, 0xEF};
      img.partition("nvs")->write(0x100, data);
    } catch (...) {
      ::_exit(2);
    }
    ::raise(SIGKILL);  // no destructors, no flush: only what pwrite already handed the kernel
    ::_exit(3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  auto img = FlashImage::open(file);  // the dead process's lock is gone
  EXPECT_EQ(img.flash().read(0x12100, 3), (std::vector<std::uint8_t>{0xAB, 0xCD, 0xEF}));
}

TEST_F(FlashImageFile, DoesNotCreateInAMissingDirectory) {
  EXPECT_THROW(FlashImage::open(path("no/such/dir/flash.bin")), ImageError);
}

}  // namespace
}  // namespace espat::flash
