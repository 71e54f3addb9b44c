// module::Wifi's provisioning on its own (spec 3.2.22-3.2.25): SmartConfig phones and WPS
// buttons of the sim::World reach the station, which prints the firmware's messages, takes the
// credentials and joins; mDNS names resolve in the world.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include "at/engine.hpp"
#include "module/context.hpp"
#include "module/wifi.hpp"
#include "sim/world_file.hpp"
#include "fake_module.hpp"

using namespace espat;
using namespace std::chrono_literals;

namespace {
struct Provision : ::testing::Test {
  asio::io_context io;
  sim::World world;
  std::unique_ptr<fakes::FakeModule> ctx;
  module::Wifi* wifi = nullptr;

  void SetUp() override {
    sim::load_world(world, sim::default_world_toml(), "default");
    world.scan_time = 50ms;
    ctx = std::make_unique<fakes::FakeModule>(io, world);  // station mode, no auto-connect
    wifi = &ctx->wifi();
  }
  void TearDown() override { ctx.reset(); }
  void run(std::chrono::milliseconds d = 600ms) {
    io.restart();
    io.run_for(d);
  }
  std::string take() { return std::exchange(ctx->out, {}); }
  void add_phone(std::string id, int type, std::string ssid, std::string pwd, std::string key = "",
                 std::string reserved = "") {
    sim::SmartPhone p;
    p.id = std::move(id);
    p.type = type;
    p.ssid = std::move(ssid);
    p.password = std::move(pwd);
    p.key = std::move(key);
    p.reserved_data = std::move(reserved);
    world.phones().push_back(p);
  }
};

const std::string kEspTouchJoin =
    "smartconfig type:ESPTOUCH\r\nSmart get wifi info\r\nssid:espat-ap\r\npassword:espat-password\r\n"
    "WIFI CONNECTED\r\nWIFI GOT IP\r\nsmartconfig connected wifi\r\n";
}  // namespace

// ---- SmartConfig ---------------------------------------------------------------------------

TEST_F(Provision, SmartConfigPhoneGivesCredentialsAndTheStationJoins) {
  ASSERT_TRUE(wifi->start_smartconfig(3, 0, ""));
  EXPECT_TRUE(wifi->smartconfig_running());
  run(50ms);
  EXPECT_EQ(take(), "");
  EXPECT_EQ(world.trigger_smartconfig("phone"), 1);
  run();
  EXPECT_EQ(take(), kEspTouchJoin);
  ASSERT_TRUE(wifi->link());
  EXPECT_EQ(wifi->link()->ap.ssid, "espat-ap");
  // The credentials are the station configuration now, saved as AT+CWJAP saves it.
  ASSERT_TRUE(wifi->settings().station);
  EXPECT_EQ(wifi->settings().station->password, "espat-password");
  EXPECT_EQ(ctx->saved.count("wifi_cfg/sta.ssid"), 1u);
  // One phone's credentials end the listening.
  EXPECT_FALSE(wifi->smartconfig_running());
  EXPECT_EQ(world.trigger_smartconfig("phone"), 0);
}

TEST_F(Provision, SmartConfigHearsOnlyTheStartedType) {
  add_phone("airkiss", 2, "espat-open", "");
  ASSERT_TRUE(wifi->start_smartconfig(2, 0, ""));  // AirKiss only
  EXPECT_EQ(world.trigger_smartconfig("phone"), 1);  // an ESP-TOUCH phone: not heard
  run();
  EXPECT_EQ(take(), "");
  EXPECT_TRUE(wifi->smartconfig_running());
  EXPECT_EQ(world.trigger_smartconfig("airkiss"), 1);
  run();
  EXPECT_EQ(take(),
            "smartconfig type:AIRKISS\r\nSmart get wifi info\r\nssid:espat-open\r\npassword:\r\n"
            "WIFI CONNECTED\r\nWIFI GOT IP\r\nsmartconfig connected wifi\r\n");
}

TEST_F(Provision, SmartConfigType3HearsAirKissToo) {
  add_phone("airkiss", 2, "espat-ap", "espat-password");
  ASSERT_TRUE(wifi->start_smartconfig(3, 0, ""));
  world.trigger_smartconfig("airkiss");
  run();
  EXPECT_EQ(take().substr(0, 26), "smartconfig type:AIRKISS\r\n");
}

