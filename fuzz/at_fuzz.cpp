// libFuzzer target: the AT port's line framer (at/framer.hpp) and the parameter parser
// (at/params.hpp). The input is fed through a LineFramer in chunks of fuzzer-chosen sizes, with
// a fuzzer-chosen line limit; every complete command line then goes through parse_params,
// check and parse_and_check against a few schemas shaped like real commands. Besides memory
// errors (ASan/UBSan), it traps on:
//   - a framer result (events, edited lines, echo) that differs from a one-pass reference framer
//     (chunking must not matter),
//   - a Line event that holds '\n' or more than max_line - 2 bytes (254 at the default 256),
//   - a framer that buffers more than its limit, or consumes bytes it was not given,
//   - a quoted, escaped string that does not parse back to the same bytes,
//   - a parsed parameter list that, written back out, does not parse to the same list,
//   - check() returning Args that break the schema (integer out of range, wrong kind, string
//     length out of bounds, a mandatory parameter missing), or disagreeing with parse_and_check.
//
// Input layout: byte 0 picks the line limit, bytes 1-2 seed the chunk sizes, the rest is what
// arrives on the AT port.
//
// To check the framer's buffer bound the fuzzer reads its private members: `private` is redefined
// around framer.hpp only (every standard header it needs is included first; access does not
// change the layout, and the framer itself is compiled in espat_fuzzlib as usual).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "at/error.hpp"
#include "at/params.hpp"

#define private public
#include "at/framer.hpp"
#undef private

namespace {

using espat::at::Any;
using espat::at::Args;
using espat::at::ErrCode;
using espat::at::Int;
using espat::at::LineFramer;
using espat::at::ParamSpec;
using espat::at::ParseFailure;
using espat::at::RawParam;
using espat::at::Str;

#define CHECK(cond)                 \
  do {                              \
    if (!(cond)) __builtin_trap();  \
  } while (0)

// ---- schemas shaped like real commands -------------------------------------------------------
const std::vector<std::vector<ParamSpec>>& schemas() {
  static const std::vector<std::vector<ParamSpec>> s = {
      {},  // an execute-only command given parameters
      {Int{"state", 0, 7}},  // AT+SYSMSG
      {Int{"baudrate", 80, 5'000'000}, Int{"databits", 5, 8}, Int{"stopbits", 1, 3}, Int{"parity", 0, 2},
       Int{"flow control", 0, 3}},  // AT+UART_DEF
      {Int{"operation", 0, 2}, Str{"namespace", 15, 1, true}, Str{"key", 15, 1, true},
       Int{"type|offset", 0, INT32_MAX, true}, Int{"value|length", INT32_MIN, UINT32_MAX, true}},  // AT+SYSMFG
      {Int{"mode", 0, 2}, Any{"remote host|role", true}, Int{"remote port|tx_srv", 0, 65535, true},
       Any{"type|tx_char", true}, Int{"keep_alive|local port|rx_srv", 0, 65535, true},
       Int{"rx_char", 0, 255, true}, Str{"peer_addr", 17, 0, true}},  // AT+SAVETRANSLINK
      {Str{"ssid", 32, 0}, Str{"pwd", 64, 0}, Str{"bssid", 17, 17, true}, Int{"pci_en", 0, 1, true},
       Int{"reconn_interval", 0, 7200, true}, Int{"listen_interval", 1, 100, true}, Int{"scan_mode", 0, 1, true},
       Int{"jap_timeout", 3, 600, true}, Int{"pmf", 0, 3, true}},  // AT+CWJAP
      {Any{"a"}, Any{"b", true}, Any{"c", true}},
      {Int{"wide", INT64_MIN, INT64_MAX}, Int{"neg", -100, -1, true}, Str{"s", 0, 0, true}},
  };
  return s;
}

bool optional_spec(const ParamSpec& s) {
  return std::visit([](const auto& p) { return p.optional; }, s);
}

// ---- the parser ------------------------------------------------------------------------------
// The inverse of a quoted parameter: escape backslash, comma and double quote, then quote.
std::string escape_quoted(std::string_view bytes) {
  std::string out = "\"";
  for (char c : bytes) {
    if (c == '\\' || c == ',' || c == '"') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// A parsed list written back as a command's parameter text.
std::string serialize(const std::vector<RawParam>& params) {
  std::string out;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i) out.push_back(',');
    const RawParam& p = params[i];
    switch (p.kind) {
      case RawParam::Kind::Omitted: break;
      case RawParam::Kind::Bare: out += p.text; break;
      case RawParam::Kind::String: out += escape_quoted(p.text); break;
    }
  }
  return out;
}

bool same(const std::vector<RawParam>& a, const std::vector<RawParam>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].kind != b[i].kind || a[i].text != b[i].text) return false;
  return true;
}

