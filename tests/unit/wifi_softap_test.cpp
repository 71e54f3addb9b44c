// The module's softAP as other stations see it (spec 3.2.10-3.2.14, 3.2.19, 3.2.21): a module
// driven through its AT commands publishes its AP in a sim::World, and stations injected with
// World::join_foreign (what the control API will do) join it, get leases from its DHCP server,
// show up in AT+CWLIF and are dropped by AT+CWQIF and by configuration changes.
#include <gtest/gtest.h>

#include <map>

#include <asio/io_context.hpp>

#include "at/engine.hpp"
#include "commands/basic.hpp"
#include "commands/wifi.hpp"
#include "module/context.hpp"
#include "module/wifi.hpp"
#include "fake_module.hpp"

using namespace espat;

namespace {
// The test's module, with a count of the APs it owns in the world.
struct FakeModule : fakes::FakeModule {
  using fakes::FakeModule::FakeModule;
  int aps_owned() const {
    int n = 0;
    for (const auto& a : world_.aps()) n += a.owner == wifi_.get();
    return n;
  }
};

struct SoftAp : ::testing::Test {
  asio::io_context io;
  sim::World world;
  FakeModule m{io, world};
  const sim::Mac phone = *sim::Mac::parse("02:00:00:00:00:01");
  const sim::Mac laptop = *sim::Mac::parse("02:00:00:00:00:02");
  const sim::Mac tablet = *sim::Mac::parse("02:00:00:00:00:03");

  void SetUp() override {
    ASSERT_EQ(m.at("ATE0"), "ATE0\r\n\r\nOK\r\n");
    ASSERT_EQ(m.at("AT+CWMODE=2"), "\r\nOK\r\n");
    ASSERT_EQ(m.at("AT+CWSAP=\"espat-soft\",\"soft-password\",6,3,2"), "\r\nOK\r\n");
  }
  std::string id() { return m.wifi().softap_id(); }
  std::optional<sim::Lease> join(const sim::Mac& mac, std::string_view pwd, sim::JoinError& e) {
    return m.world_.join_foreign(id(), mac, pwd, e);
  }
  std::optional<sim::Lease> join(const sim::Mac& mac) {
    sim::JoinError e;
    return join(mac, "soft-password", e);
  }
};
}  // namespace

TEST_F(SoftAp, PublishesItsConfiguration) {
  const sim::Ap* ap = m.world_.find_ap(id());
  ASSERT_NE(ap, nullptr);
  EXPECT_EQ(id(), "softap-24:0a:c4:00:00:11");  // the softAP MAC is the station MAC + 1
  EXPECT_EQ(ap->ssid, "espat-soft");
  EXPECT_EQ(ap->bssid.str(), "24:0a:c4:00:00:11");
  EXPECT_EQ(ap->channel, 6);
  EXPECT_EQ(ap->security, sim::Security::Wpa2Psk);
  EXPECT_EQ(ap->max_stations, 2);
  EXPECT_EQ(ap->net.subnet.str(), "127.64.0.0/24");
  EXPECT_EQ(m.at("AT+CWSAP?"), "+CWSAP:\"espat-soft\",\"soft-password\",6,3,2,0\r\n\r\nOK\r\n");
  EXPECT_EQ(m.aps_owned(), 1);
}

TEST_F(SoftAp, StationsJoinGetLeasesAndAreListed) {
  EXPECT_EQ(m.at("AT+CWLIF"), "\r\nOK\r\n");
  auto lease = join(phone);
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->ip.str(), "127.64.0.2");  // the first of the default pool .2 - .101
  EXPECT_EQ(lease->gateway.str(), "127.64.0.1");
  EXPECT_EQ(lease->minutes, 120);
  EXPECT_EQ(m.take(), "+STA_CONNECTED:\"02:00:00:00:00:01\"\r\n+DIST_STA_IP:\"02:00:00:00:00:01\",\"127.64.0.2\"\r\n");
  ASSERT_TRUE(join(laptop));
  m.take();
  EXPECT_EQ(m.at("AT+CWLIF"), "+CWLIF:127.64.0.2,02:00:00:00:00:01\r\n+CWLIF:127.64.0.3,02:00:00:00:00:02\r\n\r\nOK\r\n");

  sim::JoinError e;
  EXPECT_FALSE(join(tablet, "soft-password", e));  // <max conn> 2
  EXPECT_EQ(e, sim::JoinError::Failed);
  EXPECT_EQ(m.take(), "");
}

