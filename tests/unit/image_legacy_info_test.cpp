// espat image info on the legacy (v2.x) PKI and ble_data partitions (reference esp-at-formats.md
// §4.3, §4.4), read from Espressif's own bins in ../shared/vectors/pki (vectors README §5): as
// single bins and inside an image laid out by at_customize-v2.4.0.0.csv.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "flash/factory_build.hpp"
#include "flash/image_info.hpp"
#include "flash/legacy_read.hpp"
#include "shared_dirs.hpp"

namespace espat::flash {
namespace {

using json = nlohmann::json;
using Bytes = std::vector<std::uint8_t>;

const std::string kVectors = std::string(ESPAT_VECTORS_DIR) + "/";

Bytes vector_file(const std::string& path) { return read_input_file(kVectors + path); }

const json kClientCert00 = {{"subject", "CN=ESP Root CA C2,O=ESP C2,C=C2"},
                            {"issuer", "CN=ESP Root CA C1,O=ESP C1,C=C1"},
                            {"not_before", "2019-06-21T08:00:23Z"},
                            {"not_after", "2029-06-18T08:00:23Z"}};

// The v2.4.0.0 factory image as its download.config would place the bins (at_customize.csv
// v2.4.0.0: ble_data 0x21000, server_* 0x24000.., client_* 0x2a000.., factory_param 0x30000,
// mqtt_* 0x37000..; the wpa2_* partitions stay erased). The PKI bins are the ones the v2.4.0.0
// build flashes: every item typed cert (vectors README §5).
Bytes legacy_image() {
  const std::pair<std::uint32_t, const char*> parts[] = {
      {0x8000, "partition-table/partitions_at-v4.1.1.0.bin"},  // = the v2.4.0.0 primary table
      {0x20000, "partition-table/at_customize-v2.4.0.0.bin"},
      {0x21000, "pki/ble_data/ble_data.bin"},
      {0x24000, "pki/v2.4.0.0-build/server_cert.bin"},
      {0x26000, "pki/v2.4.0.0-build/server_key.bin"},
      {0x28000, "pki/v2.4.0.0-build/server_ca.bin"},
      {0x2a000, "pki/v2.4.0.0-build/client_cert.bin"},
      {0x2c000, "pki/v2.4.0.0-build/client_key.bin"},
      {0x2e000, "pki/v2.4.0.0-build/client_ca.bin"},
      {0x30000, "factory_param/factory_param_WROOM-32.bin"},
      {0x37000, "pki/v2.4.0.0-build/mqtt_cert.bin"},
      {0x39000, "pki/v2.4.0.0-build/mqtt_key.bin"},
      {0x3b000, "pki/v2.4.0.0-build/mqtt_ca.bin"},
  };
  std::vector<ImagePart> files;
  for (const auto& [address, path] : parts) files.push_back({address, vector_file(path), path});
  return build_image(files, 4u << 20);
}

TEST(LegacyPkiRead, ItemsAreTheInputFilesByteForByte) {
  REQUIRE_VECTORS();
  const auto pki = read_legacy_pki(vector_file("pki/client_key.bin"));
  EXPECT_TRUE(pki.problems.empty());
  EXPECT_EQ(pki.count, 2);
  EXPECT_EQ(pki.length, 3360u);  // 2 x (4 + 1675 + 1 byte of FF padding)
  ASSERT_EQ(pki.items.size(), 2u);
  EXPECT_EQ(pki.items[0].type, 3);
  EXPECT_EQ(pki.items[0].id, 0);
  EXPECT_EQ(pki.items[0].offset, 8u);
  EXPECT_EQ(pki.items[0].content, vector_file("pki/raw_data/client_key/client_key_00.key"));
  EXPECT_EQ(pki.items[1].id, 1);
  EXPECT_EQ(pki.items[1].offset, 8u + 1680u);
  EXPECT_EQ(pki.items[1].content, vector_file("pki/raw_data/client_key/client_key_01.key"));
}

TEST(LegacyPkiRead, MixedItemsKeepTheirTypeAndId) {
  REQUIRE_VECTORS();
  const auto pki = read_legacy_pki(vector_file("pki/pki-mixed.bin"));
  EXPECT_TRUE(pki.problems.empty());
  std::vector<std::pair<int, int>> got;
  for (const auto& i : pki.items) got.emplace_back(i.type, i.id);
  EXPECT_EQ(got, (std::vector<std::pair<int, int>>{{1, 0}, {1, 1}, {2, 0}, {2, 1}, {3, 0}, {3, 1}}));
  EXPECT_EQ(pki.items[5].content, vector_file("pki/raw_data/client_key/client_key_01.key"));
}

TEST(LegacyPkiRead, DamageIsReportedAndTheRestRead) {
  REQUIRE_VECTORS();
  Bytes b = vector_file("pki/client_cert.bin");
  b[8 + 4 + 1164 + 3] = 0x05;  // the second item's length (LE u16 at +2) becomes 0x058c: past the items
  auto pki = read_legacy_pki(b);
  ASSERT_EQ(pki.items.size(), 1u);
  EXPECT_EQ(pki.problems, (std::vector<std::string>{"offset 0x498: item of 1420 bytes runs past the end of the items",
                                                    "the header counts 2 items, 1 were read"}));

  b = vector_file("pki/client_key.bin");
  b[8 + 4 + 1675] = 0x00;  // the FF padding byte of item 0
  pki = read_legacy_pki(b);
  EXPECT_EQ(pki.items.size(), 2u);
  EXPECT_EQ(pki.problems, std::vector<std::string>{"offset 0x697: the padding after the item is not FF"});

  pki = read_legacy_pki(Bytes{0xF1, 0xF1, 0x01, 0x00, 0xFF, 0x00, 0x00, 0x00, 0x02, 0x00});
  EXPECT_TRUE(pki.items.empty());
  EXPECT_EQ(pki.problems.front(), "the header's length 255 runs past the end of the 10 bytes");
}

TEST(LegacyBleDataRead, LengthMagicAndJson) {
  REQUIRE_VECTORS();
  const auto d = read_legacy_ble_data(vector_file("pki/ble_data/ble_data.bin"));
  EXPECT_TRUE(d.problems.empty());
  EXPECT_EQ(d.length, 0x1953);
  EXPECT_EQ(d.json.size(), 0x1953u);
  EXPECT_EQ(d.json.substr(0, 30), R"({"Service": [{"index": 0, "uui)");
  const auto cut = read_legacy_ble_data(Bytes{0x10, 0x00, 0x27, 0x95, '{', '}'});
  EXPECT_EQ(cut.json, "{}");
  EXPECT_EQ(cut.problems, std::vector<std::string>{"the header's JSON length 16 runs past the end of the 6 bytes"});
}

TEST(ImageInfoLegacy, PkiBinAlone) {
  REQUIRE_VECTORS();
  const json info = describe_bin(vector_file("pki/client_cert.bin"), "client_cert.bin");
  EXPECT_EQ(info["kind"], "pki");
  ASSERT_EQ(info["legacy_pki"].size(), 1u);
  const auto& pki = info["legacy_pki"][0];
  EXPECT_EQ(pki["count"], 2);
  EXPECT_EQ(pki["length"], 2336);
  ASSERT_EQ(pki["items"].size(), 2u);
  const auto& item = pki["items"][0];
  EXPECT_EQ(item["type_name"], "cert");
  EXPECT_EQ(item["size"], 1164);
  EXPECT_EQ(item["pem"], "CERTIFICATE");
  EXPECT_EQ(item["certificates"], json::array({kClientCert00}));
  EXPECT_EQ(format_bin_info(info),
            "client_cert.bin: legacy PKI bin (F1 F1): 2 items, 2336 bytes\n"
            "  cert 0   1164 bytes, PEM CERTIFICATE\n"
            "    certificate: subject CN=ESP Root CA C2,O=ESP C2,C=C2; issuer CN=ESP Root CA C1,O=ESP C1,C=C1; "
            "valid 2019-06-21T08:00:23Z to 2029-06-18T08:00:23Z\n"
            "  cert 1   1164 bytes, PEM CERTIFICATE\n"
            "    certificate: subject CN=ESP Root CA C2,O=ESP C2,C=C2; issuer CN=ESP Root CA C1,O=ESP C1,C=C1; "
            "valid 2019-06-21T08:00:23Z to 2029-06-18T08:00:23Z\n");
}

TEST(ImageInfoLegacy, KeysShowTypeAndSizeOnlyWhateverTheirTypeByte) {
  REQUIRE_VECTORS();
  // The v2.4.0.0 build typed the key items as certificates (type 2): the content decides.
  const json info = describe_bin(vector_file("pki/v2.4.0.0-build/client_key.bin"), "client_key.bin");
  const auto& item = info["legacy_pki"][0]["items"][1];
  EXPECT_EQ(item["type"], 2);
  EXPECT_EQ(item["private_key"], (json{{"algorithm", "RSA"}, {"bits", 2048}}));
  EXPECT_FALSE(item.contains("certificates"));
  EXPECT_FALSE(item.contains("text"));  // the key's text is never shown
  EXPECT_EQ(format_bin_info(info),
            "client_key.bin: legacy PKI bin (F1 F1): 2 items, 3360 bytes\n"
            "  cert 0   1675 bytes, PEM RSA PRIVATE KEY, RSA private key of 2048 bits\n"
            "  cert 1   1675 bytes, PEM RSA PRIVATE KEY, RSA private key of 2048 bits\n");
}

TEST(ImageInfoLegacy, BleDataBinAlone) {
  REQUIRE_VECTORS();
  const json info = describe_bin(vector_file("pki/ble_data/ble_data.bin"), "ble_data.bin");
  EXPECT_EQ(info["kind"], "ble-data");
  const auto& ble = info["legacy_ble_data"];
  EXPECT_TRUE(ble["problems"].empty());
  EXPECT_EQ(ble["length"], 6483);
  ASSERT_EQ(ble["services"].size(), 31u);
  EXPECT_EQ(ble["services"][0], (json{{"index", 0}, {"uuid_len", 16}, {"uuid", "2800"}, {"perm", 1},
                                      {"val_max_len", 2}, {"val_cur_len", 2}, {"value", "A002"}}));
  EXPECT_EQ(ble["services"][16]["value"], "");  // an empty CSV row takes BLEService.py's defaults
  const std::string text = format_bin_info(info);
  EXPECT_EQ(text.substr(0, text.find('\n', text.find('\n', text.find('\n') + 1) + 1) + 1),
            "ble_data.bin: legacy ble_data bin (27 95): JSON 6483 bytes, 31 services\n"
            "  index uuid_len uuid                             perm val_max_len val_cur_len value\n"
            "  0     16       2800                             1    2           2           A002\n");

  const Bytes bad = {0x03, 0x00, 0x27, 0x95, '{', '"', 'S'};
  EXPECT_EQ(describe_bin(bad, "bad.bin")["legacy_ble_data"]["problems"],
            json::array({"the JSON text does not parse"}));
}

// Flash bytes need not be UTF-8: a Latin-1 module name shows as U+FFFD, in the text and --json.
TEST(ImageInfoLegacy, BytesThatAreNotUtf8) {
  REQUIRE_VECTORS();
  Bytes b = vector_file("factory_param/factory_param_WROOM-32.bin");
  b[56] = 0xE9;  // 'W' of WROOM-32 becomes a Latin-1 e-acute
  const json info = describe_bin(b, "f.bin");
  const std::string text = format_bin_info(info);
  EXPECT_NE(text.find("  module_name      \"\xEF\xBF\xBDROOM-32\"\n"), std::string::npos) << text;
  EXPECT_NE(json_text(info, 2).find("\"module_name\": \"\xEF\xBF\xBDROOM-32\""), std::string::npos);
}

TEST(ImageInfoLegacy, InsideAV2Image) {
  REQUIRE_VECTORS();
  const json info = describe_bin(legacy_image(), "factory_v2.bin");
  EXPECT_EQ(info["kind"], "image");
  EXPECT_EQ(info["factory_params"]["source"], "factory_param");
  EXPECT_EQ(info["legacy_factory_param"]["module_name"], "WROOM-32");
  ASSERT_EQ(info["legacy_pki"].size(), 9u);  // server_*, client_*, mqtt_*; wpa2_* are erased
  std::vector<std::string> labels;
  for (const auto& p : info["legacy_pki"]) labels.push_back(p["partition"]);
  EXPECT_EQ(labels, (std::vector<std::string>{"server_cert", "server_key", "server_ca", "client_cert", "client_key",
                                              "client_ca", "mqtt_cert", "mqtt_key", "mqtt_ca"}));
  const auto& client_cert = info["legacy_pki"][3];
  EXPECT_EQ(client_cert["offset"], 0x2a000);
  EXPECT_EQ(client_cert["items"][0]["certificates"], json::array({kClientCert00}));
  EXPECT_EQ(info["legacy_pki"][7]["items"][0]["private_key"]["bits"], 2048);  // mqtt_key
  EXPECT_EQ(info["legacy_ble_data"]["partition"], "ble_data");
  EXPECT_EQ(info["legacy_ble_data"]["offset"], 0x21000);
  EXPECT_EQ(info["legacy_ble_data"]["services"].size(), 31u);

  const std::string text = format_bin_info(info);
  EXPECT_NE(text.find("Legacy PKI partition client_key at 0x2c000 (F1 F1): 2 items, 3360 bytes\n"
                      "  cert 0   1675 bytes, PEM RSA PRIVATE KEY, RSA private key of 2048 bits\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Legacy ble_data partition ble_data at 0x21000 (27 95): JSON 6483 bytes, 31 services\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace espat::flash
