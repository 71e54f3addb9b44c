// MQTT end to end (spec 3.6, the examples of 4.4): the real binary on a pty against a real
// mosquitto broker the test starts on loopback with plain, TLS (server-only and mutual) and
// password listeners; the exact bytes of every report, the 3.6.15 error codes with
// AT+SYSLOG=1, a broker that goes away and comes back, a last will, and a payload with every
// byte value.
#include <unistd.h>

#include <filesystem>
#include <list>
#include <fstream>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "../test_pki.hpp"
#include "at_port.hpp"

namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using espat::e2e::AtPort;
using espat::e2e::PtyModule;
using espat::e2e::unused_port;
using espat::test::Child;

bool have_mosquitto() { return std::system("command -v mosquitto >/dev/null 2>&1") == 0; }

// mosquitto with one listener of each kind the schemes of AT+MQTTUSERCFG need: MQTT over TCP,
// TLS, mutual TLS, a password check; WebSocket, WebSocket over TLS and over mutual TLS.
struct Broker {
  int plain = 0, tls = 0, mutual = 0, auth = 0, ws = 0, wss = 0, wss_mutual = 0;
  fs::path dir;
  std::optional<Child> child;

  explicit Broker(fs::path d) : dir(std::move(d)) {
    const auto p = [this](const char* f) { return (dir / f).string(); };
    std::ofstream(dir / "passwords") << "espat-user:espat-password-that-is-rather-long-" << std::string(80, 'p') << "\n";
    std::system(("mosquitto_passwd -U " + p("passwords") + " >/dev/null 2>&1").c_str());
    // Ports free a moment ago may be taken by the time mosquitto binds them: then others.
    for (int attempt = 1;; ++attempt) {
      for (int* port : {&plain, &tls, &mutual, &auth, &ws, &wss, &wss_mutual}) *port = unused_port();
      configure();
      try {
        start();
        return;
      } catch (const std::runtime_error&) {
        if (attempt == 3) throw;
      }
    }
  }
  void configure() {
    const auto p = [this](const char* f) { return (dir / f).string(); };
    std::ofstream(dir / "mosquitto.conf") << fmt::format(
        "user root\nper_listener_settings true\n"
        "listener {} 127.0.0.1\nallow_anonymous true\n"
        "listener {} 127.0.0.1\nallow_anonymous true\ncafile {}\ncertfile {}\nkeyfile {}\n"
        "listener {} 127.0.0.1\nallow_anonymous true\ncafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n"
        "listener {} 127.0.0.1\nallow_anonymous false\npassword_file {}\n"
        // WebSocket listeners (mosquitto 2.0.11 opens them only beside a plain one, as here).
        "listener {} 127.0.0.1\nprotocol websockets\nallow_anonymous true\n"
        "listener {} 127.0.0.1\nprotocol websockets\nallow_anonymous true\ncertfile {}\nkeyfile {}\n"
        "listener {} 127.0.0.1\nprotocol websockets\nallow_anonymous true\ncafile {}\ncertfile {}\nkeyfile {}\n"
        "require_certificate true\n",
        plain, tls, p("ca.pem"), p("server.pem"), p("server.key"), mutual, p("ca.pem"), p("server.pem"), p("server.key"),
        auth, p("passwords"), ws, wss, p("server.pem"), p("server.key"), wss_mutual, p("ca.pem"), p("server.pem"),
        p("server.key"));
  }
  void start() {
    child.reset();
    child.emplace(std::vector<std::string>{"mosquitto", "-v", "-c", (dir / "mosquitto.conf").string()}, dir / "mosquitto.log");
    const bool up = child->wait_output(" running", 5s);
    if (!up) throw std::runtime_error("mosquitto did not start: " + child->output());
  }
  void stop() { child.reset(); }
  // mosquitto_pub, a client other than espat, publishing once on the plain listener.
  void publish(const std::string& topic, const std::string& message) const {
    const std::string cmd = fmt::format("mosquitto_pub -h 127.0.0.1 -p {} -q 1 -t '{}' -m '{}'", plain, topic, message);
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("mosquitto_pub failed");
  }
};

