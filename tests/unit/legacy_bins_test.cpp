// Legacy bins (factory_param FC FC, PKI F1 F1, ble_data) against the ESP-AT v2.4.0.0 tool outputs.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "flash/legacy_bins.hpp"
#include "flash/nvs_csv.hpp"
#include "shared_dirs.hpp"

namespace {

namespace fs = std::filesystem;
using namespace espat::flash;
using Bytes = std::vector<std::uint8_t>;

const fs::path kVectors = ESPAT_VECTORS_DIR;

class LegacyFactoryParam : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { REQUIRE_VECTORS(); }
};

TEST_P(LegacyFactoryParam, MatchesTheToolOutput) {
  const fs::path dir = kVectors / "factory_param";
  const Bytes want = read_binary_file(dir / ("factory_param_" + GetParam() + ".bin"));
  const Bytes got = gen_legacy_factory_param(GetParam(), read_text_file(dir / "factory_param_data.csv"),
                                             read_text_file(dir / "factory_param_type.csv"));
  EXPECT_EQ(got, want);
}

INSTANTIATE_TEST_SUITE_P(Vectors, LegacyFactoryParam,
                         ::testing::Values("WROOM-32", "WROVER-32", "PICO-D4", "SOLO-1", "MINI-1", "ESP32-SDIO",
                                           "ESP32-D2WD", "ESP32_QCLOUD"),
                         [](const auto& i) {
                           std::string n = i.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(LegacyFactoryParamBad, UnknownModuleAndBadRows) {
  REQUIRE_VECTORS();
  const fs::path dir = kVectors / "factory_param";
  const std::string data = read_text_file(dir / "factory_param_data.csv");
  const std::string types = read_text_file(dir / "factory_param_type.csv");
  EXPECT_THROW(gen_legacy_factory_param("NO-SUCH", data, types), CsvError);
  EXPECT_THROW(gen_legacy_factory_param("WROOM-32", data, types, "PLATFORM_ESP8266"), CsvError);
  try {
    gen_legacy_factory_param("X", "platform,module_name,version\nPLATFORM_ESP32,X,abc\n", types);
    ADD_FAILURE();
  } catch (const CsvError& e) {
    EXPECT_NE(std::string(e.what()).find("factory_param_data.csv:2: version `abc`"), std::string::npos) << e.what();
  }
  try {
    gen_legacy_factory_param("X", "platform,module_name\nPLATFORM_ESP32\n", types);
    ADD_FAILURE();
  } catch (const CsvError& e) {
    EXPECT_NE(std::string(e.what()).find("factory_param_data.csv:2:"), std::string::npos) << e.what();
  }
  EXPECT_THROW(gen_legacy_factory_param("WROOM-32", data, "param_name,offset,type,size\nx,4090,integer,8\n"), CsvError);
}

struct PkiCase {
  std::string bin;
  std::vector<std::pair<std::string, std::string>> items;
};

TEST(LegacyPki, MatchesAtPkiOutputs) {
  REQUIRE_VECTORS();
  const fs::path dir = kVectors / "pki";
  const std::vector<PkiCase> cases = {
      {"client_cert.bin", {{"cert", "client_cert/client_cert_00.crt"}, {"cert", "client_cert/client_cert_01.crt"}}},
      {"client_key.bin", {{"key", "client_key/client_key_00.key"}, {"key", "client_key/client_key_01.key"}}},
      {"client_ca.bin", {{"ca", "client_ca/client_ca_00.crt"}, {"ca", "client_ca/client_ca_01.crt"}}},
      {"pki-mixed.bin",
       {{"ca", "client_ca/client_ca_00.crt"}, {"cert", "client_cert/client_cert_00.crt"},
        {"key", "client_key/client_key_00.key"}, {"cert", "client_cert/client_cert_01.crt"},
        {"key", "client_key/client_key_01.key"}, {"ca", "client_ca/client_ca_01.crt"}}},
      {"server_cert.bin", {{"cert", "server_cert/server_cert.crt"}}},
      {"server_key.bin", {{"key", "server_key/server.key"}}},
      {"server_ca.bin", {{"ca", "server_ca/server_ca.crt"}}},
      {"mqtt_cert.bin", {{"cert", "mqtt_cert/mqtt_client.crt"}}},
      {"mqtt_key.bin", {{"key", "mqtt_key/mqtt_client.key"}}},
      {"mqtt_ca.bin", {{"ca", "mqtt_ca/mqtt_ca.crt"}}},
      // What the v2.4.0.0 build flashes: every item typed `cert`.
      {"v2.4.0.0-build/client_key.bin",
       {{"cert", "client_key/client_key_00.key"}, {"cert", "client_key/client_key_01.key"}}},
      {"v2.4.0.0-build/client_ca.bin", {{"cert", "client_ca/client_ca_00.crt"}, {"cert", "client_ca/client_ca_01.crt"}}},
      {"v2.4.0.0-build/client_cert.bin",
       {{"cert", "client_cert/client_cert_00.crt"}, {"cert", "client_cert/client_cert_01.crt"}}},
      {"v2.4.0.0-build/server_key.bin", {{"cert", "server_key/server.key"}}},
      {"v2.4.0.0-build/server_ca.bin", {{"cert", "server_ca/server_ca.crt"}}},
      {"v2.4.0.0-build/server_cert.bin", {{"cert", "server_cert/server_cert.crt"}}},
      {"v2.4.0.0-build/mqtt_key.bin", {{"cert", "mqtt_key/mqtt_client.key"}}},
      {"v2.4.0.0-build/mqtt_ca.bin", {{"cert", "mqtt_ca/mqtt_ca.crt"}}},
      {"v2.4.0.0-build/mqtt_cert.bin", {{"cert", "mqtt_cert/mqtt_client.crt"}}},
  };
  for (const auto& c : cases) {
    std::vector<PkiItem> items;
    for (const auto& [t, f] : c.items) {
      PkiItem it{};
      ASSERT_TRUE(parse_pki_type(t, it.type));
      it.content = read_binary_file(dir / "raw_data" / f);
      items.push_back(it);
    }
    EXPECT_EQ(gen_pki(items), read_binary_file(dir / c.bin)) << c.bin;
  }
  PkiType t;
  EXPECT_FALSE(parse_pki_type("crt", t));
}

TEST(LegacyBleData, MatchesBleServiceOutputs) {
  REQUIRE_VECTORS();
  const fs::path dir = kVectors / "pki" / "ble_data";
  EXPECT_EQ(gen_ble_data(read_text_file(dir / "example.csv")), read_binary_file(dir / "ble_data.bin"));
  EXPECT_EQ(gen_ble_data(read_text_file(dir / "GattServiceExample.csv")),
            read_binary_file(dir / "ble_data-GattServiceExample.bin"));
}

TEST(LegacyBleData, BadRowsNameTheLine) {
  const std::string head = "index,uuid_len,uuid,perm,val_max_len,val_cur_len,value\n";
  auto msg = [](const std::string& csv) {
    try {
      gen_ble_data(csv, "b.csv");
    } catch (const CsvError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(msg(head + "0,16,0x2800,0x01,2,2,A002\n1,16,0xZZ,1,1,1,00\n").find("b.csv:3: uuid"), std::string::npos);
  EXPECT_NE(msg(head + "0,16,0x2800,x,2,2,A002\n").find("b.csv:2: perm"), std::string::npos);
  EXPECT_NE(msg(head + "0,16\n").find("b.csv:2: 2 fields"), std::string::npos);
  EXPECT_NE(msg("a,b\n").find("b.csv:1: expected the header"), std::string::npos);
}

}  // namespace
