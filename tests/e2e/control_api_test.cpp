// Several modules in one process sharing one world (issue 4 item 5) and the control API (item 6,
// README "Control API"): `espat run --modules 2 --pty <tmp>/at --control 0`, the AT ports read
// byte for byte while the world is changed over HTTP. An AP that goes down disconnects its
// station, which reconnects per AT+CWRECONNCFG (spec 3.2.6); a changed password, a removed AP
// and an AP that never answers give +CWJAP:2, 3 and 1 (spec 3.2.5); one module's softAP
// (spec 3.2.10) is another's AP, and a station injected over HTTP joins it too (spec 3.17
// +STA_CONNECTED, +DIST_STA_IP).
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "at_port.hpp"
#include "process.hpp"
#include "transcript.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using espat::e2e::Millis;
using nlohmann::json;
using namespace std::chrono_literals;
using espat::e2e::AtPort;
using espat::e2e::Failure;
using espat::e2e::scaled;

// `espat run --modules 2 --pty <tmp>/at --control 0`: ports at and at-1, flash.bin and flash-1.bin.
class TwoModules : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "espat-control-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    try {
      modules_.emplace(dir_, 2);
      http_.emplace("127.0.0.1", modules_->control_port());
      http_->set_read_timeout(10, 0);
    } catch (const Failure& e) {
      FAIL() << e.what();
    }
  }

  void TearDown() override {
    if (modules_) {
      EXPECT_TRUE(modules_->stop()) << "espat did not exit with status 0 within 5 s of SIGTERM";
      if (HasFailure()) std::cout << "stderr of espat:\n" << modules_->run().stderr_text();
      modules_.reset();
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  AtPort& at(int k) { return modules_->at(k); }

  // An HTTP call whose status must be `status`; returns the body as JSON (null when empty).
  json call(const std::string& method, const std::string& path, const json& body, int status) {
    httplib::Result r = method == "GET"      ? http_->Get(path.c_str())
                        : method == "POST"   ? http_->Post(path.c_str(), body.dump(), "application/json")
                        : method == "PATCH"  ? http_->Patch(path.c_str(), body.dump(), "application/json")
                                             : http_->Delete(path.c_str());
    if (!r) throw Failure(fmt::format("{} {}: no answer ({})", method, path, httplib::to_string(r.error())));
    if (r->status != status) throw Failure(fmt::format("{} {}: status {}, wanted {}: {}", method, path, r->status, status, r->body));
    return r->body.empty() ? json() : json::parse(r->body);
  }
  json get(const std::string& path) { return call("GET", path, nullptr, 200); }

  fs::path dir_;
  std::optional<espat::e2e::ModuleGroup> modules_;
  std::optional<httplib::Client> http_;
};

const std::string kJoinOk = "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n";

TEST_F(TwoModules, ApDownDisconnectsAndUpReconnects) {
  try {
    at(0).send("AT+CWRECONNCFG=1,0\r\n");  // every second, for ever
    at(0).expect("\r\nOK\r\n");
    at(0).send("AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n");
    at(0).expect(kJoinOk);

    json mods = get("/modules");
    ASSERT_EQ(mods.size(), 2u);
    EXPECT_EQ(mods[0]["index"], 0);
    EXPECT_EQ(mods[0]["port"], fs::read_symlink(dir_ / "at").string());
    EXPECT_EQ(mods[0]["flash"], (dir_ / "flash.bin").string());
    EXPECT_EQ(mods[1]["flash"], (dir_ / "flash-1.bin").string());
    EXPECT_EQ(mods[0]["mode"], 1);
    EXPECT_EQ(mods[0]["station"]["state"], 2);
    EXPECT_EQ(mods[0]["station"]["ap"], "espat-ap");
    EXPECT_EQ(mods[0]["station"]["ip"], "127.10.1.100");
    EXPECT_EQ(mods[1]["station"]["state"], 0);
    EXPECT_NE(mods[0]["station"]["mac"], mods[1]["station"]["mac"]);  // two flash files, two chips
    json world = get("/world");
    ASSERT_EQ(world["associations"].size(), 1u);
    EXPECT_EQ(world["associations"][0]["module"], 0);

    call("PATCH", "/aps/espat-ap", {{"up", false}}, 200);
    at(0).expect("WIFI DISCONNECT\r\n");
    at(0).silence(scaled(1600ms));  // attempts that find nothing say nothing
    EXPECT_EQ(get("/modules/0")["station"]["ap"], nullptr);

    call("PATCH", "/aps/espat-ap", {{"up", true}}, 200);
    at(0).expect("WIFI CONNECTED\r\nWIFI GOT IP\r\n", 4000ms);
    EXPECT_EQ(get("/modules/0")["station"]["state"], 2);

    // A kick is a loss too.
    call("POST", "/aps/espat-ap/kick", {{"mac", get("/modules/0")["station"]["mac"]}}, 200);
    at(0).expect("WIFI DISCONNECT\r\n");
    at(0).expect("WIFI CONNECTED\r\nWIFI GOT IP\r\n", 4000ms);
    at(1).silence(100ms);
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

TEST_F(TwoModules, JoinErrorsFollowTheWorld) {
  try {
    at(0).send("AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n");
    at(0).expect(kJoinOk);
    // A new password: the AP restarts and drops its station; the old password no longer works.
    call("PATCH", "/aps/espat-ap", {{"password", "a-new-password"}}, 200);
    at(0).expect("WIFI DISCONNECT\r\n");
    at(0).send("AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n");
    at(0).expect("+CWJAP:2\r\n\r\nERROR\r\n");
    at(0).send("AT+CWJAP=\"espat-ap\",\"a-new-password\"\r\n");
    at(0).expect(kJoinOk);

    // Removed: not found.
    call("DELETE", "/aps/espat-ap", nullptr, 204);
    at(0).expect("WIFI DISCONNECT\r\n");
    call("GET", "/aps/espat-ap", nullptr, 404);
    at(0).send("AT+CWJAP=\"espat-ap\",\"a-new-password\"\r\n");
    at(0).expect("+CWJAP:3\r\n\r\nERROR\r\n");

    // An AP that never answers: timeout, after the 3 s jap_timeout.
    json ap = call("POST", "/aps", {{"ssid", "x"}, {"security", "OPEN"}, {"fault", "timeout"}}, 201);
    EXPECT_EQ(ap["id"], "x");
    const auto t0 = Clock::now();
    at(0).send("AT+CWJAP=\"x\",\"y\",,,,,,3\r\n");
    at(0).expect("+CWJAP:1\r\n\r\nERROR\r\n", 6000ms);
    EXPECT_GE(Clock::now() - t0, 2900ms);
    // The fault cleared: the same AP lets the station in.
    call("PATCH", "/aps/x", {{"fault", ""}}, 200);
    at(0).send("AT+CWJAP=\"x\",\"\"\r\n");
    at(0).expect(kJoinOk);
    EXPECT_EQ(get("/modules/0")["station"]["ip"], "127.10.6.100");  // the first free default subnet
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

TEST_F(TwoModules, OneModulesSoftApIsAnothersAp) {
  try {
    at(1).send("AT+CWMODE=3\r\n");
    at(1).expect("\r\nOK\r\n");
    at(1).send("AT+CWSAP=\"espat-soft\",\"12345678\",5,3\r\n");
    at(1).expect("\r\nOK\r\n");
    json mods = get("/modules");
    const std::string sta0 = mods[0]["station"]["mac"];
    const std::string softap_id = mods[1]["softap"]["id"];
    EXPECT_EQ(mods[1]["softap"]["ssid"], "espat-soft");
    EXPECT_EQ(mods[1]["softap"]["ip"], "127.64.1.1");  // module 1's network: 127.64.1.0/24
    json ap = get("/aps/" + softap_id);
    EXPECT_EQ(ap["softap"], true);
    EXPECT_EQ(ap["module"], 1);
    EXPECT_EQ(ap["channel"], 5);
    EXPECT_EQ(ap["security"], "WPA2_PSK");

    at(0).send("AT+CWJAP=\"espat-soft\",\"12345678\"\r\n");
    at(0).expect(kJoinOk);
    at(1).expect(fmt::format("+STA_CONNECTED:\"{0}\"\r\n+DIST_STA_IP:\"{0}\",\"127.64.1.2\"\r\n", sta0));

    // A phone joins through the control API: the same reports, the next address.
    json sta = call("POST", "/aps/" + softap_id + "/stations", {{"mac", "02:11:22:33:44:55"}, {"password", "12345678"}}, 201);
    EXPECT_EQ(sta["ip"], "127.64.1.3");
    at(1).expect("+STA_CONNECTED:\"02:11:22:33:44:55\"\r\n+DIST_STA_IP:\"02:11:22:33:44:55\",\"127.64.1.3\"\r\n");
    call("POST", "/aps/" + softap_id + "/stations", {{"mac", "02:11:22:33:44:56"}, {"password", "wrong-pass"}}, 409);

    mods = get("/modules");
    EXPECT_EQ(mods[0]["station"]["ap"], softap_id);
    EXPECT_EQ(mods[0]["station"]["ip"], "127.64.1.2");
    ASSERT_EQ(mods[1]["softap"]["clients"].size(), 2u);
    EXPECT_EQ(mods[1]["softap"]["clients"][1], json({{"mac", "02:11:22:33:44:55"}, {"ip", "127.64.1.3"}}));
    EXPECT_EQ(mods[1]["mode"], 3);

    call("DELETE", "/aps/" + softap_id + "/stations/02:11:22:33:44:55", nullptr, 204);
    at(1).expect("+STA_DISCONNECTED:\"02:11:22:33:44:55\"\r\n");
    call("PATCH", "/aps/" + softap_id, {{"rssi", -10}}, 409);  // AT+CWSAP's business
    at(0).silence(100ms);
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

}  // namespace
