// A module against the world's Bluetooth LE peers (issue 11; README "Bluetooth LE", world
// peers), each driven through the control API as a user's test would: a heart-rate sensor the
// module reads and subscribes to (+NOTIFY once a second), a phone that writes and subscribes to
// the module's server (guide example 4.3.6's LightBlue), the phone pairing by passkey as guide
// example 4.3.7 prints it, an HID host that records what AT+BLEHIDKB, BLEHIDMUS and
// BLEHIDCONSUMER send (3.4.41-3.4.44), and the phone provisioning Wi-Fi by BluFi (3.4.45-3.4.47).
#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "at_port.hpp"

namespace {

using namespace std::chrono_literals;
using espat::e2e::AtPort;
using espat::e2e::Failure;
using nlohmann::json;

constexpr const char* kWorld = R"(
[[ble_peer]]
id = "hrm"
role = "peripheral"
address = "d0:00:00:00:00:01"
name = "HRM"
  [[ble_peer.service]]
  uuid = "180D"
    [[ble_peer.service.characteristic]]
    uuid = "2A37"
    properties = ["read", "notify"]
    value = "0048"
    notify_ms = 1000

[[ble_peer]]
id = "phone"
role = "central"
address = "60:51:42:fe:98:aa"

[[ble_peer]]
id = "pc"
role = "hid_host"
address = "70:00:00:00:00:01"

[[ap]]
id = "home"
ssid = "home"
password = "12345678"
)";

const std::string kOk = "\r\nOK\r\n", kError = "\r\nERROR\r\n";

class BlePeersModule : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      std::ofstream(dir_ / "world.toml") << kWorld;
      module_.emplace(dir_.path(), 1, std::vector<std::string>{"--world", (dir_ / "world.toml").string()});
    } catch (const Failure& e) {
      FAIL() << e.what();
    }
  }
  void TearDown() override {
    if (module_) {
      EXPECT_TRUE(module_->stop());
      if (HasFailure()) std::cout << "stderr of espat:\n" << module_->run().stderr_text();
    }
  }
  AtPort& at() { return module_->at(0); }
  void ok(const std::string& cmd, const std::string& answer = "") {
    at().send(cmd + "\r\n");
    at().expect(answer + kOk);
  }
  void error(const std::string& cmd) {
    at().send(cmd + "\r\n");
    at().expect(kError);
  }
  // A control API request on a peer; the status must be `status`. Its body.
  json peer(const std::string& id, const std::string& action, const json& body = json::object(), int status = 200) {
    httplib::Client c("127.0.0.1", module_->control_port());
    const std::string path = "/ble/peers/" + id + "/" + action;
    auto r = action == "events" ? c.Get(path.c_str()) : c.Post(path.c_str(), body.dump(), "application/json");
    if (!r) throw Failure(path + ": no answer");
    if (r->status != status) throw Failure(path + ": status " + std::to_string(r->status) + ": " + r->body);
    return r->body.empty() ? json() : json::parse(r->body);
  }
  // The peer's events of `kind`, waiting up to 3 s for at least `count` of them.
  std::vector<json> events(const std::string& id, const std::string& kind, std::size_t count = 1) {
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    std::vector<json> out;
    do {
      out.clear();
      for (const auto& e : peer(id, "events"))
        if (e["event"] == kind) out.push_back(e);
      if (out.size() >= count) break;
      std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return out;
  }
  std::string address() {
    at().send("AT+BLEADDR?\r\n");
    return at().match("\\+BLEADDR:\"[0-9a-f:]{17}\"\r\n\r\nOK\r\n").substr(10, 17);
  }
  // The server of guide examples 4.3.6 and 4.3.7 up to its advertising (`before_adv` typed
  // just before AT+BLEADVSTART), the phone connected: +BLECONN at the module.
  void serve_the_phone(const std::string& before_adv = "") {
    ok("AT+BLEINIT=2");
    ok("AT+BLEGATTSSRVCRE");
    ok("AT+BLEGATTSSRVSTART");
    const std::string addr = address();
    ok("AT+BLEADVPARAM=50,50,0,0,7,0,,");
    ok("AT+BLEADVDATA=\"0201060A09457370726573736966030302A0\"");
    if (!before_adv.empty()) ok(before_adv);
    ok("AT+BLEADVSTART");
    peer("phone", "connect", {{"address", addr}});
    at().expect("+BLECONN:0,\"60:51:42:fe:98:aa\"\r\n");
  }

  espat::e2e::TempDir dir_{"espat-ble-peers"};
  std::optional<espat::e2e::ModuleGroup> module_;
};

