#include "at/framer.hpp"

namespace espat::at {

std::size_t LineFramer::feed(std::span<const std::uint8_t> bytes, const Sink& sink, bool stop_after_event) {
  std::string echo;  // for the bytes since the last event; empty between feed calls
  std::size_t i = 0;
  while (i < bytes.size()) {
    const char c = char(bytes[i++]);
    if (c == '\b' || c == '\x7f') {
      // A terminal's Backspace key (V.250 S5 editing character; DEL from most terminals).
      // Past the limit the line is lost already: nothing left to erase.
      if (!overflow_ && !buf_.empty()) {
        buf_.pop_back();
        echo += "\b \b";
      }
      continue;
    }
    echo.push_back(c);  // every other byte, over-long lines included, echoes as received
    if (c != '\n') {
      if (overflow_) continue;
      buf_.push_back(c);
      // The limit counts the terminator: 254 bytes + CR + LF at most.
      if (buf_.size() > max_line_ - 1) {
        overflow_ = true;
        buf_.clear();
      }
      continue;
    }
    Event ev = Event::Line;
    std::string line;
    if (overflow_) ev = Event::TooLong;
    else if (buf_.empty() || buf_.back() != '\r') ev = Event::NoTerminator;
    else line = buf_.substr(0, buf_.size() - 1);
    buf_.clear();
    overflow_ = false;
    sink(ev, line, echo);
    echo.clear();
    if (stop_after_event) return i;
  }
  if (!echo.empty()) sink(Event::Echo, {}, echo);
  return i;
}

}  // namespace espat::at