TEST_F(SoftAp, WrongPasswordIsRefused) {
  sim::JoinError e;
  EXPECT_FALSE(join(phone, "not-the-password", e));
  EXPECT_EQ(e, sim::JoinError::WrongPassword);
  EXPECT_EQ(m.at("AT+CWLIF"), "\r\nOK\r\n");
}

TEST_F(SoftAp, CustomPoolAndLeaseTime) {
  EXPECT_EQ(m.at("AT+CWDHCPS=1,3,\"127.64.0.10\",\"127.64.0.11\""), "\r\nOK\r\n");
  EXPECT_EQ(m.at("AT+CWDHCPS?"), "+CWDHCPS:3,127.64.0.10,127.64.0.11\r\n\r\nOK\r\n");
  ASSERT_EQ(m.at("AT+CWSAP=\"espat-soft\",\"soft-password\",6,3,5"), "\r\nOK\r\n");
  auto a = join(phone), b = join(laptop);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->ip.str(), "127.64.0.10");
  EXPECT_EQ(a->minutes, 3);
  EXPECT_EQ(b->ip.str(), "127.64.0.11");
  sim::JoinError e;
  EXPECT_FALSE(join(tablet, "soft-password", e));  // the pool is used up
  EXPECT_EQ(e, sim::JoinError::Failed);
  m.take();
  // Back to the default pool.
  EXPECT_EQ(m.at("AT+CWDHCPS=0"), "\r\nOK\r\n");
  EXPECT_EQ(m.at("AT+CWDHCPS?"), "+CWDHCPS:120,127.64.0.2,127.64.0.101\r\n\r\nOK\r\n");
  auto c = join(tablet);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->ip.str(), "127.64.0.2");
}

TEST_F(SoftAp, NoLeaseWithTheDhcpServerOff) {
  EXPECT_EQ(m.at("AT+CWDHCP=0,2"), "\r\nOK\r\n");
  EXPECT_EQ(m.at("AT+CWDHCP?"), "+CWDHCP:1\r\n\r\nOK\r\n");
  sim::JoinError e;
  EXPECT_FALSE(join(phone, "soft-password", e));
  EXPECT_EQ(m.at("AT+CWDHCPS?"), "\r\nERROR\r\n");  // 3.2.14: needs the DHCP server
  EXPECT_EQ(m.at("AT+CWDHCP=1,2"), "\r\nOK\r\n");
  EXPECT_TRUE(join(phone));
}

TEST_F(SoftAp, CwqifDisconnectsOneOrAll) {
  ASSERT_TRUE(join(phone));
  ASSERT_TRUE(join(laptop));
  m.take();
  EXPECT_EQ(m.at("AT+CWQIF=\"02:00:00:00:00:09\""), "\r\nERROR\r\n");  // not associated
  EXPECT_EQ(m.at("AT+CWQIF=\"02:00:00:00:00:01\""), "\r\nOK\r\n+STA_DISCONNECTED:\"02:00:00:00:00:01\"\r\n");
  EXPECT_EQ(m.at("AT+CWLIF"), "+CWLIF:127.64.0.3,02:00:00:00:00:02\r\n\r\nOK\r\n");
  ASSERT_TRUE(join(phone));
  m.take();
  EXPECT_EQ(m.at("AT+CWQIF"),
            "\r\nOK\r\n+STA_DISCONNECTED:\"02:00:00:00:00:02\"\r\n+STA_DISCONNECTED:\"02:00:00:00:00:01\"\r\n");
  EXPECT_TRUE(m.world_.associations().empty());
}

