#include "async/activity.hpp"

namespace espat::async {

asio::awaitable<void> StopToken::sleep(asio::io_context& io, std::chrono::steady_clock::duration d) const {
  throw_if_requested();
  // A run's own timer, so that stop() can cancel it; a token of no run waits on its own.
  std::optional<asio::steady_timer> own;
  asio::steady_timer& timer = s_ ? s_->timer : own.emplace(io);
  timer.expires_after(d);
  std::error_code ec;  // cancelled by stop(), or by race() when the operation won
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  throw_if_requested();
}

void Activity::start(std::function<asio::awaitable<void>(StopToken)> work,
                     std::function<void(std::exception_ptr)> on_error) {
  stop();
  run_ = std::make_shared<StopToken::State>(io_);
  auto run = run_;
  asio::co_spawn(
      io_,
      [run, work = std::move(work)]() -> asio::awaitable<void> { co_await work(StopToken(run)); },
      [run, on_error = std::move(on_error)](std::exception_ptr e) {
        run->done = true;
        if (!e || run->stopped) return;
        try {
          std::rethrow_exception(e);
        } catch (const Stopped&) {
        } catch (...) {
          if (on_error) on_error(std::current_exception());
        }
      });
}

void Activity::stop() {
  if (!run_) return;
  run_->stopped = true;
  run_->timer.cancel();
  run_.reset();
}

}  // namespace espat::async
