// Checks the transcript parser itself, on inline text, and the network peers on loopback (no
// binary involved).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "peers.hpp"
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

// ---- network peers: the parser ----------------------------------------------------------------

TEST(HarnessSelfTest, ParsesPeerDirectives) {
  const char* text = R"(tcp_listen A
udp_bind U
args --boot-ms 20
send "AT\r\n"
tcp_listen L2
tcp_accept A
tcp_accept 10s A
tcp_connect B "127.0.0.1" 333
tcp_connect 500ms B "localhost" ${A}
udp_bind V
peer_send A "+IPD" "," * 2 "\r\n"
udp_send U "127.0.0.1" ${V.peer_port} "ping"
peer_expect A "x\r\n"
peer_expect 5s U "y"
peer_match A "\d+\r\n"
peer_match 1s A "z\r\n"
peer_silence 200ms A
peer_close A
peer_reset B
peer_closed A
peer_closed 2s B
)";
  Transcript t = parse_transcript(text);
  using K = Step::Kind;
  ASSERT_EQ(t.setup.size(), 2u);  // before the first step: opened before the start
  EXPECT_EQ(t.setup[0].kind, K::TcpListen);
  EXPECT_EQ(t.setup[0].peer, "A");
  EXPECT_EQ(t.setup[0].line, 1u);
  EXPECT_EQ(t.setup[1].kind, K::UdpBind);
  EXPECT_EQ(t.setup[1].peer, "U");
  ASSERT_EQ(t.steps.size(), 18u);
  EXPECT_EQ(t.steps[1].kind, K::TcpListen);  // after the first step: a step
  EXPECT_EQ(t.steps[1].peer, "L2");
  EXPECT_EQ(t.steps[2].kind, K::TcpAccept);
  EXPECT_EQ(t.steps[2].duration, Transcript::kExpectTimeout);
  EXPECT_EQ(t.steps[3].duration, 10000ms);
  EXPECT_EQ(t.steps[4].kind, K::TcpConnect);
  EXPECT_EQ(t.steps[4].host, "127.0.0.1");
  EXPECT_EQ(t.steps[4].port, "333");
  EXPECT_TRUE(t.steps[4].port_refs.empty());
  EXPECT_EQ(t.steps[5].duration, 500ms);
  EXPECT_EQ(t.steps[5].host, "localhost");
  EXPECT_EQ(t.steps[5].port, "${A}");
  ASSERT_EQ(t.steps[5].port_refs.size(), 1u);
  EXPECT_EQ(t.steps[5].port_refs[0].name, "A");
  EXPECT_EQ(t.steps[6].kind, K::UdpBind);
  EXPECT_EQ(t.steps[7].kind, K::PeerSend);
  EXPECT_EQ(t.steps[7].bytes, "+IPD,,\r\n");
  EXPECT_EQ(t.steps[8].kind, K::UdpSend);
  EXPECT_EQ(t.steps[8].peer, "U");
  ASSERT_EQ(t.steps[8].port_refs.size(), 1u);
  EXPECT_TRUE(t.steps[8].port_refs[0].peer_port);
  EXPECT_EQ(t.steps[8].port_refs[0].name, "V");
  EXPECT_EQ(t.steps[8].bytes, "ping");
  EXPECT_EQ(t.steps[9].kind, K::PeerExpect);
  EXPECT_EQ(t.steps[9].duration, Transcript::kExpectTimeout);
  EXPECT_EQ(t.steps[10].duration, 5000ms);
  EXPECT_EQ(t.steps[11].kind, K::PeerMatch);
  EXPECT_EQ(t.steps[11].bytes, "\\d+\r\n");  // regex escapes kept, as in match
  EXPECT_EQ(t.steps[12].duration, 1000ms);
  EXPECT_EQ(t.steps[13].kind, K::PeerSilence);
  EXPECT_EQ(t.steps[13].duration, 200ms);
  EXPECT_EQ(t.steps[14].kind, K::PeerClose);
  EXPECT_EQ(t.steps[15].kind, K::PeerReset);
  EXPECT_EQ(t.steps[15].peer, "B");
  EXPECT_EQ(t.steps[16].kind, K::PeerClosed);
  EXPECT_EQ(t.steps[16].duration, Transcript::kExpectTimeout);
  EXPECT_EQ(t.steps[17].duration, 2000ms);
  EXPECT_EQ(t.steps[17].line, 21u);
  for (const Step& s : t.steps) EXPECT_EQ(is_peer_step(s.kind), s.kind != K::Send);
}

