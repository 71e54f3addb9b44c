// SSL links end to end (spec 3.3.6 "Establish SSL Connection", 3.3.16, 3.3.26-3.3.31; guide
// examples 4.2.5-4.2.8): the real binary on a pty, certificates written into its mfg_nvs with
// AT+SYSMFG, and `openssl s_server` / `openssl s_client` as the peers, on loopback. A verification failure must be an error, never an insecure link.
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "../test_pki.hpp"
#include "at_port.hpp"
#include "process.hpp"

namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using espat::e2e::AtPort;
using espat::test::Child;

class Ssl : public ::testing::Test {
 protected:
  static inline fs::path dir;

  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/espat-ssl-e2e-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
    std::string log;
    ASSERT_TRUE(espat::test::make_test_pki(dir, log)) << "openssl CLI missing or failing: " << log;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  static std::string p(const char* name) { return (dir / name).string(); }

  // A fresh module, the test PKI written into its mfg_nvs with AT+SYSMFG (3.1.19) as a
  // factory would, joined to the AP, echo off.
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    module_.emplace(dir, std::vector<std::string>{"--flash", (dir / (name + ".bin")).string()}, name);
    at_ = &module_->at();
    at_->send("ATE0\r\n");
    at_->expect("ATE0\r\n\r\nOK\r\n");
    for (auto [ns, key, file] : {std::tuple{"client_ca", "client_ca.0", "ca.pem"}, {"client_cert", "client_cert.0", "client.pem"},
                                 {"client_key", "client_key.0", "client.key"}, {"server_ca", "server_ca", "ca.pem"},
                                 {"server_cert", "server_cert", "server.pem"}, {"server_key", "server_key", "server.key"}}) {
      const std::string blob = espat::test::slurp(dir / file);
      at_->send(fmt::format("AT+SYSMFG=2,\"{}\",\"{}\",8,{}\r\n", ns, key, blob.size()));
      at_->expect("\r\nOK\r\n\r\n>");
      at_->send(blob);
      at_->expect("\r\nOK\r\n");
    }
    at_->send("AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n");
    at_->expect("WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
  }
  void TearDown() override {
    if (module_) EXPECT_TRUE(module_->stop());
  }

  // `openssl s_server -rev` (each line comes back reversed) on a port it prints.
  int start_server(std::vector<std::string> args) {
    std::vector<std::string> argv = {"openssl", "s_server", "-accept", "127.0.0.1:0", "-rev"};
    argv.insert(argv.end(), args.begin(), args.end());
    server_.emplace(argv, dir / (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".srv"));
    const std::string mark = "ACCEPT 127.0.0.1:";
    if (!server_->wait_output(mark)) throw std::runtime_error("s_server did not start: " + server_->output());
    std::string out = server_->output();
    return std::stoi(out.substr(out.find(mark) + mark.size()));
  }
  std::vector<std::string> server_cert() { return {"-cert", p("server.pem"), "-key", p("server.key")}; }

  // Send "test\n" on the link and read it back reversed: the guide's send/receive steps.
  void send_and_receive(const std::string& ipd_prefix) {
    at_->send(ipd_prefix.empty() ? "AT+CIPSEND=5\r\n" : "AT+CIPSEND=0,5\r\n");
    at_->expect("\r\nOK\r\n\r\n>");
    at_->send("test\n");
    at_->expect("\r\nRecv 5 bytes\r\n");
    // s_server answers at once: its line may come before SEND OK, as on a real module.
    const std::string ipd = ipd_prefix.empty() ? "\r\n\\+IPD,5:tset\n" : "\r\n\\+IPD,0,5:tset\n";
    at_->match("(\r\nSEND OK\r\n" + ipd + "|" + ipd + "\r\nSEND OK\r\n)", 5000ms);
  }

  std::optional<espat::e2e::PtyModule> module_;
  AtPort* at_ = nullptr;
  std::optional<Child> server_;
};

// 4.2.5: an SSL client with no authentication.
TEST_F(Ssl, ClientWithoutAuthentication) {
  const int port = start_server(server_cert());
  at_->send("AT+CIPSTART=\"SSL\",\"127.0.0.1\"," + std::to_string(port) + "\r\n");
  at_->expect("CONNECT\r\n\r\nOK\r\n", 10000ms);
  send_and_receive("");
  at_->send("AT+CIPSTATE?\r\n");
  at_->match("\\+CIPSTATE:0,\"SSL\",\"127\\.0\\.0\\.1\"," + std::to_string(port) + ",[0-9]+,0\r\n\r\nOK\r\n");
  at_->send("AT+CIPCLOSE\r\n");
  at_->expect("CLOSED\r\n\r\nOK\r\n");
}

