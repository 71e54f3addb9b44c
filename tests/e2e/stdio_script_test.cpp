// `espat run --stdio --script` fed from a pipe (README "Attaching a terminal or a program to the
// AT port"): the lines wait for ready, go one at a time, and espat exits with status 0 once the
// last one has answered; stdout is compared byte for byte. Without --script a pipe is a raw
// UART: what comes during boot is lost, as on a real module.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <regex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "process.hpp"
#include "transcript.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using espat::e2e::escape;
using espat::e2e::read_file;
using espat::e2e::scaled;

class StdioScript : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "espat-script-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (HasFailure()) std::cout << "stderr of espat:\n" << read_file((dir_ / "stderr.log").string());
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // `printf INPUT | espat run OPTIONS --flash <tmp> --boot-ms 20`, through the shell as a user
  // types it; returns stdout once espat has exited by itself with status 0.
  std::string run(const std::string& printf_format, const std::string& options) {
    const std::string cmd = "printf '" + printf_format + "' | \"$0\" run " + options + " --flash \"$1\" --boot-ms 20";
    const fs::path out = dir_ / ("stdout-" + std::to_string(++runs_) + ".bin");
    const pid_t pid = espat::e2e::spawn_module({"/bin/sh", "-c", cmd, espat::e2e::espat_binary(),
                                                (dir_ / "flash.bin").string()},
                                               out.string(), (dir_ / "stderr.log").string());
    int st = 0;
    const auto deadline = std::chrono::steady_clock::now() + scaled(10s);
    while (::waitpid(pid, &st, WNOHANG) != pid) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &st, 0);
        ADD_FAILURE() << "`" << cmd << "` did not end within 10 s";
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "wait status " << st;
    return read_file(out.string());
  }

  fs::path dir_;
  int runs_ = 0;
};

TEST_F(StdioScript, CommandsFromAPipe) {
  const std::string out = run("AT\\r\\nAT+GMR\\r\\n", "--stdio --script");
  // AT+GMR's version lines carry this build's commit and time (3.1.4-gmr.at checks them).
  const std::regex want(
      "\r\nready\r\n"
      "AT\r\n\r\nOK\r\n"
      "AT\\+GMR\r\n"
      "AT version:4\\.1\\.1\\.0\\(s-[0-9a-f]{7} - ESP32 - [A-Z][a-z]{2} [ \\d]\\d \\d{4} \\d{2}:\\d{2}:\\d{2}\\)\r\n"
      "SDK version:v[^\r\n]*\r\n"
      "compile time\\([0-9a-f]{7}\\):[A-Z][a-z]{2} [ \\d]\\d \\d{4} \\d{2}:\\d{2}:\\d{2}\r\n"
      "Bin version:v4\\.1\\.1\\.0\\(WROOM-32\\)\r\n"
      "\r\nOK\r\n");
  EXPECT_TRUE(std::regex_match(out, want)) << escape(out);
}

// LF alone ends a script line (a file written on Linux); blank lines are skipped; a restart is
// waited for; settings go to the flash file as usual.
TEST_F(StdioScript, LinesRestartsAndFlash) {
  EXPECT_EQ(run("ATE0\\n\\nAT+SYSSTORE?\\nAT+CWMODE=2\\r\\nAT+RST\\nAT+CWMODE?", "--script"),
            "\r\nready\r\n"
            "ATE0\r\n\r\nOK\r\n"
            "+SYSSTORE:1\r\n\r\nOK\r\n"
            "\r\nOK\r\n"
            "\r\nOK\r\n"
            "\r\nready\r\n"
            "AT+CWMODE?\r\n+CWMODE:2\r\n\r\nOK\r\n");  // echo is on again after the restart
  EXPECT_EQ(run("ATE0\\r\\nAT+CWMODE?\\r\\n", "--stdio --script"),
            "\r\nready\r\nATE0\r\n\r\nOK\r\n+CWMODE:2\r\n\r\nOK\r\n");
}

// Without --script the pipe is the UART's wire: the line sent during boot is lost.
TEST_F(StdioScript, WithoutScriptInputDuringBootIsLost) {
  EXPECT_EQ(run("AT\\r\\n", "--stdio"), "\r\nready\r\n");
}

}  // namespace
