// sim::World: which AP a join picks and why it fails (spec 3.2.5 error codes), leases, and what
// a station is told when its AP changes (issue 4: "a change has the effect a real AP would have").
#include <gtest/gtest.h>

#include "sim/world.hpp"

using namespace espat::sim;
using namespace std::chrono_literals;

namespace {
struct FakeStation final : Station {
  Mac mac;
  int lost = 0;
  explicit FakeStation(std::uint8_t last) : mac{{0x24, 0x0a, 0xc4, 0, 0, last}} {}
  Mac station_mac() const override { return mac; }
  void link_lost() override { ++lost; }
};

Ap make_ap(std::string id, std::string ssid, std::uint8_t last, int rssi, Security sec, std::string pwd) {
  Ap ap;
  ap.id = std::move(id);
  ap.ssid = std::move(ssid);
  ap.bssid = Mac{{0x1a, 0, 0, 0, 0, last}};
  ap.rssi = rssi;
  ap.security = sec;
  ap.password = std::move(pwd);
  ap.net.subnet = *Subnet::parse("127.10.1.0/24");
  ap.net.gateway = *Ipv4::parse("127.10.1.1");
  return ap;
}

World two_homes() {
  World w;
  w.add_ap(make_ap("near", "home", 1, -40, Security::Wpa2Psk, "0123456789"));
  w.add_ap(make_ap("far", "home", 2, -80, Security::Wpa2Psk, "0123456789"));
  w.add_ap(make_ap("cafe", "cafe", 3, -60, Security::Open, ""));
  return w;
}
}  // namespace

TEST(World, FastScanTakesTheFirstAndFullScanTheStrongest) {
  World w;
  w.add_ap(make_ap("weak", "home", 1, -80, Security::Wpa2Psk, "0123456789"));
  w.add_ap(make_ap("strong", "home", 2, -30, Security::Wpa2Psk, "0123456789"));
  EXPECT_EQ(w.plan_join({"home", "0123456789"}).ap_id, "weak");
  JoinRequest all{"home", "0123456789"};
  all.strongest = true;
  EXPECT_EQ(w.plan_join(all).ap_id, "strong");
  JoinRequest by_bssid{"home", "0123456789", Mac{{0x1a, 0, 0, 0, 0, 2}}};
  EXPECT_EQ(w.plan_join(by_bssid).ap_id, "strong");
}

TEST(World, EachFailureHasItsCode) {
  World w = two_homes();
  EXPECT_EQ(w.plan_join({"home", "wrong-password"}).error, JoinError::WrongPassword);
  EXPECT_EQ(w.plan_join({"nowhere", "0123456789"}).error, JoinError::NotFound);
  EXPECT_EQ(w.plan_join({"nowhere", "0123456789"}).delay, w.scan_time);
  JoinRequest pci{"cafe", ""};
  pci.pci_en = true;
  EXPECT_EQ(w.plan_join(pci).error, JoinError::NotFound);
  EXPECT_EQ(w.plan_join({"cafe", "anything"}).error, JoinError::None);

  Ap silent = *w.find_ap("near");
  silent.fault = "timeout";
  w.update_ap(silent);
  EXPECT_EQ(w.plan_join({"home", "0123456789"}).error, JoinError::Timeout);
  EXPECT_EQ(w.plan_join({"home", "0123456789"}).delay, std::chrono::milliseconds::max());
  silent.fault = "reject";
  w.update_ap(silent);
  EXPECT_EQ(w.plan_join({"home", "0123456789"}).error, JoinError::Failed);
}

TEST(World, PmfAndEnterprise) {
  World w;
  Ap wpa3 = make_ap("wpa3", "wpa3", 1, -50, Security::Wpa3Psk, "wpa3-password");
  wpa3.pmf = 3;
  w.add_ap(wpa3);
  Ap corp = make_ap("corp", "corp", 2, -50, Security::Wpa2Enterprise, "");
  corp.eap = {{1, "me@corp", "me", "pw"}, {0, "dev@corp", "", ""}};
  w.add_ap(corp);
  JoinRequest no_pmf{"wpa3", "wpa3-password"};
  no_pmf.pmf = 0;
  EXPECT_EQ(w.plan_join(no_pmf).error, JoinError::Failed);
  EXPECT_EQ(w.plan_join({"wpa3", "wpa3-password"}).error, JoinError::None);

  EXPECT_EQ(w.plan_join({"corp", "pw"}).error, JoinError::Failed);  // a password alone is not EAP
  JoinRequest peap{"corp", ""};
  peap.eap = EapAccount{1, "me@corp", "me", "pw"};
  EXPECT_EQ(w.plan_join(peap).error, JoinError::None);
  peap.eap->password = "nope";
  EXPECT_EQ(w.plan_join(peap).error, JoinError::WrongPassword);
  JoinRequest tls{"corp", ""};
  tls.eap = EapAccount{0, "dev@corp", "", ""};
  EXPECT_EQ(w.plan_join(tls).error, JoinError::None);
}

