// Spec 3.15: CR-LF terminated lines of at most 256 bytes; echo as received, Backspace/DEL edit
// the line (README "Where the guide is silent").
#include <gtest/gtest.h>

#include "at/framer.hpp"

using espat::at::LineFramer;

namespace {
struct Collected {
  std::vector<std::pair<LineFramer::Event, std::string>> events;  // line events only
  std::vector<std::string> echoes;                                 // one per event, Echo included
  LineFramer::Sink sink() {
    return [this](LineFramer::Event e, const std::string& line, const std::string& echo) {
      if (e != LineFramer::Event::Echo) events.emplace_back(e, line);
      echoes.push_back(echo);
    };
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

TEST(LineFramer, EchoesEachChunkAsItArrives) {
  LineFramer f;
  Collected c;
  for (std::string piece : {"A", "T", "\r"}) f.feed(bytes(piece), c.sink());
  EXPECT_TRUE(c.events.empty());
  EXPECT_EQ(c.echoes, (std::vector<std::string>{"A", "T", "\r"}));
  f.feed(bytes(std::string("\n")), c.sink());
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].second, "AT");
  EXPECT_EQ(c.echoes.back(), "\n");
}

TEST(LineFramer, OneChunkOneEcho) {
  LineFramer f;
  Collected c;
  f.feed(bytes(std::string("AT\r\nAT+G")), c.sink());
  // The line's echo comes with its event, the unfinished line's at the end of the call.
  EXPECT_EQ(c.echoes, (std::vector<std::string>{"AT\r\n", "AT+G"}));
}

TEST(LineFramer, BackspaceAtLineStartDoesNothing) {
  LineFramer f;
  Collected c;
  f.feed(bytes(std::string("\b\x7f")), c.sink());
  EXPECT_TRUE(c.echoes.empty());
  EXPECT_FALSE(f.pending());
  f.feed(bytes(std::string("AT\r\n")), c.sink());
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0], std::pair(LineFramer::Event::Line, std::string("AT")));
  EXPECT_EQ(c.echoes.back(), "AT\r\n");
}

TEST(LineFramer, BackspaceMidLineErasesOneByte) {
  LineFramer f;
  Collected c;
  f.feed(bytes(std::string("AT+GMX\bR\r\n")), c.sink());
  f.feed(bytes(std::string("AT+GMX")), c.sink());
  f.feed(bytes(std::string("\x7f")), c.sink());  // DEL, the Backspace key of most terminals
  f.feed(bytes(std::string("R\r\n")), c.sink());
  ASSERT_EQ(c.events.size(), 2u);
  EXPECT_EQ(c.events[0].second, "AT+GMR");
  EXPECT_EQ(c.events[1].second, "AT+GMR");
  EXPECT_EQ(c.echoes, (std::vector<std::string>{"AT+GMX\b \bR\r\n", "AT+GMX", "\b \b", "R\r\n"}));
}

TEST(LineFramer, ErasedBytesDoNotCountTowardsTheLimit) {
  LineFramer f;
  Collected c;
  // 255 bytes kept, one erased, then CR-LF: a line of 256 bytes with its terminator.
  f.feed(bytes("AT+" + std::string(252, 'A') + "\b\r\n"), c.sink());
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].first, LineFramer::Event::Line);
  EXPECT_EQ(c.events[0].second.size(), 254u);
}

TEST(LineFramer, TooLongLineIsEchoedAndCannotBeErased) {
  LineFramer f;
  Collected c;
  const std::string too_long = "AT+" + std::string(253, 'A');  // 256 bytes before the CR
  f.feed(bytes(too_long), c.sink());
  f.feed(bytes(std::string("\b\r\n")), c.sink());
  ASSERT_EQ(c.events.size(), 1u);
  EXPECT_EQ(c.events[0].first, LineFramer::Event::TooLong);
  EXPECT_EQ(c.echoes, (std::vector<std::string>{too_long, "\r\n"}));
}
