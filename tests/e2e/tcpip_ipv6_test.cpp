// IPv6 links end to end (spec 3.3.2, 3.3.6 "TCPv6"/"UDPv6", 3.3.16 "TCPv6" server): with
// AT+CIPV6=1 a module on a network opens TCPv6 and UDPv6 links to a peer on ::1 and serves
// TCPv6 clients. Skipped where the host has no IPv6 loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "at_port.hpp"
#include "process.hpp"

namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using espat::e2e::AtPort;

// A socket on [::1]:0 of the given type; -1 when IPv6 loopback is unavailable.
int v6_socket(int type, int& port) {
  int fd = ::socket(AF_INET6, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  if (type == SOCK_STREAM) ::listen(fd, 4);
  port = ntohs(a.sin6_port);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string recv_some(int fd) {
  char buf[256];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, std::size_t(n)) : std::string();
}

class Ipv6 : public ::testing::Test {
 protected:
  void SetUp() override {
    module_.emplace(dir_.path(), std::vector<std::string>{"--flash", (dir_ / "flash.bin").string()});
    at_ = &module_->at();
    at_->send("ATE0\r\n");
    at_->expect("ATE0\r\n\r\nOK\r\n");
    at_->send("AT+CIPV6=1\r\n");
    at_->expect("\r\nOK\r\n");
    at_->send("AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n");
    at_->expect("WIFI CONNECTED\r\nWIFI GOT IP\r\nWIFI GOT IPv6 LL\r\n\r\nOK\r\n");
  }
  void TearDown() override {
    if (module_) EXPECT_TRUE(module_->stop());
  }
  espat::e2e::TempDir dir_{"espat-ipv6"};
  std::optional<espat::e2e::PtyModule> module_;
  AtPort* at_ = nullptr;
};

TEST_F(Ipv6, TcpAndUdpLinks) {
  int tport = 0, uport = 0;
  int listener = v6_socket(SOCK_STREAM, tport), udp = v6_socket(SOCK_DGRAM, uport);
  if (listener < 0 || udp < 0) GTEST_SKIP() << "no IPv6 loopback on this host";
  at_->send("AT+CIPMUX=1\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+CIPSTART=0,\"TCPv6\",\"::1\"," + std::to_string(tport) + "\r\n");
  at_->expect("0,CONNECT\r\n\r\nOK\r\n");
  int peer = ::accept(listener, nullptr, nullptr);
  ASSERT_GE(peer, 0);
  at_->send("AT+CIPSTATE?\r\n");
  at_->match("\\+CIPSTATE:0,\"TCPv6\",\"::1\"," + std::to_string(tport) + ",[0-9]+,0\r\n\r\nOK\r\n");
  at_->send("AT+CIPSEND=0,4\r\n");
  at_->expect("\r\nOK\r\n\r\n>");
  at_->send("six!");
  at_->expect("\r\nRecv 4 bytes\r\n\r\nSEND OK\r\n");
  EXPECT_EQ(recv_some(peer), "six!");
  ::send(peer, "back", 4, 0);
  at_->expect("\r\n+IPD,0,4:back");

  at_->send("AT+CIPSTART=1,\"UDPv6\",\"::1\"," + std::to_string(uport) + "\r\n");
  at_->expect("1,CONNECT\r\n\r\nOK\r\n");
  at_->send("AT+CIPSEND=1,3\r\n");
  at_->expect("\r\nOK\r\n\r\n>");
  at_->send("udp");
  at_->expect("\r\nRecv 3 bytes\r\n\r\nSEND OK\r\n");
  sockaddr_in6 from{};
  socklen_t flen = sizeof from;
  char buf[16];
  ssize_t n = ::recvfrom(udp, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
  ASSERT_EQ(n, 3);
  ::sendto(udp, "pong", 4, 0, reinterpret_cast<sockaddr*>(&from), flen);
  at_->expect("\r\n+IPD,1,4:pong");
  at_->send("AT+CIPCLOSE=5\r\n");
  at_->expect("0,CLOSED\r\n1,CLOSED\r\n\r\nOK\r\n");
  ::close(peer);
  ::close(listener);
  ::close(udp);
}

TEST_F(Ipv6, TcpServer) {
  int probe_port = 0;
  int probe = v6_socket(SOCK_STREAM, probe_port);
  if (probe < 0) GTEST_SKIP() << "no IPv6 loopback on this host";
  ::close(probe);
  at_->send("AT+CIPMUX=1\r\n");
  at_->expect("\r\nOK\r\n");
  at_->send("AT+CIPSERVER=1,18606,\"TCPv6\"\r\n");
  at_->expect("\r\nOK\r\n");
  int c = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  a.sin6_port = htons(18606);
  ASSERT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  at_->expect("0,CONNECT\r\n");
  ::send(c, "hi", 2, 0);
  at_->expect("\r\n+IPD,0,2:hi");
  ::close(c);
  at_->expect("0,CLOSED\r\n");
  at_->send("AT+CIPSERVER=0\r\n");
  at_->expect("\r\nOK\r\n");
}

}  // namespace