void check_round_trip_string(std::string_view bytes) {
  auto parsed = espat::at::parse_params(escape_quoted(bytes));
  const auto* list = std::get_if<std::vector<RawParam>>(&parsed);
  CHECK(list != nullptr);
  CHECK(list->size() == 1);
  CHECK((*list)[0].kind == RawParam::Kind::String);
  CHECK((*list)[0].text == bytes);
}

void check_args(const Args& args, const std::vector<RawParam>& raw, const std::vector<ParamSpec>& schema) {
  CHECK(args.given() == raw.size());
  for (std::size_t i = 0; i < schema.size() + 2; ++i) {
    if (i >= schema.size()) {
      CHECK(!args.has(i));  // nothing beyond the schema
      continue;
    }
    const ParamSpec& spec = schema[i];
    if (!args.has(i)) {
      CHECK(optional_spec(spec));  // a mandatory parameter is always there
      CHECK(i >= raw.size() || raw[i].kind == RawParam::Kind::Omitted);
      CHECK(args.text(i).empty());
      continue;
    }
    CHECK(i < raw.size() && raw[i].kind != RawParam::Kind::Omitted);
    if (const Int* s = std::get_if<Int>(&spec)) {
      CHECK(!args.is_string(i));
      CHECK(raw[i].kind == RawParam::Kind::Bare);
      const std::int64_t v = args.integer(i);
      CHECK(v >= s->min && v <= s->max);
      CHECK(espat::at::parse_integer(raw[i].text) == v);
    } else if (const Str* s = std::get_if<Str>(&spec)) {
      CHECK(args.is_string(i));
      CHECK(args.text(i) == raw[i].text);
      CHECK(args.text(i).size() <= s->max_len && args.text(i).size() >= s->min_len);
    } else {
      CHECK(args.is_string(i) == (raw[i].kind == RawParam::Kind::String));
      if (!args.is_string(i)) CHECK(espat::at::parse_integer(raw[i].text) == args.integer(i));
    }
  }
}

