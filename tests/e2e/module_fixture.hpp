// The fixture of the end-to-end tests that drive one module of their own against peers they
// start (HTTP, WebSocket): a fresh flash in a temporary directory, echo off, AT+SYSLOG=1 so that
// errors carry their codes, and the join to the default world's AP.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "at_port.hpp"

namespace espat::e2e {

class ModuleTest : public ::testing::Test {
 protected:
  explicit ModuleTest(const std::string& stem) : dir_(stem) {}

  void start_module() {
    module_.emplace(dir_.path(), std::vector<std::string>{"--flash", (dir_ / "flash.bin").string()});
    at_ = &module_->at();
    at_->send("ATE0\r\n");
    at_->expect("ATE0\r\n\r\nOK\r\n");
    at_->send("AT+SYSLOG=1\r\n");
    at_->expect("\r\nOK\r\n");
  }
  void TearDown() override {
    if (module_) {
      EXPECT_TRUE(module_->stop());
    }
  }
  void join() {
    at_->send("AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n");
    at_->expect("WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n", std::chrono::milliseconds(5000));
  }

  TempDir dir_;
  std::optional<PtyModule> module_;
  AtPort* at_ = nullptr;
};

}  // namespace espat::e2e
