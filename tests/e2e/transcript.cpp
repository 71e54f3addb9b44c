#include "transcript.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <map>

namespace espat::e2e {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// One token of a directive line: a bare word, or a quoted string (raw body, still escaped,
// with its repetition count from a following `*N`).
struct Token {
  bool quoted = false;
  std::string text;
  std::size_t repeat = 1;
};

std::vector<Token> tokenize(std::string_view line, std::size_t lineno) {
  std::vector<Token> out;
  std::size_t i = 0;
  for (;;) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i >= line.size() || line[i] == '#') break;  // end, or a trailing comment
    Token t;
    if (line[i] == '"') {
      t.quoted = true;
      ++i;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '\\') {
          if (i >= line.size()) break;
          t.text.push_back(c);
          t.text.push_back(line[i++]);
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          t.text.push_back(c);
        }
      }
      if (!closed) throw ParseError(lineno, "unterminated string");
      // Optional repetition: "A" * 251 (spaces around '*' allowed).
      std::size_t j = i;
      while (j < line.size() && is_space(line[j])) ++j;
      if (j < line.size() && line[j] == '*') {
        ++j;
        while (j < line.size() && is_space(line[j])) ++j;
        std::size_t k = j;
        while (k < line.size() && line[k] >= '0' && line[k] <= '9') ++k;
        std::size_t n = 0;
        auto [p, ec] = std::from_chars(line.data() + j, line.data() + k, n);
        if (k == j || ec != std::errc() || n > 1000000)
          throw ParseError(lineno, "expected a count (0..1000000) after '*'");
        t.repeat = n;
        i = k;
      } else if (i < line.size() && !is_space(line[i]) && line[i] != '"') {
        throw ParseError(lineno, "unexpected character after a string: '" + std::string(1, line[i]) + "'");
      }
    } else {
      std::size_t start = i;
      while (i < line.size() && !is_space(line[i]) && line[i] != '"') ++i;
      t.text = std::string(line.substr(start, i - start));
    }
    out.push_back(std::move(t));
  }
  return out;
}

// Unescapes one quoted token's raw text, keeping each unescaped `${NAME}` or `${NAME.peer_port}`
// as is and noting where it landed in `refs`. An escaped `$` (`\$` in a
// regex, `\x24` anywhere) starts no placeholder.
std::string unescape_refs(std::string_view raw, bool keep_unknown, std::vector<Ref>& refs) {
  std::string out;
  std::size_t seg = 0;  // start of the literal segment not yet decoded
  for (std::size_t i = 0; i < raw.size();) {
    if (raw[i] == '\\') {
      i += 2;
      continue;
    }
    if (raw[i] != '$' || i + 1 >= raw.size() || raw[i + 1] != '{') {
      ++i;
      continue;
    }
    std::size_t close = raw.find('}', i);
    if (close == std::string_view::npos)
      throw ParseError(0, "an unterminated ${...}: write ${NAME} or ${NAME.peer_port} (\\x24 for a literal $)");
    std::string_view inner = raw.substr(i + 2, close - i - 2);
    Ref r;
    if (inner.ends_with(".peer_port")) {
      r.peer_port = true;
      inner.remove_suffix(10);
    }
    if (!is_identifier(inner))
      throw ParseError(0, "bad placeholder ${" + std::string(raw.substr(i + 2, close - i - 2)) +
                              "}: write ${NAME} or ${NAME.peer_port} (\\x24 for a literal $)");
    out += unescape(raw.substr(seg, i - seg), keep_unknown);
    r.name = std::string(inner);
    r.pos = out.size();
    r.len = close + 1 - i;
    out += raw.substr(i, r.len);
    refs.push_back(std::move(r));
    i = seg = close + 1;
  }
  out += unescape(raw.substr(seg), keep_unknown);
  return out;
}

// The argument list of a directive, consumed left to right.
class Cursor {
 public:
  Cursor(std::vector<Token> toks, std::size_t line, std::string directive)
      : toks_(std::move(toks)), line_(line), directive_(std::move(directive)) {}

