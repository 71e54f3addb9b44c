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
  Host host;
  std::string out;
  std::vector<std::string> sent;  // passthrough packets
  bool exited = false;
  std::unique_ptr<Engine> engine;

  void SetUp() override {
    std::vector<Command> rows;
    rows.push_back({.name = "", .exec = [](Call&) -> asio::awaitable<Result> { co_return Result::ok(); }});
    rows.push_back({.name = "+SLOW", .exec = [this](Call&) -> asio::awaitable<Result> {
               asio::steady_timer t(io, 100ms);
               co_await t.async_wait(asio::use_awaitable);
               co_return Result::ok();
             }});
    rows.push_back({.name = "+DATA", .set = [](Call& c) -> asio::awaitable<Result> {
               std::string d = co_await c.read_data(std::size_t(c.args.integer(0)));
               c.reply("+DATA:" + d + "\r\n");
               co_return Result::ok();
             }, .params = {Int{"len", 0, 100}}});
    rows.push_back({.name = "+PT", .exec = [this](Call& c) -> asio::awaitable<Result> {
               c.after_result([this] {
                 engine->enter_passthrough({.send = [this](std::string s) -> asio::awaitable<void> {
                                              sent.push_back(s);
                                              co_return;
                                            },
                                            .exited = [this] { exited = true; }});
               });
               co_return Result::ok();
             }});
    reg.add({.name = "test", .rows = std::move(rows)});
    engine = std::make_unique<Engine>(io, reg, host, [this](std::string s) { out += s; });
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

// Echo as received (README "Where the guide is silent"; esp-at issues #101, #502).
TEST_F(Fixture, EchoByteByByte) {
  for (char c : std::string("AT\r")) {
    input(std::string(1, c));
    EXPECT_EQ(take(), std::string(1, c));
  }
  input("\n");
  EXPECT_EQ(take(), "\n\r\nOK\r\n");
}

TEST_F(Fixture, BackspaceAtLineStartEchoesNothing) {
  input("\b");
  input("\x7f");
  EXPECT_EQ(take(), "");
  input("AT\r\n");
  EXPECT_EQ(take(), "AT\r\n\r\nOK\r\n");
}

TEST_F(Fixture, BackspaceMidLineErasesTheLastByte) {
  input("ATZ");
  EXPECT_EQ(take(), "ATZ");
  input("\b");
  EXPECT_EQ(take(), "\b \b");
  input("\r\n");  // the line is "AT"
  EXPECT_EQ(take(), "\r\n\r\nOK\r\n");
  input("ATZZ\x7f\x7f\r\n");  // in one chunk: one write
  EXPECT_EQ(take(), "ATZZ\b \b\b \b\r\n\r\nOK\r\n");
}

TEST_F(Fixture, EchoOffStillEdits) {
  engine->set_echo(false);
  input("A");
  input("TZ");
  input("\b");
  EXPECT_EQ(take(), "");
  input("\r\n");
  EXPECT_EQ(take(), "\r\nOK\r\n");
}

TEST_F(Fixture, NoEchoWhileBusyOrInData) {
  input("AT+SLOW\r\n");
  EXPECT_EQ(take(), "AT+SLOW\r\n");
  input("AT");  // while the command runs: busy, no echo
  EXPECT_EQ(take(), "\r\nbusy p...\r\n");
  settle(150ms);
  EXPECT_EQ(take(), "\r\nOK\r\n");
  input("AT+DATA=3\r\n");
  EXPECT_EQ(take(), "AT+DATA=3\r\n\r\nOK\r\n\r\n>");
  input("a\bc");  // data after '>' is neither echoed nor edited
  settle(10ms);
  EXPECT_EQ(take(), "+DATA:a\bc\r\n\r\nOK\r\n");
}

TEST_F(Fixture, TooLongLineIsEchoedThenRefused) {
  const std::string line = "AT+" + std::string(300, 'X') + "\r\n";
  input(line);
  EXPECT_EQ(take(), line + "\r\nERROR\r\n");
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
  input("cd");  // command mode again: a line without its end, echoed as typed (echo is on after a reset)
  settle(10ms);
  EXPECT_EQ(take(), "cd");  // no "+DATA:ab", no OK
  input("\r\n");
  EXPECT_EQ(take(), "\r\n\r\nERROR\r\n");
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

// ---- the command table: preconditions, aliases with their store policy ---------------------
namespace {
struct TableHost : Host {
  bool ready = false;
  bool multiple_links() const override { return true; }
};

struct TableFixture : ::testing::Test {
  asio::io_context io;
  Registry reg;
  TableHost host;
  std::string out;
  std::vector<Store> stores;
  int preconditions_checked = 0;
  std::unique_ptr<Engine> engine;

  void SetUp() override {
    auto remember = [this](Call& c) -> asio::awaitable<Result> {
      stores.push_back(c.store);
      c.reply(c.name + ":" + std::to_string(c.args.link().value_or(-1)) + "\r\n");
      co_return Result::ok();
    };
    std::vector<Command> rows;
    rows.push_back({.name = "+NEEDY", .query = remember, .set = remember, .params = {Int{"x", 0, 9}}, .needs = 1,
                    .aliases = {{"+NEEDY_CUR", Store::Ram}, {"+NEEDY_DEF", Store::Flash}}});
    rows.push_back({.name = "+FREE", .exec = remember});
    rows.push_back({.name = "+SEND", .set = remember, .params = Schema{Int{"len", 1, 10}}.with_link_id(LinkId::Prefix)});
    reg.add({.name = "fam", .check = [this](Host& h, Needs n) -> std::optional<ErrCode> {
               ++preconditions_checked;
               EXPECT_EQ(n, 1u);
               if (static_cast<TableHost&>(h).ready) return std::nullopt;
               return ErrCode::make(Sub::ExecFail, 0x42);
             },
             .rows = std::move(rows)});
    engine = std::make_unique<Engine>(io, reg, host, [this](std::string s) { out += s; });
    engine->set_echo(false);
    engine->set_syslog(true);
  }
  std::string at(std::string_view s) {
    std::string line = std::string(s) + "\r\n";
    engine->on_input({reinterpret_cast<const std::uint8_t*>(line.data()), line.size()});
    io.restart();
    io.poll();
    return std::exchange(out, {});
  }
};
}  // namespace

TEST_F(TableFixture, PreconditionAnswersTheFamilysCodeAfterTheParameters) {
  EXPECT_EQ(at("AT+NEEDY?"), "ERR CODE:0x010a0042\r\n\r\nERROR\r\n");
  EXPECT_EQ(at("AT+NEEDY=10"), "ERR CODE:0x01070000\r\n\r\nERROR\r\n");  // parameters are checked first
  EXPECT_EQ(preconditions_checked, 1);
  EXPECT_EQ(at("AT+FREE"), "+FREE:-1\r\n\r\nOK\r\n");  // a row without needs never asks
  EXPECT_EQ(preconditions_checked, 1);
  host.ready = true;
  EXPECT_EQ(at("AT+NEEDY=3"), "+NEEDY:-1\r\n\r\nOK\r\n");
  EXPECT_TRUE(stores.size() == 2);
}

TEST_F(TableFixture, AliasesCarryTheirStorePolicyAndSpelling) {
  host.ready = true;
  EXPECT_EQ(at("AT+NEEDY=1"), "+NEEDY:-1\r\n\r\nOK\r\n");
  EXPECT_EQ(at("AT+NEEDY_CUR=1"), "+NEEDY_CUR:-1\r\n\r\nOK\r\n");
  EXPECT_EQ(at("AT+NEEDY_DEF?"), "+NEEDY_DEF:-1\r\n\r\nOK\r\n");
  EXPECT_EQ(stores, (std::vector<Store>{Store::FollowSysstore, Store::Ram, Store::Flash}));
  EXPECT_EQ(at("AT+NEEDY_XXX=1"), "ERR CODE:0x01090000\r\n\r\nERROR\r\n");
  auto e = reg.find("+NEEDY_DEF");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->command->name, "+NEEDY");
  EXPECT_EQ(e->family->name, "fam");
}

TEST_F(TableFixture, LinkIdFromTheHostsMultipleConnections) {
  EXPECT_EQ(at("AT+SEND=2,5"), "+SEND:2\r\n\r\nOK\r\n");
  EXPECT_EQ(at("AT+SEND=5"), "ERR CODE:0x01060201\r\n\r\nERROR\r\n");  // the count first
  EXPECT_EQ(at("AT+SEND=7,5"), "ERR CODE:0x01070000\r\n\r\nERROR\r\n");
}

TEST(Registry, RefusesANameTwice) {
  Registry r;
  r.add({.name = "a", .rows = {Command{.name = "+X", .aliases = {{"+X_CUR"}}}}});
  EXPECT_THROW(r.add({.name = "b", .rows = {Command{.name = "+X_CUR"}}}), std::logic_error);
  EXPECT_EQ(r.all().size(), 1u);
}


// A slow link slows the UART instead of losing bytes: past the buffer the port is held, and
// released once half of it has drained (BRIEF "passthrough"; protocol-rules §5).
TEST_F(Fixture, PassthroughHoldsTheInputOfASlowLink) {
  std::vector<bool> holds;
  std::string delivered;
  engine->set_hold_input([&](bool h) { holds.push_back(h); });
  engine->set_echo(false);
  input("AT+PT\r\n");
  take();
  engine->exit_passthrough();
  engine->enter_passthrough({.send = [&](std::string s) -> asio::awaitable<void> {
                               asio::steady_timer t(io, 5ms);  // the link takes 5 ms a packet
                               co_await t.async_wait(asio::use_awaitable);
                               delivered += s;
                             },
                             .packet = 100, .buffer = 1000});
  std::string sent_by_host;
  for (int i = 0; i < 30; ++i) sent_by_host += std::string(100, char('a' + i % 26));
  input(sent_by_host);  // 3000 bytes at once: more than the buffer
  ASSERT_FALSE(holds.empty());
  EXPECT_TRUE(holds.front());
  settle(400ms);
  EXPECT_EQ(delivered, sent_by_host);  // every byte, in order
  EXPECT_FALSE(holds.back());
  EXPECT_EQ(holds.size(), 2u);
}