TEST_F(SoftAp, NewSettingsDropTheStations) {
  ASSERT_TRUE(join(phone));
  m.take();
  EXPECT_EQ(m.at("AT+CWSAP=\"espat-soft2\",\"soft-password\",6,3"), "\r\nOK\r\n+STA_DISCONNECTED:\"02:00:00:00:00:01\"\r\n");
  EXPECT_EQ(m.world_.find_ap(id())->ssid, "espat-soft2");
  EXPECT_EQ(m.world_.find_ap(id())->max_stations, 2);  // omitted <max conn> keeps its value
  sim::JoinError e;
  EXPECT_TRUE(m.world_.join_foreign(id(), phone, "soft-password", e));
}

TEST_F(SoftAp, NewMacRepublishesUnderTheNewBssid) {
  ASSERT_TRUE(join(phone));
  m.take();
  const std::string old_id = id();
  EXPECT_EQ(m.at("AT+CIPAPMAC=\"1a:fe:35:98:d3:7b\""), "\r\nOK\r\n+STA_DISCONNECTED:\"02:00:00:00:00:01\"\r\n");
  EXPECT_EQ(m.world_.find_ap(old_id), nullptr);
  const sim::Ap* ap = m.world_.find_ap("softap-1a:fe:35:98:d3:7b");
  ASSERT_NE(ap, nullptr);
  EXPECT_EQ(ap->bssid.str(), "1a:fe:35:98:d3:7b");
  EXPECT_EQ(m.aps_owned(), 1);
  EXPECT_TRUE(join(phone));
}

TEST_F(SoftAp, NewAddressMovesThePoolAndDropsTheStations) {
  EXPECT_EQ(m.at("AT+CWDHCPS=1,30,\"127.64.0.20\",\"127.64.0.30\""), "\r\nOK\r\n");
  ASSERT_TRUE(join(phone));
  m.take();
  EXPECT_EQ(m.at("AT+CIPAP=\"192.168.5.1\",\"192.168.5.1\",\"255.255.255.0\""),
            "\r\nOK\r\n+STA_DISCONNECTED:\"02:00:00:00:00:01\"\r\n");
  // The custom pool was outside the new subnet: the default one follows the address.
  EXPECT_EQ(m.at("AT+CWDHCPS?"), "+CWDHCPS:120,192.168.5.2,192.168.5.101\r\n\r\nOK\r\n");
  auto lease = join(phone);
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->ip.str(), "192.168.5.2");
  EXPECT_EQ(lease->gateway.str(), "192.168.5.1");
}

TEST_F(SoftAp, StationOnlyModeWithdrawsTheAp) {
  ASSERT_TRUE(join(phone));
  m.take();
  EXPECT_EQ(m.at("AT+CWMODE=1"), "+STA_DISCONNECTED:\"02:00:00:00:00:01\"\r\n\r\nOK\r\n");
  EXPECT_EQ(m.aps_owned(), 0);
  EXPECT_EQ(m.at("AT+CWLIF"), "\r\nERROR\r\n");
  EXPECT_EQ(m.at("AT+CWSAP?"), "\r\nERROR\r\n");
}

TEST_F(SoftAp, CurSpellingDoesNotSave) {
  m.saved.clear();
  EXPECT_EQ(m.at("AT+CWSAP_CUR=\"cur\",\"\",1,0"), "\r\nOK\r\n");
  EXPECT_TRUE(m.saved.empty());
  EXPECT_EQ(m.at("AT+CWSAP_CUR?"), "+CWSAP_CUR:\"cur\",\"\",1,0,2,0\r\n\r\nOK\r\n");
  EXPECT_EQ(m.world_.find_ap(id())->security, sim::Security::Open);
  EXPECT_EQ(m.at("AT+CWSAP_DEF=\"def\",\"\",1,0"), "\r\nOK\r\n");
  EXPECT_TRUE(m.saved.count("wifi_cfg/ap.ssid"));
}
