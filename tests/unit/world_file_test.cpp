// The world file (README "The world file"): what it fills in, and its errors naming file and
// line (issue 4 item 1: "Errors in the file are reported with line numbers").
#include <string>

#include <gtest/gtest.h>

#include "sim/world_file.hpp"

namespace espat::sim {
namespace {

// The message of the WorldError that loading `toml` throws; "" when it loads.
std::string error_of(const std::string& toml) {
  World w;
  try {
    load_world(w, toml, "w.toml");
  } catch (const WorldError& e) {
    return e.what();
  }
  return "";
}

TEST(WorldFile, DefaultWorldLoads) {
  World w;
  load_world(w, default_world_toml(), "(embedded world)");
  ASSERT_EQ(w.aps().size(), 5u);
  const Ap* ap = w.find_ap("espat-ap");
  ASSERT_NE(ap, nullptr);
  EXPECT_EQ(ap->bssid.str(), "24:0a:c4:10:00:01");
  EXPECT_EQ(ap->channel, 6);
  EXPECT_EQ(ap->security, Security::Wpa2Psk);
  EXPECT_EQ(ap->password, "espat-password");
  EXPECT_TRUE(ap->wps);
  EXPECT_EQ(ap->net.subnet.str(), "127.10.1.0/24");
  EXPECT_EQ(ap->net.gateway.str(), "127.10.1.1");
  ASSERT_EQ(w.phones().size(), 1u);
  EXPECT_EQ(w.phones()[0].id, "phone");
}

TEST(WorldFile, DefaultsFollowTheApIndex) {
  World w;
  load_world(w, "[[ap]]\nssid = \"a\"\nsecurity = \"OPEN\"\n[[ap]]\nssid = \"b\"\nsecurity = \"OPEN\"\n", "w.toml");
  ASSERT_EQ(w.aps().size(), 2u);
  EXPECT_EQ(w.aps()[1].id, "b");  // the id defaults to the SSID
  EXPECT_EQ(w.aps()[1].bssid.str(), "1a:00:00:00:00:01");
  EXPECT_EQ(w.aps()[1].net.subnet.str(), "127.10.2.0/24");
  EXPECT_EQ(w.aps()[1].pairwise_cipher, 0);  // OPEN: no cipher
}

TEST(WorldFile, UnknownKeyNamesItsLine) {
  EXPECT_EQ(error_of("[[ap]]\nssid = \"a\"\nsecurity = \"OPEN\"\ncolour = \"red\"\n"),
            "w.toml:4: unknown key \"colour\"");
  EXPECT_EQ(error_of("[wrld]\nscan_ms = 1\n"), "w.toml:1: unknown key \"wrld\"");
}

TEST(WorldFile, BadSecurityName) {
  EXPECT_EQ(error_of("[[ap]]\nssid = \"a\"\n\nsecurity = \"WPA4\"\n"),
            "w.toml:4: \"security\" = \"WPA4\" is not one of OPEN, WEP, WPA_PSK, WPA2_PSK, WPA_WPA2_PSK, "
            "WPA2_ENTERPRISE, WPA3_PSK, WPA2_WPA3_PSK, WAPI_PSK, OWE");
}

TEST(WorldFile, ShortWpa2Password) {
  EXPECT_EQ(error_of("[[ap]]\nssid = \"a\"\nsecurity = \"WPA2_PSK\"\npassword = \"1234567\"\n"),
            "w.toml:4: WPA2_PSK needs a password of 8 to 63 bytes");
  // No password at all: the AP's table is at fault.
  EXPECT_EQ(error_of("\n[[ap]]\nssid = \"a\"\n"), "w.toml:2: WPA2_PSK needs a password of 8 to 63 bytes");
}

TEST(WorldFile, DuplicateIdAndBssid) {
  EXPECT_EQ(error_of("[[ap]]\nssid = \"a\"\nsecurity = \"OPEN\"\n\n[[ap]]\nssid = \"a\"\nsecurity = \"OPEN\"\n"),
            "w.toml:5: a second AP with the id \"a\" (give it an id)");
  EXPECT_EQ(error_of("[[ap]]\nssid = \"a\"\nsecurity = \"OPEN\"\nbssid = \"02:00:00:00:00:01\"\n"
                     "[[ap]]\nssid = \"b\"\nsecurity = \"OPEN\"\nbssid = \"02:00:00:00:00:01\"\n"),
            "w.toml:5: a second AP with the BSSID 02:00:00:00:00:01");
}

TEST(WorldFile, BadSubnet) {
  EXPECT_EQ(error_of("[[ap]]\nssid = \"a\"\nsecurity = \"OPEN\"\nsubnet = \"127.10.1.0/33\"\n"),
            "w.toml:4: \"subnet\" = \"127.10.1.0/33\" is not a subnet like \"127.10.1.0/24\"");
  EXPECT_EQ(error_of("[[ap]]\nssid = \"a\"\nsecurity = \"OPEN\"\nsubnet = \"127.10.1.0/24\"\ngateway = \"127.10.2.1\"\n"),
            "w.toml:5: the gateway is outside the subnet");
}

TEST(WorldFile, SyntaxErrorNamesItsLine) {
  const std::string e = error_of("[[ap]]\nssid = \"a\"\nsecurity = \"OPEN\n");
  EXPECT_EQ(e.rfind("w.toml:3: ", 0), 0u) << e;
  const std::string e2 = error_of("[[ap]]\nssid = \"a\"\nchannel = = 3\n");
  EXPECT_EQ(e2.rfind("w.toml:3: ", 0), 0u) << e2;
}

TEST(WorldFile, OutOfRangeAndWrongType) {
  EXPECT_EQ(error_of("[[ap]]\nssid = \"a\"\nsecurity = \"OPEN\"\nchannel = 15\n"),
            "w.toml:4: \"channel\" = 15 is out of range [1, 14]");
  EXPECT_EQ(error_of("[[ap]]\nssid = \"a\"\nsecurity = \"OPEN\"\nhidden = \"yes\"\n"),
            "w.toml:4: \"hidden\" must be true or false");
}

// [world] ble_pacing (README "Bluetooth LE"): off unless the file says true.
TEST(WorldFile, BlePacing) {
  World w;
  EXPECT_FALSE(w.ble_pacing);
  load_world(w, default_world_toml(), "(embedded world)");
  EXPECT_FALSE(w.ble_pacing);
  World paced;
  load_world(paced, "[world]\nble_pacing = true\n", "w.toml");
  EXPECT_TRUE(paced.ble_pacing);
  World unpaced;
  load_world(unpaced, "[world]\nscan_ms = 100\nble_pacing = false\n", "w.toml");
  EXPECT_FALSE(unpaced.ble_pacing);
  World other;
  load_world(other, "[world]\nscan_ms = 100\n", "w.toml");
  EXPECT_FALSE(other.ble_pacing);
  EXPECT_EQ(error_of("[world]\nble_pacing = 1\n"), "w.toml:2: \"ble_pacing\" must be true or false");
  EXPECT_EQ(error_of("[world]\n\nble_pacing = \"yes\"\n"), "w.toml:3: \"ble_pacing\" must be true or false");
  EXPECT_EQ(error_of("[world]\nble_paced = true\n"), "w.toml:2: unknown key \"ble_paced\"");
  // The key belongs to [world], not to a module or a peer.
  EXPECT_EQ(error_of("[[module]]\nindex = 0\nble_pacing = true\n"), "w.toml:3: unknown key \"ble_pacing\"");
}

TEST(WorldFile, MissingFile) {
  World w;
  try {
    load_world_file(w, "/nonexistent/w.toml");
    FAIL() << "loaded";
  } catch (const WorldError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/w.toml: cannot read the world file");
  }
}

}  // namespace
}  // namespace espat::sim

namespace espat::sim {
// world_fuzz found it: the default pool (hosts 100-200) did not fit a /26.
TEST(WorldFile, DefaultPoolFitsASmallSubnet) {
  World w;
  load_world(w, "[[ap]]\nssid = \"small\"\nsecurity = \"OPEN\"\nsubnet = \"127.10.9.0/26\"\n", "w.toml");
  const auto& net = w.aps().at(0).net;
  EXPECT_EQ(net.pool_first, 2u);
  EXPECT_EQ(net.pool_last, 62u);
  EXPECT_TRUE(net.subnet.contains(net.subnet.host(net.pool_last)));
}
}  // namespace espat::sim