TEST(World, LeasesComeFromThePoolAndAreReused) {
  World w = two_homes();
  FakeStation a(1), b(2);
  JoinError e;
  auto la = w.join(a, {"home", "0123456789"}, "near", e);
  ASSERT_TRUE(la);
  EXPECT_EQ(la->ip.str(), "127.10.1.100");
  EXPECT_EQ(la->gateway.str(), "127.10.1.1");
  EXPECT_EQ(la->netmask.str(), "255.255.255.0");
  auto lb = w.join(b, {"home", "0123456789"}, "near", e);
  ASSERT_TRUE(lb);
  EXPECT_EQ(lb->ip.str(), "127.10.1.101");
  w.leave(a);
  EXPECT_EQ(a.lost, 0);  // leaving of its own accord tells nobody
  auto again = w.join(a, {"home", "0123456789"}, "near", e);
  EXPECT_EQ(again->ip.str(), "127.10.1.100");
  EXPECT_EQ(w.associations().size(), 2u);
}

// A fleet on one AP (README "Fleets"): thousands of leases, each the first free address, a freed
// one handed out again first, and a full pool refused.
TEST(World, AFleetOfLeasesOnOneAp) {
  World w;
  Ap ap;
  ap.id = ap.ssid = "fleet";
  ap.bssid = *Mac::parse("1a:00:00:00:00:09");
  ap.security = Security::Open;
  ap.max_stations = 65535;
  ap.net.subnet = *Subnet::parse("127.20.0.0/16");
  ap.net.gateway = ap.net.subnet.host(1);
  ap.net.pool_first = 2;
  ap.net.pool_last = 3001;
  ASSERT_TRUE(w.add_ap(ap));
  std::vector<std::unique_ptr<FakeStation>> stations;
  JoinError e;
  for (int i = 0; i < 3000; ++i) {
    stations.push_back(std::make_unique<FakeStation>(i + 1));
    auto l = w.join(*stations.back(), {"fleet", ""}, "fleet", e);
    ASSERT_TRUE(l) << i;
    ASSERT_EQ(l->ip, w.find_ap("fleet")->net.subnet.host(std::uint32_t(2 + i))) << i;
  }
  w.leave(*stations[1000]);
  w.leave(*stations[10]);
  FakeStation late(9000), later(9001), full(9002);
  EXPECT_EQ(w.join(late, {"fleet", ""}, "fleet", e)->ip.str(), "127.20.0.12");
  EXPECT_EQ(w.join(later, {"fleet", ""}, "fleet", e)->ip.str(), "127.20.3.234");  // host 1002
  EXPECT_FALSE(w.join(full, {"fleet", ""}, "fleet", e));
  EXPECT_EQ(e, JoinError::Failed);
}

TEST(World, AJoinChecksAgainWhenTheDelayIsOver) {
  World w = two_homes();
  FakeStation a(1);
  auto plan = w.plan_join({"home", "0123456789"});
  Ap changed = *w.find_ap(plan.ap_id);
  changed.password = "new-password";
  w.update_ap(changed);
  JoinError e;
  EXPECT_FALSE(w.join(a, {"home", "0123456789"}, plan.ap_id, e));
  EXPECT_EQ(e, JoinError::WrongPassword);
}

TEST(World, StationsLoseTheirLinkWhenTheApChangesForReal) {
  World w = two_homes();
  FakeStation a(1);
  JoinError e;
  ASSERT_TRUE(w.join(a, {"home", "0123456789"}, "near", e));
  Ap ap = *w.find_ap("near");
  ap.rssi = -70;  // a weaker signal keeps the link
  w.update_ap(ap);
  EXPECT_EQ(a.lost, 0);
  ap.up = false;
  w.update_ap(ap);
  EXPECT_EQ(a.lost, 1);
  EXPECT_EQ(w.association_of(a), nullptr);
  EXPECT_TRUE(w.scan().size() == 2u);  // a switched-off AP is not seen

  ASSERT_TRUE(w.join(a, {"home", "0123456789"}, "far", e));
  EXPECT_TRUE(w.kick("far", a.mac));
  EXPECT_EQ(a.lost, 2);
  EXPECT_FALSE(w.kick("far", a.mac));
  ASSERT_TRUE(w.join(a, {"home", "0123456789"}, "far", e));
  EXPECT_TRUE(w.remove_ap("far"));
  EXPECT_EQ(a.lost, 3);
}

