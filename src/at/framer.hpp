// Splits the AT port's input into command lines (spec 3.15): a line ends with CR-LF and is at
// most 256 bytes including the terminator. It also says what to echo for each byte, as the
// firmware echoes bytes as they arrive (README "Where the guide is silent"). Pure and
// allocation-bounded: fuzzed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace espat::at {

class LineFramer {
 public:
  // Echo: no line ended, but the bytes fed so far have an echo (sent at the end of a feed call).
  // Line, NoTerminator, TooLong: an LF ended a line.
  enum class Event { Echo, Line, NoTerminator, TooLong };
  // line: the edited bytes without the CR-LF (Line only). echo: what to echo for the bytes
  // consumed since the previous event, this event's LF included. Each byte echoes as itself,
  // except Backspace (0x08) and DEL (0x7f): they erase the line's last byte and echo "\b \b",
  // or, with nothing to erase, do nothing and echo nothing.
  using Sink = std::function<void(Event, const std::string& line, const std::string& echo)>;

  explicit LineFramer(std::size_t max_line = 256) { set_max_line(max_line); }
  // Feeds bytes; returns how many were consumed. Stops after one line event when
  // stop_after_event is set, so the caller can switch mode (e.g. to data input) before the rest
  // is framed. The echo held back is at most what this call was given (x3 for erasures).
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
