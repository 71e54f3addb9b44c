// Baud pacing: the time at which bytes are complete on a UART wire, so that a stream leaves (or
// arrives) at exactly baud / bits_per_byte bytes per second over the long run.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "transport/port.hpp"

namespace espat::transport {

class Pacer {
 public:
  using clock = std::chrono::steady_clock;

  explicit Pacer(const LineConfig& line = {}) { set_line(line); }
  // Later bytes go at the new rate, after those already booked at the old one.
  void set_line(const LineConfig& line);
  double bytes_per_second() const { return rate_; }
  // How many bytes to release at once: about kBurst of wire time, at least one byte.
  std::size_t burst() const;
  // Books n bytes that were ready at `ready` (queued for output, or received): they start when
  // both they and the line are ready; returns when the last of them is complete. Because the
  // start never depends on when the caller woke up, late timers never slow the rate down.
  clock::time_point book(std::size_t n, clock::time_point ready);

  static constexpr auto kBurst = std::chrono::milliseconds(2);

 private:
  clock::time_point at(std::uint64_t bytes) const;
  double rate_ = 0;                                  // bytes per second
  clock::time_point anchor_ = clock::time_point::min();  // start of the current busy stretch
  std::uint64_t booked_ = 0;                         // bytes booked since anchor_
};

}  // namespace espat::transport
