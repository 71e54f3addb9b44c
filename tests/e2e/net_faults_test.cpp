// Network fault refuse on the module's server (README "Network faults"): while it holds, nobody
// listens on the module's address, so a client's connect is refused by the host's TCP (what a
// transcript's tcp_connect cannot expect); once it is cleared the server listens again and the
// client gets its link id.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <httplib.h>

#include "at_port.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using espat::e2e::AtPort;
using espat::e2e::EspatRun;
using espat::e2e::Failure;

// connect() to ip:port: 0 when it connects, else its errno.
int connect_errno(const char* ip, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(std::uint16_t(port));
  ::inet_pton(AF_INET, ip, &to.sin_addr);
  const int r = ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  const int e = r == 0 ? 0 : errno;
  ::close(fd);
  return e;
}

class NetFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "espat-net-faults-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    at_.reset();
    if (espat_) {
      if (HasFailure()) std::cout << "stderr of espat:\n" << espat_->stderr_text();
      espat_.reset();
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void patch(const std::string& path, const std::string& body) {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Patch(path.c_str(), body, "application/json");
    if (!r || r->status != 200) throw Failure("PATCH " + path + " " + body + " failed");
  }
  void command(const std::string& line, const std::string& answer, std::chrono::milliseconds t = 3000ms) {
    at_->send(line + "\r\n");
    at_->expect(answer, t);
  }

  fs::path dir_;
  std::optional<EspatRun> espat_;
  std::optional<AtPort> at_;
  int port_ = 0;
};

TEST_F(NetFaults, RefusedServerClients) {
  try {
    espat_.emplace(std::vector<std::string>{"--pty", (dir_ / "at").string(), "--flash", (dir_ / "flash.bin").string(),
                                            "--boot-ms", "20", "--control", "0"},
                   dir_ / "stderr.log");
    port_ = espat_->control_port();
    at_.emplace(dir_ / "at");
    at_->expect("\r\nready\r\n");
    command("ATE0", "ATE0\r\n\r\nOK\r\n");
    command("AT+CWMODE=1", "\r\nOK\r\n");
    command("AT+CWJAP=\"espat-ap\",\"espat-password\"", "WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n", 5000ms);
    command("AT+CIPMUX=1", "\r\nOK\r\n");

    // Refused from before the server starts: AT+CIPSERVER still answers OK.
    patch("/aps/espat-ap", R"({"refuse": true})");
    command("AT+CIPSERVER=1,3333", "\r\nOK\r\n");
    EXPECT_EQ(connect_errno("127.10.1.100", 3333), ECONNREFUSED);
    at_->silence(200ms);

    patch("/aps/espat-ap", R"({"refuse": false})");
    EXPECT_EQ(connect_errno("127.10.1.100", 3333), 0);  // closed at once by this side
    at_->expect("0,CONNECT\r\n");
    at_->expect("0,CLOSED\r\n");

    // Set while the server runs: it stops listening (the module's own faults this time).
    patch("/modules/0/faults", R"({"refuse": true})");
    EXPECT_EQ(connect_errno("127.10.1.100", 3333), ECONNREFUSED);
    patch("/modules/0/faults", R"({"refuse": false})");
    EXPECT_EQ(connect_errno("127.10.1.100", 3333), 0);
    at_->expect("0,CONNECT\r\n");
    at_->expect("0,CLOSED\r\n");
    at_->silence(100ms);
    at_.reset();
    EXPECT_TRUE(espat_->stop());
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

}  // namespace
