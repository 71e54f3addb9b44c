// sim::BleMedium (issue 11): what a scanner hears of the advertisers, how often (once per
// advertising interval), with which data (scan responses to active scanners only, spec 3.4.6
// note), through the filters of AT+BLESCAN (3.4.6); and the world file's [[ble_peer]].
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "sim/ble.hpp"
#include "sim/world.hpp"
#include "sim/world_file.hpp"

using namespace espat::sim;
using namespace std::chrono_literals;

namespace {
BleAdvertiser beacon(std::string id, std::uint8_t last, std::chrono::milliseconds interval) {
  BleAdvertiser a;
  a.id = std::move(id);
  a.addr = Mac{{0xc2, 0x34, 0x45, 0x78, 0x66, last}};
  a.addr_type = 1;
  a.adv_data = *hex_to_bytes("0201060a09457370726573736966");  // flags, "Espressif"
  a.scan_rsp = *hex_to_bytes("1122334455");
  a.interval = interval;
  a.rssi = -70;
  return a;
}
const auto t0 = BleMedium::Clock::time_point{} + 1h;

// A link end with no server and no say in pairing: what makes an advertiser connectable.
struct NullHost : BleHost {
  GattDb* gatt_db() override { return nullptr; }
  std::string device_name() const override { return "null"; }
  void gatt_read(const BleLink&) override {}
  void gatt_written(const BleLink&, int, int, int, std::string_view) override {}
  void gatt_notified(const BleLink&, int, int, std::string_view, bool) override {}
  BleSecParams security() const override { return {}; }
  bool bonded_with(Mac) const override { return false; }
  void smp(const BleLink&, const SmpEvent&) override {}
};
}  // namespace

TEST(BleHex, RoundTrip) {
  EXPECT_EQ(hex_to_bytes("0aFF"), std::string("\x0a\xff", 2));
  EXPECT_EQ(hex_to_bytes(""), std::string());
  EXPECT_FALSE(hex_to_bytes("abc"));
  EXPECT_FALSE(hex_to_bytes("zz"));
  EXPECT_EQ(bytes_to_hex(std::string("\x02\x01\x06\xAB", 4)), "020106ab");
}

TEST(BleHex, LocalName) {
  EXPECT_EQ(ble_local_name(*hex_to_bytes("0201060a09457370726573736966"), ""), "Espressif");
  EXPECT_EQ(ble_local_name(*hex_to_bytes("020106"), *hex_to_bytes("0408455350")), "ESP");  // shortened, in the response
  EXPECT_EQ(ble_local_name(*hex_to_bytes("05"), ""), "");  // a truncated structure
}

TEST(BleMedium, SeenOncePerInterval) {
  BleMedium m;
  m.advertise(beacon("b", 1, 100ms));
  BleScan s;
  auto r = m.poll(s, t0);  // heard at once
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].addr.str(), "c2:34:45:78:66:01");
  EXPECT_EQ(r[0].rssi, -70);
  EXPECT_EQ(r[0].addr_type, 1);
  EXPECT_EQ(bytes_to_hex(r[0].adv_data), "0201060a09457370726573736966");
  EXPECT_EQ(r[0].scan_rsp, "");  // passive scan
  EXPECT_TRUE(m.poll(s, t0 + 99ms).empty());
  EXPECT_EQ(m.next_due(s, t0 + 50ms), t0 + 100ms);
  EXPECT_EQ(m.poll(s, t0 + 100ms).size(), 1u);
  // Polled every 10 ms up to 1.1 s: due at 200, 300 ... 1000 ms, nine more sightings.
  int seen = 0;
  for (auto t = t0 + 101ms; t < t0 + 1100ms; t += 10ms) seen += int(m.poll(s, t).size());
  EXPECT_EQ(seen, 9);
}

TEST(BleMedium, ActiveScanGetsScanResponseOfScannableAdverts) {
  BleMedium m;
  m.advertise(beacon("ind", 1, 100ms));
  auto nonconn = beacon("nonconn", 2, 100ms);
  nonconn.type = BleAdvType::NonConnInd;
  m.advertise(nonconn);
  auto direct = beacon("direct", 3, 100ms);
  direct.type = BleAdvType::DirectLow;
  m.advertise(direct);
  BleScan s;
  s.active = true;
  auto r = m.poll(s, t0);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(bytes_to_hex(r[0].scan_rsp), "1122334455");
  EXPECT_EQ(r[1].scan_rsp, "");
  EXPECT_EQ(r[2].adv_data, "");  // a directed advert carries no data
}