TEST_F(Provision, EspTouchV2NeedsTheKeyAndPrintsReservedData) {
  add_phone("v2", 4, "espat-ap", "espat-password", "0123456789abcdef", "hello,world");
  ASSERT_TRUE(wifi->start_smartconfig(4, 0, "fedcba9876543210"));  // the wrong key
  world.trigger_smartconfig("v2");
  run();
  EXPECT_EQ(take(), "");
  wifi->stop_smartconfig();
  ASSERT_TRUE(wifi->start_smartconfig(4, 0, "0123456789abcdef"));
  world.trigger_smartconfig("v2");
  run();
  EXPECT_EQ(take(),
            "smartconfig type:ESPTOUCH_V2\r\nSmart get wifi info\r\nssid:espat-ap\r\npassword:espat-password\r\n"
            "+SCRD:11,\"hello,world\"\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\nsmartconfig connected wifi\r\n");
}

TEST_F(Provision, EspTouchV2PhoneWithoutKeyIsHeard) {
  add_phone("v2", 4, "espat-ap", "espat-password");
  ASSERT_TRUE(wifi->start_smartconfig(4, 0, "0123456789abcdef"));
  world.trigger_smartconfig("v2");
  run();
  EXPECT_EQ(take().substr(0, 30), "smartconfig type:ESPTOUCH_V2\r\n");
}

TEST_F(Provision, SmartConfigAuthFloorRefusesWeakerAps) {
  ASSERT_TRUE(wifi->start_smartconfig(1, 4, ""));  // floor WPA_WPA2_PSK; espat-ap is WPA2_PSK (3)
  world.trigger_smartconfig("phone");
  run();
  EXPECT_EQ(take(),
            "smartconfig type:ESPTOUCH\r\nSmart get wifi info\r\nssid:espat-ap\r\npassword:espat-password\r\n"
            "smartconfig connect fail\r\n");
  EXPECT_FALSE(wifi->link());
}

TEST_F(Provision, SmartConfigAuthFloorPicksTheQualifyingAp) {
  sim::Ap weak = *world.find_ap("espat-ap");
  weak.id = "weak";
  weak.bssid = *sim::Mac::parse("24:0a:c4:10:00:99");
  weak.security = sim::Security::WpaPsk;
  weak.rssi = -20;  // stronger, but below the floor
  ASSERT_TRUE(world.add_ap(weak));
  ASSERT_TRUE(wifi->start_smartconfig(1, 3, ""));
  world.trigger_smartconfig("phone");
  run();
  EXPECT_EQ(take(), kEspTouchJoin);
  ASSERT_TRUE(wifi->link());
  EXPECT_EQ(wifi->link()->ap.id, "espat-ap");
}

TEST_F(Provision, SmartConfigJoinFailureIsReported) {
  add_phone("typo", 1, "espat-ap", "wrong-password");
  ASSERT_TRUE(wifi->start_smartconfig(1, 0, ""));
  world.trigger_smartconfig("typo");
  run();
  EXPECT_EQ(take(),
            "smartconfig type:ESPTOUCH\r\nSmart get wifi info\r\nssid:espat-ap\r\npassword:wrong-password\r\n"
            "smartconfig connect fail\r\n");
}

TEST_F(Provision, SmartConfigNeedsStationModeAndOneStartAtATime) {
  ASSERT_TRUE(wifi->start_smartconfig(3, 0, ""));
  EXPECT_FALSE(wifi->start_smartconfig(3, 0, ""));  // AT+CWSTOPSMART first
  wifi->stop_smartconfig();
  EXPECT_FALSE(wifi->smartconfig_running());
  EXPECT_EQ(world.trigger_smartconfig("phone"), 0);
  wifi->set_mode(2, false);
  EXPECT_FALSE(wifi->start_smartconfig(3, 0, ""));
  wifi->set_mode(3, false);
  ASSERT_TRUE(wifi->start_smartconfig(3, 0, ""));
  wifi->set_mode(2, false);  // the station goes: so does SmartConfig
  EXPECT_FALSE(wifi->smartconfig_running());
  EXPECT_EQ(world.trigger_smartconfig("phone"), 0);
}

TEST_F(Provision, StopDuringTheJoinHidesItsOutcome) {
  ASSERT_TRUE(wifi->start_smartconfig(3, 0, ""));
  world.trigger_smartconfig("phone");
  run(20ms);
  wifi->stop_smartconfig();
  run();
  EXPECT_EQ(take(),
            "smartconfig type:ESPTOUCH\r\nSmart get wifi info\r\nssid:espat-ap\r\npassword:espat-password\r\n"
            "WIFI CONNECTED\r\nWIFI GOT IP\r\n");
}

TEST_F(Provision, SmartConfigEndsWithTheRadio) {
  ASSERT_TRUE(wifi->start_smartconfig(3, 0, ""));
  wifi->stop();
  EXPECT_FALSE(wifi->smartconfig_running());
  EXPECT_EQ(world.trigger_smartconfig("phone"), 0);
}