// 4.2.7: mutual authentication, AT+CIPSSLCCONF=3,0,0: the server requires our certificate
// and we verify its own against client_ca.0.
TEST_F(Ssl, ClientWithMutualAuthentication) {
  const std::vector<std::string> args = {"-cert", p("server.pem"), "-key", p("server.key"), "-CAfile", p("ca.pem"), "-Verify", "1", "-verify_return_error"};
  const int port = start_server(args);
  at_->send("AT+CIPSSLCCONF=3,0,0\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+CIPSSLCCONF?\r\n");
  at_->expect("+CIPSSLCCONF:0,3,0,0\r\n\r\nOK\r\n");
  at_->send("AT+CIPSTART=\"SSL\",\"127.0.0.1\"," + std::to_string(port) + "\r\n");
  at_->expect("CONNECT\r\n\r\nOK\r\n", 10000ms);
  send_and_receive("");
}

// A server certificate the module's CA did not sign: ERROR and CLOSED, no link.
TEST_F(Ssl, VerificationFailureIsAnError) {
  const int port = start_server({"-cert", p("self.pem"), "-key", p("self.key")});
  at_->send("AT+CIPSSLCCONF=2,0,0\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+CIPSTART=\"SSL\",\"127.0.0.1\"," + std::to_string(port) + "\r\n");
  at_->expect("\r\nERROR\r\nCLOSED\r\n", 10000ms);
  at_->send("AT+CIPSTATE?\r\n");
  at_->expect("\r\nOK\r\n");
}

// 3.3.27: with a common name set, the server certificate's name must match it.
TEST_F(Ssl, CommonNameIsChecked) {
  const int port = start_server(server_cert());
  at_->send("AT+CIPSSLCCONF=2,0,0\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+CIPSSLCCN=\"someone-else\"\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+CIPSTART=\"SSL\",\"127.0.0.1\"," + std::to_string(port) + "\r\n");
  at_->expect("\r\nERROR\r\nCLOSED\r\n", 10000ms);
  at_->send("AT+CIPSSLCCN=\"espat-test-server\"\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+CIPSSLCCN?\r\n");
  at_->expect("+CIPSSLCCN:0,\"espat-test-server\"\r\n\r\nOK\r\n");
  at_->send("AT+CIPSTART=\"SSL\",\"127.0.0.1\"," + std::to_string(port) + "\r\n");
  at_->expect("CONNECT\r\n\r\nOK\r\n", 10000ms);
}

// 3.3.31: a pre-shared key in hex, identity "espat"; a wrong key is refused.
TEST_F(Ssl, PreSharedKey) {
  const int port = start_server({"-nocert", "-psk", "1a2b3c", "-psk_identity", "espat"});
  at_->send("AT+CIPSSLCPSKHEX=\"1a2b3d\",\"espat\"\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+CIPSTART=\"SSL\",\"127.0.0.1\"," + std::to_string(port) + "\r\n");
  at_->expect("\r\nERROR\r\nCLOSED\r\n", 10000ms);
  at_->send("AT+CIPSSLCPSKHEX=\"1a2b3c\",\"espat\"\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+CIPSSLCPSKHEX?\r\n");
  at_->expect("+CIPSSLCPSKHEX:0,\"1a2b3c\",\"espat\"\r\n\r\nOK\r\n");
  at_->send("AT+CIPSTART=\"SSL\",\"127.0.0.1\"," + std::to_string(port) + "\r\n");
  at_->expect("CONNECT\r\n\r\nOK\r\n", 10000ms);
  send_and_receive("");
}

// 4.2.6 and 4.2.8: the module as an SSL server; with <CA enable> 1 a client must present a
// certificate server_ca verifies.
TEST_F(Ssl, ServerChecksClientCertificates) {
  at_->send("AT+CIPMUX=1\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+CIPSERVER=1,18443,\"SSL\",1\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+CIPSERVER?\r\n");
  at_->expect("+CIPSERVER:1,18443,\"SSL\",1\r\n\r\nOK\r\n");
  {
    Child anonymous({"openssl", "s_client", "-connect", "127.10.1.100:18443", "-ign_eof"}, dir / "anon.log");
    at_->silence(1000ms);  // refused: no 0,CONNECT
  }
  Child client({"openssl", "s_client", "-connect", "127.10.1.100:18443", "-CAfile", p("ca.pem"), "-cert",
                p("client.pem"), "-key", p("client.key"), "-verify_return_error", "-ign_eof"},
               dir / "client.log");
  at_->expect("0,CONNECT\r\n", 10000ms);
  at_->send("AT+CIPSEND=0,4\r\n");
  at_->expect("\r\nOK\r\n\r\n>");
  at_->send("test");
  at_->expect("\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
  ASSERT_TRUE(client.wait_output("test", 5000ms)) << client.output();
  client.send("ping\n");
  at_->expect("\r\n+IPD,0,5:ping\n", 5000ms);
  at_->send("AT+CIPCLOSE=0\r\n");
  at_->expect("0,CLOSED\r\n\r\nOK\r\n");
  at_->send("AT+CIPSERVER=0\r\n");
  at_->expect("\r\nOK\r\n");
}

}  // namespace
