// Bluetooth LE between two modules of one world (issue 11, first step): `espat run --modules 2`
// with a world file holding a beacon. Module 0 advertises as guide example 4.3 does
// (AT+BLEINIT=2, AT+BLEADVDATA, AT+BLEADVSTART), module 1 scans (AT+BLEINIT=1, AT+BLESCAN) and
// prints its "+BLESCAN:" lines byte for byte (spec 3.4.6); then the world file's beacon, the
// filters, +BLESCANDONE, and what the role preconditions and bad parameters answer; then
// connections and GATT (guide example 4.3.2).
#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "at_port.hpp"

namespace {

using namespace std::chrono_literals;
using espat::e2e::AtPort;
using espat::e2e::Failure;

constexpr const char* kWorld = R"(
[[ble_peer]]
id = "tag"
address = "c2:34:45:78:66:89"
address_type = "random"
adv_data = "020106"
name = "Tag"
interval_ms = 10240
rssi = -77
)";

const std::string kOk = "\r\nOK\r\n", kError = "\r\nERROR\r\n";

class BleTwoModules : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      std::ofstream(dir_ / "world.toml") << kWorld;
      modules_.emplace(dir_.path(), 2, std::vector<std::string>{"--world", (dir_ / "world.toml").string()});
    } catch (const Failure& e) {
      FAIL() << e.what();
    }
  }
  void TearDown() override {
    if (modules_) {
      EXPECT_TRUE(modules_->stop());
      if (HasFailure()) std::cout << "stderr of espat:\n" << modules_->run().stderr_text();
    }
  }
  AtPort& at(int k) { return modules_->at(k); }
  void ok(int k, const std::string& cmd, const std::string& answer = "") {
    at(k).send(cmd + "\r\n");
    at(k).expect(answer + kOk);
  }
  void error(int k, const std::string& cmd) {
    at(k).send(cmd + "\r\n");
    at(k).expect(kError);
  }
  // AT+BLEADDR? of module k: the address without quotes.
  std::string address(int k) {
    at(k).send("AT+BLEADDR?\r\n");
    std::string m = at(k).match("\\+BLEADDR:\"[0-9a-f:]{17}\"\r\n\r\nOK\r\n");
    return m.substr(10, 17);
  }

  // Module 0 as the server of guide example 4.3: initialised, its services created and started,
  // advertising. Its address.
  std::string serve() {
    ok(0, "AT+BLEINIT=2");
    const std::string addr = address(0);
    ok(0, "AT+BLEGATTSSRVCRE");
    ok(0, "AT+BLEGATTSSRVSTART");
    ok(0, "AT+BLEADVSTART");
    return addr;
  }
  // Module 1 (initialised as client, at `client`) connects as link 0 to module 0 at `server`;
  // both ends print +BLECONN.
  void link_up(const std::string& server, const std::string& client) {
    ok(1, "AT+BLECONN=0,\"" + server + "\"", "+BLECONN:0,\"" + server + "\"\r\n");
    at(0).expect("+BLECONN:0,\"" + client + "\"\r\n");
  }

  espat::e2e::TempDir dir_{"espat-ble"};
  std::optional<espat::e2e::ModuleGroup> modules_;
};

