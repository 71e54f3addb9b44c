// The control API's port (README "Control API"): a second espat on a port in use is refused as
// --tcp refuses one.
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

  fs::path dir_;
  std::optional<EspatRun> first_, second_;
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

}  // namespace
