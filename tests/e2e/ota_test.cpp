// OTA through Wi-Fi (spec 3.3.23 AT+CIPFWVER, 3.3.24 AT+CIUPDATE; README "OTA server") against
// a real HTTP server (cpp-httplib, in this process) that the world file names: the states as
// the firmware prints them, the image landing in the other app slot, otadata switched, the
// restart into the new version (AT+GMR reads its app descriptor), AT+SYSROLLBACK back, and
// the failures that must leave otadata alone.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/sha.h>

#include "at_port.hpp"
#include "process.hpp"

namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using espat::e2e::AtPort;
using espat::e2e::EspatRun;

constexpr std::size_t kOtadata = 0x10000, kOta1 = 0x280000;

void put32(std::string& v, std::size_t at, std::uint32_t x) {
  for (int i = 0; i < 4; ++i) v[at + std::size_t(i)] = char(x >> (8 * i));
}

// An ESP32 app image as esptool makes it: header, one segment opening with esp_app_desc_t
// (magic 0xABCD5432 at 0x20, version at +16), checksum, appended SHA-256.
std::string app_image(const std::string& version) {
  std::string desc(256, '\0');
  put32(desc, 0, 0xABCD5432);
  desc.replace(16, version.size(), version);
  desc.replace(48, 5, "espat");
  std::string img(32, '\0');
  img[0] = char(0xE9);
  img[1] = 1;
  img[23] = 1;
  put32(img, 24, 0x3F400020);
  put32(img, 28, 256);
  img += desc;
  unsigned char sum = 0xEF;
  for (char c : desc) sum ^= static_cast<unsigned char>(c);
  img.resize((img.size() + 1 + 15) & ~std::size_t(15), '\0');
  img.back() = char(sum);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(img.data()), img.size(), digest);
  return img + std::string(reinterpret_cast<char*>(digest), sizeof digest);
}

std::string read_at(const fs::path& file, std::size_t offset, std::size_t n) {
  std::ifstream f(file, std::ios::binary);
  f.seekg(std::streamoff(offset));
  std::string s(n, '\0');
  f.read(s.data(), std::streamsize(n));
  return s;
}

// The OTA server: espat's protocol on /ota (versions, <version>/<name>.bin).
struct OtaServer {
  httplib::Server http;
  std::thread thread;
  int port = 0;
  std::atomic<int> image_delay_ms{0};
  std::mutex m;
  std::vector<std::string> peers;  // the address each request came from

  OtaServer() {
    auto peer = [this](const httplib::Request& req) {
      std::lock_guard lk(m);
      peers.push_back(req.remote_addr);
    };
    http.Get("/ota/versions", [peer](const httplib::Request& req, httplib::Response& res) {
      peer(req);
      res.set_content("v4.1.1.0\nv4.2.0.0\n", "text/plain");
    });
    http.Get("/ota/v4.2.0.0/ota.bin", [this, peer](const httplib::Request& req, httplib::Response& res) {
      peer(req);
      std::this_thread::sleep_for(std::chrono::milliseconds(image_delay_ms.load()));
      res.set_content(app_image("v4.2.0.0"), "application/octet-stream");
    });
    http.Get("/ota/v4.1.1.0/ota.bin", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(app_image("v4.1.1.0-ota"), "application/octet-stream");  // told apart from the default
    });
    http.Get("/ota/v6.6.6.6/ota.bin", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("<html>not an image</html>", "text/html");  // bad magic
    });
    http.Get("/ota/v5.0.0.0/ota.bin", [](const httplib::Request&, httplib::Response& res) {
      auto img = app_image("v5.0.0.0");
      img[100] ^= 1;  // magic right, checksum wrong: esp_image_verify refuses it
      res.set_content(img, "application/octet-stream");
    });
    http.Get("/ota/v7.0.0.0/ota.bin", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(3s);  // slower than the OTA timeout the test sets
      res.set_content(app_image("v7.0.0.0"), "application/octet-stream");
    });
    port = http.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { http.listen_after_bind(); });
  }
  ~OtaServer() {
    http.stop();
    thread.join();
  }
  std::vector<std::string> seen() {
    std::lock_guard lk(m);
    return peers;
  }
};

