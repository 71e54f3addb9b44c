// Checks the transcript parser itself, on inline text (no binary involved).
#include <gtest/gtest.h>

#include "transcript.hpp"

namespace espat::e2e {
namespace {

using namespace std::chrono_literals;

TEST(HarnessSelfTest, UnescapeKnownEscapes) {
  EXPECT_EQ(unescape(R"(AT\r\n)"), "AT\r\n");
  EXPECT_EQ(unescape(R"(a\tb)"), "a\tb");
  EXPECT_EQ(unescape(R"(say \"hi\")"), "say \"hi\"");
  EXPECT_EQ(unescape(R"(back\\slash)"), "back\\slash");
  EXPECT_EQ(unescape(R"(\x00\x7f\xFF\x2b)"), std::string("\x00\x7f\xff+", 4));
  EXPECT_EQ(unescape(R"(\x411)"), "A1");  // exactly two hex digits
  EXPECT_EQ(unescape(""), "");
}

TEST(HarnessSelfTest, UnescapeRejectsBadEscapes) {
  EXPECT_THROW(unescape(R"(\q)"), ParseError);
  EXPECT_THROW(unescape(R"(\d)"), ParseError);
  EXPECT_THROW(unescape(R"(\x4)"), ParseError);
  EXPECT_THROW(unescape(R"(\xg0)"), ParseError);
  EXPECT_THROW(unescape("ends\\"), ParseError);
}

TEST(HarnessSelfTest, UnescapeKeepsRegexEscapesForMatch) {
  EXPECT_EQ(unescape(R"(\+SYSLOG:\d\r\n)", true), "\\+SYSLOG:\\d\r\n");
  EXPECT_EQ(unescape(R"(\\.)", true), "\\.");
  EXPECT_EQ(unescape(R"(\x41\n)", true), "A\n");
}

TEST(HarnessSelfTest, EscapeRoundTrips) {
  EXPECT_EQ(escape("AT\r\n"), R"("AT\r\n")");
  EXPECT_EQ(escape(std::string("\"\\\t\x01\xff", 5)), R"("\"\\\t\x01\xff")");
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(char(c));
  std::string e = escape(all);
  ASSERT_GE(e.size(), 2u);
  EXPECT_EQ(unescape(e.substr(1, e.size() - 2)), all);
}

TEST(HarnessSelfTest, Durations) {
  EXPECT_EQ(parse_duration("200ms"), Millis(200));
  EXPECT_EQ(parse_duration("3s"), Millis(3000));
  EXPECT_EQ(parse_duration("1.5s"), Millis(1500));
  EXPECT_EQ(parse_duration("0ms"), Millis(0));
  EXPECT_FALSE(parse_duration("200"));
  EXPECT_FALSE(parse_duration("ms"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("2m"));
  EXPECT_FALSE(parse_duration("abcs"));
}

TEST(HarnessSelfTest, ParsesEveryDirective) {
  const char* text = R"(# 3.1.2 AT: a comment line
args --boot-ms 50 --baud-pacing "two words"
flash "vectors:at-py/image-wroom32-blank.bin"

send "AT\r\n"            # a trailing comment
expect "AT\r\n" "\r\nOK\r\n"
expect 10s "x"
expect 500ms "y"
match "\+SYSLOG:\d\r\n"
match 2s "[0-9]+\r\n"
silence 200ms
wait 50ms
restart
kill
send "A" * 3 "\r\n"
send "#not a comment"
ignore_rest
# comments after ignore_rest are fine
)";
  Transcript t = parse_transcript(text, "inline.at");
  EXPECT_EQ(t.path, "inline.at");
  EXPECT_EQ(t.args, (std::vector<std::string>{"--boot-ms", "50", "--baud-pacing", "two words"}));
  ASSERT_TRUE(t.flash);
  EXPECT_EQ(*t.flash, "vectors:at-py/image-wroom32-blank.bin");
  EXPECT_TRUE(t.ready);
  EXPECT_TRUE(t.ignore_rest);
  ASSERT_EQ(t.steps.size(), 12u);
  using K = Step::Kind;
  EXPECT_EQ(t.steps[0].kind, K::Send);
  EXPECT_EQ(t.steps[0].bytes, "AT\r\n");
  EXPECT_EQ(t.steps[0].line, 5u);
  EXPECT_EQ(t.steps[1].kind, K::Expect);
  EXPECT_EQ(t.steps[1].bytes, "AT\r\n\r\nOK\r\n");
  EXPECT_EQ(t.steps[1].duration, Transcript::kExpectTimeout);
  EXPECT_EQ(t.steps[2].duration, 10000ms);
  EXPECT_EQ(t.steps[3].duration, 500ms);
  EXPECT_EQ(t.steps[4].kind, K::Match);
  EXPECT_EQ(t.steps[4].bytes, "\\+SYSLOG:\\d\r\n");
  EXPECT_EQ(t.steps[5].duration, 2000ms);
  EXPECT_EQ(t.steps[6].kind, K::Silence);
  EXPECT_EQ(t.steps[6].duration, 200ms);
  EXPECT_EQ(t.steps[7].kind, K::Wait);
  EXPECT_EQ(t.steps[7].duration, 50ms);
  EXPECT_EQ(t.steps[8].kind, K::Restart);
  EXPECT_EQ(t.steps[9].kind, K::Kill);
  EXPECT_EQ(t.steps[10].bytes, "AAA\r\n");
  EXPECT_EQ(t.steps[11].bytes, "#not a comment");
  EXPECT_EQ(t.steps[11].line, 16u);
}

TEST(HarnessSelfTest, DefaultsAndRefusedFlash) {
  Transcript d = parse_transcript("send \"AT\\r\\n\"\n");
  EXPECT_EQ(d.args, (std::vector<std::string>{"--boot-ms", "20"}));
  EXPECT_FALSE(d.flash);
  EXPECT_TRUE(d.ready);
  EXPECT_FALSE(d.ignore_rest);

  Transcript t = parse_transcript(
      "flash \"repo:tests/data/bad.bin\"\nnoready\nexit 2\nstderr \"not an ESP-AT image\"\n");
  EXPECT_FALSE(t.ready);
  ASSERT_EQ(t.steps.size(), 2u);
  EXPECT_EQ(t.steps[0].kind, Step::Kind::Exit);
  EXPECT_EQ(t.steps[0].code, 2);
  EXPECT_EQ(t.steps[0].duration, Transcript::kExitTimeout);
  EXPECT_EQ(t.steps[1].kind, Step::Kind::Stderr);
  EXPECT_EQ(t.steps[1].bytes, "not an ESP-AT image");
}

TEST(HarnessSelfTest, LongLinesByRepetition) {
  Transcript t = parse_transcript("send \"AT+\" \"X\" * 251 \"\\r\\n\"\nsend \"ab\"*0 \"c\"\n");
  ASSERT_EQ(t.steps.size(), 2u);
  EXPECT_EQ(t.steps[0].bytes.size(), 256u);
  EXPECT_EQ(t.steps[0].bytes.substr(0, 4), "AT+X");
  EXPECT_EQ(t.steps[1].bytes, "c");
}

// The error names the line, so a broken transcript points at itself.
std::size_t error_line(const char* text) {
  try {
    parse_transcript(text);
  } catch (const ParseError& e) {
    return e.line;
  }
  return 0;
}

TEST(HarnessSelfTest, BuildLinesAddUp) {
  Transcript t = parse_transcript("build 0x8000=${VECTORS}/a.bin\nbuild \"0x20000=${TMP}/b c.bin\"\nsend \"AT\"\n");
  EXPECT_EQ(t.build, (std::vector<std::string>{"0x8000=${VECTORS}/a.bin", "0x20000=${TMP}/b c.bin"}));
  EXPECT_FALSE(t.flash);
  EXPECT_TRUE(parse_transcript("send \"AT\"\n").build.empty());
}

// The transcripts that read ../shared/vectors, and so skip without it.
TEST(HarnessSelfTest, NeedsVectors) {
  EXPECT_FALSE(needs_vectors(parse_transcript("send \"AT\"\n")));
  EXPECT_FALSE(needs_vectors(parse_transcript("flash \"repo:x.bin\"\nargs --world ${SOURCE}/w.toml\n")));
  EXPECT_TRUE(needs_vectors(parse_transcript("flash \"vectors:at-py/image-wroom32-blank.bin\"\n")));
  EXPECT_TRUE(needs_vectors(parse_transcript("build 0x8000=${VECTORS}/a.bin\n")));
  EXPECT_TRUE(needs_vectors(parse_transcript("args --boot-ms 20 --world ${VECTORS}/w.toml\n")));
}

TEST(HarnessSelfTest, ControlAndHttp) {
  EXPECT_FALSE(parse_transcript("send \"AT\"\n").control);
  Transcript t = parse_transcript(
      "control\n"
      "http POST \"/smartconfig/phone\" \"{}\"\n"
      "http PATCH \"/aps/espat-ap\" \"{\\\"up\\\":false}\" 200\n"
      "http GET \"/aps/nobody\" 404   # a comment\n"
      "http DELETE \"/aps/x%2Fy\"\n");
  EXPECT_TRUE(t.control);
  EXPECT_EQ(t.args, (std::vector<std::string>{"--boot-ms", "20"}));  // --control 0 is the harness's
  ASSERT_EQ(t.steps.size(), 4u);
  for (const Step& s : t.steps) EXPECT_EQ(s.kind, Step::Kind::Http);
  EXPECT_EQ(t.steps[0].method, "POST");
  EXPECT_EQ(t.steps[0].path, "/smartconfig/phone");
  EXPECT_EQ(t.steps[0].bytes, "{}");
  EXPECT_EQ(t.steps[0].code, 0);  // any 2xx
  EXPECT_EQ(t.steps[0].line, 2u);
  EXPECT_EQ(t.steps[1].method, "PATCH");
  EXPECT_EQ(t.steps[1].bytes, "{\"up\":false}");
  EXPECT_EQ(t.steps[1].code, 200);
  EXPECT_EQ(t.steps[2].path, "/aps/nobody");
  EXPECT_EQ(t.steps[2].bytes, "");
  EXPECT_EQ(t.steps[2].code, 404);
  EXPECT_EQ(t.steps[3].method, "DELETE");
  EXPECT_EQ(t.steps[3].path, "/aps/x%2Fy");
  EXPECT_EQ(t.steps[3].code, 0);
}

TEST(HarnessSelfTest, RejectsMalformedHttp) {
  EXPECT_EQ(error_line("http GET \"/world\"\n"), 1u);                   // needs `control`
  EXPECT_EQ(error_line("control\nsend \"a\"\ncontrol\n"), 3u);          // header after a step
  EXPECT_EQ(error_line("control now\n"), 1u);
  EXPECT_EQ(error_line("control\nhttp\n"), 2u);                         // method missing
  EXPECT_EQ(error_line("control\nhttp get \"/world\"\n"), 2u);          // methods are upper case
  EXPECT_EQ(error_line("control\nhttp FETCH \"/world\"\n"), 2u);
  EXPECT_EQ(error_line("control\nhttp \"GET\" \"/world\"\n"), 2u);      // the method is a bare word
  EXPECT_EQ(error_line("control\nhttp GET\n"), 2u);                     // path missing
  EXPECT_EQ(error_line("control\nhttp GET /world\n"), 2u);              // path unquoted
  EXPECT_EQ(error_line("control\nhttp GET \"world\"\n"), 2u);           // path without /
  EXPECT_EQ(error_line("control\nhttp GET \"\"\n"), 2u);
  EXPECT_EQ(error_line("control\nhttp POST \"/x\" \"{}\" 2xx\n"), 2u);  // status not a number
  EXPECT_EQ(error_line("control\nhttp POST \"/x\" \"{}\" 99\n"), 2u);   // status out of range
  EXPECT_EQ(error_line("control\nhttp POST \"/x\" \"{}\" 600\n"), 2u);
  EXPECT_EQ(error_line("control\nhttp POST \"/x\" \"a\" \"b\"\n"), 2u); // one body only
  EXPECT_EQ(error_line("control\nhttp POST \"/x\" \"{}\" 200 1\n"), 2u);
  EXPECT_EQ(error_line("control\nhttp POST \"/x\" \"\\q\"\n"), 2u);     // bad escape in the body
  EXPECT_EQ(error_line("control\nhttp POST \"/x\" 201\n"), 0u);         // a status without a body
}

TEST(HarnessSelfTest, RejectsMalformedTranscripts) {
  EXPECT_EQ(error_line("send \"AT\r\n"), 1u);                 // unterminated string
  EXPECT_EQ(error_line("# c\nsend AT\n"), 2u);                 // bare word for a string
  EXPECT_EQ(error_line("send \"a\"\nbogus\n"), 2u);            // unknown directive
  EXPECT_EQ(error_line("send \"\\q\"\n"), 1u);                 // unknown escape
  EXPECT_EQ(error_line("expect \"\"\n"), 1u);                  // empty expectation
  EXPECT_EQ(error_line("expect 3x \"a\"\n"), 1u);              // not a duration
  EXPECT_EQ(error_line("silence\n"), 1u);                      // duration missing
  EXPECT_EQ(error_line("silence 2\n"), 1u);                    // unit missing
  EXPECT_EQ(error_line("send \"a\" extra\n"), 1u);             // trailing junk
  EXPECT_EQ(error_line("send \"a\"x\n"), 1u);                  // junk glued to a string
  EXPECT_EQ(error_line("send \"a\"\nargs --x\n"), 2u);         // header after a step
  EXPECT_EQ(error_line("send \"a\"\nnoready\n"), 2u);
  EXPECT_EQ(error_line("flash \"/tmp/x.bin\"\n"), 1u);         // needs vectors: or repo:
  EXPECT_EQ(error_line("build\n"), 1u);                        // build needs words
  EXPECT_EQ(error_line("flash \"vectors:x\"\nbuild 0x0=a\n"), 2u);  // one source for the flash
  EXPECT_EQ(error_line("send \"a\"\nbuild 0x0=a\n"), 2u);       // header after a step
  EXPECT_EQ(error_line("ignore_rest\nsend \"a\"\n"), 2u);      // ignore_rest is last
  EXPECT_EQ(error_line("noready\nexit 2\nsend \"a\"\n"), 3u);  // nothing runs after exit
  EXPECT_EQ(error_line("exit two\n"), 1u);
  EXPECT_EQ(error_line("restart now\n"), 1u);
  EXPECT_EQ(error_line("\"send\"\n"), 1u);
  EXPECT_EQ(error_line("send \"x\" * \n"), 1u);
  EXPECT_EQ(error_line("send \"ok\"\n"), 0u);
}

}  // namespace
}  // namespace espat::e2e