class Mqtt : public ::testing::Test {
 protected:
  static inline fs::path dir;
  static inline std::optional<Broker> broker;

  static void SetUpTestSuite() {
    if (!have_mosquitto()) return;
    char tmpl[] = "/tmp/espat-mqtt-e2e-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    std::string log;
    ASSERT_TRUE(espat::test::make_test_pki(dir, log)) << "openssl CLI missing or failing: " << log;
    broker.emplace(dir);
  }
  static void TearDownTestSuite() {
    broker.reset();
    std::error_code ec;
    if (!dir.empty() && !std::getenv("ESPAT_KEEP")) fs::remove_all(dir, ec);
  }

  void SetUp() override {
    if (!have_mosquitto()) GTEST_SKIP() << "mosquitto is not installed (scripts/install-deps.sh installs it)";
    at_ = &add_module("m0");
  }
  void TearDown() override {
    for (auto& m : modules_) EXPECT_TRUE(m.stop());
  }

  // A fresh module joined to the AP, echo off, AT+SYSLOG=1, the test PKI in its mfg_nvs.
  AtPort& add_module(const std::string& name, std::vector<std::string> args = {}) {
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    args.insert(args.begin(), {"--flash", (dir / (test + name + ".bin")).string()});
    auto& m = modules_.emplace_back(dir, args, test + name);
    AtPort& at = m.at();
    at.send("ATE0\r\n");
    at.expect("ATE0\r\n\r\nOK\r\n");
    at.send("AT+SYSLOG=1\r\n");
    at.expect("\r\nOK\r\n");
    for (auto [ns, file] : {std::tuple{"mqtt_ca", "ca.pem"}, {"mqtt_cert", "client.pem"}, {"mqtt_key", "client.key"}}) {
      const std::string blob = espat::test::slurp(dir / file);
      at.send(fmt::format("AT+SYSMFG=2,\"{}\",\"{}.0\",8,{}\r\n", ns, ns, blob.size()));
      at.expect("\r\nOK\r\n\r\n>");
      at.send(blob);
      at.expect("\r\nOK\r\n");
    }
    at.send("AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n");
    at.expect("WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n", 5000ms);
    return at;
  }
  static void ok(AtPort& at, const std::string& cmd) {
    at.send(cmd + "\r\n");
    at.expect("\r\nOK\r\n");
  }
  static void error(AtPort& at, const std::string& cmd, const std::string& code) {
    at.send(cmd + "\r\n");
    at.expect("ERR CODE:0x010a" + code + "\r\n\r\nERROR\r\n");
  }
  static std::string connected(int scheme, int port, const std::string& path = "", int reconnect = 1) {
    return fmt::format("+MQTTCONNECTED:0,{},\"127.0.0.1\",\"{}\",\"{}\",{}\r\n\r\nOK\r\n", scheme, port, path, reconnect);
  }
  // Two outputs whose order is the race of the broker's answer with the command's own result,
  // as on a real module.
  static void expect_both(AtPort& at, const std::string& a, const std::string& b) {
    std::string got;
    const auto end = std::chrono::steady_clock::now() + 5s;
    while (got.size() < a.size() + b.size() && std::chrono::steady_clock::now() < end) got += at.drain(50ms);
    EXPECT_TRUE(got == a + b || got == b + a) << got;
  }
  void connect(AtPort& at, int scheme, int port, const std::string& path = "", int reconnect = 1) {
    at.send(fmt::format("AT+MQTTCONN=0,\"127.0.0.1\",{},{}\r\n", port, reconnect));
    at.expect(connected(scheme, port, path, reconnect), 10000ms);
  }

  std::list<PtyModule> modules_;
  AtPort* at_ = nullptr;
};

