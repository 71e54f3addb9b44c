// `espat image edit` against the at.py modify_bin outputs (vectors README §6).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/core.h>

#include "flash/image_edit.hpp"
#include "flash/nvs.hpp"
#include "flash/nvs_csv.hpp"
#include "flash/region.hpp"
#include "shared_dirs.hpp"

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
  REQUIRE_VECTORS();
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
  REQUIRE_VECTORS();
  const Bytes in = read_binary_file(kAtPy / "image-wroom32-blank.bin");
  EditOptions o;
  o.module_name = "MY-MODULE";
  o.country_code = "US";
  o.start_channel = 1;
  o.channel_number = 11;
  expect_same(edit_image(in, o).image, read_binary_file(kAtPy / "image-wroom32-module-MY-MODULE-US-ch1-11.bin"));
}

TEST(ImageEdit, ClientCertReplaced) {
  REQUIRE_VECTORS();
  const Bytes in = read_binary_file(kAtPy / "image-wroom32-blank.bin");
  EditOptions o;
  o.blobs["client_cert.0"] = read_binary_file(kAtPy / "new_client_cert.crt");
  expect_same(edit_image(in, o).image, read_binary_file(kAtPy / "image-wroom32-client_cert0-replaced.bin"));
}

// With no change at all, at.py's layout is still written: the v5.0 generator's layout.
TEST(ImageEdit, NoChangeGivesTheOldGeneratorLayout) {
  REQUIRE_VECTORS();
  Bytes part = read_binary_file(fs::path(ESPAT_VECTORS_DIR) / "mfg_nvs" / "mfg_nvs-WROOM-32.bin");
  to_at_py_layout(part);
  EXPECT_EQ(part, read_binary_file(fs::path(ESPAT_VECTORS_DIR) / "mfg_nvs" / "mfg_nvs-WROOM-32-idf-v5.0-generator.bin"));
}

TEST(ImageEdit, GattsRow) {
  REQUIRE_VECTORS();
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
  REQUIRE_VECTORS();
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
  REQUIRE_VECTORS();
  const Bytes in = read_binary_file(kFactory / "factory_param_WROOM-32.bin");
  EditOptions o;
  o.module_name = "MY-MODULE";
  o.country_code = "US";
  o.start_channel = 1;
  o.channel_number = 11;
  EXPECT_EQ(edit_image(in, o).image, read_binary_file(kAtPy / "legacy" / "factory_param_WROOM-32-MY-MODULE-US-ch1-11.bin"));
}

TEST(ImageEdit, LegacyInsideAnImage) {
  REQUIRE_VECTORS();
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
  REQUIRE_VECTORS();
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

// ---- the command line: exit status, nothing written on error, the input never changed ---------

namespace {

// The espat binary built beside this test binary (skipped when it is not there).
fs::path espat_binary() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec).parent_path() / "espat";
  return fs::exists(p, ec) ? p : fs::path();
}

int run(const std::string& args) {
  const int st = std::system((espat_binary().string() + " " + args + " >/dev/null 2>&1").c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("espat-gen-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

TEST(ImageGenCli, ErrorsWriteNothing) {
  if (espat_binary().empty()) GTEST_SKIP() << "no espat binary beside the tests";
  TempDir t;
  const auto d = t.path.string();
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(t.path / name) << text;
  };
  write("long_key.csv", "key,type,encoding,value\nns,namespace,,\nkey_16_chars_xxx,data,u8,1\n");
  write("range.csv", "key,type,encoding,value\nns,namespace,,\nk,data,i16,40000\n");
  write("long_str.csv", "key,type,encoding,value\nns,namespace,,\nk,data,string," + std::string(4001, 'a') + "\n");
  write("bad_line.csv", "key,type,encoding,value\nns,namespace,,\nk,data\n");
  for (const char* csv : {"long_key", "range", "long_str", "bad_line"}) {
    EXPECT_EQ(run(fmt::format("image gen-nvs {0}/{1}.csv {0}/{1}.bin 0x3000", d, csv)), 1) << csv;
    EXPECT_FALSE(fs::exists(t.path / (std::string(csv) + ".bin"))) << csv;
  }
  write("ok.csv", "key,type,encoding,value\nns,namespace,,\nk,data,u8,1\n");
  EXPECT_EQ(run(fmt::format("image gen-nvs {0}/ok.csv {0}/ok.bin 0x3000", d)), 0);
  EXPECT_EQ(fs::file_size(t.path / "ok.bin"), 0x3000u);
  EXPECT_EQ(run(fmt::format("image nvs-dump {0}/ok.bin {0}/ok.out.csv", d)), 0);
  EXPECT_EQ(read_text_file(t.path / "ok.out.csv"), "key,type,encoding,value\nns,namespace,,\nk,data,u8,1\n");
  EXPECT_NE(run(fmt::format("image gen-mfg --raw-data {0}/none --module WROOM-32 -o {0}/m.bin", d)), 0);
  EXPECT_FALSE(fs::exists(t.path / "m.bin"));
  EXPECT_NE(run(fmt::format("image gen-factory-param --module NOPE --data {1}/factory_param_data.csv "
                            "--types {1}/factory_param_type.csv -o {0}/f.bin", d, kFactory.string())), 0);
  EXPECT_FALSE(fs::exists(t.path / "f.bin"));
  EXPECT_NE(run(fmt::format("image gen-pki cert {0}/missing.crt -o {0}/p.bin", d)), 0);
  EXPECT_FALSE(fs::exists(t.path / "p.bin"));
}

TEST(ImageGenCli, EditLeavesItsInputAlone) {
  REQUIRE_VECTORS();
  if (espat_binary().empty()) GTEST_SKIP() << "no espat binary beside the tests";
  TempDir t;
  const auto d = t.path.string();
  fs::copy_file(kAtPy / "image-wroom32-blank.bin", t.path / "in.bin");
  const Bytes before = read_binary_file(t.path / "in.bin");
  EXPECT_EQ(run(fmt::format("image edit {0}/in.bin -o {0}/out.bin -mn MY-MODULE -cc US -sc 1 -cn 11", d)), 0);
  EXPECT_EQ(read_binary_file(t.path / "out.bin"), read_binary_file(kAtPy / "image-wroom32-module-MY-MODULE-US-ch1-11.bin"));
  EXPECT_EQ(run(fmt::format("image edit --input {0}/in.bin --output {0}/b.bin --baud=921600 -tx 4 -rx 5", d)), 0);
  EXPECT_EQ(read_binary_file(t.path / "b.bin"), read_binary_file(kAtPy / "image-wroom32-baud921600-tx4-rx5.bin"));
  EXPECT_EQ(run(fmt::format("image edit {0}/in.bin -o {0}/bad.bin -tp 90", d)), 1);
  EXPECT_EQ(run(fmt::format("image edit {0}/in.bin -o {0}/bad.bin --no_such_option 1", d)), 1);
  EXPECT_EQ(run(fmt::format("image edit {0}/in.bin -o {0}/bad.bin -ccrt0 {0}/missing.crt", d)), 1);
  EXPECT_FALSE(fs::exists(t.path / "bad.bin"));
  EXPECT_EQ(run(fmt::format("image edit {0}/in.bin -o {0}/in.bin -tp 50", d)), 1);
  EXPECT_EQ(read_binary_file(t.path / "in.bin"), before);
}

}  // namespace
