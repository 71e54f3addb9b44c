// sim/gatt.hpp and GATT over the medium's links (issue 11, GATT step): the ble_data table read
// into services (reference esp-at-formats.md §6, spec 6.9), what a client discovers (guide
// example 4.3.2: 0x1801 and 0x1800 first), reads and writes with the permission checks, and
// notifications gated by the CCCD.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "flash/default_image.hpp"
#include "sim/ble.hpp"
#include "sim/gatt.hpp"

using namespace espat::sim;

namespace {
std::vector<std::string> default_rows() {
  std::vector<std::string> rows;
  for (auto r : espat::flash::default_gatts_rows()) rows.emplace_back(r);
  return rows;
}

// A link end that records what it was told.
struct Host : BleHost {
  std::optional<GattDb> db;
  std::string name = "ESP-AT";
  std::vector<std::string> heard;
  GattDb* gatt_db() override { return db ? &*db : nullptr; }
  std::string device_name() const override { return name; }
  void gatt_read(const BleLink& l) override { heard.push_back("read"); }
  void gatt_written(const BleLink& l, int srv, int chr, int desc, std::string_view v) override {
    heard.push_back(fmt::format("write {},{},{} {}", srv, chr, desc, bytes_to_hex(v)));
  }
  void gatt_notified(const BleLink& l, int srv, int chr, std::string_view v, bool ind) override {
    heard.push_back(fmt::format("{} {},{} {}", ind ? "indicate" : "notify", srv, chr, bytes_to_hex(v)));
  }
};

const Mac kServer{{0x24, 0x0a, 0xc4, 0xd6, 0xe4, 0x46}}, kClient{{0x7c, 0xdf, 0xa1, 0xb3, 0x8d, 0xde}};

// m0 serves the default table (services started), m1 connects to it as link 0.
struct Linked : ::testing::Test {
  BleMedium m;
  Host server, client;
  void SetUp() override {
    server.db = *parse_gatt_rows(default_rows());
    for (auto& s : server.db->services) s.started = true;
    m.attach("m0", &server);
    m.attach("m1", &client);
    BleAdvertiser a;
    a.id = "m0";
    a.addr = kServer;
    a.module = true;
    m.advertise(a);
    ASSERT_NE(m.connect("m1", 0, kClient, kServer), nullptr);
  }
};
}  // namespace

TEST(Gatt, DefaultTableAsTheGuideShowsIt) {
  auto db = parse_gatt_rows(default_rows());
  ASSERT_TRUE(db);
  ASSERT_EQ(db->services.size(), 2u);
  const auto& a = db->services[0];
  EXPECT_EQ(uuid_text(a.uuid), "0xA002");
  EXPECT_TRUE(a.primary);
  EXPECT_FALSE(a.started);
  ASSERT_EQ(a.chars.size(), 8u);  // guide example 4.3.2: C300-C307
  EXPECT_EQ(a.chars[0].uuid, "C300");
  EXPECT_EQ(props_text(a.chars[0].props), "0x02");
  EXPECT_EQ(a.chars[0].value, "0");
  ASSERT_EQ(a.chars[0].descs.size(), 1u);
  EXPECT_EQ(a.chars[0].descs[0].uuid, "2901");
  EXPECT_TRUE(a.chars[4].descs.empty());  // C304: no descriptor
  EXPECT_EQ(props_text(a.chars[6].props), "0x20");
  ASSERT_NE(a.chars[6].cccd(), nullptr);
  EXPECT_EQ(a.chars[6].cccd()->value, std::string(2, '\0'));
  EXPECT_EQ(a.chars[1].max_len, 512);
  EXPECT_EQ(a.chars[1].value, "");  // "512,512," carries no bytes
  EXPECT_EQ(db->services[1].uuid, "A003");
  EXPECT_EQ(db->services[1].chars.size(), 2u);
}

TEST(Gatt, SecondaryIncludeAnd128BitUuid) {
  std::vector<std::string> rows = {"0,16,0x2801,0x01,2,2,FF02",  "1,16,0x2803,0x01,1,1,02",
                                   "2,16,0xFF10,0x01,4,2,0102",  "3,16,0x2800,0x01,2,2,ff01",
                                   "4,16,0x2802,0x01,2,2,FF02",  "5,16,0x2803,0x01,1,1,1A",
                                   "6,128,0x0000c30000001000800000805f9b34fb,0x11,4,1,30"};
  auto db = parse_gatt_rows(rows);
  ASSERT_TRUE(db);
  EXPECT_FALSE(db->services[0].primary);
  EXPECT_EQ(db->services[1].uuid, "FF01");
  ASSERT_EQ(db->services[1].includes.size(), 1u);
  EXPECT_EQ(db->services[1].includes[0].uuid, "FF02");
  EXPECT_FALSE(db->services[1].includes[0].primary);
  EXPECT_EQ(uuid_text(db->services[1].chars[0].uuid), "0x0000C30000001000800000805F9B34FB");
  EXPECT_EQ(props_text(db->services[1].chars[0].props), "0x1a");
}