// 4.4.1: a publisher and a subscriber over TCP, the guide's commands and answers.
TEST_F(Mqtt, Example441TwoModulesOverTcp) {
  AtPort& pub = *at_;
  AtPort& sub = add_module("sub");
  ok(pub, R"(AT+MQTTUSERCFG=0,1,"publisher","espressif","123456789",0,0,"")");
  ok(sub, R"(AT+MQTTUSERCFG=0,1,"subscriber","espressif","123456789",0,0,"")");
  connect(pub, 1, broker->plain);
  connect(sub, 1, broker->plain);
  sub.send("AT+MQTTCONN?\r\n");
  sub.expect(fmt::format("+MQTTCONN:0,4,1,\"127.0.0.1\",\"{}\",\"\",1\r\n\r\nOK\r\n", broker->plain));
  ok(sub, R"(AT+MQTTSUB=0,"topic",1)");
  ok(pub, R"(AT+MQTTPUB=0,"topic","test",1,0)");
  sub.expect("+MQTTSUBRECV:0,\"topic\",4,test\r\n");
  // protocol-rules §0: the escapes of the upstream example.
  ok(pub, R"(AT+MQTTPUB=0,"topic","\"{\"sensor\":012}\"",1,0)");
  sub.expect("+MQTTSUBRECV:0,\"topic\",16,\"{\"sensor\":012}\"\r\n");
  sub.send("AT+MQTTSUB?\r\n");
  sub.expect("+MQTTSUB:0,6,\"topic\",1\r\n\r\nOK\r\n");
  sub.send("AT+MQTTSUB=0,\"topic\",1\r\n");
  sub.expect("ALREADY SUBSCRIBE\r\n\r\nOK\r\n");
  ok(pub, "AT+MQTTCLEAN=0");
  ok(sub, "AT+MQTTCLEAN=0");
  pub.send("AT+MQTTCONN?\r\n");
  pub.expect("+MQTTCONN:0,0,1,\"\",\"\",\"\",0\r\n\r\nOK\r\n");
}

// 4.4.2: a 427-byte message through AT+MQTTPUBRAW; then a payload with every byte value.
TEST_F(Mqtt, Example442PubRawAndEveryByteValue) {
  AtPort& at = *at_;
  ok(at, R"(AT+MQTTUSERCFG=0,1,"subscriber","espressif","123456789",0,0,"")");
  connect(at, 1, broker->plain);
  ok(at, R"(AT+MQTTSUB=0,"topic",1)");
  std::string big = R"({"headers": {"Accept": "application/json", "Accept-Encoding": "gzip, deflate", "Accept-Language": )";
  while (big.size() < 427) big += "\"en-US,en;q=0.9\", ";
  big.resize(427);
  at.send("AT+MQTTPUBRAW=0,\"topic\",427,0,0\r\n");
  at.expect("\r\nOK\r\n\r\n>");
  at.send(big);
  expect_both(at, "+MQTTPUB:OK\r\n", "+MQTTSUBRECV:0,\"topic\",427," + big + "\r\n");

  std::string every;
  for (int i = 0; i < 256; ++i) every += char(i);
  at.send("AT+MQTTPUBRAW=0,\"topic\",256,1,0\r\n");
  at.expect("\r\nOK\r\n\r\n>");
  at.send(every);
  expect_both(at, "+MQTTPUB:OK\r\n", "+MQTTSUBRECV:0,\"topic\",256," + every + "\r\n");
  ok(at, R"(AT+MQTTUNSUB=0,"topic")");
  at.send("AT+MQTTUNSUB=0,\"topic\"\r\n");
  at.expect("NO UNSUBSCRIBE\r\n\r\nOK\r\n");
  at.send("AT+MQTTCONN?\r\n");
  at.expect(fmt::format("+MQTTCONN:0,5,1,\"127.0.0.1\",\"{}\",\"\",1\r\n\r\nOK\r\n", broker->plain));
}

