// sim/gatt.hpp and GATT over the medium's links (issue 11, GATT step): the ble_data table read
// into services (reference esp-at-formats.md §6, spec 6.9), what a client discovers (guide
// example 4.3.2: 0x1801 and 0x1800 first), reads and writes with the permission checks, and
// notifications gated by the CCCD.
#include <algorithm>

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
  std::string id;
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
  BleSecParams sec;
  std::vector<Mac> bonds;
  BleSecParams security() const override { return sec; }
  bool bonded_with(Mac peer) const override { return std::find(bonds.begin(), bonds.end(), peer) != bonds.end(); }
  void smp(const BleLink& l, const SmpEvent& e) override {
    static const char* kinds[] = {"secreq", "show", "keyreq", "complete"};
    std::string s = fmt::format("{} {}", kinds[e.kind], e.kind == SmpEvent::ShowKey ? e.key : int(e.ok));
    for (int t : e.key_types) s += fmt::format(",{}", t);
    heard.push_back(s);
    if (e.kind == SmpEvent::Complete && e.bonded) bonds.push_back(l.peer_addr_of(id));
  }
};

const Mac kServer{{0x24, 0x0a, 0xc4, 0xd6, 0xe4, 0x46}}, kClient{{0x7c, 0xdf, 0xa1, 0xb3, 0x8d, 0xde}};