// The module as a client of a heart-rate sensor: discovery, a read, then the CCCD written and a
// notification a second (3.4.26-3.4.30).
TEST_F(BlePeersModule, ClientOfAHeartRateSensor) {
  try {
    ok("AT+BLEINIT=1");
    ok("AT+BLECONN=0,\"d0:00:00:00:00:01\"", "+BLECONN:0,\"d0:00:00:00:00:01\"\r\n");
    ok("AT+BLEGATTCPRIMSRV=0",
       "+BLEGATTCPRIMSRV:0,1,0x1801,1\r\n+BLEGATTCPRIMSRV:0,2,0x1800,1\r\n+BLEGATTCPRIMSRV:0,3,0x180D,1\r\n");
    ok("AT+BLEGATTCCHAR=0,3", "+BLEGATTCCHAR:\"char\",0,3,1,0x2A37,0x12\r\n+BLEGATTCCHAR:\"desc\",0,3,1,1,0x2902\r\n");
    ok("AT+BLEGATTCRD=0,2,1", "+BLEGATTCRD:0,3,HRM\r\n");
    ok("AT+BLEGATTCRD=0,3,1", "+BLEGATTCRD:0,2," + std::string("\x00H", 2) + "\r\n");
    at().send("AT+BLEGATTCWR=0,3,1,1,2\r\n");
    at().expect(">");
    at().send(std::string("\x01\x00", 2));
    at().expect(kOk);
    const std::string line = "+NOTIFY:0,3,1,2," + std::string("\x00H", 2) + "\r\n";
    at().expect(line, 2500ms);
    at().expect(line, 2500ms);
    const auto writes = events("hrm", "write");
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0]["characteristic"], "2A37/2902");
    EXPECT_EQ(writes[0]["value"], "0100");
    // The sensor's value changes through the control API and is notified at once.
    httplib::Client c("127.0.0.1", module_->control_port());
    auto r = c.Post("/ble/peers/hrm/notify", R"({"service":"180D","characteristic":"2A37","value":"0050"})", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    at().expect("+NOTIFY:0,3,1,2," + std::string("\x00P", 2) + "\r\n", 1500ms);
    at().send("AT+BLEDISCONN=0\r\n");  // 3.4.15: the line comes after the OK
    at().expect(kOk + "+BLEDISCONN:0,\"d0:00:00:00:00:01\"\r\n");
    const auto gone = events("hrm", "disconnected");
    ASSERT_EQ(gone.size(), 1u);
    EXPECT_EQ(gone[0]["reason"], 0x13);  // remote user terminated: the module ended it
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

// The module as the server of guide example 4.3.6, the phone its client: +BLECONN, +WRITE for
// the phone's write and its subscription, and what AT+BLEGATTSNTFY sends it.
TEST_F(BlePeersModule, PhoneWritesAndSubscribes) {
  try {
    ok("AT+BLEINIT=2");
    ok("AT+BLEGATTSSRVCRE");
    ok("AT+BLEGATTSSRVSTART");
    const std::string addr = address();
    ok("AT+BLEADVSTART");
    // AT+RFPOWER's advertising power: -14 dBm instead of 7, heard 21 dB weaker (3.1.20).
    ok("AT+RFPOWER=78,7,7,7");
    httplib::Client c("127.0.0.1", module_->control_port());
    auto r = c.Get("/ble/peers/m0");
    ASSERT_TRUE(r);
    EXPECT_EQ(json::parse(r->body)["rssi"], -61);
    EXPECT_EQ(peer("phone", "connect", {{"address", addr}})["conn_index"], 0);
    at().expect("+BLECONN:0,\"60:51:42:fe:98:aa\"\r\n");
    const json services = peer("phone", "discover", {{"conn_index", 0}});
    ASSERT_EQ(services.size(), 4u);
    EXPECT_EQ(services[2]["uuid"], "A002");
    peer("phone", "write", {{"service", "A002"}, {"characteristic", "C304"}, {"value", "6869"}});
    at().expect("+WRITE:0,1,5,,2,hi\r\n");
    peer("phone", "subscribe", {{"service", "A002"}, {"characteristic", "C305"}});
    at().expect("+WRITE:0,1,6,1,2," + std::string("\x01\x00", 2) + "\r\n");
    EXPECT_EQ(peer("phone", "read", {{"service", "A002"}, {"characteristic", "C300"}})["value"], "30");
    at().expect("+READ:0,\"60:51:42:fe:98:aa\"\r\n");
    at().send("AT+BLEGATTSNTFY=0,1,6,3\r\n");
    at().expect(">");
    at().send("abc");
    at().expect(kOk);
    const auto got = events("phone", "notify");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0]["value"], "616263");
    EXPECT_EQ(got[0]["characteristic"], "C305");
    peer("phone", "write", {{"service", "A002"}, {"characteristic", "C300"}, {"value", "00"}}, 409);  // read-only
    peer("phone", "disconnect", {{"conn_index", 0}});
    at().expect("+BLEDISCONN:0,\"60:51:42:fe:98:aa\"\r\n");
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

// Guide example 4.3.6 as printed: SPP between the module (server) and the phone, which listens
// to C306's indications and writes C304.
TEST_F(BlePeersModule, Example436SppWithAPhone) {
  try {
    serve_the_phone();
    peer("phone", "subscribe", {{"service", "A002"}, {"characteristic", "C306"}, {"indicate", true}});
    at().expect("+WRITE:0,1,7,1,2," + std::string("\x02\x00", 2) + "\r\n");
    ok("AT+BLESPPCFG=1,1,7,1,5");
    at().send("AT+BLESPP\r\n");
    at().expect("\r\nOK\r\n\r\n>");
    peer("phone", "write", {{"service", "A002"}, {"characteristic", "C304"}, {"value", "74657374"}});
    at().expect("test");  // raw, nothing around it
    at().send("test");
    const auto got = events("phone", "indicate");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0]["value"], "74657374");
    EXPECT_EQ(got[0]["characteristic"], "C306");
    std::this_thread::sleep_for(50ms);
    at().send("+++");
    std::this_thread::sleep_for(50ms);
    ok("AT");
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

// Guide example 4.3.7 as printed: the phone shows the passkey, the module types it.
TEST_F(BlePeersModule, Example437PairingWithAPhone) {
  try {
    serve_the_phone("AT+BLESECPARAM=13,2,16,3,3");
    ok("AT+BLEENC=0,3");
    at().expect("+BLESECKEYREQ:0\r\n");
    const auto shown = events("phone", "passkey");
    ASSERT_EQ(shown.size(), 1u);
    const int key = shown[0]["key"];
    ok("AT+BLEKEYREPLY=0," + std::to_string(key));
    at().expect("+BLESECKEYTYPE:0,16\r\n+BLESECKEYTYPE:0,1\r\n+BLESECKEYTYPE:0,32\r\n+BLESECKEYTYPE:0,2\r\n"
                "+BLEAUTHCMPL:0,0\r\n");
    EXPECT_EQ(events("phone", "paired").size(), 1u);
    ok("AT+BLEENCDEV?", "+BLEENCDEV:0,\"60:51:42:fe:98:aa\"\r\n");
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

// AT+BLEHIDINIT=1: the HID host of the world connects and pairs by itself; each report reaches
// it (a key pressed then released, a mouse move, a consumer usage pressed then released).
TEST_F(BlePeersModule, HidKeyboardMouseConsumer) {
  try {
    ok("AT+BLEHIDINIT?", "+BLEHIDINIT:0\r\n");
    error("AT+BLEHIDKB=0,4,0,0,0,0,0");  // not initialised
    ok("AT+BLEHIDINIT=1");
    ok("AT+BLEHIDINIT?", "+BLEHIDINIT:1\r\n");
    ASSERT_EQ(events("pc", "paired").size(), 1u);
    at().silence(100ms);  // the HID profile prints nothing of its host
    ok("AT+BLEHIDKB=0,4,0,0,0,0,0");
    ok("AT+BLEHIDMUS=0,10,-10,1");
    ok("AT+BLEHIDCONSUMER=233");
    const auto reports = events("pc", "hid", 5);
    ASSERT_EQ(reports.size(), 5u);
    const std::vector<std::pair<std::string, std::string>> want = {{"keyboard", "0000040000000000"},
                                                                   {"keyboard", "0000000000000000"},
                                                                   {"mouse", "000af601"},
                                                                   {"consumer", "e900"},
                                                                   {"consumer", "0000"}};
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(reports[i]["report"], want[i].first) << i;
      EXPECT_EQ(reports[i]["value"], want[i].second) << i;
    }
    error("AT+BLEHIDMUS=0,128,0,0");  // out of range
    error("AT+BLEINIT=2");            // not with HID (3.4.41 note)
    ok("AT+BLEHIDINIT=0");
    error("AT+BLEHIDKB=0,4,0,0,0,0,0");
    ok("AT+BLEINIT=2");
    error("AT+BLEHIDINIT=1");  // nor HID after AT+BLEINIT
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

// AT+BLUFI=1, then the phone as the EspBlufi app: key negotiation, security mode, the station's
// SSID and password, connect; the module joins (WIFI CONNECTED, WIFI GOT IP) and reports back.
// Custom data both ways: +BLUFIDATA at the module, AT+BLUFISEND to the phone.
TEST_F(BlePeersModule, BlufiProvisionsWifi) {
  try {
    ok("AT+BLUFI?", "+BLUFI:0\r\n");
    ok("AT+BLUFINAME?", "+BLUFINAME:BLUFI_DEVICE\r\n");
    ok("AT+BLUFINAME=\"BLUFI_DEV\"");
    ok("AT+BLUFINAME?", "+BLUFINAME:BLUFI_DEV\r\n");
    error("AT+BLUFINAME=\"ABCDEFGHIJKLMNOPQRSTUVWXYZ0\"");  // 27 bytes: 26 at most (3.4.46)
    error("AT+BLUFISEND=4");                                  // BluFi is off
    ok("AT+BLUFI=1");
    ok("AT+BLUFI?", "+BLUFI:1\r\n");
    error("AT+BLEINIT=1");  // not while BluFi runs (3.4.45 note)
    error("AT+BLUFISEND=4");  // no phone yet

    // The module advertises the BluFi service under its BluFi name.
    httplib::Client c("127.0.0.1", module_->control_port());
    auto r = c.Get("/ble/peers/m0");
    ASSERT_TRUE(r);
    const json adv = json::parse(r->body);
    EXPECT_EQ(adv["adv_data"], "0201060303ffff0a09424c5546495f444556");
    EXPECT_EQ(peer("phone", "connect", {{"address", adv["address"]}})["conn_index"], 0);
    peer("phone", "blufi", {{"ssid", "home"}, {"password", "12345678"}});
    at().expect("WIFI CONNECTED\r\nWIFI GOT IP\r\n", 5000ms);
    ASSERT_EQ(events("phone", "blufi_negotiated").size(), 1u);
    const auto report = events("phone", "blufi_report");
    ASSERT_EQ(report.size(), 1u);
    EXPECT_EQ(report[0]["report"], "connected");
    EXPECT_EQ(report[0]["ssid"], "home");
    ok("AT+CWSTATE?", "+CWSTATE:2,\"home\"\r\n");

    peer("phone", "blufi_send", {{"data", "68656c6c6f"}});
    at().expect("+BLUFIDATA:5,hello\r\n");
    at().send("AT+BLUFISEND=4\r\n");
    at().expect(">");
    at().send("1234");
    at().expect(kOk);
    const auto data = events("phone", "blufi_data");
    ASSERT_EQ(data.size(), 1u);
    EXPECT_EQ(data[0]["value"], "31323334");
    EXPECT_TRUE(events("phone", "blufi_error", 0).empty());

    ok("AT+BLUFI=0");
    ok("AT+BLUFI?", "+BLUFI:0\r\n");
    at().send("AT+RST\r\n");  // the name is saved (AT+SYSSTORE=1), BluFi is not
    at().expect(kOk + "\r\nready\r\n", 5000ms);
    at().send("ATE0\r\n");
    at().expect("ATE0\r\n" + kOk);
    ok("AT+BLUFI?", "+BLUFI:0\r\n");
    ok("AT+BLUFINAME?", "+BLUFINAME:BLUFI_DEV\r\n");
    ok("AT+BLEINIT=1");
    error("AT+BLUFI=1");  // nor BluFi after AT+BLEINIT
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

}  // namespace
