// See websocket.hpp. Written here rather than taken from a library: libwebsockets runs its own
// event loop and threads, and Boost.Beast needs Boost.Asio; espat's streams are standalone-Asio
// coroutines with the module's faults and TLS around them (README "WebSocket").
#include "net/websocket.hpp"

#include <strings.h>

#include <algorithm>
#include <cstring>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

namespace espat::net {

namespace {
constexpr std::size_t kMaxHead = 16384;      // a 101 answer longer than this is refused
constexpr std::size_t kMaxFrame = 1 << 20;   // a frame above 1 MiB ends the connection

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, int(n));
  out.resize(std::size_t(len));
  return out;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}
bool icontains(std::string_view hay, std::string_view needle) {
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i)
    if (iequal(hay.substr(i, needle.size()), needle)) return true;
  return false;
}
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

ws::MaskKey random_mask() {
  ws::MaskKey k{};
  if (RAND_bytes(k.data(), int(k.size())) != 1) throw WsError("no random bytes for a mask");
  return k;
}

// The request of 4.1, in the order esp_transport_ws writes its fields.
std::string request_of(const WsOptions& o, const std::string& key) {
  std::string r = fmt::format("GET {} HTTP/1.1\r\nConnection: Upgrade\r\nHost: {}\r\n", o.path.empty() ? "/" : o.path, o.host);
  r += "User-Agent: ESP32 Websocket Client\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
  r += fmt::format("Sec-WebSocket-Key: {}\r\n", key);
  if (!o.subprotocol.empty()) r += fmt::format("Sec-WebSocket-Protocol: {}\r\n", o.subprotocol);
  for (const auto& h : o.headers) {
    std::string_view line = trim(h);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    if (!line.empty()) r += fmt::format("{}\r\n", line);
  }
  return r + "\r\n";
}

// Writes the request and reads the answer's head; what came after the head is left in `rest`.
asio::awaitable<std::string> exchange(Stream& s, std::string request, std::string& rest) {
  co_await s.write(request);
  std::string got;
  char buf[2048];
  for (;;) {
    const auto end = got.find("\r\n\r\n");
    if (end != std::string::npos) {
      rest = got.substr(end + 4);
      got.resize(end);
      co_return got;
    }
    if (got.size() > kMaxHead) throw WsError("handshake answer too long");
    const std::size_t n = co_await s.read_some(std::span<char>(buf, sizeof buf));
    if (n == 0) throw WsError("connection closed during the handshake");
    got.append(buf, n);
  }
}

asio::awaitable<bool> expire(asio::steady_timer& t) {
  std::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return true;
}

// Checks the answer of 4.2.2 / 4.1 (the client's requirements 1-6).
void check_answer(std::string_view head, const std::string& key, const WsOptions& o) {
  auto eol = head.find("\r\n");
  const std::string_view status = head.substr(0, eol);
  head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
  const auto sp = status.find(' ');
  if (status.substr(0, 5) != "HTTP/" || sp == std::string_view::npos) throw WsError("not an HTTP answer");
  if (status.substr(sp + 1, 3) != "101") throw WsError(fmt::format("answered {}", status.substr(sp + 1)));
  bool upgrade = false, connection = false;
  std::string accept, protocol;
  while (!head.empty()) {
    eol = head.find("\r\n");
    const std::string_view l = head.substr(0, eol);
    head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
    const auto colon = l.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view k = trim(l.substr(0, colon)), v = trim(l.substr(colon + 1));
    if (iequal(k, "Upgrade")) upgrade = iequal(v, "websocket");
    else if (iequal(k, "Connection")) connection = icontains(v, "upgrade");
    else if (iequal(k, "Sec-WebSocket-Accept")) accept = v;
    else if (iequal(k, "Sec-WebSocket-Protocol")) protocol = v;
  }
  if (!upgrade || !connection) throw WsError("101 answer without Upgrade: websocket / Connection: Upgrade");
  if (accept != ws_accept_for(key)) throw WsError("bad Sec-WebSocket-Accept");
  if (!protocol.empty() && protocol != o.subprotocol) throw WsError("server chose subprotocol " + protocol);
}
}  // namespace

std::string ws_accept_for(std::string_view key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  const std::string in = std::string(key) + std::string(kGuid);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(in.data(), in.size(), md, &n, EVP_sha1(), nullptr) != 1) throw WsError("SHA-1 failed");
  return base64(md, n);
}