  std::optional<Millis> duration() {
    if (pos_ < toks_.size() && !toks_[pos_].quoted) {
      if (auto d = parse_duration(toks_[pos_].text)) {
        ++pos_;
        return d;
      }
    }
    return std::nullopt;
  }
  Millis required_duration() {
    if (auto d = duration()) return *d;
    fail("a duration such as 200ms or 2s");
  }
  // One or more adjacent quoted strings, concatenated. With `refs`, ${NAME} placeholders are
  // noted there (see unescape_refs); without, `${` is plain text.
  std::string string(bool keep_unknown = false, std::vector<Ref>* refs = nullptr) {
    if (pos_ >= toks_.size() || !toks_[pos_].quoted) fail("a quoted string");
    std::string out;
    while (pos_ < toks_.size() && toks_[pos_].quoted) append(toks_[pos_++], keep_unknown, refs, out);
    return out;
  }
  // Exactly one quoted string (no concatenation), for directives with several string arguments.
  std::optional<std::string> single_string(std::vector<Ref>* refs = nullptr) {
    if (pos_ >= toks_.size() || !toks_[pos_].quoted) return std::nullopt;
    std::string out;
    append(toks_[pos_++], false, refs, out);
    return out;
  }
  // A peer's name: an identifier.
  std::string name() {
    if (pos_ >= toks_.size() || toks_[pos_].quoted || !is_identifier(toks_[pos_].text))
      fail("a peer name ([A-Za-z_][A-Za-z0-9_]*)");
    return toks_[pos_++].text;
  }
  // A port: 1..65535, or a placeholder ${NAME} / ${NAME.peer_port} (filled in at run time).
  void port(std::string& port, std::vector<Ref>& refs) {
    if (pos_ >= toks_.size() || toks_[pos_].quoted) fail("a port (1..65535 or ${NAME})");
    const std::string& w = toks_[pos_].text;
    if (w.starts_with("${")) {
      std::vector<Ref> r;
      try {
        unescape_refs(w, false, r);
      } catch (const ParseError& e) {
        throw ParseError(line_, directive_ + ": " + e.what());
      }
      if (r.size() != 1 || r[0].len != w.size()) fail("a port (1..65535 or ${NAME})");
      refs = std::move(r);
    } else {
      int v = 0;
      auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
      if (ec != std::errc() || p != w.data() + w.size() || v < 1 || v > 65535)
        fail("a port (1..65535 or ${NAME})");
    }
    port = w;
    ++pos_;
  }
  bool at_end() const { return pos_ >= toks_.size(); }
  std::string word() {
    if (pos_ >= toks_.size() || toks_[pos_].quoted) fail("a word");
    return toks_[pos_++].text;
  }
  int integer() {
    if (pos_ < toks_.size() && !toks_[pos_].quoted) {
      const std::string& s = toks_[pos_].text;
      int v = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && p == s.data() + s.size()) {
        ++pos_;
        return v;
      }
    }
    fail("an integer");
  }
  std::vector<std::string> rest_as_words() {
    std::vector<std::string> out;
    for (; pos_ < toks_.size(); ++pos_) {
      if (toks_[pos_].quoted) {
        std::string piece;
        try {
          piece = unescape(toks_[pos_].text);
        } catch (const ParseError& e) {
          throw ParseError(line_, e.what());
        }
        std::string all;
        for (std::size_t r = 0; r < toks_[pos_].repeat; ++r) all += piece;
        out.push_back(all);
      } else {
        out.push_back(toks_[pos_].text);
      }
    }
    return out;
  }
  void end() {
    if (pos_ < toks_.size())
      throw ParseError(line_, directive_ + ": unexpected '" + toks_[pos_].text + "'");
  }

 private:
  // Decodes one quoted token onto `out`, repeated as it says; placeholders go to `refs` if given.
  void append(const Token& t, bool keep_unknown, std::vector<Ref>* refs, std::string& out) {
    std::string piece;
    std::vector<Ref> piece_refs;
    try {
      piece = refs ? unescape_refs(t.text, keep_unknown, piece_refs) : unescape(t.text, keep_unknown);
    } catch (const ParseError& e) {
      throw ParseError(line_, e.what());
    }
    for (std::size_t r = 0; r < t.repeat; ++r) {
      for (Ref ref : piece_refs) {
        ref.pos += out.size();
        refs->push_back(std::move(ref));
      }
      out += piece;
    }
  }
  [[noreturn]] void fail(const std::string& what) {
    std::string got = pos_ < toks_.size() ? "'" + toks_[pos_].text + "'" : "end of line";
    throw ParseError(line_, directive_ + ": expected " + what + ", got " + got);
  }
  std::vector<Token> toks_;
  std::size_t pos_ = 0;
  std::size_t line_;
  std::string directive_;
};

}  // namespace