TEST(HarnessSelfTest, PlaceholdersInStrings) {
  Transcript t = parse_transcript(
      "control\n"
      "tcp_listen A\n"
      "send \"AT+CIPSTART=\\\"TCP\\\",\\\"127.0.0.1\\\",${A}\\r\\n\"\n"
      "expect \"${A}:\" * 2 \"${A.peer_port}\\r\\n\"\n"
      "match \"\\${A}${A}\\r\\n\"\n"         // \$ in a regex: a literal $, no placeholder
      "send \"\\x24{A}$\\x7bA}$A {}$\"\n"     // written with escapes: plain text
      "http POST \"/x/${A}\" \"{\\\"port\\\":${A.peer_port}}\"\n"
      "stderr \"${A}\"\n");                   // stderr, args, build: no placeholders
  ASSERT_EQ(t.steps.size(), 6u);
  const Step& send = t.steps[0];
  EXPECT_EQ(send.bytes, "AT+CIPSTART=\"TCP\",\"127.0.0.1\",${A}\r\n");
  ASSERT_EQ(send.refs.size(), 1u);
  EXPECT_EQ(send.refs[0].pos, 30u);
  EXPECT_EQ(send.refs[0].len, 4u);
  EXPECT_EQ(send.refs[0].name, "A");
  EXPECT_FALSE(send.refs[0].peer_port);
  const Step& expect = t.steps[1];
  EXPECT_EQ(expect.bytes, "${A}:${A}:${A.peer_port}\r\n");
  ASSERT_EQ(expect.refs.size(), 3u);  // repetition and concatenation move the positions on
  EXPECT_EQ(expect.refs[0].pos, 0u);
  EXPECT_EQ(expect.refs[1].pos, 5u);
  EXPECT_EQ(expect.refs[2].pos, 10u);
  EXPECT_EQ(expect.refs[2].len, 14u);
  EXPECT_TRUE(expect.refs[2].peer_port);
  const Step& match = t.steps[2];
  EXPECT_EQ(match.bytes, "\\${A}${A}\r\n");
  ASSERT_EQ(match.refs.size(), 1u);
  EXPECT_EQ(match.refs[0].pos, 5u);
  EXPECT_EQ(t.steps[3].bytes, "${A}${A}$A {}$");
  EXPECT_TRUE(t.steps[3].refs.empty());
  const Step& http = t.steps[4];
  EXPECT_EQ(http.path, "/x/${A}");
  ASSERT_EQ(http.path_refs.size(), 1u);
  EXPECT_EQ(http.path_refs[0].pos, 3u);
  ASSERT_EQ(http.refs.size(), 1u);
  EXPECT_EQ(http.refs[0].pos, 8u);
  EXPECT_TRUE(t.steps[5].refs.empty());
}

