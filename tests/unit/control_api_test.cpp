// The control API (README "Control API"): JSON ↔ AP with the world file's rules, and the HTTP
// endpoints served in-process on a free port, each request carried out on the event loop.
#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "sim/control_api.hpp"
#include "sim/world_file.hpp"
#include "sim/world_json.hpp"

namespace espat::sim {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string error_of(const json& j) {
  try {
    ap_from_json(j, 0);
  } catch (const WorldError& e) {
    return e.what();
  }
  return "";
}

// ---- JSON ↔ Ap -------------------------------------------------------------------------------

TEST(WorldJson, ApRoundTrip) {
  World w;
  load_world(w, default_world_toml(), "(embedded world)");
  for (const Ap& ap : w.aps()) {
    const json j = to_json(ap);
    const Ap back = ap_from_json(j, 99);
    EXPECT_EQ(to_json(back), j) << j.dump();
  }
  const json j = to_json(*w.find_ap("espat-ap"));
  EXPECT_EQ(j["ssid"], "espat-ap");
  EXPECT_EQ(j["bssid"], "24:0a:c4:10:00:01");
  EXPECT_EQ(j["security"], "WPA2_PSK");
  EXPECT_EQ(j["pairwise_cipher"], "CCMP");
  EXPECT_EQ(j["phy"], "bgn");
  EXPECT_EQ(j["subnet"], "127.10.1.0/24");
  EXPECT_EQ(j["pool"], json::array({100, 200}));
  EXPECT_EQ(j["up"], true);
  EXPECT_FALSE(j.contains("owner"));
  const json e = to_json(*w.find_ap("espat-enterprise"));
  ASSERT_EQ(e["eap"].size(), 2u);
  EXPECT_EQ(e["eap"][0]["method"], "PEAP");
  EXPECT_EQ(e["eap"][1]["method"], "TLS");
}

TEST(WorldJson, DefaultsAsInTheWorldFile) {
  Ap ap = ap_from_json({{"ssid", "cafe"}, {"security", "OPEN"}}, 7);
  EXPECT_EQ(ap.id, "cafe");
  EXPECT_EQ(ap.bssid.str(), "1a:00:00:00:00:07");
  EXPECT_EQ(ap.net.subnet.str(), "127.10.8.0/24");
  EXPECT_EQ(ap.channel, 1);
  EXPECT_EQ(ap.rssi, -50);
}

TEST(WorldJson, RefusedAsTheWorldFileRefuses) {
  EXPECT_EQ(error_of({{"ssid", "x"}, {"password", "short"}}), "WPA2_PSK needs a password of 8 to 63 bytes");
  EXPECT_EQ(error_of({{"ssid", "x"}, {"security", "OPEN"}, {"colour", "red"}}), "unknown key \"colour\"");
  EXPECT_EQ(error_of({{"ssid", "x"}, {"security", "OPEN"}, {"channel", 20}}), "\"channel\" = 20 is out of range [1, 14]");
  EXPECT_EQ(error_of({{"ssid", "x"}, {"security", "OPEN"}, {"channel", 6.5}}), "\"channel\" must be an integer");
  EXPECT_EQ(error_of({{"ssid", "x"}, {"security", "WPA4"}}),
            "\"security\" = \"WPA4\" is not one of OPEN, WEP, WPA_PSK, WPA2_PSK, WPA_WPA2_PSK, WPA2_ENTERPRISE, "
            "WPA3_PSK, WPA2_WPA3_PSK, WAPI_PSK, OWE");
  EXPECT_EQ(error_of({{"ssid", "x"}, {"security", "OPEN"}, {"fault", nullptr}}), "\"fault\" must not be null");
  EXPECT_EQ(error_of({{"ssid", "x"}, {"security", "OPEN"}, {"subnet", "10.0.0.0"}}),
            "\"subnet\" = \"10.0.0.0\" is not a subnet like \"127.10.1.0/24\"");
  EXPECT_EQ(error_of({{"security", "OPEN"}}), "an [[ap]] needs an ssid");
  EXPECT_EQ(error_of(json::array()), "an AP must be a JSON object");
  EXPECT_EQ(error_of({{"ssid", "x"}, {"security", "OPEN"}, {"fault", "explode"}}), "\"fault\" is \"timeout\" or \"reject\"");
  EXPECT_EQ(error_of({{"ssid", "x"}, {"security", "OPEN"}, {"channel", 18446744073709551615ull}}),
            "\"channel\" must be an integer");
}

TEST(WorldJson, Patch) {
  World w;
  load_world(w, default_world_toml(), "(embedded world)");
  const Ap& ap = *w.find_ap("espat-ap");
  Ap p = patched_ap(ap, {{"password", "another-password"}, {"rssi", -80}, {"up", false}});
  EXPECT_EQ(p.password, "another-password");
  EXPECT_EQ(p.rssi, -80);
  EXPECT_FALSE(p.up);
  EXPECT_EQ(p.bssid, ap.bssid);
  EXPECT_EQ(p.net.subnet.str(), ap.net.subnet.str());
  EXPECT_TRUE(p.wps);
  // A new security brings its own ciphers and PMF unless the patch names them.
  Ap open = patched_ap(ap, {{"security", "OPEN"}});
  EXPECT_EQ(open.pairwise_cipher, 0);
  EXPECT_EQ(open.group_cipher, 0);
  Ap wpa3 = patched_ap(ap, {{"security", "WPA3_PSK"}});
  EXPECT_EQ(wpa3.pmf, 3);
  EXPECT_THROW(patched_ap(ap, {{"id", "other"}}), WorldError);
  EXPECT_THROW(patched_ap(ap, {{"password", "short"}}), WorldError);
  EXPECT_THROW(patched_ap(ap, {{"channel", "six"}}), WorldError);
}

TEST(WorldJson, Phone) {
  SmartPhone p = phone_from_json({{"id", "tablet"}, {"type", "ESPTOUCH_V2"}, {"ssid", "espat-ap"},
                                  {"password", "espat-password"}, {"key", "0123456789abcdef"}}, 0);
  EXPECT_EQ(p.type, 4);
  EXPECT_EQ(to_json(p)["type"], "ESPTOUCH_V2");
  EXPECT_THROW(phone_from_json({{"type", "ESPTOUCH"}}, 0), WorldError);  // no ssid
  EXPECT_THROW(phone_from_json({{"ssid", "a"}, {"key", "short"}}, 0), WorldError);
}

// ---- the server ------------------------------------------------------------------------------

// A station the test joins to an AP: records link_lost.
struct FakeStation : Station {
  Mac mac{{0x02, 0, 0, 0, 0, 0x42}};
  int lost = 0;
  Mac station_mac() const override { return mac; }
  void link_lost() override { ++lost; }
};

struct FakeSoftAp : SoftApHost {
  std::vector<std::pair<Mac, Ipv4>> joined;
  void station_joined(const Mac& mac, Ipv4 ip) override { joined.emplace_back(mac, ip); }
  void station_left(const Mac&) override {}
  std::optional<Lease> next_lease(const Mac&) override {
    return Lease{Ipv4{(127u << 24) | (64u << 16) | (3u << 8) | 2u}, {}, {0xffffff00u}, {}, 120};
  }
};

class ControlApiServer : public ::testing::Test {
 protected:
  void SetUp() override {
    load_world(world, default_world_toml(), "(embedded world)");
    ModuleView v;
    v.index = 3;
    v.station = &station;
    v.softap = &softap;
    v.state = [this] {
      state_thread = std::this_thread::get_id();
      return json{{"mode", 3}};
    };
    v.reset = [this] { restarts.push_back("reset"); };
    v.power_cycle = [this] { restarts.push_back("power-cycle"); };
    api.emplace(io, world, std::vector<ModuleView>{v});
    loop = std::thread([this] { io.run(); });
    loop_id = loop.get_id();
    port = api->start(0);
    client.emplace("127.0.0.1", port);
  }
  void TearDown() override {
    api->stop();
    work.reset();
    loop.join();
  }
  // Runs f on the loop (the world is the loop's) and waits.
  template <class F>
  auto on_loop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    asio::post(io, [&] { task(); });
    return fut.get();
  }
  static json body(const httplib::Result& r) { return r && !r->body.empty() ? json::parse(r->body) : json(); }

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  World world;
  FakeStation station;
  FakeSoftAp softap;
  std::optional<ControlApi> api;
  std::thread loop;
  std::thread::id loop_id, state_thread;
  std::vector<std::string> restarts;  // written on the loop, read after the reply
  std::uint16_t port = 0;
  std::optional<httplib::Client> client;
};