bool is_identifier(std::string_view s) {
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (s.empty() || !alpha(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

bool is_peer_step(Step::Kind k) { return k >= Step::Kind::TcpListen && k <= Step::Kind::PeerClosed; }

std::string unescape(std::string_view body, bool keep_unknown) {
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= body.size()) throw ParseError(0, "a string ends with a lone backslash");
    char e = body[i];
    switch (e) {
      case 'r': out.push_back('\r'); break;
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case 'x': {
        int hi = i + 1 < body.size() ? hex_value(body[i + 1]) : -1;
        int lo = i + 2 < body.size() ? hex_value(body[i + 2]) : -1;
        if (hi < 0 || lo < 0) throw ParseError(0, "\\x needs exactly two hex digits");
        out.push_back(char(hi * 16 + lo));
        i += 2;
        break;
      }
      default:
        if (!keep_unknown) throw ParseError(0, std::string("unknown escape \\") + e);
        out.push_back('\\');
        out.push_back(e);
    }
  }
  return out;
}

std::string escape(std::string_view bytes) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : bytes) {
    switch (c) {
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out.push_back(char(c));
        } else {
          out += "\\x";
          out.push_back(hex[c >> 4]);
          out.push_back(hex[c & 15]);
        }
    }
  }
  out += "\"";
  return out;
}

std::optional<Millis> parse_duration(std::string_view t) {
  double scale;
  if (t.size() > 2 && t.substr(t.size() - 2) == "ms") {
    scale = 1;
    t.remove_suffix(2);
  } else if (t.size() > 1 && t.back() == 's') {
    scale = 1000;
    t.remove_suffix(1);
  } else {
    return std::nullopt;
  }
  if (t.empty() || !(t[0] >= '0' && t[0] <= '9')) return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size() || v < 0 || v > 3600e3) return std::nullopt;
  return Millis(std::llround(v * scale));
}

