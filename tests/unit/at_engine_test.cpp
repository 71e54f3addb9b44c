// The engine on its own: results, echo, busy, data input, passthrough and "+++" timing
// (spec 3.3.8-3.3.9 rules as engine services; protocol-rules §2, §5).
#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <thread>

#include "at/engine.hpp"

using namespace espat::at;
using namespace std::chrono_literals;

namespace {
struct Fixture : ::testing::Test {
  asio::io_context io;
  Registry reg;
  std::string out;
  std::vector<std::string> sent;  // passthrough packets
  bool exited = false;
  std::unique_ptr<Engine> engine;

  void SetUp() override {
    reg.add({.name = "", .exec = [](Call&) -> asio::awaitable<Result> { co_return Result::ok(); }});
    reg.add({.name = "+SLOW", .exec = [this](Call&) -> asio::awaitable<Result> {
               asio::steady_timer t(io, 100ms);
               co_await t.async_wait(asio::use_awaitable);
               co_return Result::ok();
             }});
    reg.add({.name = "+DATA", .set = [](Call& c) -> asio::awaitable<Result> {
               std::string d = co_await c.read_data(std::size_t(c.args.integer(0)));
               c.reply("+DATA:" + d + "\r\n");
               co_return Result::ok();
             }, .params = {Int{"len", 0, 100}}});
    reg.add({.name = "+PT", .exec = [this](Call& c) -> asio::awaitable<Result> {
               c.after_result([this] {
                 engine->enter_passthrough({.send = [this](std::string s) { sent.push_back(s); },
                                            .exited = [this] { exited = true; }});
               });
               co_return Result::ok();
             }});
    engine = std::make_unique<Engine>(io, reg, [this](std::string s) { out += s; });
  }
  void input(std::string_view s) {
    engine->on_input({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
    settle();
  }
  void settle(std::chrono::milliseconds d = 0ms) {
    io.restart();
    if (d.count()) io.run_for(d);
    io.poll();
  }
  std::string take() { return std::exchange(out, {}); }
};
}  // namespace

TEST_F(Fixture, EchoAndResult) {
  input("AT\r\n");
  EXPECT_EQ(take(), "AT\r\n\r\nOK\r\n");
  input("AT+NOPE\r\n");
  EXPECT_EQ(take(), "AT+NOPE\r\n\r\nERROR\r\n");
  engine->set_syslog(true);
  input("AT+NOPE\r\n");
  EXPECT_EQ(take(), "AT+NOPE\r\nERR CODE:0x01090000\r\n\r\nERROR\r\n");
  input("AT?\r\n");  // a form AT does not have
  EXPECT_EQ(take(), "AT?\r\nERR CODE:0x010c0000\r\n\r\nERROR\r\n");
}

TEST_F(Fixture, BusyWhileACommandRuns) {
  engine->set_echo(false);
  input("AT+SLOW\r\n");
  EXPECT_EQ(take(), "");
  input("AT\r\n");
  EXPECT_EQ(take(), "\r\nbusy p...\r\n");
  settle(150ms);
  EXPECT_EQ(take(), "\r\nOK\r\n");
  input("AT\r\n");
  EXPECT_EQ(take(), "\r\nOK\r\n");
}

// A reset from outside (the EN pin) while a command runs: the command says no more, the
// engine is free at once, and data input cut short is never handed to the command.
TEST_F(Fixture, ResetAbandonsTheRunningCommand) {
  engine->set_echo(false);
  input("AT+SLOW\r\n");
  engine->reset();
  engine->set_echo(false);
  input("AT\r\n");
  EXPECT_EQ(take(), "\r\nOK\r\n");  // not busy
  settle(150ms);
  EXPECT_EQ(take(), "");  // the abandoned AT+SLOW's OK never comes

  input("AT+DATA=4\r\nab");
  EXPECT_EQ(take(), "\r\nOK\r\n\r\n>");
  engine->reset();
  settle();
  input("cd");  // command mode again: a line without its end, nothing to answer yet
  settle(10ms);
  EXPECT_EQ(take(), "");  // no "+DATA:ab", no OK
  input("\r\n");
  EXPECT_EQ(take(), "cd\r\n\r\nERROR\r\n");  // echo is on after a reset
}

TEST_F(Fixture, TwoCommandsInOneChunkBothRun) {
  engine->set_echo(false);
  input("AT\r\nAT\r\n");
  settle(10ms);
  EXPECT_EQ(take(), "\r\nOK\r\n\r\nOK\r\n");
}

TEST_F(Fixture, DataInputTakesExactlyN) {
  engine->set_echo(false);
  input("AT+DATA=5\r\n");
  EXPECT_EQ(take(), "\r\nOK\r\n\r\n>");
  input("he");
  input("llo!!");  // two bytes too many (spec 4.2.1 note)
  settle(10ms);
  EXPECT_EQ(take(), "\r\nbusy p...\r\n+DATA:hello\r\n\r\nOK\r\n");
}

TEST_F(Fixture, PassthroughPacketsAndPlusPlusPlus) {
  engine->set_echo(false);
  input("AT+PT\r\n");
  EXPECT_EQ(take(), "\r\nOK\r\n");
  ASSERT_TRUE(engine->in_passthrough());
  input("abc");
  EXPECT_TRUE(sent.empty());  // held for AT+TRANSINTVL (20 ms)
  settle(40ms);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], "abc");
  // A full 2920-byte packet goes at once.
  input(std::string(3000, 'x'));
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].size(), 2920u);
  settle(40ms);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2].size(), 80u);
  // "+++" right after data (no guard silence) is data.
  input("d+++");
  settle(40ms);
  EXPECT_FALSE(exited);
  EXPECT_EQ(sent.back(), "d+++");
  // "+++" after 20 ms of silence, then 20 ms of silence: back to command mode, nothing sent.
  std::this_thread::sleep_for(30ms);
  auto before = sent.size();
  input("+++");
  settle(40ms);
  EXPECT_TRUE(exited);
  EXPECT_FALSE(engine->in_passthrough());
  EXPECT_EQ(sent.size(), before);
  input("AT\r\n");
  EXPECT_EQ(take(), "\r\nOK\r\n");
}

TEST_F(Fixture, PlusesFollowedByDataAreData) {
  engine->set_echo(false);
  input("AT+PT\r\n");
  take();
  std::this_thread::sleep_for(30ms);
  input("+++");
  input("z");  // within the guard time after the pluses
  settle(40ms);
  EXPECT_FALSE(exited);
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.back(), "+++z");
  // Slow pluses (>= 20 ms apart) are data too.
  std::this_thread::sleep_for(30ms);
  input("+");
  std::this_thread::sleep_for(30ms);
  input("+");
  std::this_thread::sleep_for(30ms);
  input("+");
  settle(60ms);
  EXPECT_FALSE(exited);
}