TEST_F(ControlApiServer, ReadsTheWorld) {
  auto r = client->Get("/world");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  json w = body(r);
  EXPECT_EQ(w["aps"].size(), 5u);
  EXPECT_EQ(w["aps"][0]["id"], "espat-ap");
  EXPECT_EQ(w["phones"][0]["id"], "phone");
  EXPECT_EQ(w["associations"], json::array());
  EXPECT_EQ(w["scan_ms"], 500);
  EXPECT_EQ(w["ble_pacing"], false);

  r = client->Get("/aps/espat-hidden");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body(r)["hidden"], true);
  r = client->Get("/aps/nope");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(body(r)["error"], "no AP with the id \"nope\"");
  r = client->Get("/nothing/here");
  EXPECT_EQ(r->status, 404);
  r = client->Put("/aps", "{}", "application/json");
  EXPECT_EQ(r->status, 405);
}

TEST_F(ControlApiServer, AddChangeRemove) {
  auto r = client->Post("/aps", R"({"ssid":"cafe","security":"OPEN","channel":11})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  json ap = body(r);
  EXPECT_EQ(ap["id"], "cafe");
  // The first default BSSID and subnet nobody uses: after the five APs of the default world.
  EXPECT_EQ(ap["bssid"], "1a:00:00:00:00:05");
  EXPECT_EQ(ap["subnet"], "127.10.6.0/24");
  EXPECT_EQ(on_loop([&] { return world.find_ap("cafe") != nullptr; }), true);

  r = client->Post("/aps", R"({"ssid":"cafe","security":"OPEN"})", "application/json");
  EXPECT_EQ(r->status, 409);
  r = client->Post("/aps", R"({"id":"cafe2","ssid":"cafe","security":"OPEN","bssid":"24:0a:c4:10:00:01"})",
                   "application/json");
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(body(r)["error"], "an AP with the BSSID 24:0a:c4:10:00:01 exists");
  r = client->Post("/aps", R"({"ssid":"x","password":"short"})", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(body(r)["error"], "WPA2_PSK needs a password of 8 to 63 bytes");
  r = client->Post("/aps", "{not json", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(body(r)["error"], "the body is not valid JSON");

  r = client->Patch("/aps/cafe", R"({"rssi":-90,"hidden":true})", "application/json");
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body(r)["rssi"], -90);
  EXPECT_EQ(on_loop([&] { return world.find_ap("cafe")->hidden; }), true);
  r = client->Patch("/aps/cafe", R"({"rssi":5})", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(body(r)["error"], "\"rssi\" = 5 is out of range [-100, 0]");
  r = client->Patch("/aps/cafe", R"({"bssid":"24:0a:c4:10:00:02"})", "application/json");
  EXPECT_EQ(r->status, 409);
  r = client->Patch("/aps/nope", R"({"rssi":-1})", "application/json");
  EXPECT_EQ(r->status, 404);

  r = client->Delete("/aps/cafe");
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->body, "");
  r = client->Delete("/aps/cafe");
  EXPECT_EQ(r->status, 404);
}

TEST_F(ControlApiServer, ChangesDropStationsAsARealApDoes) {
  on_loop([&] {
    JoinError e{};
    JoinRequest req{"espat-ap", "espat-password"};
    return world.join(station, req, "espat-ap", e).has_value();
  });
  json w = body(client->Get("/world"));
  ASSERT_EQ(w["associations"].size(), 1u);
  EXPECT_EQ(w["associations"][0]["module"], 3);
  EXPECT_EQ(w["associations"][0]["ip"], "127.10.1.100");

  // An RSSI change keeps the link; going down drops it.
  EXPECT_EQ(client->Patch("/aps/espat-ap", R"({"rssi":-70})", "application/json")->status, 200);
  EXPECT_EQ(on_loop([&] { return station.lost; }), 0);
  EXPECT_EQ(client->Patch("/aps/espat-ap", R"({"up":false})", "application/json")->status, 200);
  EXPECT_EQ(on_loop([&] { return station.lost; }), 1);
  EXPECT_EQ(body(client->Get("/world"))["associations"], json::array());

  // Kick.
  client->Patch("/aps/espat-ap", R"({"up":true})", "application/json");
  on_loop([&] {
    JoinError e{};
    return world.join(station, JoinRequest{"espat-ap", "espat-password"}, "espat-ap", e).has_value();
  });
  auto r = client->Post("/aps/espat-ap/kick", R"({"mac":"02:00:00:00:00:42"})", "application/json");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(on_loop([&] { return station.lost; }), 2);
  r = client->Post("/aps/espat-ap/kick", R"({"mac":"02:00:00:00:00:42"})", "application/json");
  EXPECT_EQ(r->status, 404);
  r = client->Post("/aps/espat-ap/kick", R"({"mac":"nope"})", "application/json");
  EXPECT_EQ(r->status, 400);
}

TEST_F(ControlApiServer, InjectedStations) {
  auto r = client->Post("/aps/espat-ap/stations", R"({"mac":"02:00:00:00:00:01","password":"wrong-password"})",
                        "application/json");
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(body(r)["code"], 2);
  r = client->Post("/aps/espat-ap/stations", R"({"mac":"02:00:00:00:00:01","password":"espat-password"})",
                   "application/json");
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(body(r)["ip"], "127.10.1.100");
  r = client->Get("/aps/espat-ap/stations");
  ASSERT_EQ(body(r).size(), 1u);
  EXPECT_EQ(body(r)[0]["mac"], "02:00:00:00:00:01");
  EXPECT_EQ(body(r)[0]["module"], nullptr);
  r = client->Delete("/aps/espat-ap/stations/02:00:00:00:00:01");
  EXPECT_EQ(r->status, 204);
  r = client->Delete("/aps/espat-ap/stations/02:00:00:00:00:01");
  EXPECT_EQ(r->status, 404);
  r = client->Post("/aps/espat-ap/stations", R"({"mac":"01:00:00:00:00:01"})", "application/json");
  EXPECT_EQ(r->status, 400);  // multicast
  r = client->Post("/aps/nope/stations", R"({"mac":"02:00:00:00:00:01"})", "application/json");
  EXPECT_EQ(r->status, 404);
}

TEST_F(ControlApiServer, SoftApsAreMarkedAndLeftToTheirModule) {
  on_loop([&] {
    Ap ap;
    ap.id = "softap-x";
    ap.ssid = "module-ap";
    ap.bssid = *Mac::parse("24:0a:c4:00:00:09");
    ap.security = Security::Open;
    ap.owner = &softap;
    return world.add_ap(ap);
  });
  json ap = body(client->Get("/aps/softap-x"));
  EXPECT_EQ(ap["softap"], true);
  EXPECT_EQ(ap["module"], 3);
  EXPECT_FALSE(body(client->Get("/aps/espat-ap")).contains("softap"));
  EXPECT_EQ(client->Patch("/aps/softap-x", R"({"rssi":-1})", "application/json")->status, 409);
  EXPECT_EQ(client->Delete("/aps/softap-x")->status, 409);
  // A phone joining the module's softAP: the module hands out the address.
  auto r = client->Post("/aps/softap-x/stations", R"({"mac":"02:00:00:00:00:07"})", "application/json");
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(body(r)["ip"], "127.64.3.2");
  EXPECT_EQ(on_loop([&] { return softap.joined.size(); }), 1u);
}

// BLE peers (README "Bluetooth LE"): listed with the modules' own advertising, added with the
// world file's [[ble_peer]] keys, removed; a module's advertising is left to its module.
TEST_F(ControlApiServer, BlePeers) {
  auto r = client->Post("/ble/peers", R"({"id":"tag","address":"c2:34:45:78:66:89","address_type":"random","name":"Tag","interval_ms":500,"rssi":-70})",
                        "application/json");
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(body(r)["adv_data"], "0409546167");
  EXPECT_EQ(client->Post("/ble/peers", R"({"id":"tag","address":"c2:34:45:78:66:8a"})", "application/json")->status, 409);
  EXPECT_EQ(client->Post("/ble/peers", R"({"address":"c2:34:45:78:66:8a","adv_data":"abc"})", "application/json")->status, 400);
  on_loop([&] {
    BleAdvertiser m;
    m.id = "m0";
    m.addr = *Mac::parse("24:0a:c4:00:00:02");
    m.module = true;
    world.ble.advertise(m);
    return 0;
  });
  json all = body(client->Get("/ble/peers"));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["id"], "tag");
  EXPECT_EQ(all[0]["address_type"], "random");
  EXPECT_EQ(all[0]["interval_ms"], 500);
  EXPECT_EQ(all[1]["module"], true);
  EXPECT_EQ(body(client->Get("/world"))["ble_peers"].size(), 2u);
  EXPECT_EQ(body(client->Get("/ble/peers/tag"))["rssi"], -70);
  EXPECT_EQ(client->Delete("/ble/peers/m0")->status, 409);
  EXPECT_EQ(client->Delete("/ble/peers/tag")->status, 204);
  EXPECT_EQ(client->Delete("/ble/peers/tag")->status, 404);
  EXPECT_EQ(on_loop([&] { return world.ble.advertisers().size(); }), 1u);
}

// What a peer is told to do, and what it refuses (README "Bluetooth LE", world peers): a phone
// and a sensor on the medium, driven through the API.
TEST_F(ControlApiServer, BlePeerActions) {
  auto post = [&](const std::string& path, const std::string& body) { return client->Post(path.c_str(), body, "application/json"); };
  ASSERT_EQ(post("/ble/peers", R"({"id":"phone","role":"central","address":"60:51:42:fe:98:aa"})")->status, 201);
  ASSERT_EQ(post("/ble/peers", R"({"id":"hrm","role":"peripheral","address":"d0:00:00:00:00:01","service":[{"uuid":"180D","characteristic":[{"uuid":"2A37","properties":["read","notify"],"value":"0048"}]}]})")->status, 201);
  EXPECT_EQ(post("/ble/peers", R"({"id":"x","role":"toaster","address":"d0:00:00:00:00:02"})")->status, 400);
  EXPECT_EQ(post("/ble/peers/phone/connect", R"({"address":"d0:00:00:00:00:09"})")->status, 409);  // nobody there
  EXPECT_EQ(post("/ble/peers/phone/connect", R"({"address":"nowhere"})")->status, 400);
  EXPECT_EQ(post("/ble/peers/phone/connect", "{}")->status, 400);
  auto r = post("/ble/peers/phone/connect", R"({"address":"d0:00:00:00:00:01"})");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body(r)["conn_index"], 0);
  EXPECT_EQ(body(client->Get("/ble/peers/phone"))["links"][0]["peer"], "d0:00:00:00:00:01");
  EXPECT_EQ(body(client->Get("/ble/peers/hrm"))["advertising"], false);
  r = post("/ble/peers/phone/read", R"({"service":"180D","characteristic":"2A37"})");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body(r)["value"], "0048");
  EXPECT_EQ(post("/ble/peers/phone/read", R"({"service":"180D","characteristic":"2A99"})")->status, 409);
  EXPECT_EQ(post("/ble/peers/phone/read", R"({"service":"180D"})")->status, 400);
  EXPECT_EQ(post("/ble/peers/phone/subscribe", R"({"service":"180D","characteristic":"2A37","indicate":"yes"})")->status, 400);
  EXPECT_EQ(post("/ble/peers/phone/subscribe", R"({"service":"180D","characteristic":"2A37"})")->status, 200);
  EXPECT_EQ(post("/ble/peers/phone/write", R"({"service":"180D","characteristic":"2A37","value":"zz"})")->status, 400);
  EXPECT_EQ(post("/ble/peers/phone/notify", R"({"service":"180D","characteristic":"2A37","value":"00"})")->status, 409);
  r = post("/ble/peers/hrm/notify", R"({"service":"180D","characteristic":"2A37","value":"0050"})");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body(r)["links"], 1);
  const json events = body(client->Get("/ble/peers/phone/events"));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["event"], "notify");
  EXPECT_EQ(events.back()["value"], "0050");
  EXPECT_EQ(post("/ble/peers/hrm/connect", R"({"address":"60:51:42:fe:98:aa"})")->status, 409);  // a peripheral
  EXPECT_EQ(post("/ble/peers/phone/fly", "{}")->status, 404);
  EXPECT_EQ(post("/ble/peers/phone/blufi", R"({"ssid":"home"})")->status, 409);  // no BluFi service there
  EXPECT_EQ(post("/ble/peers/phone/disconnect", R"({"conn_index":2})")->status, 404);
  EXPECT_EQ(post("/ble/peers/phone/disconnect", "{}")->status, 200);
  EXPECT_EQ(body(client->Get("/ble/peers/hrm"))["advertising"], true);
  EXPECT_EQ(client->Delete("/ble/peers/phone")->status, 204);
  EXPECT_EQ(client->Get("/ble/peers/phone/events")->status, 404);
}