TEST(HarnessSelfTest, RejectsMalformedPeerSteps) {
  EXPECT_EQ(error_line("tcp_listen\n"), 1u);                               // name missing
  EXPECT_EQ(error_line("tcp_listen 1a\n"), 1u);                            // not an identifier
  EXPECT_EQ(error_line("tcp_listen \"A\"\n"), 1u);
  EXPECT_EQ(error_line("tcp_listen a-b\n"), 1u);
  EXPECT_EQ(error_line("tcp_listen A B\n"), 1u);
  EXPECT_EQ(error_line("tcp_listen A\nudp_bind A\n"), 2u);                 // a name is one peer
  EXPECT_EQ(error_line("tcp_listen A\ntcp_listen A\n"), 2u);
  EXPECT_EQ(error_line("tcp_listen A\ntcp_connect A \"127.0.0.1\" 1\n"), 2u);
  EXPECT_EQ(error_line("tcp_connect B \"h\" 1\ntcp_connect B \"h\" 2\n"), 0u);  // reconnects
  EXPECT_EQ(error_line("tcp_accept A\n"), 1u);                             // no such peer
  EXPECT_EQ(error_line("tcp_connect B \"h\" 1\ntcp_accept B\n"), 2u);      // not a listener
  EXPECT_EQ(error_line("tcp_listen A\ntcp_accept 5 A\n"), 2u);             // a duration needs its unit
  EXPECT_EQ(error_line("tcp_connect B 127.0.0.1 80\n"), 1u);               // the host is quoted
  EXPECT_EQ(error_line("tcp_connect B \"\" 80\n"), 1u);
  EXPECT_EQ(error_line("tcp_connect B \"h\"\n"), 1u);                      // port missing
  EXPECT_EQ(error_line("tcp_connect B \"h\" 0\n"), 1u);
  EXPECT_EQ(error_line("tcp_connect B \"h\" 65536\n"), 1u);
  EXPECT_EQ(error_line("tcp_connect B \"h\" http\n"), 1u);
  EXPECT_EQ(error_line("tcp_connect B \"h\" \"80\"\n"), 1u);
  EXPECT_EQ(error_line("tcp_connect B \"h\" ${A\n"), 1u);
  EXPECT_EQ(error_line("tcp_connect B \"h\" ${A}x\n"), 1u);
  EXPECT_EQ(error_line("tcp_connect B \"h\" ${A.port}\n"), 1u);
  EXPECT_EQ(error_line("tcp_connect B \"h\" 80 \"x\"\n"), 1u);
  EXPECT_EQ(error_line("tcp_listen A\nudp_send A \"h\" 80 \"x\"\n"), 2u);  // udp_send needs udp_bind
  EXPECT_EQ(error_line("udp_bind U\nudp_send U \"h\" 80\n"), 2u);          // bytes missing
  EXPECT_EQ(error_line("peer_send A \"x\"\n"), 1u);
  EXPECT_EQ(error_line("udp_bind U\npeer_send U\n"), 2u);
  EXPECT_EQ(error_line("udp_bind U\npeer_expect U \"\"\n"), 2u);
  EXPECT_EQ(error_line("udp_bind U\npeer_match U \"\"\n"), 2u);
  EXPECT_EQ(error_line("udp_bind U\npeer_silence U\n"), 2u);               // the duration is required
  EXPECT_EQ(error_line("udp_bind U\npeer_close U\n"), 2u);                 // TCP only
  EXPECT_EQ(error_line("udp_bind U\npeer_reset U\n"), 2u);
  EXPECT_EQ(error_line("udp_bind U\npeer_closed U\n"), 2u);
  EXPECT_EQ(error_line("udp_bind U\npeer_expect U \"a\" extra\n"), 2u);
  EXPECT_EQ(error_line("send \"${A\"\n"), 1u);                             // placeholders
  EXPECT_EQ(error_line("send \"${}\"\n"), 1u);
  EXPECT_EQ(error_line("send \"${a b}\"\n"), 1u);
  EXPECT_EQ(error_line("send \"${1}\"\n"), 1u);
  EXPECT_EQ(error_line("expect \"${A.port}\"\n"), 1u);
  EXPECT_EQ(error_line("send \"${A}\"\n"), 0u);                            // unknown names: at run time
  // args and build may only use the peers opened before the start.
  EXPECT_EQ(error_line("tcp_listen A\nargs --port ${A}\nsend \"a\"\n"), 0u);
  EXPECT_EQ(error_line("args --port ${A}\nsend \"a\"\ntcp_listen A\n"), 3u);
  EXPECT_EQ(error_line("tcp_listen A\nargs --port ${A.peer_port}\n"), 1u);
  // After exit, peers may still be checked.
  EXPECT_EQ(error_line("tcp_listen A\nnoready\nexit 2\npeer_closed A\n"), 0u);
}

