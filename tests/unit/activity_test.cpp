// The one cancellation model (async/activity.hpp): a stopped run ends at its next wait, even one
// that had already finished; starting again stops the run before; race() is operation || timer.
#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <thread>

#include "async/activity.hpp"

using namespace espat::async;
using namespace std::chrono_literals;

namespace {
struct ActivityTest : ::testing::Test {
  asio::io_context io;
  Activity a{io};
  std::vector<std::string> log;

  asio::awaitable<void> ticker(StopToken stop, std::string name) {
    for (int i = 0; i < 3; ++i) {
      co_await stop.sleep(io, 10ms);
      log.push_back(name + std::to_string(i));
    }
    log.push_back(name + " done");
  }
  void run_for(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }
};
}  // namespace

TEST_F(ActivityTest, RunsToTheEnd) {
  a.start([this](StopToken s) { return ticker(s, "a"); });
  EXPECT_TRUE(a.running());
  run_for(200ms);
  EXPECT_EQ(log, (std::vector<std::string>{"a0", "a1", "a2", "a done"}));
  EXPECT_FALSE(a.running());
}

TEST_F(ActivityTest, StopEndsTheRunAtItsWait) {
  a.start([this](StopToken s) { return ticker(s, "a"); });
  run_for(15ms);
  a.stop();
  EXPECT_FALSE(a.running());
  run_for(100ms);
  EXPECT_EQ(log, (std::vector<std::string>{"a0"}));
}

TEST_F(ActivityTest, StartingAgainStopsTheRunBefore) {
  a.start([this](StopToken s) { return ticker(s, "a"); });
  run_for(15ms);
  a.start([this](StopToken s) { return ticker(s, "b"); });
  run_for(200ms);
  EXPECT_EQ(log, (std::vector<std::string>{"a0", "b0", "b1", "b2", "b done"}));
}

// The wait had finished and its completion was queued when stop() came: the run still ends.
TEST_F(ActivityTest, AStopAfterTheWaitFinishedStillCounts) {
  a.start([this](StopToken s) { return ticker(s, "a"); });
  io.restart();
  io.poll();  // the run now waits on its timer, due in 10 ms
  // Due just before it: both are due in the same pass of the loop, the stop runs first, and
  // the run's timer has already completed (a cancel() cannot reach it any more).
  asio::steady_timer stopper(io, std::chrono::steady_clock::now() + 5ms);
  stopper.async_wait([this](std::error_code) { a.stop(); });
  std::this_thread::sleep_for(30ms);
  run_for(100ms);
  EXPECT_TRUE(log.empty()) << log.front();
}

TEST_F(ActivityTest, RaceIsOperationOrTimer) {
  std::vector<std::optional<int>> got;
  auto slow = [this](std::chrono::milliseconds d) -> asio::awaitable<int> {
    asio::steady_timer t(io, d);
    co_await t.async_wait(asio::use_awaitable);
    co_return int(d.count());
  };
  a.start([&](StopToken s) -> asio::awaitable<void> {
    got.push_back(co_await s.race(io, slow(5ms), 100ms));
    got.push_back(co_await s.race(io, slow(100ms), 5ms));
  });
  run_for(300ms);
  EXPECT_EQ(got, (std::vector<std::optional<int>>{5, std::nullopt}));
}

TEST_F(ActivityTest, AnErrorEndsTheRunAndIsReported) {
  std::string error;
  a.start([](StopToken) -> asio::awaitable<void> { throw std::runtime_error("boom"); co_return; },
          [&](std::exception_ptr e) {
            try {
              std::rethrow_exception(e);
            } catch (const std::exception& x) {
              error = x.what();
            }
          });
  run_for(10ms);
  EXPECT_EQ(error, "boom");
  EXPECT_FALSE(a.running());
}