TEST_F(ControlApiServer, PhonesAndWps) {
  auto r = client->Post("/phones", R"({"id":"tablet","ssid":"espat-ap","password":"espat-password"})", "application/json");
  EXPECT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(client->Post("/phones", R"({"id":"tablet","ssid":"a"})", "application/json")->status, 409);
  EXPECT_EQ(body(client->Get("/phones")).size(), 2u);
  r = client->Post("/smartconfig/tablet", "", "application/json");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body(r)["listeners"], 0);
  EXPECT_EQ(client->Post("/smartconfig/nobody", "", "application/json")->status, 404);

  r = client->Post("/aps/espat-ap/wps", "", "application/json");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body(r)["enrolled"], 0);
  EXPECT_EQ(client->Post("/aps/espat-open/wps", "", "application/json")->status, 409);  // no WPS
}

TEST_F(ControlApiServer, ModulesAreReadOnTheLoop) {
  auto r = client->Get("/modules");
  ASSERT_TRUE(r);
  EXPECT_EQ(body(r), json::parse(R"([{"mode":3,"index":3,"faults":{"latency_ms":0,"bandwidth":0,"udp_loss":0.0,
                                     "dns_fail":false,"refuse":false}}])"));
  EXPECT_EQ(state_thread, loop_id);
  EXPECT_EQ(body(client->Get("/modules/3"))["index"], 3);
  EXPECT_EQ(client->Get("/modules/0")->status, 404);
}

