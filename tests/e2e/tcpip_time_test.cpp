// Names and time end to end (spec 3.3.5, 3.3.20-3.3.22, 3.3.36): AT+CIPSNTPCFG against a real
// SNTP server on loopback (espat_sntp_peer, answering a fixed time; the world file points the
// modules' SNTP client at its port), +TIME_UPDATED, AT+CIPSNTPTIME? in both time-zone forms;
// AT+CIPDOMAIN through the world's names; AT+PING's real ICMP echo and its TIMEOUT answer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

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
using espat::test::Child;

class NamesAndTime : public ::testing::Test {
 protected:
  void SetUp() override {
    // 2021-10-19 09:47:56 UTC: the guide's example time at UTC+8 is 17:47:56.
    sntp_.emplace(std::vector<std::string>{ESPAT_SNTP_PEER, "--port", "0", "--time", "1634636876"}, dir_ / "sntp.log");
    ASSERT_TRUE(sntp_->wait_output("port ", 5000ms)) << sntp_->output();
    const std::string out = sntp_->output();
    const int port = std::stoi(out.substr(out.find("port ") + 5));
    start_dns();
    std::ofstream(dir_ / "world.toml") << "[world]\nsntp_port = " << port << "\ndns_port = " << dns_port_ << "\n\n"
                                       << "[[ap]]\nssid = \"espat-ap\"\nsecurity = \"WPA2_PSK\"\npassword = \"espat-password\"\n"
                                       << "subnet = \"127.10.1.0/24\"\n\n[dns]\n\"time.espat.test\" = \"127.0.0.1\"\n";
    module_.emplace(dir_.path(), std::vector<std::string>{"--flash", (dir_ / "flash.bin").string(), "--world",
                                                          (dir_ / "world.toml").string()});
    at_ = &module_->at();
    at_->send("ATE0\r\n");
    at_->expect("ATE0\r\n\r\nOK\r\n");
  }
  void TearDown() override {
    if (module_) EXPECT_TRUE(module_->stop());
    if (dns_fd_ >= 0) ::shutdown(dns_fd_, SHUT_RDWR), ::close(dns_fd_);
    if (dns_.joinable()) dns_.join();
  }
  void join() {
    at_->send("AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n");
    at_->expect("WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n");
  }

  // A DNS server on loopback for AT+CIPDNS=1: every name is 127.0.0.9, but names starting with
  // "nx" do not exist (NXDOMAIN). It counts the queries it answered.
  void start_dns() {
    dns_fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(dns_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(dns_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    dns_port_ = ntohs(a.sin_port);
    timeval tv{0, 200'000};
    ::setsockopt(dns_fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    dns_ = std::thread([this] {
      unsigned char q[512];
      for (int idle = 0; idle < 150;) {
        sockaddr_in from{};
        socklen_t flen = sizeof from;
        ssize_t n = ::recvfrom(dns_fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &flen);
        if (n < 12) {
          ++idle;
          continue;
        }
        std::string r(reinterpret_cast<char*>(q), std::size_t(n));
        const bool nx = n > 14 && q[13] == 'n' && q[14] == 'x';
        r[2] = char(0x81);
        r[3] = char(nx ? 0x83 : 0x80);
        r[7] = nx ? 0 : 1;  // one answer
        if (!nx) r += std::string("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x09", 16);
        ::sendto(dns_fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
        ++dns_answered_;
      }
    });
  }

  int dns_fd_ = -1, dns_port_ = 0;
  std::atomic<int> dns_answered_{0};
  std::thread dns_;
  espat::e2e::TempDir dir_{"espat-time"};
  std::optional<Child> sntp_;
  std::optional<espat::e2e::PtyModule> module_;
  AtPort* at_ = nullptr;
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

// 3.3.37: AT+CIPDNS=1 with a server: that server answers, not the host's resolver; the
// world's names still come first; AT+CIPDNS=0 goes back to the automatic servers.
TEST_F(NamesAndTime, DnsServersAreUsed) {
  join();
  at_->send("AT+CIPDNS?\r\n");
  at_->expect("+CIPDNS:0,\"127.10.1.1\"\r\n\r\nOK\r\n");  // what the AP's DHCP gave
  at_->send("AT+CIPDNS=1,\"127.0.0.1\"\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+CIPDNS?\r\n");
  at_->expect("+CIPDNS:1,\"127.0.0.1\"\r\n\r\nOK\r\n");
  at_->send("AT+CIPDOMAIN=\"anything.example\"\r\n");
  at_->expect("+CIPDOMAIN:\"127.0.0.9\"\r\n\r\nOK\r\n");
  EXPECT_EQ(dns_answered_.load(), 1);
  at_->send("AT+CIPDOMAIN=\"nx.example\"\r\n");
  at_->expect("\r\nERROR\r\n");
  EXPECT_EQ(dns_answered_.load(), 3);  // A, then AAAA: <ip network> 1 prefers IPv4, takes IPv6
  at_->send("AT+CIPDOMAIN=\"time.espat.test\"\r\n");  // the world's name: no query
  at_->expect("+CIPDOMAIN:\"127.0.0.1\"\r\n\r\nOK\r\n");
  EXPECT_EQ(dns_answered_.load(), 3);
  at_->send("AT+CIPDNS=1,\"127.0.0.1\",\"127.0.0.1\"\r\n");  // the same server twice
  at_->expect("\r\nERROR\r\n");
  at_->send("AT+CIPDNS=0\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+CIPDOMAIN=\"localhost\"\r\n");  // the host's resolver again
  at_->expect("+CIPDOMAIN:\"127.0.0.1\"\r\n\r\nOK\r\n");
}

}  // namespace
