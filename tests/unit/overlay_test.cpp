// A fleet module's flash (flash/overlay.hpp): reads fall through to the shared base until a
// sector is written; the first write of a sector counts only once the whole sector is in the
// overlay, so a kill half-way leaves the old contents; the base is never written.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>

#include "flash/default_image.hpp"
#include "flash/image.hpp"
#include "flash/nvs.hpp"
#include "flash/overlay.hpp"

using namespace espat::flash;
namespace fs = std::filesystem;

namespace {
struct Overlay : ::testing::Test {
  fs::path dir = fs::temp_directory_path() / ("espat-overlay-" + std::to_string(::getpid()) + "-" +
                                              ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::shared_ptr<MemoryRegion> base;
  std::string path;

  void SetUp() override {
    fs::create_directories(dir);
    std::vector<std::uint8_t> bytes(4 * kSectorSize);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = std::uint8_t(i * 7);
    base = std::make_shared<MemoryRegion>(bytes);
    path = (dir / "m-0.overlay").string();
  }
  void TearDown() override { fs::remove_all(dir); }
  std::vector<std::uint8_t> base_bytes(std::size_t off, std::size_t n) { return base->read(off, n); }
};
}  // namespace

TEST_F(Overlay, ReadsTheBaseUntilWritten) {
  OverlayRegion o(path, base, "/base.bin");
  EXPECT_EQ(o.size(), base->size());
  EXPECT_EQ(o.read(0, base->size()), base->bytes());
  EXPECT_EQ(o.sectors_written(), 0u);
  EXPECT_EQ(OverlayRegion::base_path_of(path), "/base.bin");
  // Only the header is on disk: the sectors are holes.
  EXPECT_LE(fs::file_size(path), 0x1000u);
}

TEST_F(Overlay, WritesAreNorAndStayInTheOverlay) {
  const auto before = base->bytes();
  {
    OverlayRegion o(path, base, "/base.bin");
    const std::uint8_t data[] = {0x0F, 0xF0, 0x00};
    o.write(kSectorSize + 10, data);
    auto got = o.read(kSectorSize + 10, 3);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(got[i], before[kSectorSize + 10 + i] & data[i]) << i;
    o.erase_sector(2 * kSectorSize);
    EXPECT_EQ(o.read(2 * kSectorSize, kSectorSize), std::vector<std::uint8_t>(kSectorSize, 0xFF));
    // A write spanning two sectors, one of them already in the overlay.
    const std::uint8_t across[] = {0x00, 0x00};
    o.write(2 * kSectorSize - 1, across);
    EXPECT_EQ(o.read(2 * kSectorSize - 1, 2), (std::vector<std::uint8_t>{0, 0}));
    EXPECT_EQ(o.sectors_written(), 2u);
  }
  EXPECT_EQ(base->bytes(), before);  // the base is never written
  OverlayRegion again(path, base, "/base.bin");
  EXPECT_EQ(again.sectors_written(), 2u);
  EXPECT_EQ(again.read(2 * kSectorSize - 1, 2), (std::vector<std::uint8_t>{0, 0}));
  EXPECT_EQ(again.read(0, kSectorSize), base_bytes(0, kSectorSize));
  EXPECT_EQ(again.read(3 * kSectorSize, kSectorSize), base_bytes(3 * kSectorSize, kSectorSize));
}

TEST_F(Overlay, ASectorCopiedButNotMarkedIsNotThere) {
  { OverlayRegion o(path, base, "/base.bin"); }
  // What a kill between the sector copy and its bit leaves: the data is in the file, the bit not.
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  std::vector<std::uint8_t> zeros(kSectorSize, 0);
  ASSERT_EQ(::pwrite(fd, zeros.data(), zeros.size(), 0x1000 + kSectorSize), ssize_t(zeros.size()));
  ::close(fd);
  OverlayRegion o(path, base, "/base.bin");
  EXPECT_EQ(o.read(kSectorSize, kSectorSize), base_bytes(kSectorSize, kSectorSize));
  EXPECT_EQ(o.sectors_written(), 0u);
}

TEST_F(Overlay, RefusesAForeignFileOrAnotherBaseSize) {
  { OverlayRegion o(path, base, "/base.bin"); }
  auto other = std::make_shared<MemoryRegion>(8 * kSectorSize);
  EXPECT_THROW(OverlayRegion(path, other, "/other.bin"), FlashError);
  const std::string junk = (dir / "junk.overlay").string();
  std::ofstream(junk) << std::string(5000, 'x');
  EXPECT_THROW(OverlayRegion(junk, base, "/base.bin"), FlashError);
  EXPECT_EQ(fs::file_size(junk), 5000u);  // never rewritten
}

// The module's view: an overlay over the default image is an ESP-AT image whose NVS works.
TEST_F(Overlay, DefaultImageWithNvsOnTop) {
  auto image = std::make_shared<MemoryRegion>(make_default_image());
  {
    auto img = FlashImage::open_overlay(path, image, "/base.bin");
    auto nvs = img.partition("nvs");
    ASSERT_TRUE(nvs);
    espat::flash::nvs::Storage store(*nvs);
    EXPECT_EQ(store.set("UART", "baud", espat::flash::nvs::Value::u32(921600)), espat::flash::nvs::Error::None);
  }
  auto img = FlashImage::open_overlay(path, image, "/base.bin");
  auto nvs = img.partition("nvs");
  espat::flash::nvs::Storage store(*nvs);
  EXPECT_EQ(store.get("UART", "baud"), espat::flash::nvs::Value::u32(921600));
  EXPECT_EQ(image->bytes(), make_default_image());
  EXPECT_LE(fs::file_size(path) - 0, 0x1000u + image->size());
  EXPECT_LT(OverlayRegion(path, image, "/base.bin").sectors_written(), 4u);
}
