// What the network faults keep per link (module/net_faults.cpp; README "Network faults"): the
// pacing clocks of the bandwidth limit, the delay line that holds received bytes back for the
// latency, the stall from outside, and the byte counts GET /modules/{k}/links shows.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>

#include <asio/steady_timer.hpp>

#include "async/activity.hpp"

namespace espat::module {

struct LinkFaults {
  using Clock = std::chrono::steady_clock;
  explicit LinkFaults(asio::io_context& io)
      : line(io), room(io, Clock::time_point::max()), resumed(io, Clock::time_point::max()) {}

  // Received bytes (or the peer's close) waiting for their time to reach the host.
  struct Held {
    Clock::time_point due;
    std::string data, ip;
    int port = 0;
    bool close = false;
  };
  std::deque<Held> held;
  std::size_t held_bytes = 0;
  bool delivering = false;       // `line` runs and will see what is pushed onto `held`
  async::Activity line;          // hands `held` to the host in order, each when due
  asio::steady_timer room;       // the reader waits here while `held` is full

  Clock::time_point tx_free{}, rx_free{};  // when the bytes paced so far have passed, each way

  bool stalled = false;          // the peer stopped reading (POST .../stall)
  asio::steady_timer resumed;    // a send waiting on the stall; cancelled by resume and close

  std::uint64_t sent = 0, received = 0;

  // The link closes: nothing more is delivered, and a send or a reader waiting here ends.
  void stop() {
    line.stop();
    delivering = false;
    held.clear();
    held_bytes = 0;
    room.cancel();
    resumed.cancel();
  }
};

}  // namespace espat::module