// 4.4.3: TLS with the client's certificate (scheme 4) against a broker that requires one, a
// last will set with AT+MQTTCONNCFG; then each other TLS scheme.
TEST_F(Mqtt, Example443TlsSchemes) {
  AtPort& at = *at_;
  ok(at, R"(AT+MQTTUSERCFG=0,4,"publisher","espressif","123456789",0,0,"")");
  ok(at, R"(AT+MQTTCONNCFG=0,0,0,"lwtt","lwtm",0,0)");
  at.send("AT+MQTTCONN?\r\n");
  at.expect("+MQTTCONN:0,2,4,\"\",\"\",\"\",0\r\n\r\nOK\r\n");
  connect(at, 4, broker->mutual);
  ok(at, R"(AT+MQTTSUB=0,"topic",1)");
  at.send("AT+MQTTPUB=0,\"topic\",\"test\",1,0\r\n");
  expect_both(at, "\r\nOK\r\n", "+MQTTSUBRECV:0,\"topic\",4,test\r\n");
  ok(at, "AT+MQTTCLEAN=0");

  // 2: TLS without verifying; 3 and 5: the server verified against mqtt_ca, by the name
  // AT+MQTTSNI gives (the certificate is for espat-test-server, not 127.0.0.1).
  for (auto [scheme, port] : {std::pair{2, broker->tls}, {3, broker->tls}, {5, broker->mutual}}) {
    ok(at, fmt::format(R"(AT+MQTTUSERCFG=0,{},"espat","","",0,0,"")", scheme));
    ok(at, R"(AT+MQTTSNI=0,"espat-test-server")");
    connect(at, scheme, port);
    ok(at, fmt::format(R"(AT+MQTTPUB=0,"t","scheme {}",0,0)", scheme));
    ok(at, "AT+MQTTCLEAN=0");
  }
  // Verification fails without the right name, and without a client certificate the mutual
  // listener refuses: +MQTTDISCONNECTED and ERROR, nothing kept.
  ok(at, R"(AT+MQTTUSERCFG=0,3,"espat","","",0,0,"")");
  at.send(fmt::format("AT+MQTTCONN=0,\"127.0.0.1\",{},1\r\n", broker->tls));
  at.expect("+MQTTDISCONNECTED:0\r\nERR CODE:0x010a6051\r\n\r\nERROR\r\n", 10000ms);
  ok(at, R"(AT+MQTTUSERCFG=0,2,"espat","","",0,0,"")");
  at.send(fmt::format("AT+MQTTCONN=0,\"127.0.0.1\",{},1\r\n", broker->mutual));
  at.expect("+MQTTDISCONNECTED:0\r\nERR CODE:0x010a6051\r\n\r\nERROR\r\n", 10000ms);
  at.send("AT+MQTTCONN?\r\n");
  at.expect("+MQTTCONN:0,1,2,\"\",\"\",\"\",0\r\n\r\nOK\r\n");
}

// 4.5.2, a local broker standing in for AWS IoT: mutual TLS (scheme 5) to an endpoint name
// (the world's [dns] gives espat-test-server, the name in the broker's certificate), the port
// typed quoted as the guide types it.
TEST_F(Mqtt, Example452CloudWithMutualAuthentication) {
  std::ofstream(dir / "cloud.toml") << "[[ap]]\nssid = \"espat-ap\"\npassword = \"espat-password\"\n"
                                       "subnet = \"127.10.1.0/24\"\n\n[dns]\n\"espat-test-server\" = \"127.0.0.1\"\n";
  AtPort& at = add_module("cloud", {"--world", (dir / "cloud.toml").string()});
  ok(at, R"(AT+MQTTUSERCFG=0,5,"esp32","espressif","1234567890",0,0,"")");
  at.send(fmt::format("AT+MQTTCONN=0,\"espat-test-server\",\"{}\",1\r\n", broker->mutual));
  at.expect(fmt::format("+MQTTCONNECTED:0,5,\"espat-test-server\",\"{}\",\"\",1\r\n\r\nOK\r\n", broker->mutual), 10000ms);
  ok(at, R"(AT+MQTTSUB=0,"topic/esp32at",1)");
  at.send("AT+MQTTPUB=0,\"topic/esp32at\",\"hello aws!\",1,0\r\n");
  expect_both(at, "\r\nOK\r\n", "+MQTTSUBRECV:0,\"topic/esp32at\",10,hello aws!\r\n");
}

