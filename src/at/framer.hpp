// Splits the AT port's input into command lines (spec 3.15): a line ends with CR-LF and is at
// most 256 bytes including the terminator. Pure and allocation-bounded: fuzzed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace espat::at {

class LineFramer {
 public:
  enum class Event { Line, NoTerminator, TooLong };
  // line: the bytes without the CR-LF (for Line); raw: the bytes received, or just "\n" for
  // TooLong (the overflowing bytes are not kept).
  using Sink = std::function<void(Event, const std::string& line, const std::string& raw)>;

  explicit LineFramer(std::size_t max_line = 256) { set_max_line(max_line); }
  // Feeds bytes; returns how many were consumed. Stops after one event when stop_after_event
  // is set, so the caller can switch mode (e.g. to data input) before the rest is framed.
  std::size_t feed(std::span<const std::uint8_t> bytes, const Sink& sink, bool stop_after_event = false);
  void reset() { buf_.clear(); overflow_ = false; }
  bool pending() const { return !buf_.empty() || overflow_; }
  void set_max_line(std::size_t n) { max_line_ = n < 3 ? 3 : n; }  // room for "AT" + terminator at least

 private:
  std::size_t max_line_ = 256;
  std::string buf_;
  bool overflow_ = false;  // past the limit: drop until LF, then report TooLong
};

}  // namespace espat::at
