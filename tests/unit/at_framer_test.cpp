// Spec 3.15: CR-LF terminated lines of at most 256 bytes.
#include <gtest/gtest.h>

#include "at/framer.hpp"

using espat::at::LineFramer;

namespace {
struct Collected {
  std::vector<std::pair<LineFramer::Event, std::string>> events;
  LineFramer::Sink sink() {
    return [this](LineFramer::Event e, const std::string& line, const std::string&) { events.emplace_back(e, line); };
  }
};
std::span<const std::uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
}  // namespace

TEST(LineFramer, SplitsOnCrLf) {
  LineFramer f;
  Collected c;
  std::string in = "AT\r\nAT+GMR\r\nAT+X";
  f.feed(bytes(in), c.sink());
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_EQ(c.events[0].second, "AT");
  EXPECT_EQ(c.events[1].second, "AT+GMR");
  EXPECT_TRUE(f.pending());
  f.feed(bytes(std::string("=1\r\n")), c.sink());
  EXPECT_EQ(c.events[2].second, "AT+X=1");
}

TEST(LineFramer, LoneLfIsNoTerminator) {
  LineFramer f;
  Collected c;
  std::string in = "AT\n";
  f.feed(bytes(in), c.sink());
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].first, LineFramer::Event::NoTerminator);
}

TEST(LineFramer, LimitIs256BytesWithTerminator) {
  LineFramer f;
  Collected c;
  std::string ok = "AT+" + std::string(251, 'A') + "\r\n";  // 256 bytes
  ASSERT_EQ(ok.size(), 256u);
  f.feed(bytes(ok), c.sink());
  std::string too_long = "AT+" + std::string(252, 'A') + "\r\n";  // 257 bytes
  f.feed(bytes(too_long), c.sink());
  f.feed(bytes(std::string("AT\r\n")), c.sink());
  ASSERT_EQ(c.events.size(), 3u);
  EXPECT_EQ(c.events[0].first, LineFramer::Event::Line);
  EXPECT_EQ(c.events[1].first, LineFramer::Event::TooLong);
  EXPECT_EQ(c.events[2].second, "AT");
}

TEST(LineFramer, StopAfterEventLeavesTheRest) {
  LineFramer f;
  Collected c;
  std::string in = "AT\r\nDATA";
  auto used = f.feed(bytes(in), c.sink(), true);
  EXPECT_EQ(used, 4u);
  EXPECT_EQ(c.events.size(), 1u);
}