void fuzz_params(std::string_view text) {
  check_round_trip_string(text);
  // Responses print strings quoted without escapes (the firmware prints raw bytes).
  const std::string q = espat::at::quoted(text);
  CHECK(q.size() == text.size() + 2 && q.front() == '"' && q.back() == '"' && q.compare(1, text.size(), text) == 0);
  // A bare token as an integer: what parses prints back to the same number.
  if (text.size() <= 40) {
    if (auto n = espat::at::parse_integer(text)) {
      CHECK(espat::at::parse_integer(std::to_string(*n)) == n);
    }
  }

  auto parsed = espat::at::parse_params(text);
  const auto* list = std::get_if<std::vector<RawParam>>(&parsed);
  if (list) {
    CHECK(!list->empty());
    for (const RawParam& p : *list) {
      if (p.kind == RawParam::Kind::Omitted) CHECK(p.text.empty());
      if (p.kind == RawParam::Kind::Bare) {
        CHECK(!p.text.empty());
        CHECK(p.text.find(',') == std::string::npos);
        CHECK(p.text.front() != ' ' && p.text.front() != '\t' && p.text.back() != ' ' && p.text.back() != '\t');
        CHECK(p.text.front() != '"');
      }
    }
    auto again = espat::at::parse_params(serialize(*list));
    const auto* list2 = std::get_if<std::vector<RawParam>>(&again);
    CHECK(list2 != nullptr);
    CHECK(same(*list, *list2));
  } else {
    CHECK(std::get<ParseFailure>(parsed).index < text.size() + 1);
  }

  // parse_and_check against one schema (picked by the text) equals parse_params then check.
  const auto& all = schemas();
  const auto& picked = all[(text.size() + (text.empty() ? 0 : std::uint8_t(text[0]))) % all.size()];
  auto both = espat::at::parse_and_check(text, picked);
  if (!list) {
    CHECK(std::holds_alternative<ErrCode>(both));
    CHECK(std::get<ErrCode>(both) ==
          ErrCode::make(espat::at::Sub::ParaParse, std::uint16_t(std::get<ParseFailure>(parsed).index)));
    return;
  }
  auto direct = espat::at::check(*list, picked);
  CHECK(both.index() == direct.index());
  if (const auto* err = std::get_if<ErrCode>(&direct)) CHECK(std::get<ErrCode>(both) == *err);

  // check() against every schema: an error, or Args that keep to the schema.
  for (const auto& schema : all) {
    auto checked = espat::at::check(*list, schema);
    if (const auto* err = std::get_if<ErrCode>(&checked)) {
      CHECK(err->sub() != espat::at::Sub::Ok);
      continue;
    }
    check_args(std::get<Args>(checked), *list, schema);
  }

}

// ---- the framer ------------------------------------------------------------------------------
struct Event {
  LineFramer::Event kind;
  std::string line, echo;
  bool operator==(const Event&) const = default;
};

// One line's bytes (no LF) as the rules in framer.hpp edit them: a byte is kept and echoed;
// Backspace or DEL removes the last kept byte and echoes "\b \b", and with nothing to remove
// does nothing; once max_line bytes are kept (more than 254 + CR at the default) the line is
// lost: the bytes after that are still echoed, but not kept, and nothing is left to erase.
struct Edited {
  std::string text, echo;
  bool lost = false;
};
Edited edit(std::string_view seg, std::size_t max_line) {
  Edited ed;
  for (char c : seg) {
    if (c == '\b' || c == '\x7f') {
      if (!ed.lost && !ed.text.empty()) {
        ed.text.pop_back();
        ed.echo += "\b \b";
      }
      continue;
    }
    ed.echo.push_back(c);
    if (ed.lost) continue;
    ed.text.push_back(c);
    if (ed.text.size() >= max_line) {
      ed.lost = true;
      ed.text.clear();
    }
  }
  return ed;
}

// One pass over the whole input: a segment ending in LF is TooLong when its line was lost,
// NoTerminator when the kept bytes do not end in CR, else a Line; each carries its whole echo
// with the LF. rest: what follows the last LF, edited.
std::vector<Event> reference_frame(std::string_view in, std::size_t max_line, Edited& rest) {
  std::vector<Event> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t lf = in.find('\n', start);
    if (lf == std::string_view::npos) break;
    Edited ed = edit(in.substr(start, lf - start), max_line);
    ed.echo.push_back('\n');
    if (ed.lost) out.push_back({LineFramer::Event::TooLong, "", ed.echo});
    else if (ed.text.empty() || ed.text.back() != '\r') out.push_back({LineFramer::Event::NoTerminator, "", ed.echo});
    else out.push_back({LineFramer::Event::Line, ed.text.substr(0, ed.text.size() - 1), ed.echo});
    start = lf + 1;
  }
  rest = edit(in.substr(start), max_line);
  return out;
}