// m0 serves the default table (services started), m1 connects to it as link 0.
struct Linked : ::testing::Test {
  BleMedium m;
  Host server, client;
  int client_key() const { return std::stoi(client.heard.back().substr(5)); }  // "show <key>"
  void SetUp() override {
    server.db = *parse_gatt_rows(default_rows());
    for (auto& s : server.db->services) s.started = true;
    server.id = "m0";
    client.id = "m1";
    m.attach("m0", &server);
    m.attach("m1", &client);
    connect();
  }
  // m0 advertises, m1 connects as link 0.
  void connect() {
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

// The association models of Core 4.2 Vol 3 Part H Table 2.8 that the guide's examples use.
TEST(Smp, Plans) {
  auto p = [](int auth_i, int io_i, int auth_r, int io_r) {
    BleSecParams i, r;
    i.auth_req = auth_i;
    i.iocap = io_i;
    r.auth_req = auth_r;
    r.iocap = io_r;
    return smp_plan(i, r);
  };
  // Guide example 4.3.4: client KeyboardDisplay (4), server KeyboardOnly (2), SC_MITM_BOND.
  auto e = p(13, 4, 13, 2);
  EXPECT_EQ(e.model, SmpModel::Passkey);
  EXPECT_FALSE(e.initiator_inputs);  // the client shows the key
  EXPECT_TRUE(e.responder_inputs);   // the server types it
  EXPECT_EQ(p(1, 4, 1, 2).model, SmpModel::JustWorks);   // nobody asks for MITM
  EXPECT_EQ(p(13, 3, 13, 2).model, SmpModel::JustWorks);  // NoInputNoOutput
  EXPECT_EQ(p(13, 1, 13, 1).model, SmpModel::NumericComparison);
  EXPECT_EQ(p(5, 1, 5, 1).model, SmpModel::JustWorks);  // the same without secure connections
  EXPECT_EQ(p(13, 4, 13, 4).model, SmpModel::NumericComparison);
  auto k = p(4, 2, 4, 2);
  EXPECT_TRUE(k.initiator_inputs && k.responder_inputs);
  BleSecParams all;
  EXPECT_EQ(smp_key_types(all, all, true), (std::vector<int>{2, 16, 1, 32}));
  EXPECT_EQ(smp_key_types(all, all, false), (std::vector<int>{16, 1, 32, 2}));
  BleSecParams enc_only;
  enc_only.init_key = enc_only.rsp_key = 1;
  EXPECT_EQ(smp_key_types(all, enc_only, true), (std::vector<int>{16, 1}));
}

TEST_F(Linked, PasskeyPairingThenBondedReencryption) {
  client.sec.auth_req = server.sec.auth_req = 13;
  client.sec.iocap = 4;
  server.sec.iocap = 2;
  client.sec.static_key = 123456;
  ASSERT_TRUE(m.encrypt("m1", 0, 3));
  EXPECT_EQ(server.heard.back(), "secreq 0");
  EXPECT_FALSE(m.pairing_response("m1", 0, true));  // the asker does not answer itself
  ASSERT_TRUE(m.pairing_response("m0", 0, true));
  EXPECT_EQ(client.heard.back(), "show 123456");
  EXPECT_EQ(server.heard.back(), "keyreq 0");
  EXPECT_FALSE(m.passkey_reply("m1", 0, 123456));  // the client shows, it does not type
  ASSERT_TRUE(m.passkey_reply("m0", 0, 123456));
  EXPECT_EQ(client.heard.back(), "complete 1,2,16,1,32");
  EXPECT_EQ(server.heard.back(), "complete 1,16,1,32,2");
  EXPECT_TRUE(m.link("m1", 0)->encrypted);
  EXPECT_TRUE(m.link("m1", 0)->mitm);
  ASSERT_EQ(client.bonds.size(), 1u);
  EXPECT_EQ(client.bonds[0], kServer);
  EXPECT_EQ(server.bonds[0], kClient);
  // Reconnected, both bonded: encrypted again at once, no keys exchanged.
  ASSERT_TRUE(m.disconnect("m1", 0));
  connect();
  if (HasFatalFailure()) return;
  EXPECT_FALSE(m.link("m1", 0)->encrypted);
  ASSERT_TRUE(m.encrypt("m0", 0, 1));
  EXPECT_EQ(client.heard.back(), "complete 1");
  EXPECT_TRUE(m.link("m1", 0)->encrypted);
}

TEST_F(Linked, WrongKeyRejectionAndNumericComparison) {
  client.sec.auth_req = server.sec.auth_req = 13;
  client.sec.iocap = 4;
  server.sec.iocap = 2;
  ASSERT_TRUE(m.encrypt("m1", 0, 3));
  ASSERT_TRUE(m.pairing_response("m0", 0, true));
  ASSERT_TRUE(m.passkey_reply("m0", 0, (client_key() + 1) % 1000000));
  EXPECT_EQ(server.heard.back(), "complete 0");
  EXPECT_FALSE(m.link("m1", 0)->encrypted);
  EXPECT_TRUE(server.bonds.empty());
  ASSERT_TRUE(m.encrypt("m0", 0, 3));  // the server asks this time
  EXPECT_EQ(client.heard.back(), "secreq 0");
  ASSERT_TRUE(m.pairing_response("m1", 0, false));
  EXPECT_EQ(client.heard.back(), "complete 0");
  server.sec.iocap = 1;  // DisplayYesNo against KeyboardDisplay, both SC: compare numbers
  ASSERT_TRUE(m.encrypt("m1", 0, 3));
  ASSERT_TRUE(m.pairing_response("m0", 0, true));
  EXPECT_EQ(client.heard.back().substr(0, 5), "show ");
  EXPECT_EQ(client.heard.back(), server.heard.back());
  ASSERT_TRUE(m.confirm_reply("m0", 0, true));
  EXPECT_FALSE(m.link("m1", 0)->encrypted);
  ASSERT_TRUE(m.confirm_reply("m1", 0, true));
  EXPECT_TRUE(m.link("m1", 0)->encrypted);
}

TEST_F(Linked, EncryptedPermissions) {
  // C300 made readable only over an encrypted link (ESP_GATT_PERM_READ_ENCRYPTED).
  server.db->services[0].chars[0].perm = 0x02;
  EXPECT_FALSE(m.read("m1", 0, 3, 1, 0));
  m.link("m1", 0)->encrypted = true;
  EXPECT_EQ(m.read("m1", 0, 3, 1, 0), "0");
  server.db->services[0].chars[0].perm = 0x04;  // READ_ENC_MITM
  EXPECT_FALSE(m.read("m1", 0, 3, 1, 0));
  m.link("m1", 0)->mitm = true;
  EXPECT_EQ(m.read("m1", 0, 3, 1, 0), "0");
}

// The legacy ble_data partition (v1.x-v3.0, reference esp-at-formats.md §4.4) read as the rows
// of the >= v3.1 table: BLEService.py's bin of the default table serves the same services.
#include "flash/legacy_bins.hpp"
#include "flash/legacy_read.hpp"

TEST(Gatt, LegacyBleDataPartitionServesTheSameTable) {
  std::string csv = "index,uuid_len,uuid,perm,val_max_len,val_cur_len,value\n";
  for (const auto& r : default_rows()) csv += r + "\n";
  const auto bin = espat::flash::gen_ble_data(csv);
  std::string why;
  auto rows = espat::flash::legacy_ble_rows(bin, &why);
  ASSERT_TRUE(rows) << why;
  EXPECT_EQ(rows->front(), "0,16,0x2800,0x01,2,2,A002");
  auto legacy = parse_gatt_rows(*rows, &why);
  auto current = parse_gatt_rows(default_rows(), &why);
  ASSERT_TRUE(legacy && current) << why;
  ASSERT_EQ(legacy->services.size(), current->services.size());
  for (std::size_t s = 0; s < legacy->services.size(); ++s) {
    const auto &a = legacy->services[s], &b = current->services[s];
    EXPECT_EQ(a.uuid, b.uuid);
    ASSERT_EQ(a.chars.size(), b.chars.size());
    for (std::size_t c = 0; c < a.chars.size(); ++c) {
      EXPECT_EQ(a.chars[c].uuid, b.chars[c].uuid);
      EXPECT_EQ(a.chars[c].props, b.chars[c].props);
      EXPECT_EQ(a.chars[c].perm, b.chars[c].perm);
      EXPECT_EQ(a.chars[c].max_len, b.chars[c].max_len);
      EXPECT_EQ(a.chars[c].value, b.chars[c].value);
      EXPECT_EQ(a.chars[c].descs.size(), b.chars[c].descs.size());
    }
  }
  auto bad = [](std::string json) {
    std::vector<std::uint8_t> b{std::uint8_t(json.size()), std::uint8_t(json.size() >> 8), 0x27, 0x95};
    b.insert(b.end(), json.begin(), json.end());
    std::string why;
    EXPECT_FALSE(espat::flash::legacy_ble_rows(b, &why)) << json;
    EXPECT_FALSE(why.empty()) << json;
  };
  bad("{\"Services\": []}");
  bad("{\"Service\": []}");
  bad("{\"Service\": [{\"index\": \"0\"}]}");
  bad("not json");
  std::string why2;
  EXPECT_FALSE(espat::flash::legacy_ble_rows(std::vector<std::uint8_t>{0, 0, 0x12, 0x34}, &why2));
}