TEST_F(ControlApiServer, ResetAndPowerCycle) {
  auto r = client->Post("/modules/3/reset", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body(r), json({{"reset", 3}}));
  r = client->Post("/modules/3/power-cycle", "{}", "application/json");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body(r), json({{"power_cycled", 3}}));
  EXPECT_EQ(restarts, (std::vector<std::string>{"reset", "power-cycle"}));
  EXPECT_EQ(client->Post("/modules/0/reset", "{}", "application/json")->status, 404);
  EXPECT_EQ(client->Get("/modules/3/reset")->status, 405);
  EXPECT_EQ(client->Post("/modules/3/reboot", "{}", "application/json")->status, 404);
  EXPECT_EQ(restarts.size(), 2u);
}

TEST_F(ControlApiServer, IdsArePercentDecodedPerSegment) {
  auto r = client->Post("/aps", R"({"id":"a/b c","ssid":"x","security":"OPEN"})", "application/json");
  EXPECT_EQ(r->status, 201);
  r = client->Get("/aps/a%2Fb%20c");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(body(r)["id"], "a/b c");
}

TEST(ControlApi, StopAnswersWaitingRequests) {
  // The loop never runs: a request waits until stop() answers it 503.
  asio::io_context io;
  World world;
  ControlApi api(io, world, {});
  const auto port = api.start(0);
  auto reply = std::async(std::launch::async, [port] {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Get("/world");
    return r ? r->status : -1;
  });
  EXPECT_EQ(reply.wait_for(200ms), std::future_status::timeout);
  api.stop();
  EXPECT_EQ(reply.get(), 503);
}

// httplib's own socket options (SO_REUSEPORT) would let a second server share the port.
TEST(ControlApi, APortInUseIsRefused) {
  asio::io_context io;
  World world;
  ControlApi first(io, world, {});
  const auto port = first.start(0);
  ControlApi second(io, world, {});
  try {
    second.start(port);
    ADD_FAILURE() << "a second server listens on " << port;
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "control API: cannot listen on 127.0.0.1:" + std::to_string(port) + ": Address already in use");
  }
  // Once the first is gone, the port can be taken again at once.
  first.stop();
  ControlApi third(io, world, {});
  EXPECT_EQ(third.start(port), port);
}

}  // namespace
}  // namespace espat::sim