// 3.6.7's example: AT+MQTTALPN's names are offered in ClientHello, in order. The broker here is
// a TLS server of Python's ssl module that accepts only the second name, reports what was
// chosen and the first byte it read (0x10, CONNECT), and answers a CONNACK.
constexpr const char* kAlpnBroker = R"PY(
import socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ctx.set_alpn_protocols(["mqtt-ca.us"])
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print("PORT", s.getsockname()[1], flush=True)
t = ctx.wrap_socket(s.accept()[0], server_side=True)
print("ALPN", t.selected_alpn_protocol(), flush=True)
print("FIRST", t.recv(1).hex(), flush=True)
t.sendall(b"\x20\x02\x00\x00")
time.sleep(30)
)PY";

TEST_F(Mqtt, AlpnNamesAreOffered) {
  std::ofstream(dir / "alpn_broker.py") << kAlpnBroker;
  Child tls_broker({"/usr/bin/python3", (dir / "alpn_broker.py").string(), (dir / "server.pem").string(),
                    (dir / "server.key").string()},
                   dir / "alpn_broker.log");
  ASSERT_TRUE(tls_broker.wait_output("PORT ")) << tls_broker.output();
  const std::string out = tls_broker.output();
  const int port = std::stoi(out.substr(out.find("PORT ") + 5));
  AtPort& at = *at_;
  ok(at, R"(AT+MQTTUSERCFG=0,2,"ESP32","espressif","1234567890",0,0,"")");
  ok(at, R"(AT+MQTTALPN=0,2,"mqtt-ca.cn","mqtt-ca.us")");
  connect(at, 2, port);
  EXPECT_TRUE(tls_broker.wait_output("ALPN mqtt-ca.us\nFIRST 10")) << tls_broker.output();
  ok(at, "AT+MQTTALPN=0,0");  // cleared
  ok(at, "AT+MQTTCLEAN=0");
}

// 3.6.3-3.6.5: a client id longer than AT+MQTTUSERCFG allows, and a user name and password
// the broker checks; a wrong password is a refused CONNECT.
TEST_F(Mqtt, LongFieldsAndAuthentication) {
  AtPort& at = *at_;
  ok(at, R"(AT+MQTTUSERCFG=0,1,"x","","",0,0,"")");
  const std::string id(300, 'i'), user = "espat-user", password = "espat-password-that-is-rather-long-" + std::string(80, 'p');
  for (auto [cmd, value] : {std::pair{"AT+MQTTLONGCLIENTID", id}, {"AT+MQTTLONGUSERNAME", user}, {"AT+MQTTLONGPASSWORD", password}}) {
    at.send(fmt::format("{}=0,{}\r\n", cmd, value.size()));
    at.expect("\r\nOK\r\n\r\n>");
    at.send(value);
    at.expect("\r\nOK\r\n");
  }
  connect(at, 1, broker->auth);
  ok(at, "AT+MQTTCLEAN=0");
  EXPECT_TRUE(broker->child->wait_output("as " + id)) << broker->child->output();

  ok(at, R"(AT+MQTTUSERCFG=0,1,"x","espat-user","wrong",0,0,"")");
  at.send(fmt::format("AT+MQTTCONN=0,\"127.0.0.1\",{},0\r\n", broker->auth));
  at.expect("+MQTTDISCONNECTED:0\r\nERR CODE:0x010a6051\r\n\r\nERROR\r\n", 10000ms);
}