TEST(BleMedium, FiltersAndSelf) {
  BleMedium m;
  m.advertise(beacon("a", 1, 100ms));
  auto other = beacon("b", 2, 100ms);
  other.adv_data = *hex_to_bytes("020106");
  other.scan_rsp = *hex_to_bytes("0409455350");  // "ESP" in the scan response
  m.advertise(other);

  BleScan mac;
  mac.filter = {BleScanFilter::Mac, "C2:34:45:78:66:02"};  // any case
  auto r = m.poll(mac, t0);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, "b");

  BleScan name;
  name.filter = {BleScanFilter::Name, "Espressif"};
  r = m.poll(name, t0);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, "a");

  BleScan by_rsp;  // a name in the scan response is seen by an active scanner only
  by_rsp.filter = {BleScanFilter::Name, "ESP"};
  EXPECT_TRUE(m.poll(by_rsp, t0).empty());
  by_rsp.active = true;
  EXPECT_EQ(m.poll(by_rsp, t0).size(), 1u);

  BleScan self;
  self.self = "a";
  r = m.poll(self, t0);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].id, "b");
}

TEST(BleMedium, StopAndReplaceAndWatchers) {
  BleMedium m;
  int changes = 0;
  m.watch(&changes, [&] { ++changes; });
  BleScan s;
  EXPECT_FALSE(m.next_due(s, t0));
  m.advertise(beacon("a", 1, 1000ms));
  EXPECT_EQ(m.next_due(s, t0), t0);
  EXPECT_EQ(m.poll(s, t0).size(), 1u);
  auto changed = beacon("a", 1, 1000ms);
  changed.adv_data = "\x02\x01\x04";
  m.advertise(changed);  // same id: replaced, still one advertiser
  EXPECT_EQ(m.advertisers().size(), 1u);
  auto r = m.poll(s, t0 + 1s);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(bytes_to_hex(r[0].adv_data), "020104");
  EXPECT_TRUE(m.stop("a"));
  EXPECT_FALSE(m.stop("a"));
  EXPECT_TRUE(m.poll(s, t0 + 2s).empty());
  EXPECT_TRUE(s.next.empty());  // forgotten
  EXPECT_EQ(changes, 3);
  m.unwatch(&changes);
  m.advertise(beacon("a", 1, 1000ms));
  EXPECT_EQ(changes, 3);
}

// Issue 11, second step: links between a central and a module advertising connectably.
TEST(BleMedium, ConnectDisconnectDrop) {
  BleMedium m;
  std::vector<std::string> events;
  auto log = [&](std::string who) {
    return [&events, who](const BleLink& l, BleLinkEvent e) {
      events.push_back(fmt::format("{} {} {} {}", who, int(e), l.index_of(who), l.peer_addr_of(who).str()));
    };
  };
  m.watch_links("m0", log("m0"));
  m.watch_links("m1", log("m1"));
  const Mac central{{0x24, 0x0a, 0xc4, 0, 0, 1}};
  auto server = beacon("m0", 1, 100ms);
  EXPECT_EQ(m.connect("m1", 0, central, server.addr), nullptr);  // nobody advertises
  m.advertise(beacon("tag", 9, 100ms));
  EXPECT_EQ(m.connect("m1", 0, central, beacon("tag", 9, 100ms).addr), nullptr);  // no host: a beacon
  NullHost host;
  m.attach("m0", &host);
  server.module = true;
  server.type = BleAdvType::NonConnInd;
  m.advertise(server);
  EXPECT_EQ(m.connect("m1", 0, central, server.addr), nullptr);  // not connectable
  server.type = BleAdvType::Ind;
  m.advertise(server);
  EXPECT_EQ(m.connect("m1", 0, central, server.addr, 0), nullptr);  // random, not public
  const BleLink* l = m.connect("m1", 2, central, server.addr, 1);
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->central_index, 2);
  EXPECT_EQ(l->peripheral_index, 0);
  EXPECT_EQ(l->mtu, 23);
  EXPECT_EQ(m.find("m0"), nullptr);  // advertising stopped
  EXPECT_NE(m.find("tag"), nullptr);
  EXPECT_EQ(events, (std::vector<std::string>{"m1 1 2 c2:34:45:78:66:01", "m0 1 0 24:0a:c4:00:00:01"}));
  events.clear();
  m.advertise(server);
  EXPECT_EQ(m.connect("m1", 0, central, server.addr), nullptr);  // already linked to it
  EXPECT_EQ(m.connect("m1", 2, central, server.addr), nullptr);  // index taken
  EXPECT_TRUE(m.set_mtu("m0", 0, 300));
  EXPECT_EQ(m.link("m1", 2)->mtu, 300);
  EXPECT_TRUE(m.set_params("m1", 2, 12, 14, 1, 500));
  EXPECT_EQ(m.link("m0", 0)->interval, 12);
  EXPECT_FALSE(m.set_params("m1", 1, 12, 14, 1, 500));
  EXPECT_EQ(m.links_of("m0").size(), 1u);
  EXPECT_FALSE(m.disconnect("m1", 0));
  EXPECT_TRUE(m.disconnect("m1", 2));
  EXPECT_TRUE(m.links_of("m1").empty());
  // A third module connects too; m0's restart (drop) ends its link, telling both.
  ASSERT_NE(m.connect("m2", 0, central.plus(1), server.addr), nullptr);
  EXPECT_EQ(m.link("m0", 0)->central, "m2");
  m.drop("m0");
  EXPECT_EQ(m.link("m2", 0), nullptr);
  // MTU (2), parameters (3) and down (0) at both ends, central first; m2 watches nothing.
  EXPECT_EQ(events, (std::vector<std::string>{"m1 2 2 c2:34:45:78:66:01", "m0 2 0 24:0a:c4:00:00:01",
                                              "m1 3 2 c2:34:45:78:66:01", "m0 3 0 24:0a:c4:00:00:01",
                                              "m1 0 2 c2:34:45:78:66:01", "m0 0 0 24:0a:c4:00:00:01",
                                              "m0 1 0 24:0a:c4:00:00:02", "m0 0 0 24:0a:c4:00:00:02"}));
}