class Ota : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() / ("espat-ota-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    flash = dir / "flash.bin";
    // The embedded world's APs, and the OTA server.
    std::ifstream def(std::string(ESPAT_SOURCE_DIR) + "/src/sim/default_world.toml");
    std::ofstream w(dir / "world.toml");
    w << def.rdbuf() << "\n[ota]\nurl = \"http://127.0.0.1:" << server.port << "/ota\"\ntimeout_s = 20\n";
  }
  void TearDown() override {
    at.reset();
    if (run) run->stop();
    if (HasFailure() && run) std::cerr << "espat's stderr:\n" << run->stderr_text();
    fs::remove_all(dir);
  }
  void start() {
    const fs::path link = dir / "at";
    run.emplace(std::vector<std::string>{"--pty", link.string(), "--boot-ms", "0", "--world", (dir / "world.toml").string(),
                                         "--flash", flash.string(), "--control", "0", "-v"},
                dir / "err");
    for (int i = 0; i < 500 && !fs::exists(link); ++i) std::this_thread::sleep_for(10ms);
    at.emplace(link);
    at->expect("\r\nready\r\n", 5000ms);
    api.emplace("127.0.0.1", run->control_port());
    echo_off();
  }
  void echo_off() {
    at->send("ATE0\r\n");
    at->expect("ATE0\r\n\r\nOK\r\n");
  }
  // After a restart: ready, the saved AP joined again (auto-connect), echo off again.
  void rebooted() {
    at->expect("\r\nready\r\n", 5000ms);
    at->expect("WIFI CONNECTED\r\nWIFI GOT IP\r\n", 5000ms);
    echo_off();
  }
  std::string otadata() { return read_at(flash, kOtadata, 0x2000); }
  void put_ota(const std::string& json) {
    auto r = api->Put("/ota", json, "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  std::string bin_version() {
    at->send("AT+GMR\r\n");
    const std::string gmr = at->match("AT version:[^\r]*\r\nSDK version:[^\r]*\r\ncompile time[^\r]*\r\nBin version:[^\r]*\r\n\r\nOK\r\n");
    const auto at_bin = gmr.find("Bin version:");
    return gmr.substr(at_bin + 12, gmr.find('\r', at_bin) - at_bin - 12);
  }

  OtaServer server;
  fs::path dir, flash;
  std::optional<EspatRun> run;
  std::optional<AtPort> at;
  std::optional<httplib::Client> api;
};

TEST_F(Ota, UpgradeRestartAndRollBack) {
  start();
  at->send("AT+CIUPDATE?\r\n");
  at->expect("+CIUPDATE:0\r\n\r\nOK\r\n");
  EXPECT_EQ(bin_version(), "v4.1.1.0(WROOM-32)");

  // No address yet: the server's address is a literal (found), but nothing can connect.
  at->send("AT+CIPFWVER?\r\n");
  at->expect("\r\nERROR\r\n");
  const std::string fresh = otadata();
  at->send("AT+CIUPDATE\r\n");
  at->expect("+CIPUPDATE:1\r\n\r\nERROR\r\n");
  EXPECT_EQ(otadata(), fresh);

  at->send("AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n");
  at->expect("WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n", 5000ms);
  at->send("AT+CIPFWVER?\r\n");
  at->expect("+CIPFWVER:\"v4.1.1.0\"\r\n+CIPFWVER:\"v4.2.0.0\"\r\n\r\nOK\r\n");

  // The latest version, blocking; the port answers "busy p..." while the image comes.
  server.image_delay_ms = 700;
  at->send("AT+CIUPDATE\r\n");
  at->expect("+CIPUPDATE:1\r\n+CIPUPDATE:2\r\n+CIPUPDATE:3\r\n", 5000ms);
  at->send("AT\r\n");
  at->expect("\r\nbusy p...\r\n");
  at->expect("+CIPUPDATE:4\r\n\r\nOK\r\n", 5000ms);
  rebooted();
  server.image_delay_ms = 0;

  // Every request left from the module's own address.
  for (const auto& peer : server.seen()) EXPECT_EQ(peer, "127.10.1.100");
  // ota_1 holds the image, otadata boots it.
  const std::string img = app_image("v4.2.0.0");
  EXPECT_EQ(read_at(flash, kOta1, img.size()), img);
  EXPECT_NE(otadata(), fresh);
  EXPECT_EQ(bin_version(), "v4.2.0.0(WROOM-32)");
  at->send("AT+CIUPDATE?\r\n");
  at->expect("+CIUPDATE:0\r\n\r\nOK\r\n");  // a boot clears the state

  at->send("AT+SYSROLLBACK\r\n");
  at->expect("\r\nERROR\r\n");  // ota_0 holds no application: the default image ships none

  // A named version into ota_0, non-blocking: OK first, only states 1 and 4 (a named version
  // skips the version request, as at_ota_cmd.c does), and no restart.
  at->send("AT+CIUPDATE=0,\"v4.1.1.0\",\"ota\",1\r\n");
  at->expect("\r\nOK\r\n+CIPUPDATE:1\r\n+CIPUPDATE:4\r\n", 5000ms);
  at->send("AT+CIUPDATE?\r\n");
  at->expect("+CIUPDATE:4\r\n\r\nOK\r\n");
  EXPECT_EQ(bin_version(), "v4.2.0.0(WROOM-32)");  // still the application that runs
  // otadata boots ota_0 next; its successor is the running ota_1, which esp_ota_begin refuses.
  at->send("AT+CIUPDATE=0,\"v4.2.0.0\"\r\n");
  at->expect("+CIPUPDATE:1\r\n\r\nERROR\r\n", 5000ms);
  at->send("AT+RST\r\n");  // "You need to manually restart"
  at->expect("\r\nOK\r\n");
  rebooted();
  EXPECT_EQ(bin_version(), "v4.1.1.0-ota(WROOM-32)");
  const std::string on_ota0 = otadata();

  // Both slots hold an application now: AT+SYSROLLBACK boots the other one, and back again.
  at->send("AT+SYSROLLBACK\r\n");
  at->expect("\r\nOK\r\n");
  rebooted();
  EXPECT_EQ(bin_version(), "v4.2.0.0(WROOM-32)");
  EXPECT_NE(otadata(), on_ota0);
  at->send("AT+SYSROLLBACK\r\n");
  at->expect("\r\nOK\r\n");
  rebooted();
  EXPECT_EQ(bin_version(), "v4.1.1.0-ota(WROOM-32)");
}

