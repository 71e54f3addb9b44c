// espat image info / build / split on the default image and the at.py input vector.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <tuple>

#include "flash/default_image.hpp"
#include "flash/factory_build.hpp"
#include "flash/image.hpp"
#include "flash/image_info.hpp"
#include "flash/image_split.hpp"
#include "shared_dirs.hpp"

namespace espat::flash {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kVectors = std::string(ESPAT_VECTORS_DIR) + "/";

std::vector<std::uint8_t> load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("missing vector " + path);
  return {std::istreambuf_iterator<char>(f), {}};
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("espat-image-tools-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write(const fs::path& p, const std::vector<std::uint8_t>& b) {
  fs::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

const json* find_partition(const json& info, const std::string& label) {
  for (const auto& p : info["partitions"])
    if (p["label"] == label) return &p;
  return nullptr;
}

const json* find_key(const json& nvs, const std::string& ns, const std::string& key) {
  for (const auto& n : nvs["namespaces"])
    if (n["name"] == ns)
      for (const auto& k : n["keys"])
        if (k["key"] == key) return &k;
  return nullptr;
}

TEST(ImageInfo, DefaultImage) {
  const auto image = make_default_image();
  const json info = describe_bin(image, "default.bin");
  EXPECT_EQ(info["kind"], "image");
  EXPECT_EQ(info["size"], 4u << 20);
  EXPECT_EQ(info["primary_table"]["offset"], 0x8000);
  EXPECT_FALSE(info["primary_table"]["md5"].get<bool>());
  EXPECT_EQ(info["primary_table"]["partitions"].size(), 6u);
  EXPECT_EQ(info["secondary_table"]["offset"], 0x20000);
  EXPECT_TRUE(info["secondary_table"]["md5"].get<bool>());
  const auto* mfg = find_partition(info, "mfg_nvs");
  ASSERT_NE(mfg, nullptr);
  EXPECT_EQ((*mfg)["offset"], 0x21000);
  EXPECT_EQ((*mfg)["size"], 0x1C000);
  EXPECT_EQ((*mfg)["table"], "secondary");
  EXPECT_EQ((*mfg)["subtype_name"], "nvs");
  EXPECT_EQ(info["otadata"]["boot_slot"], 0);
  EXPECT_EQ(info["otadata"]["boot_partition"], "ota_0");
  EXPECT_EQ(info["factory_params"]["source"], "mfg_nvs");
  EXPECT_EQ(info["factory_params"]["module_name"], "WROOM-32");
  EXPECT_EQ(info["factory_params"]["uart_baudrate"], 115200);
  const auto* name = find_key(info["mfg_nvs"], "factory_param", "module_name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ((*name)["value"], "WROOM-32");
  EXPECT_NE(find_key(info["mfg_nvs"], "ble_data", "cfg0"), nullptr);
  const std::string text = format_bin_info(info);
  EXPECT_NE(text.find("ESP-AT flash image"), std::string::npos) << text;
  EXPECT_NE(text.find("boots slot 0 (ota_0)"), std::string::npos) << text;
  EXPECT_NE(text.find("[factory_param]"), std::string::npos) << text;
}

TEST(ImageInfo, AtPyBlankImageWithCertificates) {
  REQUIRE_VECTORS();
  const auto image = load(kVectors + "at-py/image-wroom32-blank.bin");
  const json info = describe_bin(image, "image-wroom32-blank.bin");
  EXPECT_EQ(info["kind"], "image");
  EXPECT_FALSE(info["bootloader"].get<bool>());
  EXPECT_EQ(info["factory_params"]["module_name"], "WROOM-32");
  EXPECT_EQ(info["factory_params"]["uart_tx_pin"], 17);
  EXPECT_EQ(info["otadata"]["boot_partition"], "ota_0");
  const auto& nvs = info["mfg_nvs"];
  EXPECT_TRUE(nvs["problems"].empty()) << nvs["problems"].dump();
  EXPECT_EQ(nvs["namespaces"].size(), 11u);
  const auto* cert = find_key(nvs, "client_cert", "client_cert.0");
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ((*cert)["type"], "blob");
  EXPECT_GT((*cert)["size"].get<int>(), 100);
  ASSERT_TRUE(cert->contains("certificates")) << cert->dump();
  const auto& c = (*cert)["certificates"][0];
  EXPECT_FALSE(c["subject"].get<std::string>().empty());
  EXPECT_FALSE(c["issuer"].get<std::string>().empty());
  EXPECT_EQ(c["not_before"].get<std::string>().size(), 20u);  // 2019-01-01T00:00:00Z
  const auto* key = find_key(nvs, "client_key", "client_key.0");
  ASSERT_NE(key, nullptr);
  EXPECT_NE((*key)["pem"].get<std::string>().find("PRIVATE KEY"), std::string::npos);
  EXPECT_FALSE(key->contains("certificates"));
  const std::string text = format_bin_info(info);
  EXPECT_NE(text.find("certificate: subject"), std::string::npos) << text;
}

TEST(ImageInfo, SingleBins) {
  REQUIRE_VECTORS();
  {
    const json info = describe_bin(load(kVectors + "partition-table/at_customize-v4.1.1.0.bin"), "t.bin");
    EXPECT_EQ(info["kind"], "partition-table");
    EXPECT_TRUE(info["table"]["md5"].get<bool>());
    EXPECT_EQ(info["table"]["partitions"][0]["label"], "mfg_nvs");
  }
  {
    const json info = describe_bin(load(kVectors + "mfg_nvs/mfg_nvs-MINI-1.bin"), "m.bin");
    EXPECT_EQ(info["kind"], "nvs");
    EXPECT_EQ(info["factory_params"]["module_name"], "MINI-1");
    EXPECT_NE(find_key(info["nvs"], "server_cert", "server_cert"), nullptr);
  }
  {
    const json info = describe_bin(load(kVectors + "factory_param/factory_param_WROOM-32.bin"), "f.bin");
    EXPECT_EQ(info["kind"], "factory-param");
    const auto& l = info["legacy_factory_param"];
    EXPECT_EQ(l["version"], 3);
    EXPECT_EQ(l["module_name"], "WROOM-32");
    EXPECT_EQ(l["platform"], "PLATFORM_ESP32");
    EXPECT_EQ(l["uart_baudrate"], 115200);
    EXPECT_EQ(l["country_code"], "CN");
    EXPECT_EQ(l["uart_tx_pin"], 17);
    EXPECT_NE(format_bin_info(info).find("Legacy factory_param"), std::string::npos);
  }
  EXPECT_THROW(describe_bin(std::vector<std::uint8_t>(100, 0x12), "junk.bin"), ImageError);
  EXPECT_THROW(describe_bin(load(kVectors + "partition-table/at_customize-v4.1.1.0-bad-md5.bin"), "bad.bin"),
               ImageError);
}

TEST(ImageBuild, FromPairs) {
  REQUIRE_VECTORS();
  const auto table = load(kVectors + "partition-table/partitions_at-v4.1.1.0.bin");
  const auto custom = load(kVectors + "partition-table/at_customize-v4.1.1.0.bin");
  const auto mfg = load(kVectors + "mfg_nvs/mfg_nvs-WROOM-32.bin");
  const auto image = build_image({{0x8000, table, "pt"}, {0x20000, custom, "ac"}, {0x21000, mfg, "mfg"}}, 4u << 20);
  EXPECT_EQ(image, load(kVectors + "at-py/image-wroom32-blank.bin"));  // assembled the same way
  // Overlap and past-the-end are refused, naming the files.
  try {
    build_image({{0x20000, custom, "ac"}, {0x20800, mfg, "mfg"}}, 4u << 20);
    ADD_FAILURE();
  } catch (const BuildError& e) {
    EXPECT_NE(std::string(e.what()).find("mfg at 0x20800 overlaps ac"), std::string::npos) << e.what();
  }
  try {
    build_image({{0x3F0000, mfg, "mfg"}}, 4u << 20);
    ADD_FAILURE();
  } catch (const BuildError& e) {
    EXPECT_NE(std::string(e.what()).find("past the end"), std::string::npos) << e.what();
  }
  EXPECT_EQ(parse_flash_size("2MB"), 2u << 20);
  EXPECT_EQ(parse_flash_size("16MB"), 16u << 20);
  EXPECT_THROW(parse_flash_size("3KB"), BuildError);
}

TEST(ImageBuild, FromDownloadConfig) {
  REQUIRE_VECTORS();
  TempDir dir;
  write(dir.path / "partition_table/partition-table.bin", load(kVectors + "partition-table/partitions_at-v4.1.1.0.bin"));
  write(dir.path / "at_customize.bin", load(kVectors + "partition-table/at_customize-v4.1.1.0.bin"));
  write(dir.path / "customized_partitions/mfg_nvs.bin", load(kVectors + "mfg_nvs/mfg_nvs-WROOM-32.bin"));
  write(dir.path / "ota_data_initial.bin", std::vector<std::uint8_t>(0x2000, 0xFF));
  const std::string cfg =
      "--flash_mode dio --flash_freq 40m --flash_size 4MB 0x8000 partition_table/partition-table.bin "
      "0x10000 ota_data_initial.bin 0x20000 at_customize.bin 0x21000 customized_partitions/mfg_nvs.bin\n";
  write(dir.path / "download.config", {cfg.begin(), cfg.end()});
  const auto image = build_image_from_config(dir.path / "download.config", std::nullopt);
  EXPECT_EQ(image, load(kVectors + "at-py/image-wroom32-blank.bin"));
  EXPECT_EQ(build_image_from_config(dir.path / "download.config", 8u << 20).size(), 8u << 20);

  const auto c = parse_download_config(cfg);
  EXPECT_EQ(c.flash_mode, "dio");
  EXPECT_EQ(c.flash_freq, "40m");
  EXPECT_EQ(c.flash_size, "4MB");
  ASSERT_EQ(c.files.size(), 4u);
  EXPECT_EQ(c.files[3].address, 0x21000u);
  EXPECT_THROW(parse_download_config("--flash_bogus 1 0x1000 a.bin"), BuildError);
  EXPECT_THROW(parse_download_config("0x1000"), BuildError);
  const std::string missing = "0x8000 nothere.bin\n";
  write(dir.path / "bad.config", {missing.begin(), missing.end()});
  EXPECT_THROW(build_image_from_config(dir.path / "bad.config", std::nullopt), BuildError);
}

// Writes the split files to dir and builds the image again from its download.config and from
// the listed files as ADDR=FILE pairs.
void expect_round_trip(const std::vector<std::uint8_t>& image, const std::vector<SplitFile>& files, const fs::path& dir) {
  std::vector<ImagePart> parts;
  for (const auto& f : files) {
    write(dir / f.file_name, f.bytes);
    if (f.in_config) parts.push_back({f.offset, f.bytes, f.file_name});
  }
  EXPECT_EQ(build_image_from_config(dir / "download.config", std::nullopt), image);
  EXPECT_EQ(build_image(parts, image.size()), image);
}

TEST(ImageSplit, SplitThenBuildGivesTheSameImage) {
  REQUIRE_VECTORS();
  for (const auto& image : {make_default_image(), load(kVectors + "at-py/image-wroom32-blank.bin")}) {
    TempDir dir;
    const auto files = split_image(image, "image.bin");
    std::map<std::string, const SplitFile*> by_name;
    for (const auto& f : files) by_name[f.file_name] = &f;
    EXPECT_EQ(by_name.at("partition-table.bin")->bytes.size(), 0xC00u);
    EXPECT_EQ(by_name.at("at_customize-table.bin")->bytes.size(), 0xC00u);
    EXPECT_EQ(by_name.at("mfg_nvs.bin")->bytes.size(), 0x1C000u);
    EXPECT_EQ(by_name.at("ota_0.bin")->bytes.size(), 0x180000u);
    EXPECT_EQ(by_name.count("bootloader.bin"), 0u);  // erased: not written
    // The whole at_customize partition is written, but build takes its table and partitions.
    const SplitFile& custom = *by_name.at("at_customize.bin");
    EXPECT_EQ(custom.offset, 0x20000u);
    EXPECT_EQ(custom.bytes, std::vector<std::uint8_t>(image.begin() + 0x20000, image.begin() + 0x100000));
    EXPECT_FALSE(custom.in_config);
    const auto& config = by_name.at("download.config")->bytes;
    EXPECT_EQ(std::string(config.begin(), config.end()),
              "--flash_mode dio --flash_freq 40m --flash_size 4MB 0x8000 partition-table.bin 0xf000 phy_init.bin "
              "0x10000 otadata.bin 0x12000 nvs.bin 0x20000 at_customize-table.bin 0x21000 mfg_nvs.bin 0x70000 "
              "fatfs.bin 0x100000 ota_0.bin 0x280000 ota_1.bin\n");
    expect_round_trip(image, files, dir.path);
  }
}

// Bytes that no partition holds (a second-stage bootloader's neighbours, the rest of the table
// sectors, what lies between the secondary partitions) come out as gap files and go back.
TEST(ImageSplit, BytesOutsideThePartitionsRoundTrip) {
  REQUIRE_VECTORS();
  auto image = load(kVectors + "at-py/image-wroom32-blank.bin");
  const std::pair<std::uint32_t, std::vector<std::uint8_t>> marks[] = {
      {0x0000, {0x00, 0x11}},         // before the bootloader
      {0x1000, {0xE9, 0x03, 0x02}},   // a bootloader
      {0x8C00, {0x5A}},               // after the primary table, in its sector
      {0x9FFF, {0x00}},               // further on before phy_init: the same gap file
      {0x20C10, {0x01, 0xFF, 0x02}},  // after the at_customize table
      {0x50000, {0x77}},              // inside at_customize, between mfg_nvs and fatfs
  };
  for (const auto& [at, bytes] : marks) std::copy(bytes.begin(), bytes.end(), image.begin() + at);
  TempDir dir;
  const auto files = split_image(image, "image.bin");
  std::vector<std::tuple<std::string, std::uint32_t, std::vector<std::uint8_t>>> gaps;
  for (const auto& f : files)
    if (f.file_name.starts_with("gap-")) gaps.emplace_back(f.file_name, f.offset, f.bytes);
  using Gap = std::tuple<std::string, std::uint32_t, std::vector<std::uint8_t>>;
  std::vector<std::uint8_t> table_gap(0x9FFF - 0x8C00 + 1, 0xFF);
  table_gap.front() = 0x5A, table_gap.back() = 0x00;
  EXPECT_EQ(gaps, (std::vector<Gap>{{"gap-0x000000.bin", 0x0, {0x00, 0x11}},
                                    {"gap-0x008c00.bin", 0x8C00, table_gap},
                                    {"gap-0x020c10.bin", 0x20C10, {0x01, 0xFF, 0x02}},
                                    {"gap-0x050000.bin", 0x50000, {0x77}}}));
  std::vector<std::uint8_t> boot(0x7000, 0xFF);
  boot[0] = 0xE9, boot[1] = 0x03, boot[2] = 0x02;
  EXPECT_EQ(files.front().file_name, "gap-0x000000.bin");
  EXPECT_EQ(files[1].file_name, "bootloader.bin");
  EXPECT_EQ(files[1].bytes, boot);
  const auto& config = files.back();
  ASSERT_EQ(config.file_name, "download.config");
  EXPECT_EQ(std::string(config.bytes.begin(), config.bytes.end()),
            "--flash_mode dio --flash_freq 40m --flash_size 4MB 0x0 gap-0x000000.bin 0x1000 bootloader.bin 0x8000 "
            "partition-table.bin 0x8c00 gap-0x008c00.bin 0xf000 phy_init.bin 0x10000 "
            "otadata.bin 0x12000 nvs.bin 0x20000 at_customize-table.bin 0x20c10 gap-0x020c10.bin 0x21000 mfg_nvs.bin "
            "0x50000 gap-0x050000.bin 0x70000 fatfs.bin 0x100000 ota_0.bin 0x280000 ota_1.bin\n");
  expect_round_trip(image, files, dir.path);
}

TEST(ImageSplit, RefusesWhatIsNotAnImage) {
  EXPECT_THROW(split_image(std::vector<std::uint8_t>(4u << 20, 0xFF), "blank.bin"), ImageError);
}

}  // namespace
}  // namespace espat::flash
