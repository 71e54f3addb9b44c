#include "transport/pacing.hpp"

#include <algorithm>
#include <cmath>

namespace espat::transport {

void Pacer::set_line(const LineConfig& line) {
  if (anchor_ != clock::time_point::min() && rate_ > 0) anchor_ = at(booked_);
  booked_ = 0;
  rate_ = line.baud / line.bits_per_byte();
}

std::size_t Pacer::burst() const {
  double n = rate_ * std::chrono::duration<double>(kBurst).count();
  return std::max<std::size_t>(1, static_cast<std::size_t>(n));
}

// Times are computed from the anchor and a byte count, never by adding rounded per-chunk
// durations, so that rounding does not accumulate into a rate error.
Pacer::clock::time_point Pacer::at(std::uint64_t bytes) const {
  auto ns = std::llround(static_cast<double>(bytes) * 1e9 / rate_);
  return anchor_ + std::chrono::nanoseconds(ns);
}

Pacer::clock::time_point Pacer::book(std::size_t n, clock::time_point ready) {
  if (rate_ <= 0) return ready;
  if (anchor_ == clock::time_point::min() || at(booked_) < ready) {  // the line was idle
    anchor_ = ready;
    booked_ = 0;
  }
  booked_ += n;
  return at(booked_);
}

}  // namespace espat::transport
