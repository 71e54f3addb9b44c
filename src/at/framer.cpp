#include "at/framer.hpp"

namespace espat::at {

std::size_t LineFramer::feed(std::span<const std::uint8_t> bytes, const Sink& sink, bool stop_after_event) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const char c = char(bytes[i++]);
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
    std::string raw = buf_ + "\n";
    if (overflow_) {
      overflow_ = false;
      buf_.clear();
      sink(Event::TooLong, {}, raw);
    } else if (buf_.empty() || buf_.back() != '\r') {
      buf_.clear();
      sink(Event::NoTerminator, {}, raw);
    } else {
      std::string line = buf_.substr(0, buf_.size() - 1);
      buf_.clear();
      sink(Event::Line, line, raw);
    }
    if (stop_after_event) break;
  }
  return i;
}

}  // namespace espat::at
