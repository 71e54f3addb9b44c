// The module's HTTP/1.1 client (spec 3.7); see http_client.hpp. Chosen over libcurl (README
// "HTTP client"): the firmware's line splitting depends on reads of <rx size> bytes (512 by
// default, below libcurl's 1 KiB minimum buffer), and the module's sockets, names and TLS are
// already here, on the loop, with no thread to post back from.
#include "module/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "at/engine.hpp"
#include "module/client_stream.hpp"
#include "module/context.hpp"
#include "module/net.hpp"
#include "net/tcp_stream.hpp"
#include "net/tls.hpp"

namespace espat::module {

namespace {
bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The response as esp_http_client's http_parser sees it, one read at a time.
class Parser {
 public:
  explicit Parser(bool head_request) : head_request_(head_request) {}
  enum class Phase { Head, Body, ChunkSize, ChunkData, ChunkEnd, Trailers, Done, Bad };
  Phase phase() const { return phase_; }
  int status() const { return status_; }
  long long content_length() const { return length_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
  bool until_close() const { return until_close_; }
  bool head_done() const { return phase_ != Phase::Head; }

  // Feeds one read; the body runs it held, in order.
  std::vector<std::string_view> feed(std::string_view data) {
    std::vector<std::string_view> out;
    while (!data.empty() && phase_ != Phase::Done && phase_ != Phase::Bad) {
      switch (phase_) {
        case Phase::Head: {
          const std::size_t before = head_.size();
          head_.append(data);
          const auto end = head_.find("\r\n\r\n");
          if (end == std::string::npos) {
            if (head_.size() > kMaxHead) phase_ = Phase::Bad;
            return out;
          }
          data.remove_prefix(end + 4 - before);
          head_.resize(end);
          parse_head();
          break;
        }
        case Phase::Body: {
          std::size_t n = data.size();
          if (!until_close_) n = std::min<std::size_t>(n, std::size_t(remaining_));
          out.push_back(data.substr(0, n));
          data.remove_prefix(n);
          if (!until_close_ && (remaining_ -= (long long)n) == 0) phase_ = Phase::Done;
          break;
        }
        case Phase::ChunkSize:
        case Phase::ChunkEnd:
        case Phase::Trailers: {
          const auto nl = data.find('\n');
          line_.append(data.substr(0, nl));
          if (nl == std::string_view::npos) return out;
          data.remove_prefix(nl + 1);
          std::string_view l = trim(line_);
          if (phase_ == Phase::ChunkEnd) {
            phase_ = Phase::ChunkSize;
          } else if (phase_ == Phase::Trailers) {
            if (l.empty()) phase_ = Phase::Done;
          } else {
            l = l.substr(0, l.find(';'));
            unsigned long long size = 0;
            auto [p, ec] = std::from_chars(l.data(), l.data() + l.size(), size, 16);
            if (ec != std::errc() || l.empty()) phase_ = Phase::Bad;
            else if (size == 0) phase_ = Phase::Trailers;
            else {
              remaining_ = (long long)size;
              phase_ = Phase::ChunkData;
            }
          }
          line_.clear();
          break;
        }
        case Phase::ChunkData: {
          const std::size_t n = std::min<std::size_t>(data.size(), std::size_t(remaining_));
          out.push_back(data.substr(0, n));
          data.remove_prefix(n);
          if ((remaining_ -= (long long)n) == 0) phase_ = Phase::ChunkEnd;
          break;
        }
        default: break;
      }
    }
    return out;
  }

 private:
  static constexpr std::size_t kMaxHead = 16384;
  void parse_head() {
    std::string_view h = head_;
    auto eol = h.find("\r\n");
    std::string_view status_line = h.substr(0, eol);
    h.remove_prefix(eol == std::string_view::npos ? h.size() : eol + 2);
    // "HTTP/1.1 200 OK"
    const auto sp = status_line.find(' ');
    if (status_line.substr(0, 5) != "HTTP/" || sp == std::string_view::npos) {
      phase_ = Phase::Bad;
      return;
    }
    auto code = status_line.substr(sp + 1, 3);
    if (std::from_chars(code.data(), code.data() + code.size(), status_).ec != std::errc()) {
      phase_ = Phase::Bad;
      return;
    }
    bool chunked = false;
    while (!h.empty()) {
      eol = h.find("\r\n");
      std::string_view l = h.substr(0, eol);
      h.remove_prefix(eol == std::string_view::npos ? h.size() : eol + 2);
      const auto colon = l.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view key = trim(l.substr(0, colon)), value = trim(l.substr(colon + 1));
      headers_.emplace_back(key, value);
      if (iequal(key, "Content-Length")) std::from_chars(value.data(), value.data() + value.size(), length_);
      if (iequal(key, "Transfer-Encoding") && value.find("chunked") != std::string_view::npos) chunked = true;
    }
    if (head_request_ || status_ / 100 == 1 || status_ == 204 || status_ == 304) phase_ = Phase::Done;
    else if (chunked) {
      length_ = -1;
      phase_ = Phase::ChunkSize;
    } else if (length_ >= 0) {
      remaining_ = length_;
      phase_ = length_ == 0 ? Phase::Done : Phase::Body;
    } else {
      until_close_ = true;
      phase_ = Phase::Body;
    }
  }

  bool head_request_;
  Phase phase_ = Phase::Head;
  std::string head_, line_;
  int status_ = 0;
  long long length_ = -1, remaining_ = 0;
  bool until_close_ = false;
  std::vector<std::pair<std::string, std::string>> headers_;
};

std::string host_header(const Url& u) {
  const bool v6 = u.host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + u.host + "]" : u.host;
  if (u.port != (u.tls ? 443 : 80)) h += fmt::format(":{}", u.port);
  return h;
}

// The request's head: the fields esp_http_client sends, then the extra ones; a later field
// replaces an earlier one with the same key.
std::string request_head(const HttpRequest& r, const Url& u) {
  std::vector<std::pair<std::string, std::string>> fields = {{"Host", host_header(u)},
                                                             {"User-Agent", "ESP32 HTTP Client/1.0"}};
  auto set = [&fields](std::string key, std::string value) {
    for (auto& f : fields)
      if (iequal(f.first, key)) {
        f.second = std::move(value);
        return;
      }
    fields.emplace_back(std::move(key), std::move(value));
  };
  if (r.body) set("Content-Length", std::to_string(r.body->size()));
  for (const auto& h : r.headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos) continue;
    set(std::string(trim(std::string_view(h).substr(0, colon))), std::string(trim(std::string_view(h).substr(colon + 1))));
  }
  std::string out = fmt::format("{} {} HTTP/1.1\r\n", r.method, u.target);
  for (const auto& [k, v] : fields) out += fmt::format("{}: {}\r\n", k, v);
  return out + "\r\n";
}

// A Location against the URL that answered it: absolute, or a path on the same origin.
std::string resolve_location(const Url& base, std::string_view loc) {
  if (loc.find("://") != std::string_view::npos) return std::string(loc);
  const bool v6 = base.host.find(':') != std::string::npos;
  std::string origin = fmt::format("{}://{}{}{}:{}", base.tls ? "https" : "http", v6 ? "[" : "", base.host, v6 ? "]" : "", base.port);
  if (!loc.empty() && loc.front() == '/') return origin + std::string(loc);
  std::string dir = base.target.substr(0, base.target.rfind('/') + 1);
  return origin + dir + std::string(loc);
}

bool redirect_status(int s) { return s == 301 || s == 302 || s == 303 || s == 307 || s == 308; }
}  // namespace

std::optional<Url> parse_url(std::string_view t) {
  Url u;
  if (t.substr(0, 7) == "http://") t.remove_prefix(7);
  else if (t.substr(0, 8) == "https://") {
    t.remove_prefix(8);
    u.tls = true;
    u.port = 443;
  } else {
    return std::nullopt;
  }
  const auto slash = t.find_first_of("/?");
  std::string_view authority = t.substr(0, slash);
  if (slash != std::string_view::npos) {
    u.target = std::string(t.substr(slash));
    if (u.target.front() == '?') u.target = "/" + u.target;
  }
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.find(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return std::nullopt;
  if (!port.empty()) {
    int p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p <= 0 || p > 65535) return std::nullopt;
    u.port = p;
  }
  return u;
}

namespace {
// A connected stream to the URL's server from the module's own address, or nullptr.
asio::awaitable<std::unique_ptr<net::Stream>> open(Context& ctx, const Url& u, std::chrono::milliseconds timeout,
                                                   async::StopToken stop, std::string& why) {
  ClientTarget t{"http", u.host, u.port, std::nullopt};
  if (u.tls) {
    // esp_http_client without a CA configured does not verify the server (3.7 has no TLS setting).
    net::TlsClientOptions opts;
    std::error_code ec;
    asio::ip::make_address(u.host, ec);
    if (ec) opts.sni = u.host;
    t.tls = opts;
  }
  auto c = co_await open_client_stream(ctx, t, timeout, stop);
  why = c.why;
  co_return std::move(c.stream);
}

asio::awaitable<std::size_t> read_into(net::Stream& s, std::span<char> buf) { co_return co_await s.read_some(buf); }
asio::awaitable<bool> write_all(net::Stream& s, std::string data) {
  co_await s.write(data);
  co_return true;
}
}  // namespace

asio::awaitable<HttpOutcome> http_request(Context& ctx, HttpRequest r, HttpCallbacks cb, async::StopToken stop) {
  auto& io = ctx.engine().io();
  HttpOutcome out;
  std::string url = r.url;
  for (int hop = 0;; ++hop) {
    auto u = parse_url(url);
    if (!u) {
      out.bad_url = true;
      out.error = "not an http(s) URL: " + url;
      co_return out;
    }
    auto stream = co_await open(ctx, *u, r.timeout, stop, out.error);
    if (!stream) co_return out;
    try {
      std::string request = request_head(r, *u);
      if (r.body) request += *r.body;
      if (!co_await stop.race(io, write_all(*stream, std::move(request)), r.timeout)) {
        stream->close();
        out.error = "send timeout";
        co_return out;
      }
      Parser p(r.method == "HEAD");
      std::string buf(std::max<std::size_t>(r.rx_size, 1), '\0');
      bool follow = false;
      while (p.phase() != Parser::Phase::Done) {
        auto got = co_await stop.race(io, read_into(*stream, std::span<char>(buf.data(), buf.size())), r.timeout);
        if (!got) {
          stream->close();
          out.error = "receive timeout";
          co_return out;
        }
        const bool was_head = !p.head_done();
        auto runs = p.feed(std::string_view(buf.data(), *got));
        if (p.phase() == Parser::Phase::Bad) {
          out.error = "malformed response";
          co_return out;
        }
        if (was_head && p.head_done()) {
          out.status = p.status();
          out.content_length = p.content_length();
          std::string location;
          for (const auto& [k, v] : p.headers())
            if (iequal(k, "Location")) location = v;
          if (redirect_status(p.status()) && !location.empty() && hop < r.max_redirects) {
            url = resolve_location(*u, location);
            if (p.status() == 303) {
              r.method = "GET";
              r.body.reset();
            }
            follow = true;
            break;
          }
          if (cb.on_header)
            for (const auto& [k, v] : p.headers()) cb.on_header(k, v);
        }
        for (auto run : runs)
          if (!run.empty() && cb.on_data) cb.on_data(run);
        if (*got == 0) {
          // The peer closed: the end of an until-close body, else a cut response.
          if (p.phase() != Parser::Phase::Done && !(p.head_done() && p.until_close())) {
            out.error = "connection closed mid-response";
            if (!p.head_done()) out.status = 0;
            co_return out;
          }
          break;
        }
      }
      stream->close();
      if (!follow) co_return out;
      spdlog::debug("m{}: HTTP redirect to {}", ctx.index(), url);
    } catch (const std::system_error& e) {
      out.error = e.what();
      co_return out;
    }
  }
}

}  // namespace espat::module
