// OTA (spec 3.3.24): the app descriptor AT+GMR reads, esp_image_verify's checks, the
// firmware's signature table, the slot an OTA writes, and the world's [ota] table.
#include "module/ota.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include "flash/default_image.hpp"
#include "flash/otadata.hpp"
#include "sim/control_routes.hpp"
#include "sim/world_file.hpp"

namespace espat::module {
namespace {

void put32(std::vector<std::uint8_t>& v, std::size_t at, std::uint32_t x) {
  for (int i = 0; i < 4; ++i) v[at + std::size_t(i)] = std::uint8_t(x >> (8 * i));
}

// An ESP32 app image as esptool's elf2image lays it out: header, one DROM segment starting
// with esp_app_desc_t, the checksum at the end padded to 16 bytes, the SHA-256 after it.
std::vector<std::uint8_t> app_image(const std::string& version, std::size_t extra = 0) {
  std::vector<std::uint8_t> desc(256 + extra, 0);
  put32(desc, 0, kAppDescMagic);
  std::copy(version.begin(), version.end(), desc.begin() + 16);
  const std::string project = "espat-test";
  std::copy(project.begin(), project.end(), desc.begin() + 48);
  std::vector<std::uint8_t> img(24, 0);
  img[0] = 0xE9;
  img[1] = 1;        // one segment
  img[23] = 1;       // hash appended
  img.resize(32);
  put32(img, 24, 0x3F400020);
  put32(img, 28, std::uint32_t(desc.size()));
  img.insert(img.end(), desc.begin(), desc.end());
  std::uint8_t sum = 0xEF;
  for (auto b : desc) sum ^= b;
  img.resize((img.size() + 1 + 15) & ~std::size_t(15), 0);
  img.back() = sum;
  std::uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(img.data(), img.size(), digest);
  img.insert(img.end(), digest, digest + sizeof digest);
  return img;
}

TEST(OtaImage, ReadsTheAppDescriptor) {
  auto img = app_image("v4.2.0.0");
  auto d = read_app_desc(img);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->version, "v4.2.0.0");
  EXPECT_EQ(d->project_name, "espat-test");
  img[0] = 0xE8;
  EXPECT_FALSE(read_app_desc(img));  // not an image
  img[0] = 0xE9;
  img[kAppDescOffset] ^= 1;
  EXPECT_FALSE(read_app_desc(img));  // no descriptor magic
  EXPECT_FALSE(read_app_desc(std::span(img).first(40)));
  // A version filling its 32 bytes has no NUL: all 32 are the version.
  const std::string full(32, 'v');
  EXPECT_EQ(read_app_desc(app_image(full))->version, full);
}

TEST(OtaImage, VerifiesLikeEspIdf) {
  const auto good = app_image("v4.2.0.0", 64);
  EXPECT_EQ(verify_app_image(good, 0x180000), std::nullopt);
  EXPECT_NE(verify_app_image(good, good.size() - 1), std::nullopt);  // does not fit the slot

  auto bad = good;
  bad[0] = 0x00;
  EXPECT_NE(verify_app_image(bad, 0x180000), std::nullopt);
  bad = good;
  bad[40] ^= 0x01;  // a payload byte: the checksum no longer matches
  EXPECT_NE(verify_app_image(bad, 0x180000), std::nullopt);
  bad = good;
  bad.back() ^= 0x01;  // the appended SHA-256
  EXPECT_NE(verify_app_image(bad, 0x180000), std::nullopt);
  bad = good;
  bad[12] = 5;  // ESP32-C3's chip id
  EXPECT_NE(verify_app_image(bad, 0x180000), std::nullopt);
  bad = good;
  put32(bad, 28, 0x100000);  // a segment longer than the image
  EXPECT_NE(verify_app_image(bad, 0x180000), std::nullopt);
  bad = good;
  bad[1] = 17;  // more than 16 segments
  EXPECT_NE(verify_app_image(bad, 0x180000), std::nullopt);
  EXPECT_NE(verify_app_image(std::span(good).first(good.size() - 32), 0x180000), std::nullopt);  // hash cut off
}

TEST(OtaImage, FirmwareSignatures) {
  const std::vector<std::uint8_t> app = {0xE9, 0, 0}, pki = {0xF1, 0xF1, 0}, ble = {0, 0, 0x27, 0x95},
                                  fp = {0xFC, 0xFC}, junk = {'<', 'h', 't', 'm', 'l'};
  EXPECT_EQ(check_signature("ota", app), std::nullopt);
  EXPECT_NE(check_signature("ota", junk), std::nullopt);
  EXPECT_EQ(check_signature("mqtt_ca", pki), std::nullopt);
  EXPECT_NE(check_signature("mqtt_ca", app), std::nullopt);
  EXPECT_EQ(check_signature("ble_data", ble), std::nullopt);
  EXPECT_EQ(check_signature("factory_param", fp), std::nullopt);
  EXPECT_NE(check_signature("factory_param", std::span(fp).first(1)), std::nullopt);
  EXPECT_NE(check_signature("mfg_nvs", pki), std::nullopt);  // not in the firmware's table
  EXPECT_NE(check_signature("ota_1", app), std::nullopt);
}

TEST(OtaSlots, TheSlotAfterTheBootingOne) {
  flash::FlashImage img(std::make_unique<flash::MemoryRegion>(flash::make_default_image()));
  // Fresh: otadata erased, ota_0 boots, an OTA writes ota_1; no descriptor to read.
  EXPECT_EQ(update_slot(img), 1);
  EXPECT_EQ(update_slot_label(img), "ota_1");
  EXPECT_FALSE(slot_app_desc(img, 0));

  auto slot1 = img.partition("ota_1");
  slot1->erase_range(0, 0x10000);
  slot1->write(0, app_image("v4.2.0.0"));
  EXPECT_FALSE(slot_app_desc(img, 0));
  ASSERT_TRUE(slot_app_desc(img, 1));
  EXPECT_EQ(slot_app_desc(img, 1)->version, "v4.2.0.0");
  EXPECT_FALSE(slot_app_desc(img, 2));
  flash::set_boot_slot(img, 1);
  EXPECT_EQ(update_slot_label(img), "ota_0");
  flash::set_boot_slot(img, 0);  // AT+SYSROLLBACK
  EXPECT_EQ(update_slot_label(img), "ota_1");
}

TEST(OtaWorld, UrlsParse) {
  auto u = sim::HttpUrl::parse("http://127.0.0.1:8080/ota/");
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->https);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/ota");
  EXPECT_EQ(u->origin(), "http://127.0.0.1:8080");
  u = sim::HttpUrl::parse("https://ota.example");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->https);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path, "");
  for (const char* bad : {"ftp://x", "http://", "http://x:0/", "http://x:99999", "http://x:8a", "http://u@x/", "x/ota"})
    EXPECT_FALSE(sim::HttpUrl::parse(bad)) << bad;
}