namespace {

// What the parser knows of a peer name: how it was opened, so that each step fits it.
struct PeerInfo {
  enum Type { Listener, Client, Udp } type;
  std::size_t line;  // where it was opened first
  bool early;        // opened before the first step
};

std::optional<Step::Kind> peer_directive(const std::string& kw) {
  using K = Step::Kind;
  static const std::pair<const char*, K> table[] = {
      {"tcp_listen", K::TcpListen},     {"tcp_accept", K::TcpAccept},   {"tcp_connect", K::TcpConnect},
      {"udp_bind", K::UdpBind},         {"peer_send", K::PeerSend},     {"udp_send", K::UdpSend},
      {"peer_expect", K::PeerExpect},   {"peer_match", K::PeerMatch},   {"peer_silence", K::PeerSilence},
      {"peer_close", K::PeerClose},     {"peer_reset", K::PeerReset},   {"peer_closed", K::PeerClosed},
  };
  for (const auto& [name, kind] : table)
    if (kw == name) return kind;
  return std::nullopt;
}

void parse_peer_step(Transcript& t, Step s, const std::string& kw, Cursor& c,
                     std::map<std::string, PeerInfo>& peers) {
  using K = Step::Kind;
  const std::size_t line = s.line;
  // The optional timeout first, then the name.
  if (s.kind == K::TcpAccept || s.kind == K::TcpConnect || s.kind == K::PeerExpect || s.kind == K::PeerMatch ||
      s.kind == K::PeerClosed)
    s.duration = c.duration().value_or(Transcript::kExpectTimeout);
  else if (s.kind == K::PeerSilence)
    s.duration = c.required_duration();
  s.peer = c.name();
  auto it = peers.find(s.peer);
  auto open = [&](PeerInfo::Type type) {
    if (it != peers.end() && !(type == PeerInfo::Client && it->second.type == PeerInfo::Client))
      throw ParseError(line, kw + ": " + s.peer + " is already a peer (line " + std::to_string(it->second.line) + ")");
    if (it == peers.end()) peers.emplace(s.peer, PeerInfo{type, line, t.steps.empty()});
  };
  auto need = [&](const char* what, std::initializer_list<PeerInfo::Type> types) {
    if (it == peers.end())
      throw ParseError(line, kw + ": no peer " + s.peer + " (open it first with tcp_listen, tcp_connect or udp_bind)");
    if (std::find(types.begin(), types.end(), it->second.type) == types.end())
      throw ParseError(line, kw + ": " + s.peer + " (line " + std::to_string(it->second.line) + ") is not " + what);
  };
  switch (s.kind) {
    case K::TcpListen: open(PeerInfo::Listener); break;
    case K::UdpBind: open(PeerInfo::Udp); break;
    case K::TcpConnect:
      open(PeerInfo::Client);
      if (auto host = c.single_string(); host && !host->empty()) s.host = *host;
      else throw ParseError(line, kw + ": expected a quoted host after the name");
      c.port(s.port, s.port_refs);
      break;
    case K::TcpAccept: need("a TCP listener (tcp_listen)", {PeerInfo::Listener}); break;
    case K::UdpSend:
      need("a UDP socket (udp_bind)", {PeerInfo::Udp});
      if (auto host = c.single_string(); host && !host->empty()) s.host = *host;
      else throw ParseError(line, kw + ": expected a quoted host after the name");
      c.port(s.port, s.port_refs);
      s.bytes = c.string(false, &s.refs);
      break;
    case K::PeerSend:
      need("a peer", {PeerInfo::Listener, PeerInfo::Client, PeerInfo::Udp});
      s.bytes = c.string(false, &s.refs);
      break;
    case K::PeerExpect:
    case K::PeerMatch:
      need("a peer", {PeerInfo::Listener, PeerInfo::Client, PeerInfo::Udp});
      s.bytes = c.string(s.kind == K::PeerMatch, &s.refs);
      if (s.bytes.empty()) throw ParseError(line, kw + ": the string is empty");
      break;
    case K::PeerSilence: need("a peer", {PeerInfo::Listener, PeerInfo::Client, PeerInfo::Udp}); break;
    case K::PeerClose:
    case K::PeerReset:
    case K::PeerClosed: need("a TCP peer", {PeerInfo::Listener, PeerInfo::Client}); break;
    default: break;
  }
  c.end();
  // A listener or UDP socket before the first step opens before the module starts.
  if ((s.kind == K::TcpListen || s.kind == K::UdpBind) && t.steps.empty())
    t.setup.push_back(std::move(s));
  else
    t.steps.push_back(std::move(s));
}

}  // namespace