TEST(World, IdsAndBssidsAreUnique) {
  World w = two_homes();
  EXPECT_FALSE(w.add_ap(make_ap("near", "other", 9, -50, Security::Open, "")));
  EXPECT_FALSE(w.add_ap(make_ap("other", "other", 1, -50, Security::Open, "")));
  EXPECT_TRUE(w.add_ap(make_ap("other", "other", 9, -50, Security::Open, "")));
}

TEST(World, HiddenApsAreScannedButNotNamedByTheStation) {
  World w;
  Ap h = make_ap("h", "hidden", 1, -50, Security::Wpa2Psk, "0123456789");
  h.hidden = true;
  w.add_ap(h);
  ASSERT_EQ(w.scan().size(), 1u);
  EXPECT_EQ(w.plan_join({"hidden", "0123456789"}).error, JoinError::None);  // joining by name works
}

TEST(World, ResolvesItsNamesThenMdnsHosts) {
  World w;
  w.dns()["Broker.Test"] = *Ipv4::parse("127.0.0.7");
  EXPECT_EQ(w.resolve("broker.test")->str(), "127.0.0.7");
  int owner = 0;
  w.mdns_register(&owner, {"espressif", "_iot", 8080, *Ipv4::parse("127.10.1.100")});
  EXPECT_EQ(w.resolve("espressif.local")->str(), "127.10.1.100");
  EXPECT_FALSE(w.resolve("espressif"));
  w.mdns_unregister(&owner);
  EXPECT_FALSE(w.resolve("espressif.local"));
}

TEST(World, SmartConfigReachesEveryListenerAndWpsOne) {
  World w = two_homes();
  Ap wps = *w.find_ap("near");
  wps.wps = true;
  w.update_ap(wps);
  w.phones().push_back({"phone", 1, "home", "0123456789"});
  FakeStation a(1), b(2);
  int heard = 0, took = 0;
  w.listen_smartconfig(a, [&](const SmartPhone& p) { heard += p.ssid == "home"; });
  w.listen_smartconfig(b, [&](const SmartPhone& p) { heard += p.ssid == "home"; });
  EXPECT_EQ(w.trigger_smartconfig("phone"), 2);
  EXPECT_EQ(heard, 2);
  EXPECT_EQ(w.trigger_smartconfig("nobody"), -1);
  w.listen_wps(a, [&](const Ap&) { ++took; return true; });
  w.listen_wps(b, [&](const Ap&) { ++took; return true; });
  EXPECT_EQ(w.push_wps("near"), 1);
  EXPECT_EQ(took, 1);
  EXPECT_EQ(w.push_wps("far"), -1);  // no WPS on that AP
}

TEST(Addr, ParseAndPrint) {
  EXPECT_EQ(Mac::parse("1A:fe:35:98:d3:7b")->str(), "1a:fe:35:98:d3:7b");
  EXPECT_FALSE(Mac::parse("1a:fe:35:98:d3"));
  EXPECT_FALSE(Mac::parse("1a-fe-35-98-d3-7b"));
  EXPECT_TRUE(Mac::parse("1a:fe:35:98:d3:7b")->assignable());
  EXPECT_FALSE(Mac::parse("15:fe:35:98:d3:7b")->assignable());  // multicast bit (3.2.18)
  EXPECT_FALSE(Mac::parse("ff:ff:ff:ff:ff:ff")->assignable());
  EXPECT_FALSE(Mac::parse("00:00:00:00:00:00")->assignable());
  EXPECT_EQ(Ipv4::parse("192.168.4.1")->str(), "192.168.4.1");
  EXPECT_FALSE(Ipv4::parse("192.168.4"));
  EXPECT_FALSE(Ipv4::parse("192.168.4.256"));
  EXPECT_FALSE(Ipv4::parse("192.168.4.1 "));
  EXPECT_FALSE(Ipv4::parse("1.2.3.0004"));
  auto net = Subnet::parse("127.10.1.7/24");
  ASSERT_TRUE(net);
  EXPECT_EQ(net->str(), "127.10.1.0/24");
  EXPECT_EQ(net->host(100).str(), "127.10.1.100");
  EXPECT_TRUE(net->contains(*Ipv4::parse("127.10.1.254")));
  EXPECT_FALSE(net->contains(*Ipv4::parse("127.10.2.1")));
  EXPECT_FALSE(Subnet::parse("127.10.1.0/33"));
}