TEST_F(Ota, FailuresLeaveOtadataAlone) {
  start();
  at->send("AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n");
  at->expect("WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n", 5000ms);
  const std::string before = otadata();

  // A version the server does not have (404), a body that is no image (bad magic), an image
  // whose checksum is wrong: ERROR after the states reached, otadata untouched.
  for (const char* version : {"v9.9.9.9", "v6.6.6.6", "v5.0.0.0"}) {
    at->send(std::string("AT+CIUPDATE=0,\"") + version + "\"\r\n");
    at->expect("+CIPUPDATE:1\r\n\r\nERROR\r\n", 5000ms);
    EXPECT_EQ(otadata(), before) << version;
    at->send("AT+CIUPDATE?\r\n");
    at->expect("+CIUPDATE:-1\r\n\r\nOK\r\n");
  }
  EXPECT_EQ(bin_version(), "v4.1.1.0(WROOM-32)");

  // Non-blocking failure: OK, the states reached, then -1.
  at->send("AT+CIUPDATE=0,\"v9.9.9.9\",,1\r\n");
  at->expect("\r\nOK\r\n+CIPUPDATE:1\r\n+CIPUPDATE:-1\r\n", 5000ms);

  // Slower than the OTA timeout (timeout_s, 180 by default as the guide's 3 minutes).
  put_ota(R"({"timeout_s": 1})");
  const auto t0 = std::chrono::steady_clock::now();
  at->send("AT+CIUPDATE=0,\"v7.0.0.0\"\r\n");
  at->expect("+CIPUPDATE:1\r\n\r\nERROR\r\n", 5000ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2500ms);
  put_ota(R"({"timeout_s": 20})");

  // The server is down: found (a literal address), never connected.
  put_ota(R"({"url": "http://127.0.0.1:)" + std::to_string(espat::e2e::unused_port()) + R"(/ota"})");
  at->send("AT+CIUPDATE\r\n");
  at->expect("+CIPUPDATE:1\r\n\r\nERROR\r\n", 5000ms);
  at->send("AT+CIPFWVER?\r\n");
  at->expect("\r\nERROR\r\n", 5000ms);
  // No server at all: not even found.
  put_ota(R"({"url": ""})");
  at->send("AT+CIUPDATE\r\n");
  at->expect("\r\nERROR\r\n");
  // <ota mode> 1 needs an https server; the world has none.
  put_ota(R"({"url": "http://127.0.0.1:)" + std::to_string(server.port) + R"(/ota"})");
  at->send("AT+CIUPDATE=1\r\n");
  at->expect("\r\nERROR\r\n");
  EXPECT_EQ(otadata(), before);

  // The module is still well.
  at->send("AT+CIPFWVER?\r\n");
  at->expect("+CIPFWVER:\"v4.1.1.0\"\r\n+CIPFWVER:\"v4.2.0.0\"\r\n\r\nOK\r\n");
}

}  // namespace