TEST_F(BleTwoModules, ServerAdvertisesClientScans) {
  try {
    // Module 0, the server of guide example 4.3.
    ok(0, "AT+BLEINIT=2");
    ok(0, "AT+BLEINIT?", "+BLEINIT:2\r\n");
    const std::string addr0 = address(0);
    ok(0, "AT+BLEADVPARAM?", "+BLEADVPARAM:32,64,0,0,7,0,0,\"00:00:00:00:00:00\"\r\n");
    ok(0, "AT+BLEADVPARAM=800,800,0,0,7");  // 500 ms
    ok(0, "AT+BLEADVDATA=\"0201060A09457370726573736966030302A0\"");
    ok(0, "AT+BLEADVSTART");

    // Module 1, the client: continuous scan, filtered on module 0's address (the beacon is
    // heard too otherwise), seen about once per 500 ms.
    ok(1, "AT+BLEINIT=1");
    const std::string line = "+BLESCAN:\"" + addr0 + "\",-40,0201060a09457370726573736966030302a0,,0\r\n";
    const auto start = std::chrono::steady_clock::now();
    ok(1, "AT+BLESCAN=1,0,1,\"" + addr0 + "\"");
    at(1).expect(line);
    at(1).expect(line);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 450ms);
    ok(1, "AT+BLESCAN=0");
    at(1).silence(700ms);

    // Active scan: module 0's scan response comes with its advertisement.
    ok(0, "AT+BLESCANRSPDATA=\"1122334455\"");
    ok(0, "AT+BLEADVPARAM=16384,16384,0,0,7");  // 10.24 s: one sighting in a 1 s scan
    ok(1, "AT+BLESCANPARAM=1,0,0,100,50");
    ok(1, "AT+BLESCANPARAM?", "+BLESCANPARAM:1,0,0,100,50\r\n");
    at(1).send("AT+BLESCAN=1,1,1,\"" + addr0 + "\"\r\n");
    at(1).expect(kOk + "+BLESCAN:\"" + addr0 + "\",-40,0201060a09457370726573736966030302a0,1122334455,0\r\n" +
                 "+BLESCANDONE\r\n", 3000ms);

    // A random static address (3.4.3) advertised with <own_addr_type> 1 (the 3.4.8 example).
    ok(0, "AT+BLEADDR=1,\"c2:34:45:78:66:88\"");
    ok(0, "AT+BLEADDR?", "+BLEADDR:\"c2:34:45:78:66:88\"\r\n");
    ok(0, "AT+BLEADVPARAM=16384,16384,0,1,4,0,1,\"12:34:45:78:66:88\"");
    ok(0, "AT+BLEADVPARAM?", "+BLEADVPARAM:16384,16384,0,1,4,0,1,\"12:34:45:78:66:88\"\r\n");
    at(1).send("AT+BLESCAN=1,1,1,\"C2:34:45:78:66:88\"\r\n");
    at(1).expect(kOk + "+BLESCAN:\"c2:34:45:78:66:88\",-40,0201060a09457370726573736966030302a0,1122334455,1\r\n" +
                 "+BLESCANDONE\r\n", 3000ms);

    // AT+BLEADVSTOP: nothing heard any more.
    ok(0, "AT+BLEADVSTOP");
    at(1).send("AT+BLESCAN=1,1,1,\"c2:34:45:78:66:88\"\r\n");
    at(1).expect(kOk + "+BLESCANDONE\r\n", 3000ms);

    // AT+BLEADVDATAEX (3.4.10) sets the data and starts advertising; the adv type goes back to 0.
    ok(0, "AT+BLEADVPARAM=16384,16384,3,1,7");
    ok(0, "AT+BLEADVDATAEX=\"ESP-AT\",\"A002\",\"0102030405\",1");
    ok(0, "AT+BLEADVDATAEX?", "+BLEADVDATAEX:\"ESP-AT\",\"A002\",\"0102030405\",1\r\n");
    ok(0, "AT+BLEADVPARAM?", "+BLEADVPARAM:16384,16384,0,1,7,0,0,\"00:00:00:00:00:00\"\r\n");
    at(1).send("AT+BLESCAN=1,1,2,\"ESP-AT\"\r\n");
    at(1).expect(kOk + "+BLESCAN:\"c2:34:45:78:66:88\",-40,0201060709455350" "2d4154030302a006ff0102030405020a03,1122334455,1\r\n" +
                 "+BLESCANDONE\r\n", 3000ms);
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

TEST_F(BleTwoModules, WorldBeaconSeenByScanner) {
  try {
    ok(1, "AT+BLEINIT=1");
    // Passive scan, by name: the beacon's advertisement, no scan response.
    at(1).send("AT+BLESCAN=1,1,2,\"Tag\"\r\n");
    at(1).expect(kOk + "+BLESCAN:\"c2:34:45:78:66:89\",-77,0201060409546167,,1\r\n+BLESCANDONE\r\n", 3000ms);
    // Unfiltered: the beacon, once in a second (its interval is 10.24 s), and nobody else.
    at(1).send("AT+BLESCAN=1,1\r\n");
    at(1).expect(kOk + "+BLESCAN:\"c2:34:45:78:66:89\",-77,0201060409546167,,1\r\n+BLESCANDONE\r\n", 3000ms);
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

TEST_F(BleTwoModules, RolesAndBadInput) {
  try {
    // Nothing but AT+BLEINIT before initialisation (3.4.2 notes).
    ok(0, "AT+BLEINIT?", "+BLEINIT:0\r\n");
    error(0, "AT+BLEADDR?");
    error(0, "AT+BLESCAN=1");
    error(0, "AT+BLEADVSTART");
    // The server neither scans nor changes role without AT+RST.
    ok(0, "AT+BLEINIT=2");
    error(0, "AT+BLESCAN=1");
    error(0, "AT+BLESCANPARAM=0,0,0,100,50");
    error(0, "AT+BLEINIT=1");
    ok(0, "AT+BLEINIT=2");
    ok(0, "AT+BLENAME?", "+BLENAME:ESP-AT\r\n");
    ok(0, "AT+BLENAME=\"esp_demo\"");
    ok(0, "AT+BLENAME?", "+BLENAME:esp_demo\r\n");
    error(0, "AT+BLENAME=\"" + std::string(33, 'n') + "\"");
    // Bad parameters.
    error(0, "AT+BLEADVDATA=\"123\"");                                          // odd length
    error(0, "AT+BLEADVDATA=\"zz\"");                                           // not hex
    error(0, "AT+BLEADVDATA=\"" + std::string(64, '0') + "\"");                 // 32 bytes
    error(0, "AT+BLEADVPARAM=64,32,0,0,7");                                     // min > max
    error(0, "AT+BLEADVPARAM=16,32,0,0,7");                                     // below 0x20
    error(0, "AT+BLEADVPARAM=32,64,5,0,7");                                     // no such type
    error(0, "AT+BLEADVPARAM=32,64,0,0,7,0,1");                                 // a peer type without address
    error(0, "AT+BLEADDR=1,\"12:34:56:78:9a:bc\"");                             // not static: top bits 00
    error(0, "AT+BLEADDR=1,\"ff:ff:ff:ff:ff:ff\"");                             // random part all ones
    error(0, "AT+BLEADVDATAEX=\"a-name-long-enough-to-overflow\",\"A002\",\"0102030405\",1");  // over 31 bytes
    // The client does not advertise.
    ok(1, "AT+BLEINIT=1");
    error(1, "AT+BLEADVSTART");
    error(1, "AT+BLEADVDATA=\"020106\"");
    error(1, "AT+BLESCANRSPDATA=\"1122\"");
    error(1, "AT+BLESCANPARAM=0,0,0,50,100");        // window > interval
    error(1, "AT+BLESCAN=0,1");                      // stopping takes no duration
    error(1, "AT+BLESCAN=1,1,1");                    // a filter type without its parameter
    error(1, "AT+BLESCAN=1,1,1,\"not-a-mac\"");
    error(1, "AT+BLESCAN=1,1,3,\"x\"");
    ok(1, "AT+BLESCAN=1,0,1,\"00:00:00:00:00:01\"");
    error(1, "AT+BLESCAN=1");                        // already scanning
    ok(1, "AT+BLESCAN=0");
    // While initialised: sleep stays on, passthrough stays off (protocol-rules §10, 3.4.2 notes).
    error(1, "AT+SLEEP=0");
    error(1, "AT+CIPMODE=1");
    // Deinit, then another role.
    ok(1, "AT+BLEINIT=0");
    ok(1, "AT+CIPMODE=1");
    error(1, "AT+BLEINIT=1");
    ok(1, "AT+CIPMODE=0");
    ok(1, "AT+SLEEP=0");
    error(1, "AT+BLEINIT=1");
    ok(1, "AT+SLEEP=1");
    ok(1, "AT+BLEINIT?", "+BLEINIT:0\r\n");
    ok(1, "AT+BLEINIT=2");
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

// AT+RST (3.4.2 notes): advertising ends and the role is gone; the name, the advertising and
// scan parameters, the advertising data (AT+SYSSTORE=1) and the random address (always,
// protocol-rules §9) come back from flash.
TEST_F(BleTwoModules, RestartEndsAdvertisingAndKeepsSavedSettings) {
  try {
    ok(0, "AT+BLEINIT=2");
    ok(0, "AT+BLENAME=\"kept\"");
    ok(0, "AT+BLEADDR=1,\"c2:34:45:78:66:01\"");
    ok(0, "AT+BLEADVPARAM=16384,16384,0,1,7");
    ok(0, "AT+BLEADVDATA=\"020106\"");
    ok(0, "AT+BLEADVSTART");
    ok(1, "AT+BLEINIT=1");
    at(1).send("AT+BLESCAN=1,1,1,\"c2:34:45:78:66:01\"\r\n");
    at(1).expect(kOk + "+BLESCAN:\"c2:34:45:78:66:01\",-40,020106,,1\r\n+BLESCANDONE\r\n", 3000ms);

    at(0).send("AT+RST\r\n");
    at(0).expect(kOk + "\r\nready\r\n", 5000ms);
    ok(0, "ATE0", "ATE0\r\n");  // echo is on again after a restart
    at(1).send("AT+BLESCAN=1,1,1,\"c2:34:45:78:66:01\"\r\n");
    at(1).expect(kOk + "+BLESCANDONE\r\n", 3000ms);

    ok(0, "AT+BLEINIT?", "+BLEINIT:0\r\n");
    ok(0, "AT+BLEINIT=2");
    ok(0, "AT+BLENAME?", "+BLENAME:kept\r\n");
    ok(0, "AT+BLEADDR?", "+BLEADDR:\"c2:34:45:78:66:01\"\r\n");
    ok(0, "AT+BLEADVPARAM?", "+BLEADVPARAM:16384,16384,0,1,7,0,0,\"00:00:00:00:00:00\"\r\n");
    ok(1, "AT+BLESCANPARAM=1,0,0,200,100");
    ok(0, "AT+BLEADVSTART");
    at(1).send("AT+BLESCAN=1,1,1,\"c2:34:45:78:66:01\"\r\n");
    at(1).expect(kOk + "+BLESCAN:\"c2:34:45:78:66:01\",-40,020106,,1\r\n+BLESCANDONE\r\n", 3000ms);

    // Module 1's scan parameters survive its own restart.
    at(1).send("AT+RST\r\n");
    at(1).expect(kOk + "\r\nready\r\n", 5000ms);
    ok(1, "ATE0", "ATE0\r\n");
    ok(1, "AT+BLEINIT=1");
    ok(1, "AT+BLESCANPARAM?", "+BLESCANPARAM:1,0,0,200,100\r\n");

    // AT+BLEADDR=0 goes back to the public address, saved too.
    ok(0, "AT+BLEADDR=0");
    const std::string pub = address(0);
    EXPECT_NE(pub, "c2:34:45:78:66:01");
    // ESP32's Bluetooth address is the base (station) MAC + 2.
    at(0).send("AT+CIPSTAMAC?\r\n");
    const std::string sta = at(0).match("\\+CIPSTAMAC:\"[0-9a-f:]{17}\"\r\n\r\nOK\r\n").substr(12, 17);
    EXPECT_EQ(pub.substr(0, 15), sta.substr(0, 15));
    EXPECT_EQ(std::stoi(pub.substr(15), nullptr, 16), (std::stoi(sta.substr(15), nullptr, 16) + 2) % 256);
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

}  // namespace

// Issue 11, second step: a connection between the client (module 1) and the advertising server
// (module 0), spec 3.4.13-3.4.17 and guide example 4.3: "+BLECONN:0,\"<addr>\"" at both ends,
// advertising stops, the parameters and the MTU are the link's, AT+BLEDISCONN and a restart
// end it at both ends, and a connection to nobody fails after its <timeout>.
TEST_F(BleTwoModules, ClientConnectsToServer) {
  try {
    ok(0, "AT+BLEINIT=2");
    const std::string addr0 = address(0);
    ok(0, "AT+BLEADVSTART");
    ok(1, "AT+BLEINIT=1");
    const std::string addr1 = address(1);

    error(0, "AT+BLECONN=0,\"" + addr1 + "\"");  // the server does not initiate
    ok(1, "AT+BLECONN?");                         // no connection: no line
    ok(1, "AT+BLECONN=0,\"" + addr0 + "\"", "+BLECONN:0,\"" + addr0 + "\"\r\n");
    at(0).expect("+BLECONN:0,\"" + addr1 + "\"\r\n");
    ok(1, "AT+BLECONN?", "+BLECONN:0,\"" + addr0 + "\"\r\n");
    ok(0, "AT+BLECONN?", "+BLECONN:0,\"" + addr1 + "\"\r\n");

    // Advertising stopped on connection: a scan hears nothing of module 0.
    at(1).send("AT+BLESCAN=1,1,1,\"" + addr0 + "\"\r\n");
    at(1).expect(kOk + "+BLESCANDONE\r\n", 3000ms);

    error(1, "AT+BLECONN=0,\"" + addr0 + "\"");  // index 0 taken
    error(1, "AT+BLECONN=1,\"" + addr0 + "\"");  // already connected to it
    error(1, "AT+BLECONN=3,\"" + addr0 + "\"");  // <conn_index> 0-2
    error(1, "AT+BLECONN=1,\"" + addr0 + "\",0,2");  // <timeout> 3-30

    ok(1, "AT+BLECONNPARAM?", "+BLECONNPARAM:0,0,0,24,0,500\r\n");
    ok(1, "AT+BLECONNPARAM=0,12,14,1,500");
    at(1).expect("+BLECONNPARAM:0,12,14,12,1,500\r\n");
    at(0).expect("+BLECONNPARAM:0,12,14,12,1,500\r\n");
    ok(0, "AT+BLECONNPARAM?", "+BLECONNPARAM:0,12,14,12,1,500\r\n");
    error(1, "AT+BLECONNPARAM=1,12,14,1,500");  // no connection 1
    error(1, "AT+BLECONNPARAM=0,14,12,1,500");  // min > max

    ok(1, "AT+BLEDATALEN=0,30");
    error(1, "AT+BLEDATALEN=1,30");
    error(1, "AT+BLEDATALEN=0,26");  // below 0x1b

    ok(1, "AT+BLECFGMTU?", "+BLECFGMTU:0,23\r\n");
    ok(1, "AT+BLECFGMTU=0,300");
    at(1).expect("+BLECFGMTU:0,300\r\n");
    at(0).expect("+BLECFGMTU:0,300\r\n");
    ok(0, "AT+BLECFGMTU?", "+BLECFGMTU:0,300\r\n");
    error(0, "AT+BLECFGMTU=0,300");  // only the client sets it
    error(1, "AT+BLECFGMTU=1,300");

    // 3.4.15: OK, then +BLEDISCONN at both ends.
    ok(1, "AT+BLEDISCONN=0");
    at(1).expect("+BLEDISCONN:0,\"" + addr0 + "\"\r\n");
    at(0).expect("+BLEDISCONN:0,\"" + addr1 + "\"\r\n");
    error(1, "AT+BLEDISCONN=0");
    error(1, "AT+BLECONNPARAM?");
    ok(0, "AT+BLECONN?");

    // Nobody advertises there any more: +BLECONN:0,-1 and ERROR after the 3 s timeout.
    const auto start = std::chrono::steady_clock::now();
    at(1).send("AT+BLECONN=0,\"" + addr0 + "\",0,3\r\n");
    at(1).expect("+BLECONN:0,-1\r\n" + kError, 5000ms);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 2900ms);

    // Advertising again: connected at once; the server's restart ends it at the client.
    ok(0, "AT+BLEADVSTART");
    ok(1, "AT+BLECONN=2,\"" + addr0 + "\",0,3", "+BLECONN:2,\"" + addr0 + "\"\r\n");
    at(0).expect("+BLECONN:0,\"" + addr1 + "\"\r\n");
    at(0).send("AT+RST\r\n");
    at(0).expect(kOk + "\r\nready\r\n", 5000ms);
    at(1).expect("+BLEDISCONN:2,\"" + addr0 + "\"\r\n");
    ok(1, "AT+BLECONN?");
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

// Guide example 4.3.2 between the two modules: the server creates and starts the services of its
// ble_data (the default table of reference §6), the client discovers, reads and writes them,
// and the server notifies and indicates once the client enabled them (3.4.18-3.4.30).
TEST_F(BleTwoModules, GattClientAndServer) {
  try {
    ok(0, "AT+BLEINIT=2");
    const std::string addr0 = address(0);
    error(0, "AT+BLEGATTSSRV?");       // nothing created yet
    error(0, "AT+BLEGATTSSRVSTART");
    ok(0, "AT+BLEGATTSSRVCRE");
    ok(0, "AT+BLEGATTSSRV?", "+BLEGATTSSRV:1,0,0xA002,1\r\n+BLEGATTSSRV:2,0,0xA003,1\r\n");
    ok(0, "AT+BLEGATTSSRVSTART=2");
    ok(0, "AT+BLEGATTSSRV?", "+BLEGATTSSRV:1,0,0xA002,1\r\n+BLEGATTSSRV:2,1,0xA003,1\r\n");
    error(0, "AT+BLEGATTSSRVSTART=3");
    ok(0, "AT+BLEGATTSSRVSTART");
    ok(0, "AT+BLEGATTSSRV?", "+BLEGATTSSRV:1,1,0xA002,1\r\n+BLEGATTSSRV:2,1,0xA003,1\r\n");
    // Guide example 4.3.2 step 5, with the descriptors' UUIDs (esp-at pull request #925).
    const std::string chars =
        "\"char\",1,1,0xC300,0x02\r\n+BLEGATTSCHAR:\"desc\",1,1,1,0x2901\r\n"
        "+BLEGATTSCHAR:\"char\",1,2,0xC301,0x02\r\n+BLEGATTSCHAR:\"desc\",1,2,1,0x2901\r\n"
        "+BLEGATTSCHAR:\"char\",1,3,0xC302,0x08\r\n+BLEGATTSCHAR:\"desc\",1,3,1,0x2901\r\n"
        "+BLEGATTSCHAR:\"char\",1,4,0xC303,0x04\r\n+BLEGATTSCHAR:\"desc\",1,4,1,0x2901\r\n"
        "+BLEGATTSCHAR:\"char\",1,5,0xC304,0x08\r\n"
        "+BLEGATTSCHAR:\"char\",1,6,0xC305,0x10\r\n+BLEGATTSCHAR:\"desc\",1,6,1,0x2902\r\n"
        "+BLEGATTSCHAR:\"char\",1,7,0xC306,0x20\r\n+BLEGATTSCHAR:\"desc\",1,7,1,0x2902\r\n"
        "+BLEGATTSCHAR:\"char\",1,8,0xC307,0x02\r\n+BLEGATTSCHAR:\"desc\",1,8,1,0x2901\r\n"
        "+BLEGATTSCHAR:\"char\",2,1,0xC400,0x02\r\n+BLEGATTSCHAR:\"desc\",2,1,1,0x2901\r\n"
        "+BLEGATTSCHAR:\"char\",2,2,0xC401,0x02\r\n+BLEGATTSCHAR:\"desc\",2,2,1,0x2901\r\n";
    ok(0, "AT+BLEGATTSCHAR?", "+BLEGATTSCHAR:" + chars);
    ok(0, "AT+BLEADVSTART");

    ok(1, "AT+BLEINIT=1");
    const std::string addr1 = address(1);
    error(1, "AT+BLEGATTCPRIMSRV=0");  // no connection yet
    ok(1, "AT+BLECONN=0,\"" + addr0 + "\"", "+BLECONN:0,\"" + addr0 + "\"\r\n");
    at(0).expect("+BLECONN:0,\"" + addr1 + "\"\r\n");

    // Step 4: the client sees GATT and GAP first, so its <srv_index> is the server's + 2.
    ok(1, "AT+BLEGATTCPRIMSRV=0",
       "+BLEGATTCPRIMSRV:0,1,0x1801,1\r\n+BLEGATTCPRIMSRV:0,2,0x1800,1\r\n"
       "+BLEGATTCPRIMSRV:0,3,0xA002,1\r\n+BLEGATTCPRIMSRV:0,4,0xA003,1\r\n");
    ok(1, "AT+BLEGATTCCHAR=0,3",
       "+BLEGATTCCHAR:\"char\",0,3,1,0xC300,0x02\r\n+BLEGATTCCHAR:\"desc\",0,3,1,1,0x2901\r\n"
       "+BLEGATTCCHAR:\"char\",0,3,2,0xC301,0x02\r\n+BLEGATTCCHAR:\"desc\",0,3,2,1,0x2901\r\n"
       "+BLEGATTCCHAR:\"char\",0,3,3,0xC302,0x08\r\n+BLEGATTCCHAR:\"desc\",0,3,3,1,0x2901\r\n"
       "+BLEGATTCCHAR:\"char\",0,3,4,0xC303,0x04\r\n+BLEGATTCCHAR:\"desc\",0,3,4,1,0x2901\r\n"
       "+BLEGATTCCHAR:\"char\",0,3,5,0xC304,0x08\r\n"
       "+BLEGATTCCHAR:\"char\",0,3,6,0xC305,0x10\r\n+BLEGATTCCHAR:\"desc\",0,3,6,1,0x2902\r\n"
       "+BLEGATTCCHAR:\"char\",0,3,7,0xC306,0x20\r\n+BLEGATTCCHAR:\"desc\",0,3,7,1,0x2902\r\n"
       "+BLEGATTCCHAR:\"char\",0,3,8,0xC307,0x02\r\n+BLEGATTCCHAR:\"desc\",0,3,8,1,0x2901\r\n");
    ok(1, "AT+BLEGATTCCHAR=0,2",
       "+BLEGATTCCHAR:\"char\",0,2,1,0x2A00,0x02\r\n+BLEGATTCCHAR:\"char\",0,2,2,0x2A01,0x02\r\n"
       "+BLEGATTCCHAR:\"char\",0,2,3,0x2AA6,0x02\r\n");
    ok(1, "AT+BLEGATTCINCLSRV=0,3");  // the default table includes nothing
    error(1, "AT+BLEGATTCCHAR=0,5");

    // Step 6: a read, and the server's +READ with the client's address.
    ok(1, "AT+BLEGATTCRD=0,3,1", "+BLEGATTCRD:0,1,0\r\n");
    at(0).expect("+READ:0,\"" + addr1 + "\"\r\n");
    ok(1, "AT+BLEGATTCRD=0,2,1", "+BLEGATTCRD:0,6,ESP-AT\r\n");  // the GAP name: no +READ
    error(1, "AT+BLEGATTCRD=0,3,3");    // C302 cannot be read
    error(1, "AT+BLEGATTCRD=0,3,9");
    error(1, "AT+BLEGATTCRD=1,3,1");    // no connection 1

    // Step 7: a write; the server prints it, raw.
    at(1).send("AT+BLEGATTCWR=0,3,3,,2\r\n");
    at(1).expect(">");
    at(1).send("ab");
    at(1).expect(kOk);
    at(0).expect("+WRITE:0,1,3,,2,ab\r\n");
    error(1, "AT+BLEGATTCWR=0,3,1,,1");  // C300 is read only: refused before '>'
    error(1, "AT+BLEGATTCWR=0,3,3,,0");  // esp-at issue #680: no empty writes

    // The server sets C300; the client reads it back.
    error(0, "AT+BLEGATTSSETATTR=1,1,,2");  // over its val_max_len of 1
    at(0).send("AT+BLEGATTSSETATTR=1,1,,1\r\n");
    at(0).expect(">");
    at(0).send("8");
    at(0).expect(kOk);
    ok(1, "AT+BLEGATTCRD=0,3,1", "+BLEGATTCRD:0,1,8\r\n");
    at(0).expect("+READ:0,\"" + addr1 + "\"\r\n");

    // Step 8: the CCCD of C306 written (the AT client writes 02 00 for an indicating
    // characteristic, whatever is typed: esp-at issues #161 and #608), then an indication.
    at(1).send("AT+BLEGATTCWR=0,3,7,1,2\r\n");
    at(1).expect(">");
    at(1).send("zz");
    at(1).expect(kOk);
    at(0).expect("+WRITE:0,1,7,1,2," + std::string("\x02\x00", 2) + "\r\n");
    at(0).send("AT+BLEGATTSIND=0,1,7,3\r\n");
    at(0).expect(">");
    at(0).send("123");
    at(0).expect(kOk);
    at(1).expect("+INDICATE:0,3,7,3,123\r\n");

    // A notification before and after the client enabled them on C305.
    at(0).send("AT+BLEGATTSNTFY=0,1,6,4\r\n");
    at(0).expect(">");
    at(0).send("1234");
    at(0).expect(kOk);
    at(1).send("AT+BLEGATTCWR=0,3,6,1,2\r\n");
    at(1).expect(">");
    at(1).send("01");
    at(1).expect(kOk);  // nothing arrived before this line
    at(0).expect("+WRITE:0,1,6,1,2," + std::string("\x01\x00", 2) + "\r\n");
    at(0).send("AT+BLEGATTSNTFY=0,1,6,4\r\n");
    at(0).expect(">");
    at(0).send("5678");
    at(0).expect(kOk);
    at(1).expect("+NOTIFY:0,3,6,4,5678\r\n");
    error(0, "AT+BLEGATTSNTFY=0,1,6,21");  // over MTU - 3 = 20
    error(0, "AT+BLEGATTSNTFY=1,1,6,4");   // no connection 1
    error(0, "AT+BLEGATTSNTFY=0,3,1,4");   // no service 3

    // Stopping a service hides it from the client's discovery.
    ok(0, "AT+BLEGATTSSRVSTOP=1");
    ok(1, "AT+BLEGATTCPRIMSRV=0",
       "+BLEGATTCPRIMSRV:0,1,0x1801,1\r\n+BLEGATTCPRIMSRV:0,2,0x1800,1\r\n+BLEGATTCPRIMSRV:0,3,0xA003,1\r\n");
    // 3.4.18 note: services are created before any connection. Deinitialising drops them.
    ok(0, "AT+BLEINIT=0");
    at(1).expect("+BLEDISCONN:0,\"" + addr0 + "\"\r\n");
    ok(0, "AT+BLEINIT=2");
    error(0, "AT+BLEGATTSSRV?");
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

// Guide example 4.3.3 as printed: the GATT roles the other way round. The client (module 1)
// creates and starts the services; the server (module 0) takes up the link with its own
// AT+BLECONN (OK, no message), discovers the client's services, reads what the client set, and
// the two exchange a write and a notification.
TEST_F(BleTwoModules, Example433ServerReadsAndWritesTheClientsServices) {
  try {
    ok(0, "AT+BLEINIT=2");
    ok(1, "AT+BLEINIT=1");
    ok(0, "AT+BLEGATTSSRVCRE");
    ok(0, "AT+BLEGATTSSRVSTART");
    const std::string addr0 = address(0);
    ok(0, "AT+BLEADVPARAM=50,50,0,0,7,0,,");
    ok(0, "AT+BLEADVDATA=\"0201060A09457370726573736966030302A0\"");
    ok(0, "AT+BLEADVSTART");
    ok(1, "AT+BLEGATTSSRVCRE");
    ok(1, "AT+BLEGATTSSRVSTART");
    const std::string addr1 = address(1);
    link_up(addr0, addr1);
    ok(0, "AT+BLECONN=0,\"" + addr1 + "\"");     // step 3, the server: OK and no +BLECONN
    error(0, "AT+BLECONN=1,\"" + addr1 + "\"");  // no such link
    ok(1, "AT+BLEGATTSSRV?", "+BLEGATTSSRV:1,1,0xA002,1\r\n+BLEGATTSSRV:2,1,0xA003,1\r\n");
    ok(0, "AT+BLEGATTCPRIMSRV=0",
       "+BLEGATTCPRIMSRV:0,1,0x1801,1\r\n+BLEGATTCPRIMSRV:0,2,0x1800,1\r\n+BLEGATTCPRIMSRV:0,3,0xA002,1\r\n"
       "+BLEGATTCPRIMSRV:0,4,0xA003,1\r\n");
    at(1).send("AT+BLEGATTSSETATTR=1,8,,1\r\n");  // step 8
    at(1).expect(">");
    at(1).send("9");
    at(1).expect(kOk);
    ok(0, "AT+BLEGATTCRD=0,3,8,", "+BLEGATTCRD:0,1,9\r\n");  // step 9
    at(1).expect("+READ:0,\"" + addr0 + "\"\r\n");
    at(0).send("AT+BLEGATTCWR=0,3,6,1,2\r\n");  // step 10: the CCCD of C305
    at(0).expect(">");
    at(0).send("12");
    at(0).expect(kOk);
    // The note shows the "12" typed; the AT firmware writes 01 00 to a CCCD whatever is typed
    // (esp-at issues #161, #608; README "Bluetooth LE"), and so does espat.
    at(1).expect("+WRITE:0,1,6,1,2," + std::string("\x01\x00", 2) + "\r\n");
    at(1).send("AT+BLEGATTSNTFY=0,1,6,10\r\n");  // step 11
    at(1).expect(">");
    at(1).send("1234567890");
    at(1).expect(kOk);
    at(0).expect("+NOTIFY:0,3,6,10,1234567890\r\n");
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

// Guide example 4.3.5: SPP between the two modules (3.4.31-3.4.32). The client writes the
// server's C304 and listens to C306; the server indicates C306 and reads C304. Bytes cross raw,
// in pieces of MTU - 3; "+++" ends it (with +QUITT under AT+SYSMSG bit 0); with <auto_conn> the
// client's link comes back after the server's restart, the hosts unaware.
TEST_F(BleTwoModules, SppBetweenTwoModules) {
  using namespace std::chrono_literals;
  try {
    const std::string addr0 = serve();
    ok(1, "AT+BLEINIT=1");
    const std::string addr1 = address(1);
    link_up(addr0, addr1);

    error(1, "AT+BLESPP");  // not configured
    ok(1, "AT+BLESPPCFG?", "+BLESPPCFG:0,0,0,0,1\r\n");
    error(1, "AT+BLESPPCFG=1,3,1,3,7");  // tx C300 cannot be written
    error(1, "AT+BLESPPCFG=1,3,5,3,3");  // rx C302 neither notifies nor indicates
    error(1, "AT+BLESPPCFG=1,3,5");      // rx missing
    ok(1, "AT+BLESPPCFG=1,3,5,3,7");
    ok(1, "AT+BLESPPCFG?", "+BLESPPCFG:3,5,3,7,1\r\n");
    ok(0, "AT+BLESPPCFG=1,1,7,1,5");
    error(0, "AT+BLESPP");  // 3.4.32: the client has not enabled indications yet

    // The client enters first: it enables C306's indications, which the server prints.
    at(1).send("AT+BLESPP\r\n");
    at(1).expect("\r\nOK\r\n\r\n>");
    at(0).expect("+WRITE:0,1,7,1,2," + std::string("\x02\x00", 2) + "\r\n");
    at(0).send("AT+BLESPP\r\n");
    at(0).expect("\r\nOK\r\n\r\n>");

    at(1).send("hello from the client");
    at(0).expect("hello from the client");
    std::string big;
    for (int i = 0; i < 60; ++i) big += char('A' + i % 26);
    at(0).send(big);  // three indications of 20 bytes
    at(1).expect(big);

    // "+++" on the client: quiet without AT+SYSMSG bit 0.
    std::this_thread::sleep_for(50ms);
    at(1).send("+++");
    std::this_thread::sleep_for(50ms);
    ok(1, "AT");
    // Back in command mode the client prints the server's indications again.
    at(0).send("xyz");
    at(1).expect("+INDICATE:0,3,7,3,xyz\r\n");
    ok(1, "AT+SYSMSG=1");
    at(1).send("AT+BLESPP\r\n");
    at(1).expect("\r\nOK\r\n\r\n>");
    at(0).send("again");
    at(1).expect("again");

    // The server restarts: with <auto_conn> the client reconnects and subscribes again, and
    // prints nothing of it; the server, booted, is a fresh module and advertises again.
    std::this_thread::sleep_for(50ms);
    at(0).send("+++");
    std::this_thread::sleep_for(50ms);
    at(0).send("AT+RST\r\n");
    at(0).expect(kOk + "\r\nready\r\n", 5000ms);
    at(0).send("ATE0\r\n");
    at(0).expect("ATE0\r\n" + kOk);
    ok(0, "AT+BLEINIT=2");
    ok(0, "AT+BLEGATTSSRVCRE");
    ok(0, "AT+BLEGATTSSRVSTART");
    ok(0, "AT+BLEADVSTART");
    at(0).expect("+BLECONN:0,\"" + addr1 + "\"\r\n", 3000ms);
    at(0).expect("+WRITE:0,1,7,1,2," + std::string("\x02\x00", 2) + "\r\n");
    ok(0, "AT+BLESPPCFG=1,1,7,1,5");
    at(0).send("AT+BLESPP\r\n");
    at(0).expect("\r\nOK\r\n\r\n>");
    at(0).send("back");
    at(1).expect("back");
    std::this_thread::sleep_for(50ms);
    at(1).send("+++");
    at(1).expect("\r\n+QUITT\r\n");
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

// Guide example 4.3.4: the client (KeyboardDisplay) asks for encryption, the server
// (KeyboardOnly) accepts and types the key the client shows; both bond. Then the bond list,
// re-encryption of the bonded pair at once, a refused pairing, and AT+BLESETKEY.
TEST_F(BleTwoModules, EncryptionAndBonding) {
  using namespace std::chrono_literals;
  try {
    const std::string addr0 = serve();
    ok(1, "AT+BLEINIT=1");
    const std::string addr1 = address(1);
    error(1, "AT+BLEENC=0,3");  // no connection yet
    link_up(addr0, addr1);

    ok(0, "AT+BLESECPARAM?", "+BLESECPARAM:0,3,16,3,3,0\r\n");
    ok(0, "AT+BLESECPARAM=13,2,16,3,3");
    ok(1, "AT+BLESECPARAM=13,4,16,3,3");
    ok(1, "AT+BLESECPARAM?", "+BLESECPARAM:13,4,16,3,3,0\r\n");
    error(1, "AT+BLESECPARAM=3,4,16,3,3");  // 3 is no <auth_req>
    error(1, "AT+BLESECPARAM=13,4,6,3,3");  // key size 7-16
    ok(0, "AT+BLESETKEY?", "+BLESETKEY:-1\r\n");
    error(0, "AT+BLEENCRSP=0,1");  // nothing asked

    ok(1, "AT+BLEENC=0,3");
    at(0).expect("+BLESECREQ:0\r\n");
    ok(0, "AT+BLEENCRSP=0,1");
    const std::string shown = at(1).match("\\+BLESECNTFYKEY:0,[0-9]{1,6}\r\n");
    const std::string key = shown.substr(17, shown.size() - 19);
    at(0).expect("+BLESECKEYREQ:0\r\n");
    ok(0, "AT+BLEKEYREPLY=0," + key);
    at(0).expect("+BLESECKEYTYPE:0,16\r\n+BLESECKEYTYPE:0,1\r\n+BLESECKEYTYPE:0,32\r\n+BLESECKEYTYPE:0,2\r\n"
                 "+BLEAUTHCMPL:0,0\r\n");
    at(1).expect("+BLESECKEYTYPE:0,2\r\n+BLESECKEYTYPE:0,16\r\n+BLESECKEYTYPE:0,1\r\n+BLESECKEYTYPE:0,32\r\n"
                 "+BLEAUTHCMPL:0,0\r\n");
    ok(0, "AT+BLEENCDEV?", "+BLEENCDEV:0,\"" + addr1 + "\"\r\n");
    ok(1, "AT+BLEENCDEV?", "+BLEENCDEV:0,\"" + addr0 + "\"\r\n");

    // Bonded: after a reconnection, encryption needs no pairing.
    ok(1, "AT+BLEDISCONN=0");
    at(1).expect("+BLEDISCONN:0,\"" + addr0 + "\"\r\n");
    at(0).expect("+BLEDISCONN:0,\"" + addr1 + "\"\r\n");
    ok(0, "AT+BLEADVSTART");
    ok(1, "AT+BLECONN=0,\"" + addr0 + "\"", "+BLECONN:0,\"" + addr0 + "\"\r\n");
    at(0).expect("+BLECONN:0,\"" + addr1 + "\"\r\n");
    ok(0, "AT+BLEENC=0,1");
    at(0).expect("+BLEAUTHCMPL:0,0\r\n");
    at(1).expect("+BLEAUTHCMPL:0,0\r\n");

    // Cleared at the client, a pairing is needed again; a wrong key fails it at both ends.
    ok(1, "AT+BLEENCCLEAR=0");
    ok(1, "AT+BLEENCDEV?");
    error(1, "AT+BLEENCCLEAR=0");
    ok(0, "AT+BLEENC=0,3");
    at(1).expect("+BLESECREQ:0\r\n");
    ok(1, "AT+BLEENCRSP=0,1");
    const std::string shown2 = at(1).match("\\+BLESECNTFYKEY:0,[0-9]{1,6}\r\n");
    at(0).expect("+BLESECKEYREQ:0\r\n");
    const std::string wrong = shown2.substr(17, shown2.size() - 19) == "1" ? "2" : "1";
    ok(0, "AT+BLEKEYREPLY=0," + wrong);
    at(0).expect("+BLEAUTHCMPL:0,1\r\n");
    at(1).expect("+BLEAUTHCMPL:0,1\r\n");
    // A refusal.
    ok(1, "AT+BLEENC=0,3");
    at(0).expect("+BLESECREQ:0\r\n");
    ok(0, "AT+BLEENCRSP=0,0");
    at(0).expect("+BLEAUTHCMPL:0,1\r\n");
    at(1).expect("+BLEAUTHCMPL:0,1\r\n");
    // The client's static key is the one it shows.
    ok(1, "AT+BLESETKEY=123456");
    ok(1, "AT+BLESETKEY?", "+BLESETKEY:123456\r\n");
    ok(1, "AT+BLEENC=0,3");
    at(0).expect("+BLESECREQ:0\r\n");
    ok(0, "AT+BLEENCRSP=0,1");
    at(1).expect("+BLESECNTFYKEY:0,123456\r\n");
    at(0).expect("+BLESECKEYREQ:0\r\n");
    ok(0, "AT+BLEKEYREPLY=0,123456");
    at(0).match("(\\+BLESECKEYTYPE:0,[0-9]+\r\n){4}\\+BLEAUTHCMPL:0,0\r\n");
    at(1).match("(\\+BLESECKEYTYPE:0,[0-9]+\r\n){4}\\+BLEAUTHCMPL:0,0\r\n");
    ok(1, "AT+BLEENCDEV?", "+BLEENCDEV:0,\"" + addr0 + "\"\r\n");
    ok(0, "AT+BLEENCDEV?", "+BLEENCDEV:0,\"" + addr1 + "\"\r\n");  // bonded once, listed once
    at(0).send("AT+RST\r\n");
    at(0).expect(kOk + "\r\nready\r\n", 5000ms);
    at(1).expect("+BLEDISCONN:0,\"" + addr0 + "\"\r\n");
    at(0).send("ATE0\r\n");
    at(0).expect("ATE0\r\n" + kOk);
    ok(0, "AT+BLEINIT=2");
    ok(0, "AT+BLEENCDEV?", "+BLEENCDEV:0,\"" + addr1 + "\"\r\n");
    ok(0, "AT+BLEENCCLEAR");
    ok(0, "AT+BLEENCDEV?");
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}
