#include "transcript.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>

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
  // One or more adjacent quoted strings, concatenated.
  std::string string(bool keep_unknown = false) {
    if (pos_ >= toks_.size() || !toks_[pos_].quoted) fail("a quoted string");
    std::string out;
    while (pos_ < toks_.size() && toks_[pos_].quoted) {
      std::string piece;
      try {
        piece = unescape(toks_[pos_].text, keep_unknown);
      } catch (const ParseError& e) {
        throw ParseError(line_, e.what());
      }
      for (std::size_t r = 0; r < toks_[pos_].repeat; ++r) out += piece;
      ++pos_;
    }
    return out;
  }
  // Exactly one quoted string (no concatenation), for directives with several string arguments.
  std::optional<std::string> single_string() {
    if (pos_ >= toks_.size() || !toks_[pos_].quoted) return std::nullopt;
    const Token& t = toks_[pos_++];
    std::string piece, out;
    try {
      piece = unescape(t.text);
    } catch (const ParseError& e) {
      throw ParseError(line_, e.what());
    }
    for (std::size_t r = 0; r < t.repeat; ++r) out += piece;
    return out;
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

Transcript parse_transcript(std::string_view text, std::string path) {
  Transcript t;
  t.path = std::move(path);
  bool args_seen = false;
  std::size_t build_line = 0, flash_line = 0;
  std::size_t lineno = 0;
  std::size_t ignore_rest_line = 0;
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
      auto path = c.single_string();
      if (!path || path->empty() || (*path)[0] != '/')
        throw ParseError(lineno, "http: expected a quoted path starting with /");
      s.path = *path;
      s.bytes = c.single_string().value_or("");
      if (!c.at_end()) {
        s.code = c.integer();
        if (s.code < 100 || s.code > 599) throw ParseError(lineno, "http: a status is 100..599");
      }
      c.end();
      t.steps.push_back(s);
    } else if (kw == "send") {
      Step s = step(Step::Kind::Send);
      s.bytes = c.string();
      c.end();
      t.steps.push_back(s);
    } else if (kw == "expect" || kw == "match") {
      Step s = step(kw == "expect" ? Step::Kind::Expect : Step::Kind::Match);
      s.duration = c.duration().value_or(Transcript::kExpectTimeout);
      s.bytes = c.string(s.kind == Step::Kind::Match);
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
    } else if (kw == "ignore_rest") {
      c.end();
      t.ignore_rest = true;
      ignore_rest_line = lineno;
    } else {
      throw ParseError(lineno, "unknown directive '" + kw + "'");
    }
  }
  if (build_line && flash_line)
    throw ParseError(std::max(build_line, flash_line), "flash and build both make the flash file: use one");
  // After `exit`, the process is gone: only stderr checks make sense.
  bool exited = false;
  for (const Step& s : t.steps) {
    if (exited && s.kind != Step::Kind::Stderr)
      throw ParseError(s.line, "after exit only stderr checks may follow");
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