TEST(OtaWorld, TheOtaTable) {
  sim::World w;
  EXPECT_TRUE(w.ota.url.empty());
  EXPECT_EQ(w.ota.timeout, std::chrono::seconds(180));
  sim::load_world(w, "[ota]\nurl = \"http://127.0.0.1:8080/ota\"\nssl_url = \"https://127.0.0.1:8443\"\ntimeout_s = 5\n", "w.toml");
  EXPECT_EQ(w.ota.url, "http://127.0.0.1:8080/ota");
  EXPECT_EQ(w.ota.ssl_url, "https://127.0.0.1:8443");
  EXPECT_EQ(w.ota.timeout, std::chrono::seconds(5));
  auto error = [](const char* text) {
    sim::World w2;
    try {
      sim::load_world(w2, text, "w.toml");
    } catch (const sim::WorldError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error("[ota]\nurl = \"ftp://x\"\n"), "w.toml:2: \"url\" = \"ftp://x\" is not an http:// or https:// URL");
  EXPECT_EQ(error("[ota]\nssl_url = \"http://x\"\n"), "w.toml:2: \"ssl_url\" must be an https:// URL");
  EXPECT_EQ(error("[ota]\nport = 1\n"), "w.toml:2: unknown key \"port\"");
  EXPECT_EQ(error("[ota]\ntimeout_s = 0\n"), "w.toml:2: \"timeout_s\" = 0 is out of range [1, 3600]");
}

// GET and PUT /ota (README "Control API").
TEST(OtaWorld, ControlApi) {
  sim::World w;
  sim::ControlRoutes api(w, {});
  auto r = api.handle("GET", "/ota", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.dump(), R"({"ssl_url":"","timeout_s":180,"url":""})");
  r = api.handle("PUT", "/ota", R"({"url": "http://127.0.0.1:9/ota", "timeout_s": 7})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(w.ota.url, "http://127.0.0.1:9/ota");
  EXPECT_EQ(w.ota.timeout, std::chrono::seconds(7));
  EXPECT_EQ(api.handle("PUT", "/ota", R"({"url": "gopher://x"})").status, 400);
  EXPECT_EQ(api.handle("PUT", "/ota", R"({"ssl_url": "http://x"})").status, 400);
  EXPECT_EQ(api.handle("PUT", "/ota", R"({"timeout_s": 0, "url": ""})").status, 400);
  EXPECT_EQ(api.handle("PUT", "/ota", R"({"speed": 1})").status, 400);
  EXPECT_EQ(w.ota.url, "http://127.0.0.1:9/ota");  // a refused PUT changes nothing
  EXPECT_EQ(api.handle("PUT", "/ota", R"({"url": ""})").status, 200);  // no server any more
  EXPECT_EQ(w.ota.url, "");
  EXPECT_EQ(api.handle("DELETE", "/ota", "").status, 405);
  EXPECT_EQ(api.handle("GET", "/world", "").body["ota"]["timeout_s"], 7);
}

}  // namespace
}  // namespace espat::module
