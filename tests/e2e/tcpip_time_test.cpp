// Names and time end to end (spec 3.3.5, 3.3.20-3.3.22, 3.3.36): AT+CIPSNTPCFG against a real
// SNTP server on loopback (espat_sntp_peer, answering a fixed time; the world file points the
// modules' SNTP client at its port), +TIME_UPDATED, AT+CIPSNTPTIME? in both time-zone forms;
// AT+CIPDOMAIN through the world's names; AT+PING's real ICMP echo and its TIMEOUT answer.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "../test_pki.hpp"
#include "at_port.hpp"
#include "process.hpp"

namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using espat::e2e::AtPort;
using espat::e2e::EspatRun;
using espat::test::Child;

class NamesAndTime : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/espat-time-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // 2021-10-19 09:47:56 UTC: the guide's example time at UTC+8 is 17:47:56.
    sntp_.emplace(std::vector<std::string>{ESPAT_SNTP_PEER, "--port", "0", "--time", "1634636876"}, dir_ / "sntp.log");
    ASSERT_TRUE(sntp_->wait_output("port ", 5000ms)) << sntp_->output();
    const std::string out = sntp_->output();
    const int port = std::stoi(out.substr(out.find("port ") + 5));
    std::ofstream(dir_ / "world.toml") << "[world]\nsntp_port = " << port << "\n\n"
                                       << "[[ap]]\nssid = \"espat-ap\"\nsecurity = \"WPA2_PSK\"\npassword = \"espat-password\"\n"
                                       << "subnet = \"127.10.1.0/24\"\n\n[dns]\n\"time.espat.test\" = \"127.0.0.1\"\n";
    link_ = dir_ / "at";
    run_.emplace(std::vector<std::string>{"--pty", link_.string(), "--flash", (dir_ / "flash.bin").string(), "--world",
                                          (dir_ / "world.toml").string(), "--boot-ms", "0"},
                 dir_ / "err");
    for (int i = 0; i < 500 && !fs::exists(link_); ++i) std::this_thread::sleep_for(10ms);
    at_.emplace(link_);
    at_->expect("\r\nready\r\n", 5000ms);
    at_->send("ATE0\r\n");
    at_->expect("ATE0\r\n\r\nOK\r\n");
  }
  void TearDown() override {
    at_.reset();
    if (run_) EXPECT_TRUE(run_->stop());
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void join() {
    at_->send("AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n");
    at_->expect("WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
  }

  fs::path dir_, link_;
  std::optional<Child> sntp_;
  std::optional<EspatRun> run_;
  std::optional<AtPort> at_;
};

// 3.3.20-3.3.21, the guide's examples: UTC+8 as 8, then UTC+05:30 as 530.
TEST_F(NamesAndTime, SntpSetsTheClock) {
  at_->send("AT+CIPSNTPTIME?\r\n");
  at_->expect("+CIPSNTPTIME:Thu Jan  1 00:00:00 1970\r\n\r\nOK\r\n");  // no time yet: the epoch
  join();
  at_->send("AT+CIPSNTPCFG=1,8,\"time.espat.test\"\r\n");
  at_->expect("\r\nOK\r\n");
  at_->expect("+TIME_UPDATED\r\n", 5000ms);
  at_->send("AT+CIPSNTPTIME?\r\n");
  at_->match("\\+CIPSNTPTIME:Tue Oct 19 17:4[78]:[0-9]{2} 2021\r\n\r\nOK\r\n");
  at_->send("AT+CIPSNTPCFG?\r\n");
  at_->expect("+CIPSNTPCFG:1,8,\"time.espat.test\"\r\n\r\nOK\r\n");
  at_->send("AT+CIPSNTPCFG=1,530,\"127.0.0.1\"\r\n");
  at_->expect("\r\nOK\r\n");
  at_->expect("+TIME_UPDATED\r\n", 5000ms);
  at_->send("AT+CIPSNTPTIME?\r\n");
  at_->match("\\+CIPSNTPTIME:Tue Oct 19 15:1[78]:[0-9]{2} 2021\r\n\r\nOK\r\n");
  at_->send("AT+CIPSNTPCFG?\r\n");
  at_->expect("+CIPSNTPCFG:1,5,\"127.0.0.1\"\r\n\r\nOK\r\n");  // the ±hhmm form reads back in hours
  // AT+SYSTIMESTAMP is the same clock (3.1.23).
  at_->send("AT+SYSTIMESTAMP?\r\n");
  at_->match("\\+SYSTIMESTAMP:16346368[7-9][0-9]\r\n\r\nOK\r\n");
  at_->send("AT+CIPSNTPINTV=3600\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+CIPSNTPINTV?\r\n");
  at_->expect("+CIPSNTPINTV:3600\r\n\r\nOK\r\n");
  at_->send("AT+CIPSNTPINTV=14\r\n");
  at_->expect("\r\nERROR\r\n");
  at_->send("AT+CIPSNTPCFG=1,15,\"127.0.0.1\"\r\n");  // 0h15: valid in the second form
  at_->expect("\r\nOK\r\n");
  at_->expect("+TIME_UPDATED\r\n", 5000ms);
  at_->send("AT+CIPSNTPCFG?\r\n");
  at_->expect("+CIPSNTPCFG:1,0,\"127.0.0.1\"\r\n\r\nOK\r\n");  // 3.3.20 note: reads back as 0
  at_->send("AT+CIPSNTPCFG=1,1500\r\n");
  at_->expect("\r\nERROR\r\n");
}

// 3.3.5: the world's names first; 3.3.36: a real echo from loopback, TIMEOUT for a name that
// does not resolve; both need the module on a network.
TEST_F(NamesAndTime, DomainAndPing) {
  at_->send("AT+CIPDOMAIN=\"time.espat.test\"\r\n");
  at_->expect("\r\nERROR\r\n");
  at_->send("AT+PING=\"127.0.0.1\"\r\n");
  at_->expect("+PING:TIMEOUT\r\n\r\nERROR\r\n");
  join();
  at_->send("AT+CIPDOMAIN=\"time.espat.test\"\r\n");
  at_->expect("+CIPDOMAIN:\"127.0.0.1\"\r\n\r\nOK\r\n");
  at_->send("AT+CIPDOMAIN=\"time.espat.test\",3\r\n");  // IPv6 only: the world has none
  at_->expect("\r\nERROR\r\n");
  at_->send("AT+CIPDOMAIN=\"no-such-name.invalid\"\r\n");
  at_->expect("\r\nERROR\r\n", 8000ms);
  at_->send("AT+PING=\"time.espat.test\"\r\n");
  at_->match("\\+PING:[0-9]+\r\n\r\nOK\r\n", 5000ms);
  at_->send("AT+PING=\"no-such-name.invalid\"\r\n");
  at_->expect("+PING:TIMEOUT\r\n\r\nERROR\r\n", 8000ms);
}

}  // namespace
