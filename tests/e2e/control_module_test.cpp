// The control API's port and its module endpoints (README "Control API"): a second espat on a
// port in use is refused as --tcp refuses one; POST /modules/{k}/reset restarts a module as
// AT+RST does (spec 3.1.3: "ready" again, settings read from flash, the RTC of AT+SYSTIMESTAMP
// running on, spec 3.1.23) and cuts a running command short; POST /modules/{k}/power-cycle also
// loses the RTC.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "at_port.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using espat::e2e::AtPort;
using espat::e2e::EspatRun;
using espat::e2e::Failure;
using nlohmann::json;

class ControlModule : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "espat-control-module-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    at_.reset();
    for (auto* e : {&first_, &second_})
      if (*e) {
        if (HasFailure()) std::cout << "stderr of espat:\n" << (*e)->stderr_text();
        e->reset();
      }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // espat with one module on a pty, its control API on `port` (0: a free one).
  std::vector<std::string> args(const std::string& name, int port) const {
    return {"--pty",    (dir_ / name).string(), "--flash", (dir_ / (name + ".bin")).string(),
            "--boot-ms", "20",                 "--control", std::to_string(port)};
  }

  // A POST whose status must be 200; returns the body.
  json post(int port, const std::string& path) {
    httplib::Client c("127.0.0.1", port);
    auto r = c.Post(path.c_str(), "{}", "application/json");
    if (!r) throw Failure("POST " + path + ": no answer");
    if (r->status != 200) throw Failure("POST " + path + ": status " + std::to_string(r->status) + ": " + r->body);
    return json::parse(r->body);
  }

  fs::path dir_;
  std::optional<EspatRun> first_, second_;
  std::optional<AtPort> at_;
};

TEST_F(ControlModule, APortInUseIsRefused) {
  try {
    first_.emplace(args("a", 0), dir_ / "a.log");
    const int port = first_->control_port();
    second_.emplace(args("b", port), dir_ / "b.log");
    EXPECT_EQ(second_->exit_status(5000ms), 2);
    EXPECT_NE(second_->stderr_text().find("espat: control API: cannot listen on 127.0.0.1:" + std::to_string(port) +
                                          ": Address already in use\n"),
              std::string::npos)
        << second_->stderr_text();
    // Every request still reaches the first one.
    httplib::Client c("127.0.0.1", port);
    for (int i = 0; i < 4; ++i) {
      auto r = c.Get("/modules/0");
      ASSERT_TRUE(r);
      EXPECT_EQ(json::parse(r->body)["flash"], (dir_ / "a.bin").string());
    }
    EXPECT_TRUE(first_->stop());
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

TEST_F(ControlModule, ResetKeepsTheRtcAndPowerCycleDoesNot) {
  try {
    first_.emplace(args("a", 0), dir_ / "a.log");
    const int port = first_->control_port();
    at_.emplace(dir_ / "a");
    AtPort& at = *at_;
    at.expect("\r\nready\r\n");
    at.send("ATE0\r\n");
    at.expect("ATE0\r\n\r\nOK\r\n");
    at.send("AT+CWMODE=2\r\n");  // saved: AT+SYSSTORE is 1
    at.expect("\r\nOK\r\n");
    at.send("AT+CWMODE_CUR=3\r\n");  // not saved
    at.expect("\r\nOK\r\n");
    at.send("AT+SYSTIMESTAMP=1700000000\r\n");
    at.expect("\r\nOK\r\n");

    EXPECT_EQ(post(port, "/modules/0/reset"), json({{"reset", 0}}));
    at.expect("\r\nready\r\n");
    // Echo is on again and the mode is the saved one; the RTC ran on.
    at.send("AT+CWMODE?\r\n");
    at.expect("AT+CWMODE?\r\n+CWMODE:2\r\n\r\nOK\r\n");
    at.send("AT+SYSTIMESTAMP?\r\n");
    at.match(R"(AT\+SYSTIMESTAMP\?\r\n\+SYSTIMESTAMP:170000000\d\r\n\r\nOK\r\n)");

    // A reset cuts a command short: its answer never comes, and the module is free after ready.
    at.send("AT+CWMODE_CUR=3\r\n");
    at.expect("AT+CWMODE_CUR=3\r\n\r\nOK\r\n");
    at.send("AT+CWLAP\r\n");  // a scan takes 500 ms
    at.expect("AT+CWLAP\r\n");
    post(port, "/modules/0/reset");
    at.expect("\r\nready\r\n");
    at.silence(700ms);
    at.send("AT+CWMODE?\r\n");
    at.expect("AT+CWMODE?\r\n+CWMODE:2\r\n\r\nOK\r\n");

    at.send("AT+CWMODE_CUR=3\r\n");
    at.expect("AT+CWMODE_CUR=3\r\n\r\nOK\r\n");
    EXPECT_EQ(post(port, "/modules/0/power-cycle"), json({{"power_cycled", 0}}));
    at.expect("\r\nready\r\n");
    at.send("AT+CWMODE?\r\n");
    at.expect("AT+CWMODE?\r\n+CWMODE:2\r\n\r\nOK\r\n");
    // The RTC counts from this power-on: seconds, not 2023.
    at.send("AT+SYSTIMESTAMP?\r\n");
    at.match(R"(AT\+SYSTIMESTAMP\?\r\n\+SYSTIMESTAMP:\d\r\n\r\nOK\r\n)");
    at.silence(100ms);
    EXPECT_TRUE(first_->stop());
  } catch (const Failure& e) {
    FAIL() << e.what();
  }
}

}  // namespace
