// One cancellation model for everything that runs in the background of a module (README
// "Layout"): an Activity is one piece of work (a join, a reconnect loop, a running AT command;
// a link's connect, read and write next). Starting it again, or stop(), stops the run before:
// the run's coroutine ends at its next wait, whatever it was waiting for. A run sees its stop
// through its StopToken: sleep() and race() throw Stopped once the run is stopped, also when the
// wait had already finished but the coroutine had not resumed yet, so no counter or "alive" flag
// is needed to tell a superseded run from the current one.
#pragma once
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

namespace espat::async {

// Thrown into a stopped run's coroutine; the Activity swallows it.
struct Stopped : std::exception {
  const char* what() const noexcept override { return "stopped"; }
};

class StopToken {
 public:
  struct State {
    explicit State(asio::io_context& io) : timer(io) {}
    bool stopped = false, done = false;
    asio::steady_timer timer;  // what sleep() and race() wait on; cancelled by stop()
  };
  StopToken() = default;  // never stopped (tests, callers without an activity)
  explicit StopToken(std::shared_ptr<State> s) : s_(std::move(s)) {}

  bool requested() const { return s_ && s_->stopped; }
  void throw_if_requested() const {
    if (requested()) throw Stopped();
  }

  // Waits `d`; throws Stopped if the run is stopped before, during or right after the wait.
  asio::awaitable<void> sleep(asio::io_context& io, std::chrono::steady_clock::duration d) const;

  // Runs `op` against a deadline: its result, or nullopt when `d` passed first (op is then
  // cancelled). Throws Stopped as sleep() does.
  // An exception `op` throws (a reset connection) comes out at once: Asio's `||` waits for one
  // branch to *succeed*, so op's failure is carried out of it as a value.
  template <class T>
  asio::awaitable<std::optional<T>> race(asio::io_context& io, asio::awaitable<T> op,
                                         std::chrono::steady_clock::duration d) const {
    using namespace asio::experimental::awaitable_operators;
    throw_if_requested();
    auto wait = sleep(io, d);
    auto r = co_await (caught(std::move(op)) || std::move(wait));
    throw_if_requested();
    if (r.index() != 0) co_return std::nullopt;
    auto& outcome = std::get<0>(r);
    if (outcome.error) std::rethrow_exception(outcome.error);
    co_return std::move(outcome.value);
  }

 private:
  // Not a std::variant: Asio's `||` would flatten it into its own.
  template <class T>
  struct Caught {
    std::optional<T> value;
    std::exception_ptr error;
  };
  template <class T>
  static asio::awaitable<Caught<T>> caught(asio::awaitable<T> op) {
    Caught<T> c;
    try {
      c.value.emplace(co_await std::move(op));
    } catch (...) {
      c.error = std::current_exception();
    }
    co_return c;
  }
  std::shared_ptr<State> s_;
};

class Activity {
 public:
  explicit Activity(asio::io_context& io) : io_(io) {}
  ~Activity() { stop(); }
  Activity(const Activity&) = delete;
  Activity& operator=(const Activity&) = delete;

  // Stops the current run, then starts `work(token)`, a coroutine returning awaitable<void>.
  // An exception other than Stopped ends the run; on_error, when given, hears of it.
  void start(std::function<asio::awaitable<void>(StopToken)> work,
             std::function<void(std::exception_ptr)> on_error = {});
  void stop();
  bool running() const { return run_ && !run_->stopped && !run_->done; }

 private:
  asio::io_context& io_;
  std::shared_ptr<StopToken::State> run_;
};

}  // namespace espat::async