TEST(Gatt, MalformedTablesAreRefusedWithAReason) {
  std::string why;
  auto bad = [&why](std::vector<std::string> rows) { return !parse_gatt_rows(rows, &why); };
  EXPECT_TRUE(bad({}));
  EXPECT_TRUE(bad({"0,16,0x2800,0x01,2,2"}));  // six fields
  EXPECT_EQ(why, "row 0: not 7 fields");
  EXPECT_TRUE(bad({"0,16,0x280,0x01,2,2,A002"}));                        // UUID too short for 16 bits
  EXPECT_TRUE(bad({"0,16,0x2800,0x01,2,2,A00"}));                        // odd hex
  EXPECT_TRUE(bad({"0,16,0x2800,0x01,2,2,A002", "1,16,0x2803,0x01,1,1,02"}));  // a declaration, no value
  EXPECT_TRUE(bad({"0,16,0x2803,0x01,1,1,02", "1,16,0xC300,0x01,1,1,30"}));    // no service first
  EXPECT_TRUE(bad({"0,16,0x2800,0x01,2,2,A002", "1,16,0x2901,0x01,1,1,30"}));  // a descriptor first
  EXPECT_TRUE(bad({"0,16,0x2800,0x01,2,2,A002", "1,16,0x2803,0x01,1,1,02", "2,16,0xC300,0x01,513,1,30"}));
  EXPECT_TRUE(bad({"0,16,0x2800,0x01,2,2,A002", "1,16,0x2802,0x01,2,2,B000"}));  // includes nothing known
  EXPECT_EQ(why, "row 1: includes no service declared before it");
}

TEST(Gatt, ClientViewPutsGattAndGapFirst) {
  auto db = *parse_gatt_rows(default_rows());
  auto v = client_view(&db, "ESP-AT");
  ASSERT_EQ(v.size(), 2u);  // nothing started yet
  EXPECT_EQ(v[0].uuid, "1801");
  EXPECT_EQ(v[1].uuid, "1800");
  EXPECT_EQ(v[1].chars[0].value, "ESP-AT");
  db.services[1].started = true;
  v = client_view(&db, "x");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[2].uuid, "A003");
  EXPECT_EQ(server_index_of(&db, 3), 2);
  EXPECT_EQ(server_index_of(&db, 1), 0);
  EXPECT_EQ(server_index_of(&db, 4), -1);
  EXPECT_EQ(client_view(nullptr, "x").size(), 2u);
}

TEST_F(Linked, ReadsWithTheServerTold) {
  EXPECT_EQ(m.read("m1", 0, 3, 1, 0), "0");  // C300
  EXPECT_EQ(server.heard, std::vector<std::string>{"read"});
  EXPECT_EQ(m.read("m1", 0, 2, 1, 0), "ESP-AT");  // the GAP Device Name: Bluedroid answers it
  EXPECT_EQ(server.heard.size(), 1u);
  EXPECT_FALSE(m.read("m1", 0, 3, 3, 0));  // C302: write only
  EXPECT_EQ(m.read("m1", 0, 3, 3, 1), std::string(1, '\x01'));  // its 0x2901 is readable
  EXPECT_FALSE(m.read("m1", 0, 3, 4, 1));  // C303's 0x2901: perm 0x10, write only
  EXPECT_FALSE(m.read("m1", 0, 9, 1, 0));
  EXPECT_FALSE(m.read("m1", 1, 3, 1, 0));  // no link 1
  EXPECT_FALSE(m.read("m0", 0, 3, 1, 0));  // the client serves nothing
}

TEST_F(Linked, WritesAreCheckedAndStored) {
  EXPECT_TRUE(m.write("m1", 0, 3, 3, 0, "a"));
  EXPECT_EQ(server.heard.back(), "write 1,3,0 61");
  EXPECT_EQ(server.db->services[0].chars[2].value, "a");
  // Two bytes to the one-byte C302, as guide example 4.3.2 does: reported whole, one kept.
  EXPECT_TRUE(m.write("m1", 0, 3, 3, 0, "bc"));
  EXPECT_EQ(server.heard.back(), "write 1,3,0 6263");
  EXPECT_EQ(server.db->services[0].chars[2].value, "b");
  EXPECT_FALSE(m.write("m1", 0, 3, 1, 0, "a"));  // C300: read only
  EXPECT_TRUE(m.write("m1", 0, 3, 7, 1, std::string("\x02\x00", 2)));  // C306's CCCD
  EXPECT_EQ(server.heard.back(), "write 1,7,1 0200");
  EXPECT_TRUE(m.write("m1", 0, 3, 5, 0, std::string(512, 'x')));  // C304: 512 bytes
  EXPECT_EQ(server.db->services[0].chars[4].value.size(), 512u);
  EXPECT_FALSE(m.write("m1", 0, 2, 1, 0, "x"));  // the Device Name is not writable here
}

TEST_F(Linked, NotificationsNeedTheCccd) {
  EXPECT_TRUE(m.notify("m0", 0, 1, 6, "1234", false));  // C305: accepted, not shown
  EXPECT_TRUE(client.heard.empty());
  ASSERT_TRUE(m.write("m1", 0, 3, 6, 1, std::string("\x01\x00", 2)));
  EXPECT_TRUE(m.notify("m0", 0, 1, 6, "1234", false));
  EXPECT_EQ(client.heard, std::vector<std::string>{"notify 3,6 31323334"});
  EXPECT_TRUE(m.notify("m0", 0, 1, 6, "x", true));  // the CCCD enables notifications only
  EXPECT_EQ(client.heard.size(), 1u);
  EXPECT_FALSE(m.notify("m0", 0, 1, 9, "x", false));
  EXPECT_FALSE(m.notify("m0", 2, 1, 6, "x", false));
  server.db->services[0].started = false;
  EXPECT_FALSE(m.notify("m0", 0, 1, 6, "x", false));
}