WsConnection::WsConnection(std::unique_ptr<Stream> s, std::string already_read, std::size_t max_frame)
    : s_(std::move(s)), decoder_(max_frame) {
  decoder_.feed(already_read);
}

asio::awaitable<std::unique_ptr<WsConnection>> WsConnection::open(std::unique_ptr<Stream> s, WsOptions o) {
  using namespace asio::experimental::awaitable_operators;
  unsigned char raw[16];
  if (RAND_bytes(raw, sizeof raw) != 1) throw WsError("no random bytes for Sec-WebSocket-Key");
  const std::string key = base64(raw, sizeof raw);
  std::string rest;
  asio::steady_timer deadline(co_await asio::this_coro::executor, o.timeout);
  std::string request = request_of(o, key);
  auto r = co_await (exchange(*s, std::move(request), rest) || expire(deadline));
  if (r.index() == 1) {
    s->close();
    throw WsError("handshake timeout");
  }
  check_answer(std::get<0>(r), key, o);
  auto c = std::make_unique<WsConnection>(std::move(s), std::move(rest), kMaxFrame);
  c->write_done_ = std::make_unique<asio::steady_timer>(co_await asio::this_coro::executor,
                                                        asio::steady_timer::time_point::max());
  co_return c;
}

asio::awaitable<void> WsConnection::send(std::uint8_t opcode, std::string_view payload, bool fin) {
  // Never re-armed: cancel() wakes every waiter and leaves it expiring at "never" for the next.
  while (writing_) {
    std::error_code ec;
    co_await write_done_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  writing_ = true;
  const std::string frame = ws::encode_frame(opcode, payload, fin, random_mask());
  std::exception_ptr failed;
  try {
    co_await s_->write(frame);
  } catch (...) {
    failed = std::current_exception();
  }
  writing_ = false;
  write_done_->cancel();
  if (failed) std::rethrow_exception(failed);
}

asio::awaitable<std::optional<ws::Frame>> WsConnection::read_frame() {
  char buf[4096];
  for (;;) {
    if (auto f = decoder_.pop()) co_return f;
    if (decoder_.failed()) throw WsError(decoder_.error());
    const std::size_t n = co_await s_->read_some(std::span<char>(buf, sizeof buf));
    if (n == 0) co_return std::nullopt;
    decoder_.feed(std::string_view(buf, n));
  }
}

namespace {
// websocket_stream's Stream: binary frames out, data frames' payloads in.
class WsStream final : public Stream {
 public:
  explicit WsStream(std::unique_ptr<WsConnection> c) : c_(std::move(c)) {}

  asio::awaitable<std::size_t> read_some(std::span<char> buf) override {
    while (off_ == pending_.size()) {
      if (ended_) co_return 0;
      auto f = co_await c_->read_frame();
      if (!f) {
        ended_ = true;
        co_return 0;
      }
      if (f->opcode == ws::Ping) {
        co_await c_->send(ws::Pong, f->payload);
      } else if (f->opcode == ws::Close) {
        ended_ = true;
        // 5.5.1: the answer echoes the status code.
        const std::string code = f->payload.substr(0, std::min<std::size_t>(2, f->payload.size()));
        try {
          co_await c_->send(ws::Close, code);
        } catch (const std::system_error&) {
        }
      } else if (!ws::is_control(f->opcode)) {
        pending_ = std::move(f->payload);
        off_ = 0;
      }
    }
    const std::size_t n = std::min(buf.size(), pending_.size() - off_);
    std::memcpy(buf.data(), pending_.data() + off_, n);
    off_ += n;
    co_return n;
  }
  asio::awaitable<void> write(std::string_view data) override { co_await c_->send(ws::Binary, data); }
  void close() override { c_->close(); }
  asio::ip::tcp::socket& socket() override { return c_->stream().socket(); }

 private:
  std::unique_ptr<WsConnection> c_;
  std::string pending_;
  std::size_t off_ = 0;
  bool ended_ = false;
};
}  // namespace

asio::awaitable<std::unique_ptr<Stream>> websocket_stream(std::unique_ptr<Stream> s, WsOptions o) {
  auto c = co_await WsConnection::open(std::move(s), std::move(o));
  co_return std::make_unique<WsStream>(std::move(c));
}

}  // namespace espat::net