TEST_F(Provision, ARestartDuringTheJoinEndsItSilently) {
  ASSERT_TRUE(wifi->start_smartconfig(3, 0, ""));
  world.trigger_smartconfig("phone");
  run(20ms);
  take();
  wifi->stop();
  run();
  EXPECT_EQ(take(), "");
  EXPECT_FALSE(wifi->smartconfig_running());
}

// ---- WPS -----------------------------------------------------------------------------------

TEST_F(Provision, WpsButtonGivesTheApsCredentials) {
  ASSERT_TRUE(wifi->start_wps(0));
  EXPECT_TRUE(wifi->wps_running());
  EXPECT_EQ(world.push_wps("espat-ap"), 1);
  run();
  EXPECT_EQ(take(), "WIFI CONNECTED\r\nWIFI GOT IP\r\n");
  ASSERT_TRUE(wifi->settings().station);
  EXPECT_EQ(wifi->settings().station->ssid, "espat-ap");
  EXPECT_EQ(wifi->settings().station->password, "espat-password");
  EXPECT_FALSE(wifi->wps_running());
  EXPECT_EQ(world.push_wps("espat-ap"), 0);  // nobody listens any more
}

TEST_F(Provision, WpsRefusesWepApsBelowTheFloorAndApsWithoutWps) {
  sim::Ap wep = *world.find_ap("espat-ap");
  wep.id = "wep";
  wep.ssid = "old";
  wep.bssid = *sim::Mac::parse("24:0a:c4:10:00:98");
  wep.security = sim::Security::Wep;
  ASSERT_TRUE(world.add_ap(wep));
  ASSERT_TRUE(wifi->start_wps(0));
  EXPECT_EQ(world.push_wps("wep"), 0);
  EXPECT_EQ(world.push_wps("espat-open"), -1);  // no WPS button
  ASSERT_TRUE(wifi->start_wps(6));              // WPA3_PSK floor
  EXPECT_EQ(world.push_wps("espat-ap"), 0);
  run(100ms);
  EXPECT_EQ(take(), "");
  EXPECT_TRUE(wifi->wps_running());
}

TEST_F(Provision, WpsEndsAfterTheWalkTime) {
  wifi->wps_walk_time = 100ms;
  ASSERT_TRUE(wifi->start_wps(0));
  run(50ms);
  EXPECT_TRUE(wifi->wps_running());
  run(100ms);
  EXPECT_FALSE(wifi->wps_running());
  EXPECT_EQ(world.push_wps("espat-ap"), 0);
  EXPECT_EQ(take(), "");
}

TEST_F(Provision, WpsRestartStartsANewWalkTimeAndStopEndsIt) {
  wifi->wps_walk_time = 100ms;
  ASSERT_TRUE(wifi->start_wps(0));
  run(70ms);
  ASSERT_TRUE(wifi->start_wps(0));
  run(70ms);
  EXPECT_TRUE(wifi->wps_running());  // 140 ms after the first start, 70 after the second
  wifi->stop_wps();
  EXPECT_FALSE(wifi->wps_running());
  EXPECT_EQ(world.push_wps("espat-ap"), 0);
}

TEST_F(Provision, WpsNeedsStationMode) {
  wifi->set_mode(2, false);
  EXPECT_FALSE(wifi->start_wps(0));
  wifi->set_mode(1, false);
  ASSERT_TRUE(wifi->start_wps(0));
  wifi->set_mode(0, false);
  EXPECT_FALSE(wifi->wps_running());
}

// ---- mDNS ----------------------------------------------------------------------------------

TEST_F(Provision, MdnsNeedsAnAddressAndResolvesToIt) {
  EXPECT_FALSE(wifi->start_mdns("espat", "_iot", 8080));  // station not connected, no softAP
  EXPECT_FALSE(world.resolve("espat.local"));
  module::StationConfig cfg;
  cfg.ssid = "espat-ap";
  cfg.password = "espat-password";
  asio::co_spawn(io, wifi->join(cfg, 15s, {}), asio::detached);
  run();
  ASSERT_TRUE(wifi->link());
  ASSERT_TRUE(wifi->start_mdns("espat", "_iot", 8080));
  EXPECT_EQ(world.resolve("ESPAT.local"), wifi->link()->lease.ip);
  EXPECT_EQ(world.mdns().at(wifi).service, "_iot");
  wifi->stop_mdns();
  EXPECT_FALSE(world.resolve("espat.local"));
}

TEST_F(Provision, MdnsOnTheSoftApAddress) {
  wifi->set_mode(2, false);
  ASSERT_TRUE(wifi->start_mdns("box", "_http", 80));
  EXPECT_EQ(world.resolve("box.local")->str(), "127.64.0.1");
  wifi->stop();  // a restart ends the announcement
  EXPECT_FALSE(world.resolve("box.local"));
}
