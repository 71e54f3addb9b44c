// --script: what is handed to the module when (transport/script_feeder.hpp).
#include <gtest/gtest.h>

#include "transport/script_feeder.hpp"

namespace espat::transport {
namespace {

TEST(ScriptFeeder, WaitsForReadyThenOneLineAtATime) {
  ScriptFeeder f;
  f.add_input("AT\r\nATE0\nAT+GMR\r\n");
  f.end_input();
  EXPECT_EQ(f.next(), std::nullopt);  // booting: input would be lost
  f.output("\r\nready\r\n");
  EXPECT_EQ(f.next(), "AT\r\n");
  EXPECT_EQ(f.next(), std::nullopt);  // no answer yet
  f.output("AT\r\n");                 // the echo is not the answer
  EXPECT_EQ(f.next(), std::nullopt);
  f.output("\r\nOK\r\n");
  EXPECT_EQ(f.next(), "ATE0\r\n");    // LF alone ends a script line too; CR-LF is sent
  f.output("ATE0\r\n\r\nOK\r\n");
  EXPECT_EQ(f.next(), "AT+GMR\r\n");
  EXPECT_FALSE(f.finished());
  f.output("AT version:4.1.1.0\r\n\r\nERROR\r\n");
  EXPECT_EQ(f.next(), std::nullopt);
  EXPECT_TRUE(f.finished());
}

TEST(ScriptFeeder, AnEchoedFinalWordIsNotTheResult) {
  ScriptFeeder f;
  f.output("\r\nready\r\n");
  f.add_input("OK\r\nAT\r\n");
  EXPECT_EQ(f.next(), "OK\r\n");
  f.output("OK\r\n");  // echo
  EXPECT_EQ(f.next(), std::nullopt);
  f.output("\r\nERROR\r\n");
  EXPECT_EQ(f.next(), "AT\r\n");
}

TEST(ScriptFeeder, EveryFinalResult) {
  for (const char* r : {"OK", "ERROR", "FAIL", "SEND OK", "SEND FAIL"}) {
    ScriptFeeder f;
    f.output("\r\nready\r\n");
    f.add_input("AT+X\r\nAT\r\n");
    ASSERT_EQ(f.next(), "AT+X\r\n");
    f.output("\r\n+X:1\r\nbusy p...\r\nOKAY\r\n");
    EXPECT_EQ(f.next(), std::nullopt) << r;
    f.output(std::string("\r\n") + r + "\r\n");
    EXPECT_EQ(f.next(), "AT\r\n") << r;
  }
}

TEST(ScriptFeeder, BlankLinesAreSkippedAndTheLastLineNeedsNoLineEnd) {
  ScriptFeeder f;
  f.output("\r\nready\r\n");
  f.add_input("\r\n\nAT\r\n\r\nAT+GMR");
  EXPECT_EQ(f.next(), "AT\r\n");
  f.output("\r\nOK\r\n");
  EXPECT_EQ(f.next(), std::nullopt);  // "AT+GMR" may go on
  EXPECT_FALSE(f.finished());
  f.end_input();
  EXPECT_EQ(f.next(), "AT+GMR\r\n");
  f.output("\r\nOK\r\n");
  EXPECT_EQ(f.next(), std::nullopt);
  EXPECT_TRUE(f.finished());
}

TEST(ScriptFeeder, RestartsAreDoneAtReady) {
  for (const char* cmd : {"AT+RST", "AT+RESTORE", "AT+GSLP=100", "AT+SYSROLLBACK"}) {
    ScriptFeeder f;
    f.output("\r\nready\r\n");
    f.add_input(std::string(cmd) + "\r\nAT\r\n");
    f.end_input();
    ASSERT_EQ(f.next(), std::string(cmd) + "\r\n");
    f.output("\r\nOK\r\n");
    EXPECT_EQ(f.next(), std::nullopt) << cmd;  // deaf until it has booted
    f.output("\r\nready\r\n");
    EXPECT_EQ(f.next(), "AT\r\n") << cmd;
  }
  // A refused restart is done at its ERROR.
  ScriptFeeder f;
  f.output("\r\nready\r\n");
  f.add_input("AT+SYSROLLBACK\r\nAT\r\n");
  ASSERT_EQ(f.next(), "AT+SYSROLLBACK\r\n");
  f.output("\r\nERROR\r\n");
  EXPECT_EQ(f.next(), "AT\r\n");
}

// A blocking AT+CIUPDATE of the application restarts after its OK (spec 3.3.24); a
// non-blocking one, or one of another partition, does not.
TEST(ScriptFeeder, CiupdateRestartsWhenBlockingOnTheApplication) {
  const std::pair<const char*, bool> cases[] = {
      {"AT+CIUPDATE", true},           {"AT+CIUPDATE=0", true},          {"AT+CIUPDATE=1,\"v2.2.0.0\"", true},
      {"AT+CIUPDATE=1,\"v2\",\"ota\"", true}, {"AT+CIUPDATE=1,,,0", true},       {"AT+CIUPDATE=1,,,1", false},
      {"AT+CIUPDATE=1,\"v2\",\"mqtt_ca\"", false}, {"AT+CIUPDATE=1,\"a,b\",\"ota\",1", false}, {"AT+CIUPDATE?", false},
  };
  for (const auto& [cmd, restarts] : cases) {
    ScriptFeeder f;
    f.output("\r\nready\r\n");
    f.add_input(std::string(cmd) + "\r\nAT\r\n");
    f.end_input();
    ASSERT_EQ(f.next(), std::string(cmd) + "\r\n");
    f.output("\r\nOK\r\n");
    if (restarts) {
      EXPECT_EQ(f.next(), std::nullopt) << cmd;
      f.output("\r\nready\r\n");
    }
    EXPECT_EQ(f.next(), "AT\r\n") << cmd;
  }
}

TEST(ScriptFeeder, ARestartWhileWaitingEndsTheWait) {
  ScriptFeeder f;
  f.output("\r\nready\r\n");
  f.add_input("AT+CWJAP=\"a\",\"b\"\r\nAT\r\n");
  ASSERT_EQ(f.next(), "AT+CWJAP=\"a\",\"b\"\r\n");
  f.output("\r\nready\r\n");  // reset through the control API: no answer will come
  EXPECT_EQ(f.next(), "AT\r\n");
}

TEST(ScriptFeeder, DataAfterThePrompt) {
  ScriptFeeder f;
  f.output("\r\nready\r\n");
  f.add_input("AT+SYSFLASH=1,\"fatfs\",0,5\r\nhello\r\nAT\r\n");
  ASSERT_EQ(f.next(), "AT+SYSFLASH=1,\"fatfs\",0,5\r\n");
  f.output("AT+SYSFLASH=1,\"fatfs\",0,5\r\n\r\nOK\r\n\r\n>");
  EXPECT_EQ(f.next(), "hello");  // the data, without its line end
  EXPECT_EQ(f.next(), std::nullopt);
  f.output("\r\nOK\r\n");
  EXPECT_EQ(f.next(), "AT\r\n");
}

}  // namespace
}  // namespace espat::transport
