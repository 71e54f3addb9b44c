// `espat image edit` against the at.py modify_bin outputs (vectors README §6).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "flash/image_edit.hpp"
#include "flash/nvs.hpp"
#include "flash/nvs_csv.hpp"
#include "flash/region.hpp"

namespace {

namespace fs = std::filesystem;
using namespace espat::flash;
using Bytes = std::vector<std::uint8_t>;

const fs::path kAtPy = fs::path(ESPAT_VECTORS_DIR) / "at-py";
const fs::path kFactory = fs::path(ESPAT_VECTORS_DIR) / "factory_param";

void expect_same(const Bytes& got, const Bytes& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t p = 0; p < want.size() / 4096; ++p)
    EXPECT_TRUE(std::equal(want.begin() + p * 4096, want.begin() + (p + 1) * 4096, got.begin() + p * 4096))
        << "sector at " << std::hex << p * 4096;
}

TEST(ImageEdit, BaudAndPins) {
  const Bytes in = read_binary_file(kAtPy / "image-wroom32-blank.bin");
  EditOptions o;
  o.baud = 921600;
  o.tx_pin = 4;
  o.rx_pin = 5;
  const EditResult r = edit_image(in, o);
  EXPECT_TRUE(r.nvs_mode);
  EXPECT_EQ(r.offset, 0x21000u);
  EXPECT_EQ(r.size, 0x1C000u);
  expect_same(r.image, read_binary_file(kAtPy / "image-wroom32-baud921600-tx4-rx5.bin"));
}

TEST(ImageEdit, ModuleCountryChannels) {
  const Bytes in = read_binary_file(kAtPy / "image-wroom32-blank.bin");
  EditOptions o;
  o.module_name = "MY-MODULE";
  o.country_code = "US";
  o.start_channel = 1;
  o.channel_number = 11;
  expect_same(edit_image(in, o).image, read_binary_file(kAtPy / "image-wroom32-module-MY-MODULE-US-ch1-11.bin"));
}

TEST(ImageEdit, ClientCertReplaced) {
  const Bytes in = read_binary_file(kAtPy / "image-wroom32-blank.bin");
  EditOptions o;
  o.blobs["client_cert.0"] = read_binary_file(kAtPy / "new_client_cert.crt");
  expect_same(edit_image(in, o).image, read_binary_file(kAtPy / "image-wroom32-client_cert0-replaced.bin"));
}

// With no change at all, at.py's layout is still written: the v5.0 generator's layout.
TEST(ImageEdit, NoChangeGivesTheOldGeneratorLayout) {
  Bytes part = read_binary_file(fs::path(ESPAT_VECTORS_DIR) / "mfg_nvs" / "mfg_nvs-WROOM-32.bin");
  to_at_py_layout(part);
  EXPECT_EQ(part, read_binary_file(fs::path(ESPAT_VECTORS_DIR) / "mfg_nvs" / "mfg_nvs-WROOM-32-idf-v5.0-generator.bin"));
}

TEST(ImageEdit, GattsRow) {
  const Bytes in = read_binary_file(kAtPy / "image-wroom32-blank.bin");
  EditOptions o;
  o.gatts[3] = "3,16,0x2901,0x11,1,1,31";
  const EditResult r = edit_image(in, o);
  MemoryRegion mem(Bytes(r.image.begin() + 0x21000, r.image.begin() + 0x3D000));
  nvs::Storage s(mem, true);
  EXPECT_EQ(s.get("ble_data", "cfg3")->as_string(), "3,16,0x2901,0x11,1,1,31");
  EXPECT_EQ(s.get("ble_data", "cfg4")->as_string(), "4,16,0x2803,0x01,1,1,02");
  EXPECT_TRUE(std::equal(in.begin(), in.begin() + 0x21000, r.image.begin()));
  EXPECT_TRUE(std::equal(in.begin() + 0x3D000, in.end(), r.image.begin() + 0x3D000));
}

TEST(ImageEdit, LegacyBaudAndPins) {
  const Bytes in = read_binary_file(kFactory / "factory_param_WROOM-32.bin");
  EditOptions o;
  o.baud = 921600;
  o.tx_pin = 4;
  o.rx_pin = 5;
  const EditResult r = edit_image(in, o);
  EXPECT_FALSE(r.nvs_mode);
  EXPECT_EQ(r.image, read_binary_file(kAtPy / "legacy" / "factory_param_WROOM-32-baud921600-tx4-rx5.bin"));
}

TEST(ImageEdit, LegacyModuleCountryChannels) {
  const Bytes in = read_binary_file(kFactory / "factory_param_WROOM-32.bin");
  EditOptions o;
  o.module_name = "MY-MODULE";
  o.country_code = "US";
  o.start_channel = 1;
  o.channel_number = 11;
  EXPECT_EQ(edit_image(in, o).image, read_binary_file(kAtPy / "legacy" / "factory_param_WROOM-32-MY-MODULE-US-ch1-11.bin"));
}

TEST(ImageEdit, LegacyInsideAnImage) {
  Bytes img(2u << 20, 0xFF);
  const Bytes fp = read_binary_file(kFactory / "factory_param_WROOM-32.bin");
  std::copy(fp.begin(), fp.end(), img.begin() + 0x30000);
  EditOptions o;
  o.tx_power = 60;
  const EditResult r = edit_image(img, o);
  EXPECT_EQ(r.offset, 0x30000u);
  EXPECT_EQ(r.image[0x30004], 60);
}

void expect_error(const Bytes& in, const EditOptions& o, const std::string& fragment) {
  try {
    edit_image(in, o);
    ADD_FAILURE() << "accepted";
  } catch (const EditError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(ImageEditBad, Rejected) {
  const Bytes img = read_binary_file(kAtPy / "image-wroom32-blank.bin");
  const Bytes fp = read_binary_file(kFactory / "factory_param_WROOM-32.bin");
  EditOptions o;
  o.tx_power = 85;
  expect_error(img, o, "--tx_power 85: out of range 40..84");
  o = {};
  o.start_channel = 0;
  expect_error(fp, o, "--start_channel 0");
  o = {};
  o.country_code = "TOOLONG";
  expect_error(fp, o, "--country_code");
  o = {};
  o.blobs["wpa2_ca"] = {1, 2, 3};
  expect_error(img, o, "has no wpa2_ca/wpa2_ca");
  o = {};
  o.blobs["client_cert.0"] = {1};
  expect_error(fp, o, "only on an image with mfg_nvs");
  o = {};
  o.platform = "ESP32";
  expect_error(img, o, "--platform: only in legacy mode");
  o = {};
  o.baud = 115200;
  expect_error(Bytes(5000, 0xFF), o, "the input is 5000 bytes");
  expect_error(Bytes(4096, 0xFF), o, "no mfg_nvs partition and no FC FC");
}

}  // namespace