// ---- network peers: the runtime, on loopback ----------------------------------------------------

// Runs a transcript made of peer steps only, as the harness does, minus the module.
void run_peers(Peers& peers, const std::string& text) {
  Transcript t = parse_transcript(text);
  for (const Step& s : t.setup) peers.run(peers.expand(s));
  for (const Step& s : t.steps) peers.run(peers.expand(s));
}

// Runs the peer steps of `text` on peers opened already; the lines of `decl` only declare them to
// the parser. The message of the PeerError it throws, "" when every step holds.
std::string peer_steps(Peers& peers, const std::string& decl, const std::string& text) {
  Transcript t = parse_transcript(decl + text);
  const auto skip = std::size_t(std::count(decl.begin(), decl.end(), '\n'));
  std::vector<Step> all = t.setup;
  all.insert(all.end(), t.steps.begin(), t.steps.end());
  try {
    for (const Step& s : all)
      if (s.line > skip && is_peer_step(s.kind)) peers.run(peers.expand(s));
  } catch (const PeerError& e) {
    return e.what();
  }
  return "";
}

std::string port_of(const Peers& peers, const std::string& placeholder) {
  Transcript t = parse_transcript("send \"" + placeholder + "\"\n");
  return peers.expand(t.steps[0].bytes, t.steps[0].refs);
}

TEST(HarnessSelfTest, PeersTcpBothWays) {
  std::vector<std::string> log;
  int ticks = 0;
  Peers peers([&] { ++ticks; }, [&](const std::string& l) { log.push_back(l); });
  run_peers(peers, R"(tcp_listen A
tcp_connect B "127.0.0.1" ${A}
tcp_accept A
peer_send B "hello\r\n"
peer_expect A "hel" "lo\r\n"
peer_send A "x" * 300000 "\r\n"
peer_expect 10s B "x" * 300000 "\r\n"
peer_send B "+IPD,0,5,\"127.0.0.1\",${B}:abcde\r\nOK\r\n"
peer_match A "\+IPD,0,(\d+),\"127\.0\.0\.1\",${A.peer_port}:abcde\r\n"
peer_expect A "OK\r\n"
peer_silence 50ms A
peer_silence 50ms B
peer_close B
peer_send A "bye"
peer_expect B "bye"
peer_closed A
peer_closed B
)");
  EXPECT_GT(ticks, 0);
  // Each side's ${X.peer_port} is the other's ${X}.
  EXPECT_EQ(port_of(peers, "${A.peer_port}"), port_of(peers, "${B}"));
  EXPECT_EQ(port_of(peers, "${B.peer_port}"), port_of(peers, "${A}"));
  EXPECT_NE(port_of(peers, "${A}"), port_of(peers, "${B}"));
  EXPECT_EQ(peers.substitute_known("--x=${A},${B},${C}"),
            "--x=" + port_of(peers, "${A}") + "," + port_of(peers, "${B}") + ",${C}");
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.front().find("tcp_listen A: listening on 127.0.0.1:"), std::string::npos);
  EXPECT_NO_THROW(peers.check_consumed());
}