// 3.6.15: the codes, with AT+SYSLOG=1.
TEST_F(Mqtt, ErrorCodes) {
  AtPort& at = *at_;
  error(at, R"(AT+MQTTCONN=0,"127.0.0.1",1883,0)", "6001");
  error(at, "AT+MQTTCLEAN=0", "6003");
  error(at, R"(AT+MQTTUSERCFG=1,1,"a","","",0,0,"")", "6011");
  error(at, R"(AT+MQTTUSERCFG=0,11,"a","","",0,0,"")", "6013");
  // (A client id past 256 bytes cannot fit the 256-byte command line: AT+MQTTLONGCLIENTID.)
  error(at, fmt::format(R"(AT+MQTTUSERCFG=0,1,"a","{}","",0,0,"")", std::string(65, 'u')), "6019");
  error(at, R"(AT+MQTTUSERCFG=0,1,"a","","",1,0,"")", "601e");
  error(at, fmt::format(R"(AT+MQTTUSERCFG=0,1,"a","","",0,0,"{}")", std::string(33, 'p')), "6029");
  error(at, R"(AT+MQTTCONNCFG=0,0,0,"t","m",0,0)", "6001");
  ok(at, R"(AT+MQTTUSERCFG=0,1,"a","","",0,0,"")");
  error(at, R"(AT+MQTTCONNCFG=0,7201,0,"t","m",0,0)", "602d");
  error(at, R"(AT+MQTTCONNCFG=0,0,2,"t","m",0,0)", "602f");
  error(at, R"(AT+MQTTCONNCFG=0,0,0,"t","m",3,0)", "6037");
  error(at, R"(AT+MQTTALPN=0,2,"a")", "6008");
  error(at, R"(AT+MQTTPUB=0,"t","d",0,0)", "6006");
  error(at, R"(AT+MQTTSUB=0,"t",0)", "6006");
  error(at, R"(AT+MQTTCONN=0,"",1883,0)", "603b");
  error(at, R"(AT+MQTTCONN=0,"127.0.0.1",0,0)", "603e");
  error(at, R"(AT+MQTTCONN=0,"127.0.0.1",1883,2)", "6040");
  // Nobody listens there: the broker is unreachable.
  at.send(fmt::format("AT+MQTTCONN=0,\"127.0.0.1\",{},0\r\n", unused_port()));
  at.expect("+MQTTDISCONNECTED:0\r\nERR CODE:0x010a6051\r\n\r\nERROR\r\n", 10000ms);
  connect(at, 1, broker->plain, "", 0);
  error(at, fmt::format("AT+MQTTCONN=0,\"127.0.0.1\",{},0", broker->plain), "6004");
  error(at, R"(AT+MQTTUSERCFG=0,1,"a","","",0,0,"")", "6002");
  error(at, R"(AT+MQTTPUB=0,"","d",0,0)", "6042");
  error(at, R"(AT+MQTTPUB=0,"t","",0,0)", "6045");
  error(at, R"(AT+MQTTPUB=0,"t","d",3,0)", "6048");
  error(at, R"(AT+MQTTPUB=0,"t","d",0,2)", "604a");
  error(at, R"(AT+MQTTPUBRAW=0,"t",0,0,0)", "604c");
  error(at, fmt::format(R"(AT+MQTTSUB=0,"{}",0)", std::string(129, 't')), "6043");
}

// +MQTTDISCONNECTED when the broker goes away; with <reconnect> 1 the client comes back 10 s
// later (esp-mqtt's interval) and its subscription with it.
TEST_F(Mqtt, BrokerGoesAwayAndComesBack) {
  AtPort& at = *at_;
  ok(at, R"(AT+MQTTUSERCFG=0,1,"comeback","","",0,0,"")");
  connect(at, 1, broker->plain);
  ok(at, R"(AT+MQTTSUB=0,"news",0)");
  broker->stop();
  at.expect("+MQTTDISCONNECTED:0\r\n", 5000ms);
  at.send("AT+MQTTCONN?\r\n");
  at.expect(fmt::format("+MQTTCONN:0,3,1,\"127.0.0.1\",\"{}\",\"\",1\r\n\r\nOK\r\n", broker->plain));
  error(at, R"(AT+MQTTPUB=0,"t","d",0,0)", "6051");
  broker->start();
  at.expect(fmt::format("+MQTTCONNECTED:0,1,\"127.0.0.1\",\"{}\",\"\",1\r\n", broker->plain), 15000ms);
  // The renewed SUBSCRIBE is on its way: publish until it has reached the broker.
  ASSERT_TRUE(broker->child->wait_output("comeback 0 news")) << broker->child->output();
  broker->publish("news", "back again");
  at.expect("+MQTTSUBRECV:0,\"news\",10,back again\r\n", 5000ms);
}

