// Options of `espat run` seen from outside, over a real pty:
// - the traffic trace (README "Tracing"): `--trace FILE` records every byte of the AT port in
//   both directions, escaped, and the world's events between them, in the order they happened;
//   compared line by line (times masked);
// - fleets' flash (README "Fleets"): with `--flash-overlays` a module's settings go to its
//   overlay, the base image is never written, and `espat image export` gives back a plain image
//   that boots with those settings.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "at_port.hpp"
#include "process.hpp"

namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using espat::e2e::AtPort;
using espat::e2e::EspatRun;
using espat::e2e::PtyModule;
using espat::e2e::read_file;

// The trace without its times: "12.345678 m0 in  ..." → "m0 in  ...".
std::vector<std::string> records(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  static const std::regex time(R"(^\d+\.\d{6} )");
  for (std::string line; std::getline(in, line);) {
    EXPECT_TRUE(std::regex_search(line, time)) << line;
    out.push_back(std::regex_replace(line, time, ""));
  }
  return out;
}
}  // namespace

TEST(Trace, EveryByteBothWaysWithTheWorldsEvents) {
  const fs::path dir = fs::temp_directory_path() / ("espat-trace-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path trace = dir / "trace.log";
  {
    PtyModule m(dir, {"--flash", (dir / "flash.bin").string(), "--trace", trace.string()});
    m.at().send("AT\r\n");
    m.at().match("[\\s\\S]*?OK\r\n");
    m.at().send("AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n");
    m.at().match("[\\s\\S]*?OK\r\n", 5000ms);
    m.at().send(std::string("\x01\xff\r\n", 4));  // binary shows as \xNN
    m.at().match("[\\s\\S]*?ERROR\r\n");
  }  // SIGTERM: the trace is complete
  auto r = records(read_file(trace.string()));
  // The embedded world's APs come up first; the module's bytes follow in order.
  const std::vector<std::string> want = {
      "world  ap espat-ap added",
      "world  ap espat-open added",
      "world  ap espat-wpa3 added",
      "world  ap espat-enterprise added",
      "world  ap espat-hidden added",
      R"(m0 out "\r\nready\r\n")",
      R"(m0 in  "AT\r\n")",
      R"(m0 out "AT\r\n")",
      R"(m0 out "\r\nOK\r\n")",
      R"(m0 in  "AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n")",
      R"(m0 out "AT+CWJAP=\"espat-ap\",\"espat-password\"\r\n")",
  };
  ASSERT_GE(r.size(), want.size() + 4) << read_file(trace.string());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(r[i], want[i]) << i;
  EXPECT_TRUE(std::regex_match(r[want.size()], std::regex(R"(world  station 24:0a:c4(:[0-9a-f]{2}){3} joined espat-ap, lease 127\.10\.1\.\d+)")))
      << r[want.size()];
  EXPECT_EQ(r[want.size() + 1], R"(m0 out "WIFI CONNECTED\r\n")");
  EXPECT_EQ(r[want.size() + 2], R"(m0 out "WIFI GOT IP\r\n")");
  EXPECT_EQ(r[want.size() + 3], R"(m0 out "\r\nOK\r\n")");
  EXPECT_NE(read_file(trace.string()).find(R"(m0 in  "\x01\xff\r\n")"), std::string::npos);
  fs::remove_all(dir);
}

TEST(FlashOverlays, SettingsGoToTheOverlayAndExportBoots) {
  const fs::path dir = fs::temp_directory_path() / ("espat-overlays-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path base = dir / "base.bin", overlay = dir / "base-0.overlay", exported = dir / "m0.bin";
  {
    PtyModule m(dir, {"--flash", base.string(), "--flash-overlays"});
    m.at().send("AT+UART_DEF=921600,8,1,0,0\r\n");
    m.at().expect("AT+UART_DEF=921600,8,1,0,0\r\n\r\nOK\r\n");
  }
  const std::string base_bytes = read_file(base.string());
  ASSERT_EQ(base_bytes.size(), 4u << 20);
  EXPECT_TRUE(fs::exists(overlay));
  // Sparse: the header and the few sectors the module wrote, not 4 MiB.
  struct stat st {};
  ASSERT_EQ(::stat(overlay.c_str(), &st), 0);
  EXPECT_LT(st.st_blocks * 512, 64 * 1024);

  const std::string cmd = espat::e2e::espat_binary() + " image export " + overlay.string() + " -o " +
                          exported.string() + " > " + (dir / "export.out").string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file((dir / "export.out").string());
  EXPECT_NE(read_file(exported.string()), base_bytes);
  {
    PtyModule m(dir, {"--flash", exported.string()});
    m.at().send("AT+UART_DEF?\r\n");
    m.at().expect("AT+UART_DEF?\r\n+UART_DEF:921600,8,1,0,0\r\n\r\nOK\r\n");
  }
  {  // the base was never written: a plain module on it has the defaults
    PtyModule m(dir, {"--flash", base.string()});
    m.at().send("AT+UART_DEF?\r\n");
    m.at().expect("AT+UART_DEF?\r\n+UART_DEF:115200,8,1,0,1\r\n\r\nOK\r\n");
  }
  fs::remove_all(dir);
}