TEST(HarnessSelfTest, PeersTcpFailures) {
  Peers peers;
  run_peers(peers, "tcp_listen A\ntcp_connect B \"127.0.0.1\" ${A}\ntcp_accept A\n");
  auto steps = [&](const std::string& text) {
    return peer_steps(peers, "tcp_listen A\ntcp_connect B \"h\" 1\n", text);
  };
  // A difference: the first differing byte, both sides escaped.
  std::string e = steps("peer_send B \"AT\\r\\nERROR\\r\\n\"\npeer_expect A \"AT\\r\\nOK\\r\\n\"\n");
  EXPECT_NE(e.find("peer_expect A: the received bytes differ (first difference at byte 4)"), std::string::npos) << e;
  EXPECT_NE(e.find(R"(expected: "AT\r\nOK\r\n")"), std::string::npos) << e;
  EXPECT_NE(e.find(R"(received: "AT\r\nERROR\r\n")"), std::string::npos) << e;  // with some context
  EXPECT_NE(peers.unconsumed().find(R"(A: "AT\r\nERROR\r\n")"), std::string::npos) << peers.unconsumed();
  EXPECT_THROW(peers.check_consumed(), PeerError);
  EXPECT_NE(steps("peer_silence 20ms A\n").find("already waiting"), std::string::npos);
  // Start over with a fresh connection: tcp_accept replaces it.
  EXPECT_EQ(steps("tcp_connect B \"127.0.0.1\" ${A}\ntcp_accept A\n"), "");
  EXPECT_EQ(peers.unconsumed(), "");

  // Timeouts.
  e = steps("peer_send B \"AT\"\npeer_expect 100ms A \"AT\\r\\n\"\n");
  EXPECT_NE(e.find("peer_expect A: timed out after 100 ms (only part of it arrived)"), std::string::npos) << e;
  e = steps("peer_match 100ms A \"AT\\r\\n\"\n");
  EXPECT_NE(e.find("nothing matching the regex arrived within 100 ms"), std::string::npos) << e;
  EXPECT_NE(e.find(R"(received: "AT")"), std::string::npos) << e;
  EXPECT_EQ(steps("peer_send B \"\\r\\n\"\npeer_match A \"AT\\r\\n\"\n"), "");
  e = steps("tcp_accept 100ms A\n");
  EXPECT_NE(e.find("tcp_accept A: no connection came within 100 ms"), std::string::npos) << e;
  e = steps("peer_closed 100ms A\n");
  EXPECT_NE(e.find("peer_closed A: the connection is still open after 100 ms"), std::string::npos) << e;
  e = steps("peer_send A \"late\"\npeer_silence 300ms B\n");
  EXPECT_NE(e.find(R"(peer_silence B: received "late" within 300 ms)"), std::string::npos) << e;
  EXPECT_EQ(steps("peer_expect B \"late\"\n"), "");  // it was kept, not lost

  // peer_expect reads no more than it needs: the rest stays in the kernel until a step reads it.
  EXPECT_EQ(steps("peer_send A \"abcdef\"\npeer_expect B \"abc\"\n"), "");
  EXPECT_EQ(peers.unconsumed(), "");
  EXPECT_EQ(steps("peer_match B \"d\"\n"), "");  // a match takes only its own bytes
  EXPECT_EQ(peers.unconsumed(), "");
  try {
    peers.check_consumed();  // the end of a transcript reads what is left
    ADD_FAILURE() << "unconsumed bytes were not noticed";
  } catch (const PeerError& x) {
    EXPECT_NE(std::string(x.what()).find(R"(B: "ef")"), std::string::npos) << x.what();
  }
  EXPECT_EQ(steps("peer_expect B \"ef\"\n"), "");
  EXPECT_NO_THROW(peers.check_consumed());

  // peer_closed: data before the close fails and shows it; a clean FIN and an RST both pass.
  e = steps("peer_send B \"+IPD\"\npeer_close B\npeer_closed A\n");
  EXPECT_NE(e.find(R"(peer_closed A: bytes came before the close: "+IPD")"), std::string::npos) << e;
  EXPECT_EQ(steps("peer_send A \"after FIN\"\npeer_expect B \"after FIN\"\n"), "");  // B still reads
  e = steps("peer_send B \"x\"\n");
  EXPECT_NE(e.find("peer_send B: B has sent its FIN already"), std::string::npos) << e;
  EXPECT_EQ(steps("peer_expect 0ms A \"+IPD\"\n"), "");
  e = steps("peer_expect A \"more\"\n");
  EXPECT_NE(e.find("peer_expect A: the module closed the connection after 0 of the bytes"), std::string::npos) << e;
  EXPECT_EQ(steps("peer_closed A\npeer_closed B\n"), "");
  e = steps("peer_send A \"x\"\n");
  EXPECT_NE(e.find("A has no open connection"), std::string::npos) << e;
  EXPECT_EQ(steps("tcp_connect B \"127.0.0.1\" ${A}\ntcp_accept A\npeer_reset B\npeer_closed A\n"), "");
  EXPECT_NE(steps("peer_expect B \"x\"\n").find("B has no open connection"), std::string::npos);

  // A connection refused; placeholders that name no peer, or no connection yet.
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(probe);  // bound, never listening: nobody is there now
  e = steps("tcp_connect C \"127.0.0.1\" " + std::to_string(ntohs(a.sin_port)) + "\n");
  EXPECT_NE(e.find("Connection refused"), std::string::npos) << e;
  e = steps("send \"x\"\npeer_send A \"${NOPE}\"\n");
  EXPECT_NE(e.find("${NOPE}: there is no peer NOPE"), std::string::npos) << e;
  EXPECT_NO_THROW(peers.check_consumed());
}