Transcript parse_transcript(std::string_view text, std::string path) {
  Transcript t;
  t.path = std::move(path);
  bool args_seen = false;
  std::size_t build_line = 0, flash_line = 0;
  std::size_t lineno = 0;
  std::size_t ignore_rest_line = 0;
  std::map<std::string, PeerInfo> peers;
  while (!text.empty()) {
    ++lineno;
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);

    std::vector<Token> toks = tokenize(line, lineno);
    if (toks.empty()) continue;
    if (toks[0].quoted) throw ParseError(lineno, "a line starts with a directive, not a string");
    const std::string kw = toks[0].text;
    toks.erase(toks.begin());
    Cursor c(std::move(toks), lineno, kw);
    if (ignore_rest_line)
      throw ParseError(lineno, "nothing may follow ignore_rest (line " + std::to_string(ignore_rest_line) + ")");

    auto header = [&] {
      if (!t.steps.empty()) throw ParseError(lineno, kw + " must come before the first step");
    };
    auto step = [&](Step::Kind k) {
      Step s;
      s.kind = k;
      s.line = lineno;
      return s;
    };

    if (kw == "args") {
      header();
      if (!args_seen) t.args.clear();
      args_seen = true;
      auto words = c.rest_as_words();
      t.args.insert(t.args.end(), words.begin(), words.end());
    } else if (kw == "flash") {
      header();
      std::string f = c.string();
      c.end();
      if (f.rfind("vectors:", 0) != 0 && f.rfind("repo:", 0) != 0)
        throw ParseError(lineno, "flash: the source must start with vectors: or repo:");
      t.flash = f;
      flash_line = lineno;
    } else if (kw == "build") {
      header();
      auto words = c.rest_as_words();
      if (words.empty()) throw ParseError(lineno, "build: give the ADDR=FILE pairs or --config FILE");
      t.build.insert(t.build.end(), words.begin(), words.end());
      build_line = lineno;
    } else if (kw == "noready") {
      header();
      c.end();
      t.ready = false;
    } else if (kw == "control") {
      header();
      c.end();
      t.control = true;
    } else if (kw == "http") {
      if (!t.control) throw ParseError(lineno, "http needs the `control` header line");
      Step s = step(Step::Kind::Http);
      s.method = c.word();
      static const char* const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
      if (std::find(std::begin(methods), std::end(methods), s.method) == std::end(methods))
        throw ParseError(lineno, "http: the method is GET, POST, PUT, PATCH or DELETE, not '" + s.method + "'");
      auto path = c.single_string(&s.path_refs);
      if (!path || path->empty() || (*path)[0] != '/')
        throw ParseError(lineno, "http: expected a quoted path starting with /");
      s.path = *path;
      s.bytes = c.single_string(&s.refs).value_or("");
      if (!c.at_end()) {
        s.code = c.integer();
        if (s.code < 100 || s.code > 599) throw ParseError(lineno, "http: a status is 100..599");
      }
      c.end();
      t.steps.push_back(s);
    } else if (kw == "send") {
      Step s = step(Step::Kind::Send);
      s.bytes = c.string(false, &s.refs);
      c.end();
      t.steps.push_back(s);
    } else if (kw == "expect" || kw == "match") {
      Step s = step(kw == "expect" ? Step::Kind::Expect : Step::Kind::Match);
      s.duration = c.duration().value_or(Transcript::kExpectTimeout);
      s.bytes = c.string(s.kind == Step::Kind::Match, &s.refs);
      c.end();
      if (s.bytes.empty()) throw ParseError(lineno, kw + ": the string is empty");
      t.steps.push_back(s);
    } else if (kw == "silence" || kw == "wait") {
      Step s = step(kw == "silence" ? Step::Kind::Silence : Step::Kind::Wait);
      s.duration = c.required_duration();
      c.end();
      t.steps.push_back(s);
    } else if (kw == "restart" || kw == "kill") {
      c.end();
      t.steps.push_back(step(kw == "restart" ? Step::Kind::Restart : Step::Kind::Kill));
    } else if (kw == "exit") {
      Step s = step(Step::Kind::Exit);
      s.duration = c.duration().value_or(Transcript::kExitTimeout);
      s.code = c.integer();
      c.end();
      t.steps.push_back(s);
    } else if (kw == "stderr") {
      Step s = step(Step::Kind::Stderr);
      s.duration = c.duration().value_or(Transcript::kExitTimeout);
      s.bytes = c.string();
      c.end();
      t.steps.push_back(s);
    } else if (auto kind = peer_directive(kw)) {
      parse_peer_step(t, step(*kind), kw, c, peers);
    } else if (kw == "ignore_rest") {
      c.end();
      t.ignore_rest = true;
      ignore_rest_line = lineno;
    } else {
      throw ParseError(lineno, "unknown directive '" + kw + "'");
    }
  }
  // ${NAME} in args and build: only the peers opened before the start have a port by then.
  for (const auto* words : {&t.args, &t.build})
    for (const std::string& w : *words)
      for (const auto& [name, info] : peers) {
        if (w.find("${" + name + ".peer_port}") != std::string::npos)
          throw ParseError(info.line, "args and build cannot use ${" + name + ".peer_port}: there is no connection before the start");
        if (w.find("${" + name + "}") != std::string::npos && !info.early)
          throw ParseError(info.line, "args or build use ${" + name + "}: open " + name + " before the first step");
      }
  if (build_line && flash_line)
    throw ParseError(std::max(build_line, flash_line), "flash and build both make the flash file: use one");
  // After `exit`, the process is gone: only stderr checks make sense.
  bool exited = false;
  for (const Step& s : t.steps) {
    if (exited && s.kind != Step::Kind::Stderr && !is_peer_step(s.kind))
      throw ParseError(s.line, "after exit only stderr checks and peer steps may follow");
    if (s.kind == Step::Kind::Exit) exited = true;
  }
  return t;
}

bool needs_vectors(const Transcript& t) {
  if (t.flash && t.flash->starts_with("vectors:")) return true;
  auto uses = [](const std::vector<std::string>& words) {
    return std::any_of(words.begin(), words.end(),
                       [](const std::string& w) { return w.find("${VECTORS}") != std::string::npos; });
  };
  return uses(t.args) || uses(t.build);
}

}  // namespace espat::e2e
