// gen-mfg: mfg_nvs.bin as the ESP-AT v4.1.1.0 build makes it, against its outputs.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "flash/mfg_gen.hpp"
#include "flash/nvs_csv.hpp"
#include "shared_dirs.hpp"

namespace {

namespace fs = std::filesystem;
using namespace espat::flash;
using Bytes = std::vector<std::uint8_t>;

const fs::path kMfg = fs::path(ESPAT_VECTORS_DIR) / "mfg_nvs";

MfgOptions opts(const std::string& module) {
  MfgOptions o;
  o.module = module;
  o.mqtt = module != "WROVER-32";  // that module's build has no MQTT (vectors README §3)
  return o;
}

class MfgGen : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { REQUIRE_VECTORS(); }
};

TEST_P(MfgGen, CsvEqualsTheBuildsCsv) {
  // The build's CSV names the files by absolute path; the vector has them as raw_data/...
  std::string csv = gen_mfg_csv(kMfg / "raw_data", opts(GetParam()));
  const std::string prefix = (kMfg / "raw_data").string() + "/";
  for (std::size_t p; (p = csv.find(prefix)) != std::string::npos;) csv.replace(p, prefix.size(), "raw_data/");
  EXPECT_EQ(csv, read_text_file(kMfg / ("mfg_nvs-" + GetParam() + ".csv")));
}

TEST_P(MfgGen, BinEqualsTheBuildsBin) {
  const Bytes got = gen_mfg_nvs(kMfg / "raw_data", opts(GetParam()));
  const Bytes want = read_binary_file(kMfg / ("mfg_nvs-" + GetParam() + ".bin"));
  ASSERT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
}

INSTANTIATE_TEST_SUITE_P(Vectors, MfgGen, ::testing::Values("WROOM-32", "MINI-1", "WROVER-32"), [](const auto& i) {
  std::string n = i.param;
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
});

TEST(MfgGenBad, UnknownModule) {
  REQUIRE_VECTORS();
  MfgOptions o;
  o.module = "NO-SUCH-MODULE";
  try {
    gen_mfg_csv(kMfg / "raw_data", o);
    ADD_FAILURE();
  } catch (const CsvError& e) {
    EXPECT_NE(std::string(e.what()).find("no row for platform PLATFORM_ESP32 and module NO-SUCH-MODULE"),
              std::string::npos);
  }
}

TEST(MfgGenBad, MissingRawData) {
  EXPECT_THROW(gen_mfg_nvs(kMfg / "no_such_dir", MfgOptions{}), CsvError);
}

TEST(MfgGen, DependencyOrder) {
  MfgOptions o;
  o.wpa2 = true;
  EXPECT_EQ(mfg_cert_dirs(o), (std::vector<std::string>{"server_cert", "server_key", "server_ca", "client_cert",
                                                        "client_key", "client_ca", "wpa2_cert", "wpa2_key", "wpa2_ca",
                                                        "mqtt_cert", "mqtt_key", "mqtt_ca"}));
}

}  // namespace
