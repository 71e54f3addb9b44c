// The `.at` transcript format of the end-to-end tests (README.md in this folder describes it):
// one directive per line, byte strings C-escaped in double quotes. This file only parses;
// harness.cpp runs a parsed transcript against the real binary on a pty.
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace espat::e2e {

using Millis = std::chrono::milliseconds;

// A syntax error, with the 1-based line it was found on (0 when not tied to a line).
struct ParseError : std::runtime_error {
  ParseError(std::size_t line, const std::string& what) : std::runtime_error(what), line(line) {}
  std::size_t line;
};

// Decodes the inside of one quoted string: \r \n \t \0 \" \\ \xNN (exactly two hex digits).
// With keep_unknown (used for `match` regexes), any other escape such as \d or \+ is kept as the
// two bytes backslash + char, so it reaches the regex; otherwise it is an error.
std::string unescape(std::string_view body, bool keep_unknown = false);

// The inverse, for messages: printable ASCII as is, \r \n \t \" \\ named, anything else \xNN.
// The result is wrapped in double quotes.
std::string escape(std::string_view bytes);

// "500ms", "3s", "1.5s" → milliseconds. nullopt if the token is not a duration.
std::optional<Millis> parse_duration(std::string_view token);

// A `${NAME}` or `${NAME.peer_port}` in a string: filled in at run time with a network peer's
// local port, or the remote port of its connection (README "Network peers"). The placeholder
// text stays in the string, at [pos, pos + len), until then.
struct Ref {
  std::size_t pos = 0;
  std::size_t len = 0;
  std::string name;
  bool peer_port = false;
};

// True for a valid peer name: [A-Za-z_][A-Za-z0-9_]*.
bool is_identifier(std::string_view s);

struct Step {
  enum class Kind {
    Send,     // bytes → the AT port
    Expect,   // the next bytes received are exactly `bytes`
    Match,    // `bytes` is an ECMAScript regex matching a prefix of what arrives next
    Silence,  // nothing arrives for `duration`
    Wait,     // sleep `duration` (still collecting what arrives)
    Restart,  // SIGTERM, exit 0, start again, expect ready
    Kill,     // SIGKILL, start again, expect ready
    Exit,     // the module exits by itself with status `code` within `duration`
    Stderr,   // the module's stderr contains `bytes` (waits up to `duration` for it)
    Http,     // `method` `path` with body `bytes` to the control API; status `code` (0: any 2xx)
    // Network peers (README "Network peers"); `peer` names the peer.
    TcpListen,    // a TCP listener on 127.0.0.1, ephemeral port
    TcpAccept,    // accept one connection on the listener within `duration`
    TcpConnect,   // connect to `host`:`port` within `duration`
    UdpBind,      // a UDP socket on 127.0.0.1, ephemeral port
    PeerSend,     // `bytes` → the connection, or one datagram to the last UDP sender
    UdpSend,      // one datagram `bytes` to `host`:`port`
    PeerExpect,   // the next bytes (TCP) or the next datagram (UDP) are exactly `bytes`
    PeerMatch,    // the regex `bytes` matches a prefix of what arrives (UDP: the whole datagram)
    PeerSilence,  // nothing arrives for `duration`
    PeerClose,    // FIN (shutdown for writing)
    PeerReset,    // RST (SO_LINGER 0, close)
    PeerClosed,   // EOF or RST arrives within `duration`, with no data before it
  };
  Kind kind;
  std::size_t line = 0;  // 1-based line in the .at file
  std::string bytes;
  Millis duration{0};
  int code = 0;
  std::string method, path;  // Http only
  std::string peer;          // peer steps: the peer's name
  std::string host, port;    // TcpConnect, UdpSend: port is digits, or a ${...} placeholder
  std::vector<Ref> refs, path_refs, port_refs;  // placeholders in bytes, path and port
};

// TcpListen ... PeerClosed.
bool is_peer_step(Step::Kind k);

struct Transcript {
  static constexpr Millis kExpectTimeout{3000};
  static constexpr Millis kExitTimeout{3000};

  std::string path;                       // for messages
  std::vector<std::string> args{"--boot-ms", "20"};  // replaced by `args` lines
  std::optional<std::string> flash;       // "vectors:…" or "repo:…": copied to the flash path
  std::vector<std::string> build;         // `build` words: `espat image build -o <flash path> WORDS`
  bool ready = true;                      // `noready` clears it
  bool control = false;                   // `control`: run with `--control 0` (http steps)
  bool ignore_rest = false;               // the transcript ended with `ignore_rest`
  std::vector<Step> setup;                // tcp_listen, udp_bind before the first step: opened
                                          // before the module starts
  std::vector<Step> steps;
};

// Parses a whole transcript. Throws ParseError.
Transcript parse_transcript(std::string_view text, std::string path = "<inline>");

// True when the transcript reads ../shared/vectors: `flash "vectors:..."`, or `${VECTORS}` in
// an `args` or `build` word. Such a test skips where the vectors are missing.
bool needs_vectors(const Transcript& t);

}  // namespace espat::e2e