// The last will of AT+MQTTCONNCFG reaches another client when the module's connection dies
// without a DISCONNECT (the station left the AP); AT+MQTTCLEAN sends one, so no will then.
TEST_F(Mqtt, LastWillWhenTheStationLeaves) {
  AtPort& at = *at_;
  AtPort& watcher = add_module("watcher");
  ok(watcher, R"(AT+MQTTUSERCFG=0,1,"watcher","","",0,0,"")");
  connect(watcher, 1, broker->plain);
  ok(watcher, R"(AT+MQTTSUB=0,"wills/#",1)");
  ok(at, R"(AT+MQTTUSERCFG=0,1,"mortal","","",0,0,"")");
  ok(at, R"(AT+MQTTCONNCFG=0,30,0,"wills/mortal","gone",1,0)");
  connect(at, 1, broker->plain, "", 0);
  at.send("AT+CWQAP\r\n");
  at.match("(WIFI DISCONNECT\r\n\\+MQTTDISCONNECTED:0\r\n\r\nOK\r\n|WIFI DISCONNECT\r\n\r\nOK\r\n\\+MQTTDISCONNECTED:0\r\n)");
  watcher.expect("+MQTTSUBRECV:0,\"wills/mortal\",4,gone\r\n", 5000ms);
}

// Schemes 6-10 of AT+MQTTUSERCFG: MQTT over WebSocket (subprotocol "mqtt", <path> as the
// request target) to mosquitto's own WebSocket listeners, plain and over TLS, the server verified
// (8, 10) and the client's certificate sent (9, 10).
TEST_F(Mqtt, OverWebSocketSchemes6To10) {
  AtPort& at = *at_;
  ok(at, R"(AT+MQTTUSERCFG=0,6,"espat-ws","","",0,0,"mqtt")");
  connect(at, 6, broker->ws, "mqtt");
  ok(at, R"(AT+MQTTSUB=0,"ws/t",1)");
  broker->publish("ws/t", "from mosquitto_pub");
  at.expect("+MQTTSUBRECV:0,\"ws/t\",18,from mosquitto_pub\r\n");
  at.send("AT+MQTTPUB=0,\"ws/t\",\"echo\",1,0\r\n");
  expect_both(at, "\r\nOK\r\n", "+MQTTSUBRECV:0,\"ws/t\",4,echo\r\n");
  ok(at, "AT+MQTTCLEAN=0");

  for (auto [scheme, port] : {std::pair{7, broker->wss}, {8, broker->wss}, {9, broker->wss_mutual}, {10, broker->wss_mutual}}) {
    ok(at, fmt::format(R"(AT+MQTTUSERCFG=0,{},"espat-wss","","",0,0,"mqtt")", scheme));
    ok(at, R"(AT+MQTTSNI=0,"espat-test-server")");
    connect(at, scheme, port, "mqtt");
    ok(at, R"(AT+MQTTSUB=0,"wss/t",0)");
    const std::string payload = fmt::format("scheme {}", scheme);
    at.send(fmt::format("AT+MQTTPUB=0,\"wss/t\",\"{}\",0,0\r\n", payload));
    expect_both(at, "\r\nOK\r\n", fmt::format("+MQTTSUBRECV:0,\"wss/t\",{},{}\r\n", payload.size(), payload));
    ok(at, "AT+MQTTCLEAN=0");
  }
}

}  // namespace