TEST(BleWorldFile, Peers) {
  World w;
  load_world(w, R"(
[[ble_peer]]
id = "tag"
address = "c2:34:45:78:66:89"
address_type = "random"
name = "Tag"
adv_data = "020106"
scan_rsp = "1122"
interval_ms = 500
rssi = -77

[[ble_peer]]
address = "24:0a:c4:00:00:01"
)",
             "w.toml");
  ASSERT_EQ(w.ble.advertisers().size(), 2u);
  const auto* tag = w.ble.find("tag");
  ASSERT_NE(tag, nullptr);
  EXPECT_EQ(tag->addr.str(), "c2:34:45:78:66:89");
  EXPECT_EQ(tag->addr_type, 1);
  EXPECT_EQ(bytes_to_hex(tag->adv_data), "0201060409546167");  // the name appended as AD type 0x09
  EXPECT_EQ(bytes_to_hex(tag->scan_rsp), "1122");
  EXPECT_EQ(tag->interval, 500ms);
  EXPECT_EQ(tag->rssi, -77);
  const auto* second = w.ble.find("ble2");
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->addr_type, 0);
  EXPECT_EQ(second->interval, 100ms);
}

TEST(BleWorldFile, BadPeers) {
  auto fails = [](const char* text, const char* what) {
    World w;
    try {
      load_world(w, text, "w.toml");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const WorldError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  fails("[[ble_peer]]\nname = \"x\"\n", "needs an address");
  fails("[[ble_peer]]\nid = \"m1\"\naddress = \"c2:34:45:78:66:89\"\n", "names a module's advertising");
  fails("[[ble_peer]]\naddress = \"c2:34:45:78:66:89\"\nadv_data = \"abc\"\n", "hex string");
  fails("[[ble_peer]]\naddress = \"c2:34:45:78:66:89\"\nadv_data = \"" "00000000000000000000000000000000000000000000000000000000000000" "00\"\n",
        "at most 31 bytes");
  fails("[[ble_peer]]\naddress = \"c2:34:45:78:66:89\"\ncolour = 1\n", "unknown key");
  fails("[[ble_peer]]\naddress = \"c2:34:45:78:66:89\"\n[[ble_peer]]\naddress = \"c2:34:45:78:66:8a\"\nid = \"ble1\"\n",
        "second [[ble_peer]]");
}

// module/ble.hpp: the parameters as the queries print them and NVS keeps them (3.4.5, 3.4.8),
// and the advertising data AT+BLEADVDATAEX builds (3.4.10).
#include "module/ble.hpp"

TEST(BleModule, ParamsTextRoundTrip) {
  espat::module::BleAdvParams a{50, 60, 3, 1, 4, 2, 1, *Mac::parse("12:34:45:78:66:88")};
  const auto text = espat::module::adv_params_text(a);
  EXPECT_EQ(text, "50,60,3,1,4,2,1,\"12:34:45:78:66:88\"");
  auto back = espat::module::adv_params_from_text(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(espat::module::adv_params_text(*back), text);
  EXPECT_FALSE(espat::module::adv_params_from_text("1,2,3"));
  EXPECT_EQ(espat::module::scan_params_text(*espat::module::scan_params_from_text("1,0,0,200,100")), "1,0,0,200,100");
  EXPECT_FALSE(espat::module::scan_params_from_text("x"));
}

TEST(BleModule, AdvDataEx) {
  using espat::module::build_adv_data_ex;
  EXPECT_EQ(bytes_to_hex(*build_adv_data_ex({"ESP-AT", "A002", "0102030405", 1}, 3)),
            "0201060709455350" "2d4154030302a006ff0102030405020a03");
  EXPECT_EQ(bytes_to_hex(*build_adv_data_ex({"", "", "", 0}, 3)), "020106");
  EXPECT_EQ(bytes_to_hex(*build_adv_data_ex({"", "000102030405060708090a0b0c0d0e0f", "", 0}, 3)),
            "02010611070f0e0d0c0b0a09080706050403020100");  // 128-bit, little-endian
  EXPECT_FALSE(build_adv_data_ex({"", "A0", "", 0}, 3));   // neither 16 nor 128 bits
  EXPECT_FALSE(build_adv_data_ex({std::string(26, 'n'), "A002", "", 0}, 3));  // 35 bytes
}