struct Chunker {
  std::uint32_t state;
  std::size_t max_chunk;
  std::uint32_t next() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  // Line limit: mostly the default 256, sometimes anything from 3 (the framer's minimum) to 1026.
  const std::uint8_t cfg = data[0];
  const std::size_t max_line = (cfg & 0x80) ? 256 : 3 + std::size_t(cfg) * 8 + (cfg & 7);
  Chunker chunker{std::uint32_t(data[1]) << 8 | data[2] | 1u, std::size_t(1) + (data[1] & 0x3F)};
  const std::string_view in(reinterpret_cast<const char*>(data) + 3, size - 3);

  LineFramer framer(max_line);
  std::vector<Event> events;
  // Echo events (the echo of a line not ended yet) are folded into the line event that follows,
  // so that chunking cannot change the result; those after the last LF collect in tail_echo.
  std::string tail_echo;
  const LineFramer::Sink sink = [&](LineFramer::Event e, const std::string& line, const std::string& echo) {
    CHECK(echo.find('\n') == (e == LineFramer::Event::Echo ? std::string::npos : echo.size() - 1));
    if (e == LineFramer::Event::Echo) {
      CHECK(!echo.empty());
      tail_echo += echo;
      return;
    }
    events.push_back({e, line, std::exchange(tail_echo, {}) + echo});
  };

  std::size_t pos = 0;
  while (pos < in.size()) {
    const std::uint32_t r = chunker.next();
    const std::size_t want = std::min<std::size_t>(in.size() - pos, 1 + r % chunker.max_chunk);
    const bool stop = (r >> 16) & 1;  // sometimes stop after one event, as before data input
    std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(in.data()) + pos, want);
    const std::size_t before = events.size();
    const std::size_t tail_before = tail_echo.size();
    const std::size_t used = framer.feed(bytes, sink, stop);
    CHECK(used <= want);
    CHECK(used > 0);  // at least one byte is always consumed
    if (!stop) CHECK(used == want);
    if (stop) {
      CHECK(events.size() - before <= 1);
      if (used < want) CHECK(events.size() - before == 1 && in[pos + used - 1] == '\n');
    }
    // A call that ends no line echoes at most 3 bytes (an erasure) per byte it was given.
    if (events.size() == before) CHECK(tail_echo.size() - tail_before <= 3 * used);
    pos += used;
    // The buffer bound: never more than the limit (254 + CR at the default).
    CHECK(framer.buf_.size() <= max_line - 1);
    CHECK(framer.buf_.find('\n') == std::string::npos);
    if (framer.overflow_) CHECK(framer.buf_.empty());
  }

  Edited rest;
  const std::vector<Event> expected = reference_frame(in, max_line, rest);
  CHECK(events == expected);
  CHECK(tail_echo == rest.echo);
  CHECK(framer.pending() == (!rest.text.empty() || rest.lost));

  for (const Event& e : events) {
    if (e.kind != LineFramer::Event::Line) continue;
    CHECK(e.line.find('\n') == std::string::npos);
    CHECK(e.line.size() <= max_line - 2);
    if (max_line == 256) CHECK(e.line.size() <= 254);
    CHECK(e.echo.ends_with('\n'));  // not always "\r\n": "AT\r\r\b \b\n" is the line "AT"
    // Without an erasure the echo is the line as received.
    if (e.echo.find('\b') == std::string::npos) CHECK(e.echo == e.line + "\r\n");
    const std::size_t eq = e.line.find('=');
    fuzz_params(eq == std::string::npos ? std::string_view(e.line) : std::string_view(e.line).substr(eq + 1));
  }
  // The bytes after the last LF, as the parser would see them on a longer line.
  const std::string_view after_lf = in.substr(in.rfind('\n') == std::string_view::npos ? 0 : in.rfind('\n') + 1);
  if (after_lf.size() <= 4096) fuzz_params(after_lf);

  framer.reset();
  CHECK(!framer.pending());
  return 0;
}