TEST(HarnessSelfTest, PeersUdp) {
  Peers peers;
  run_peers(peers, R"(udp_bind U
udp_bind V
udp_bind W
udp_send U "127.0.0.1" ${V} "ping"
peer_expect V "ping"
peer_send V "pong\x00"
peer_expect U "pong\x00"
udp_send U "localhost" ${V} "+IPD,4:data\r\n"
peer_match V "\+IPD,\d+:data\r\n"
peer_silence 50ms U
)");
  EXPECT_EQ(port_of(peers, "${V.peer_port}"), port_of(peers, "${U}"));
  EXPECT_EQ(port_of(peers, "${U.peer_port}"), port_of(peers, "${V}"));
  auto steps = [&](const std::string& text) {
    return peer_steps(peers, "udp_bind U\nudp_bind V\nudp_bind W\n", text);
  };
  // One datagram per expectation: two datagrams are not one.
  std::string e = steps("udp_send U \"127.0.0.1\" ${V} \"ab\"\nudp_send U \"127.0.0.1\" ${V} \"cd\"\npeer_expect V \"abcd\"\n");
  EXPECT_NE(e.find("peer_expect V: the datagram differs (first difference at byte 2)"), std::string::npos) << e;
  EXPECT_NE(e.find(R"(received: "ab")"), std::string::npos) << e;
  e = steps("peer_match V \"c\"\n");  // the regex covers the whole datagram
  EXPECT_NE(e.find("the datagram does not match the regex"), std::string::npos) << e;
  e = steps("peer_expect 100ms V \"x\"\n");
  EXPECT_NE(e.find("peer_expect V: timed out after 100 ms: no datagram arrived"), std::string::npos) << e;
  e = steps("udp_send U \"127.0.0.1\" ${V} \"left\"\npeer_silence 200ms V\n");
  EXPECT_NE(e.find(R"(peer_silence V: received the datagram "left")"), std::string::npos) << e;
  EXPECT_THROW(peers.check_consumed(), PeerError);
  EXPECT_EQ(steps("peer_expect V \"left\"\n"), "");
  EXPECT_NO_THROW(peers.check_consumed());
  // No sender yet: no address to answer, no ${W.peer_port}.
  e = steps("peer_send W \"x\"\n");
  EXPECT_NE(e.find("W has received no datagram yet"), std::string::npos) << e;
  e = steps("udp_send U \"127.0.0.1\" ${W.peer_port} \"x\"\n");
  EXPECT_NE(e.find("${W.peer_port}: W has received no datagram yet"), std::string::npos) << e;
  // Unconsumed datagrams at the end.
  EXPECT_EQ(steps("udp_send V \"127.0.0.1\" ${W} \"tail\"\n"), "");
  try {
    peers.check_consumed();
    ADD_FAILURE() << "an unconsumed datagram was not noticed";
  } catch (const PeerError& x) {
    EXPECT_NE(std::string(x.what()).find(R"(W: the datagram "tail")"), std::string::npos) << x.what();
  }
}

}  // namespace
}  // namespace espat::e2e
