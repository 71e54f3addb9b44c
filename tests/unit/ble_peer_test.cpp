// sim/ble_peer.hpp (issue 11, world peers): the [[ble_peer]] roles of the world file; a phone
// (central) against a heart-rate sensor (peripheral) on one medium: connect, discover, read,
// write, subscribe, notifications at the sensor's interval, pairing by passkey; an HID host that
// finds an HID device by itself, pairs and records its input reports.
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>

#include <gtest/gtest.h>

#include "sim/ble_peer.hpp"
#include "sim/world.hpp"
#include "sim/world_file.hpp"

using namespace espat::sim;
using namespace std::chrono_literals;

namespace {

// The medium's scheduler on a clock the test moves.
struct Clock {
  std::multimap<std::chrono::milliseconds, std::function<void()>> due;
  std::chrono::milliseconds now{0};
  void install(BleMedium& m) {
    m.set_scheduler([this](std::chrono::milliseconds d, std::function<void()> f) { due.emplace(now + d, std::move(f)); });
  }
  void advance(std::chrono::milliseconds by) {
    const auto until = now + by;
    while (!due.empty() && due.begin()->first <= until) {
      auto it = due.begin();
      now = it->first;
      auto f = std::move(it->second);
      due.erase(it);
      f();
    }
    now = until;
  }
};

constexpr const char* kWorld = R"(
[[ble_peer]]
id = "hrm"
role = "peripheral"
address = "d0:00:00:00:00:01"
name = "HRM"
iocap = 0
  [[ble_peer.service]]
  uuid = "180D"
    [[ble_peer.service.characteristic]]
    uuid = "2A37"
    properties = ["read", "notify"]
    value = "0048"
    notify_ms = 1000
    [[ble_peer.service.characteristic]]
    uuid = "2a39"
    properties = ["write"]

[[ble_peer]]
id = "phone"
role = "central"
address = "60:51:42:fe:98:aa"
)";

std::vector<std::string> kinds(const BlePeer& p) {
  std::vector<std::string> out;
  for (const auto& e : p.events()) out.push_back(e.kind);
  return out;
}

}  // namespace

