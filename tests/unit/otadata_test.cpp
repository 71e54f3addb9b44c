// otadata: boot slot selection and esp_ota_set_boot_partition's rewrite (reference §2.3).
#include "flash/otadata.hpp"

#include <gtest/gtest.h>

#include "flash/crc32.hpp"
#include "flash/default_image.hpp"
#include "flash/image.hpp"

namespace espat::flash {
namespace {

std::vector<std::uint8_t> entry(std::uint32_t seq, std::uint32_t state, bool good_crc = true) {
  std::vector<std::uint8_t> e(32, 0xFF);
  auto put = [&](std::size_t off, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) e[off + i] = static_cast<std::uint8_t>(v >> (8 * i));
  };
  put(0, seq);
  put(24, state);
  put(28, esp_crc32(std::span(e).first(4)) ^ (good_crc ? 0 : 1));
  return e;
}

TEST(Otadata, ErasedBootsSlot0) {
  MemoryRegion r(0x2000);
  EXPECT_EQ(boot_slot(r), 0);
  const auto e = read_otadata(r);
  EXPECT_FALSE(e[0].valid());
  EXPECT_FALSE(e[1].valid());
}

TEST(Otadata, HighestValidSeqWins) {
  MemoryRegion r(0x2000);
  r.write(0, entry(4, 2));
  r.write(0x1000, entry(5, 2));
  EXPECT_EQ(boot_slot(r), 0);  // (5 - 1) % 2
  r.erase_sector(0x1000);
  r.write(0x1000, entry(5, 2, /*good_crc=*/false));
  EXPECT_EQ(boot_slot(r), 1);  // only seq 4 is valid: (4 - 1) % 2
  r.erase_sector(0x1000);
  r.write(0x1000, entry(7, 3));  // ESP_OTA_IMG_INVALID is never chosen
  EXPECT_EQ(boot_slot(r), 1);
  r.erase_sector(0x1000);
  r.write(0x1000, entry(7, 4));  // nor ABORTED
  EXPECT_EQ(boot_slot(r), 1);
  r.erase_sector(0x1000);
  r.write(0x1000, entry(6, 0xFFFFFFFF));
  EXPECT_EQ(boot_slot(r), 1);  // (6 - 1) % 2
}

TEST(Otadata, SetBootSlotFollowsEspIdf) {
  MemoryRegion r(0x2000);
  set_boot_slot(r, 1);  // erased: entry 0 gets seq id + 1
  auto e = read_otadata(r);
  EXPECT_EQ(e[0].seq, 2u);
  EXPECT_TRUE(e[0].valid());
  EXPECT_EQ(e[0].state, 0xFFFFFFFFu);
  EXPECT_EQ(boot_slot(r), 1);

  set_boot_slot(r, 0);  // the other entry, the next seq that selects slot 0
  e = read_otadata(r);
  EXPECT_EQ(e[1].seq, 3u);
  EXPECT_EQ(e[0].seq, 2u);
  EXPECT_EQ(boot_slot(r), 0);

  set_boot_slot(r, 1, 2, OtaState::New);
  e = read_otadata(r);
  EXPECT_EQ(e[0].seq, 4u);
  EXPECT_EQ(e[0].state, 0u);
  EXPECT_EQ(boot_slot(r), 1);

  set_boot_slot(r, 1);  // already slot 1: ESP-IDF writes the same seq into the other entry
  e = read_otadata(r);
  EXPECT_EQ(e[1].seq, 4u);
  EXPECT_EQ(boot_slot(r), 1);

  EXPECT_THROW(set_boot_slot(r, 2), FlashError);
  EXPECT_THROW(set_boot_slot(r, -1), FlashError);
}

TEST(Otadata, RewriteKeepsTheSeqLabelAndOnlyTouchesOneSector) {
  MemoryRegion r(0x2000);
  auto e0 = entry(1, 2);
  r.write(0, e0);
  auto e1 = entry(0xFFFFFFFF, 0xFFFFFFFF, false);
  for (int i = 0; i < 20; ++i) e1[4 + i] = static_cast<std::uint8_t>('a' + i);
  r.write(0x1000, e1);
  set_boot_slot(r, 1);
  const auto e = read_otadata(r);
  EXPECT_EQ(e[1].seq, 2u);
  EXPECT_EQ(e[1].seq_label[0], 'a');
  EXPECT_EQ(e[1].seq_label[19], 'a' + 19);
  EXPECT_EQ(r.read(0, 32), e0);
}

TEST(Otadata, OnAnImage) {
  FlashImage img(std::make_unique<MemoryRegion>(make_default_image()));
  EXPECT_EQ(boot_slot(img), 0);  // the default image ships otadata erased
  set_boot_slot(img, 1);
  EXPECT_EQ(boot_slot(img), 1);
  EXPECT_EQ(img.flash().read(0x10000, 4), (std::vector<std::uint8_t>{2, 0, 0, 0}));
  set_boot_slot(img, 0);
  EXPECT_EQ(boot_slot(img), 0);
  EXPECT_EQ(img.flash().read(0x11000, 4), (std::vector<std::uint8_t>{3, 0, 0, 0}));
  EXPECT_THROW(set_boot_slot(img, 2), FlashError);
}

TEST(Otadata, ImageWithoutOtadata) {
  // ESP32-D2WD style: one factory app, no otadata.
  auto bytes = make_default_image();
  PartitionTable t{{{"nvs", kTypeData, kSubtypeNvs, 0x9000, 0x6000},
                    {"phy_init", kTypeData, kSubtypePhy, 0xF000, 0x1000},
                    {"at_customize", kTypeAtCustom, 0, 0x20000, 0x60000},
                    {"factory", kTypeApp, 0x00, 0x80000, 0x180000}}};
  const auto tb = t.serialize(false);
  std::copy(tb.begin(), tb.end(), bytes.begin() + 0x8000);
  bytes.resize(2u << 20);
  PartitionTable sec{{{"mfg_nvs", kTypeData, kSubtypeNvs, 0x21000, 0x1C000}}};
  const auto sb = sec.serialize(true);
  std::copy(sb.begin(), sb.end(), bytes.begin() + 0x20000);
  FlashImage img(std::make_unique<MemoryRegion>(std::move(bytes)), "d2wd");
  EXPECT_EQ(boot_slot(img), 0);
  EXPECT_THROW(set_boot_slot(img, 0), ImageError);
}

}  // namespace
}  // namespace espat::flash