TEST(BlePeers, WorldFileRoles) {
  World w;
  load_world(w, kWorld, "w.toml");
  ASSERT_EQ(w.ble_peers().size(), 2u);
  const BlePeer* hrm = w.find_ble_peer("hrm");
  ASSERT_NE(hrm, nullptr);
  EXPECT_EQ(hrm->spec().role, BlePeerRole::Peripheral);
  ASSERT_EQ(hrm->spec().services.size(), 1u);
  EXPECT_EQ(hrm->spec().services[0].chars[1].uuid, "2A39");  // kept upper-case
  EXPECT_EQ(hrm->spec().services[0].chars[0].notify_ms, 1000);
  EXPECT_EQ(hrm->spec().sec.iocap, 0);
  EXPECT_NE(w.ble.find("hrm"), nullptr);     // a peripheral advertises
  EXPECT_EQ(w.ble.find("phone"), nullptr);   // a central does not
  EXPECT_EQ(w.find_ble_peer("phone")->spec().sec.iocap, 4);  // a phone displays and types

  auto fails = [](const char* text, const char* what) {
    World bad;
    try {
      load_world(bad, text, "w.toml");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const WorldError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  fails("[[ble_peer]]\naddress = \"c2:34:45:78:66:89\"\nrole = \"toaster\"\n", "beacon, peripheral, central or hid_host");
  fails("[[ble_peer]]\naddress = \"c2:34:45:78:66:89\"\nrole = \"central\"\n[[ble_peer.service]]\nuuid = \"180D\"\n",
        "only a peripheral");
  fails("[[ble_peer]]\naddress = \"c2:34:45:78:66:89\"\nrole = \"peripheral\"\n[[ble_peer.service]]\nuuid = \"18D\"\n",
        "not a 16-bit");
  fails("[[ble_peer]]\naddress = \"c2:34:45:78:66:89\"\nrole = \"peripheral\"\n[[ble_peer.service]]\nuuid = \"180D\"\n"
        "[[ble_peer.service.characteristic]]\nuuid = \"2A37\"\nproperties = [\"fly\"]\n",
        "a property is one of");
  fails("[[ble_peer]]\naddress = \"c2:34:45:78:66:89\"\nrole = \"peripheral\"\n[[ble_peer.service]]\nuuid = \"180D\"\n"
        "[[ble_peer.service.characteristic]]\nuuid = \"2A37\"\nnotify_ms = 10\n",
        "needs the notify or indicate property");
  fails("[[ble_peer]]\naddress = \"c2:34:45:78:66:89\"\nid = \"a/b\"\n", "no '/'");
}

TEST(BlePeers, PhoneAgainstHeartRateSensor) {
  World w;
  Clock clock;
  clock.install(w.ble);
  load_world(w, kWorld, "w.toml");
  BlePeer& phone = *w.find_ble_peer("phone");
  BlePeer& hrm = *w.find_ble_peer("hrm");
  std::string why;
  EXPECT_EQ(phone.connect(*Mac::parse("d0:00:00:00:00:02"), why), nullptr);
  EXPECT_NE(why.find("nothing connectable"), std::string::npos);
  const BleLink* l = phone.connect(*Mac::parse("d0:00:00:00:00:01"), why);
  ASSERT_NE(l, nullptr) << why;
  EXPECT_EQ(l->central_index, 0);
  EXPECT_EQ(w.ble.find("hrm"), nullptr);  // connected: no longer advertising

  auto view = phone.discover(0, why);
  ASSERT_TRUE(view);
  ASSERT_EQ(view->size(), 3u);  // 0x1801, 0x1800, then the sensor's
  EXPECT_EQ((*view)[2].uuid, "180D");
  EXPECT_EQ(phone.read(0, "1800", "2A00", "", why), "HRM");  // the name it advertises
  EXPECT_EQ(phone.read(0, "180d", "2a37", "", why), std::string("\x00\x48", 2));
  EXPECT_FALSE(phone.read(0, "180D", "2A39", "", why));  // write-only
  EXPECT_FALSE(phone.read(0, "180D", "2A99", "", why));
  EXPECT_NE(why.find("no characteristic 2A99"), std::string::npos);

  EXPECT_TRUE(phone.write(0, "180D", "2A39", "", "\x01", why)) << why;
  ASSERT_FALSE(hrm.events().empty());
  const auto& written = hrm.events().back();
  EXPECT_EQ(written.kind, "write");
  EXPECT_EQ(written.characteristic, "2A39");
  EXPECT_EQ(written.value, "\x01");
  EXPECT_EQ(written.peer, "60:51:42:fe:98:aa");

  clock.advance(1500ms);  // not subscribed: nothing arrives
  auto k = kinds(phone);
  EXPECT_EQ(std::count(k.begin(), k.end(), "notify"), 0);
  EXPECT_TRUE(phone.subscribe(0, "180D", "2A37", false, why)) << why;
  clock.advance(3000ms);
  k = kinds(phone);
  EXPECT_EQ(std::count(k.begin(), k.end(), "notify"), 3);  // one a second
  EXPECT_EQ(phone.events().back().value, std::string("\x00\x48", 2));
  EXPECT_EQ(phone.events().back().characteristic, "2A37");
  EXPECT_TRUE(hrm.notify("180D", "2A37", std::string("\x00\x50", 2), false));
  EXPECT_EQ(phone.events().back().value, std::string("\x00\x50", 2));

  EXPECT_TRUE(phone.disconnect(0, why));
  EXPECT_NE(w.ble.find("hrm"), nullptr);  // advertising again
  EXPECT_EQ(hrm.events().back().kind, "disconnected");
  EXPECT_EQ(hrm.events().back().reason, 0x13);    // the phone ended it
  EXPECT_EQ(phone.events().back().reason, 0x16);  // it did, locally
  ASSERT_NE(phone.connect(*Mac::parse("d0:00:00:00:00:01"), why), nullptr);
  w.remove_ble_peer("hrm");  // gone without a word: the phone's link times out
  EXPECT_EQ(phone.events().back().kind, "disconnected");
  EXPECT_EQ(phone.events().back().reason, 0x08);
}

TEST(BlePeers, PhonePairsByPasskey) {
  World w;
  Clock clock;
  clock.install(w.ble);
  load_world(w, kWorld, "w.toml");  // the sensor displays only (iocap 0), the phone types
  BlePeer& phone = *w.find_ble_peer("phone");
  BlePeer& hrm = *w.find_ble_peer("hrm");
  std::string why;
  ASSERT_NE(phone.connect(*Mac::parse("d0:00:00:00:00:01"), why), nullptr);
  EXPECT_TRUE(phone.pair(0, why));
  clock.advance(10ms);  // the sensor accepts
  auto shown = std::find_if(hrm.events().begin(), hrm.events().end(), [](const auto& e) { return e.kind == "passkey"; });
  ASSERT_NE(shown, hrm.events().end());
  EXPECT_EQ(phone.events().back().kind, "key_request");
  EXPECT_FALSE(phone.passkey(1, shown->key, why));
  EXPECT_TRUE(phone.passkey(0, shown->key, why));
  EXPECT_EQ(phone.events().back().kind, "paired");
  EXPECT_EQ(hrm.events().back().kind, "paired");
  EXPECT_TRUE(w.ble.link("phone", 0)->encrypted);
  EXPECT_TRUE(phone.bonded_with(*Mac::parse("d0:00:00:00:00:01")));
}

TEST(BlePeers, HidHostFindsPairsAndRecords) {
  World w;
  Clock clock;
  clock.install(w.ble);
  load_world(w, R"(
[[ble_peer]]
id = "pc"
role = "hid_host"
address = "70:00:00:00:00:01"

[[ble_peer]]
id = "kbd"
role = "peripheral"
address = "70:00:00:00:00:02"
adv_data = "0201060303121809094b6579626f617264"
  [[ble_peer.service]]
  uuid = "1812"
    [[ble_peer.service.characteristic]]
    uuid = "2A4D"
    properties = ["read", "notify"]
)",
             "w.toml");
  BlePeer& pc = *w.find_ble_peer("pc");
  BlePeer& kbd = *w.find_ble_peer("kbd");
  clock.advance(10ms);
  ASSERT_EQ(pc.links().size(), 1u);  // found it by the 0x1812 in its advertising
  auto k = kinds(pc);
  EXPECT_NE(std::find(k.begin(), k.end(), "paired"), k.end());
  EXPECT_TRUE(kbd.notify("1812", "2A4D", std::string("\x00\x00\x04\x00\x00\x00\x00\x00", 8), false));
  ASSERT_EQ(pc.events().back().kind, "hid");
  EXPECT_EQ(pc.events().back().value[2], '\x04');

  // The device goes away and comes back: the host connects again.
  std::string why;
  EXPECT_TRUE(pc.disconnect(0, why));
  clock.advance(200ms);
  EXPECT_EQ(pc.links().size(), 1u);
}
