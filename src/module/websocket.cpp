// The module's WebSocket links; see websocket.hpp. Each open link is a session: the connection,
// a reader (frames in, reports out, pings answered) and a pinger (3.9.2's ping interval and
// timeout). Both end when the session ends: the reader when the stream is closed under it, the
// pinger at its next wait.
#include "module/websocket.hpp"

#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "at/engine.hpp"
#include "module/client_stream.hpp"
#include "module/context.hpp"
#include "module/http_client.hpp"
#include "net/websocket.hpp"

namespace espat::module {

using Clock = std::chrono::steady_clock;

struct WsSession {
  explicit WsSession(asio::io_context& io)
      : reader(io), pinger(io), retry(io), ended(io, Clock::time_point::max()) {}
  int id = 0;
  WsTarget target;
  WsState state = WsState::Established;
  WsLinkConfig cfg;
  std::unique_ptr<net::WsConnection> conn;
  async::Activity reader, pinger;
  async::Activity retry;      // waiting and reconnecting (states 3 and 1) after a loss
  bool retrying = false;      // the connection is gone; retry runs
  asio::steady_timer ended;   // cancelled when the reader has ended (AT+WSCLOSE waits for it)
  bool reader_done = false;
  bool closing = false;       // AT+WSCLOSE is closing it: no +WS_DISCONNECTED
  bool close_sent = false;    // a close frame went out (5.5.1: only one)
  Clock::time_point last_rx = Clock::now(), last_ping = Clock::now(), ping_sent{};
  bool waiting_pong = false;
};

namespace {
constexpr std::size_t kOutputHighWater = 64 * 1024;  // a slow UART holds the reader back
constexpr auto kCloseWait = std::chrono::seconds(5);  // AT+WSCLOSE: the server's close frame

asio::awaitable<bool> wait_timer(asio::steady_timer& t) {
  std::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return true;
}
asio::awaitable<bool> send_frame(net::WsConnection& c, std::uint8_t opcode, std::string payload) {
  co_await c.send(opcode, payload);
  co_return true;
}

// "+WS_DATA:<id>,<len>,<data>\r\n" per run of at most <buffer_size> bytes (the firmware prints
// each read of esp_websocket_client's buffer).
asio::awaitable<void> print_data(asio::io_context& io, Context& ctx, int id, std::size_t chunk, std::string_view payload) {
  auto& e = ctx.engine();
  for (std::size_t off = 0; off < payload.size(); off += chunk) {
    const auto part = payload.substr(off, chunk);
    e.write(fmt::format("+WS_DATA:{},{},", id, part.size()));
    e.write_unfiltered(std::string(part));
    e.write_unfiltered("\r\n");
  }
  if (ctx.output_backlog() <= kOutputHighWater) co_return;
  // Shared with the callback: the module may drop this reader before the port drains.
  auto drained = std::make_shared<asio::steady_timer>(io, Clock::time_point::max());
  ctx.on_output_drained([drained] { drained->cancel(); });
  co_await wait_timer(*drained);
}

asio::awaitable<void> read_loop(WebSockets& self, asio::io_context& io, Context& ctx, std::shared_ptr<WsSession> s,
                                async::StopToken stop) {
  auto& c = *s->conn;
  try {
    for (;;) {
      auto f = co_await c.read_frame();
      if (stop.requested() || !f) break;
      s->last_rx = Clock::now();
      const std::uint8_t op = f->opcode;
      if (op == net::ws::Ping) {
        co_await c.send(net::ws::Pong, f->payload);
      } else if (op == net::ws::Pong) {
        s->waiting_pong = false;
      } else if (op == net::ws::Close) {
        // 3.9.4 state 4: the server's close frame is answered, then the server ends the TCP
        // connection (RFC 6455 7.1.1).
        if (!s->closing) s->state = WsState::Closing;
        if (!s->close_sent) {
          s->close_sent = true;
          const std::string code = f->payload.substr(0, std::min<std::size_t>(2, f->payload.size()));  // echoed (5.5.1)
          co_await c.send(net::ws::Close, code);
        }
      } else if (!net::ws::is_control(op) && !f->payload.empty()) {
        co_await print_data(io, ctx, s->id, std::size_t(s->cfg.buffer_size), f->payload);
      }
    }
  } catch (const std::system_error& e) {
    spdlog::debug("m{}: WebSocket {}: {}", ctx.index(), s->id, e.what());
  } catch (const net::WsError& e) {
    spdlog::info("m{}: WebSocket {}: {}", ctx.index(), s->id, e.what());
  }
  s->reader_done = true;
  s->ended.cancel();
  if (!stop.requested() && !s->closing) self.lost(s);
}

// Pings after <ping_intv_sec> without traffic; no pong within <ping_timeout_sec> of a ping
// ends the connection (3.9.2).
asio::awaitable<void> ping_loop(asio::io_context& io, std::shared_ptr<WsSession> s, async::StopToken stop) {
  const auto interval = std::chrono::seconds(s->cfg.ping_interval_s);
  const auto timeout = std::chrono::seconds(s->cfg.ping_timeout_s);
  for (;;) {
    auto wake = std::max(s->last_rx, s->last_ping) + interval;
    if (s->waiting_pong) wake = std::min(wake, s->ping_sent + timeout);
    co_await stop.sleep(io, wake - Clock::now());
    const auto now = Clock::now();
    if (s->waiting_pong && now >= s->ping_sent + timeout) {
      s->state = WsState::PongTimeout;
      s->conn->close();  // the reader reports it
      co_return;
    }
    if (now < std::max(s->last_rx, s->last_ping) + interval) continue;
    s->last_ping = now;
    if (!s->waiting_pong) {
      s->waiting_pong = true;
      s->ping_sent = now;
    }
    try {
      co_await s->conn->send(net::ws::Ping, {});
    } catch (const std::system_error&) {
      co_return;  // the reader sees the broken connection
    }
  }
}

// ws:// and wss:// URIs have the form of http:// and https:// ones (RFC 6455 3).
std::optional<Url> ws_url(const std::string& uri) {
  if (uri.starts_with("ws://")) return parse_url("http" + uri.substr(2));
  if (uri.starts_with("wss://")) return parse_url("https" + uri.substr(3));
  return std::nullopt;
}

// The WebSocket handshake on a connected stream; null (and why) when it fails.
asio::awaitable<std::unique_ptr<net::WsConnection>> handshake(std::unique_ptr<net::Stream> s, net::WsOptions o,
                                                              std::string& why) {
  std::unique_ptr<net::WsConnection> conn;
  try {
    conn = co_await net::WsConnection::open(std::move(s), std::move(o));
  } catch (const std::exception& e) {
    why = e.what();
  }
  co_return conn;
}

void end_session(WsSession& s) {
  s.reader.stop();
  s.pinger.stop();
  s.retry.stop();
  if (s.conn) s.conn->close();
}

// esp_websocket_client_task after esp_websocket_client_abort_connection: WAIT_TIMEOUT (3) for
// reconnect_timeout_ms, then INIT (1) and a new connection; a failed one aborts again (another
// WEBSOCKET_EVENT_DISCONNECTED) and waits again.
asio::awaitable<void> retry_loop(WebSockets& self, asio::io_context& io, std::shared_ptr<WsSession> s,
                                 async::StopToken stop) {
  for (;;) {
    co_await stop.sleep(io, WebSockets::kReconnectInterval);
    const bool back = co_await self.reconnect(s, stop);
    if (back) co_return;
  }
}
}  // namespace

WebSockets::WebSockets(asio::io_context& io, Context& ctx) : io_(io), ctx_(ctx) {}
WebSockets::~WebSockets() {
  reset();
  for (auto& w : started_)
    if (auto s = w.lock()) s->conn.reset();
}

void WebSockets::reset() {
  for (auto& s : sessions_)
    if (s) {
      end_session(*s);
      s.reset();
    }
  config_ = {};
  headers_.clear();
}

std::vector<WsLinkInfo> WebSockets::links() const {
  std::vector<WsLinkInfo> out;
  for (const auto& s : sessions_)
    if (s) out.push_back({s->id, s->state, s->target.uri});
  return out;
}

bool WebSockets::is_open(int id) const { return sessions_.at(std::size_t(id)) != nullptr; }
bool WebSockets::is_established(int id) const {
  const auto& s = sessions_.at(std::size_t(id));
  return s && !s->retrying && s->state == WsState::Established;
}

void WebSockets::address_lost() {
  for (auto s : sessions_)  // a copy: lost() may empty the slot
    if (s && !s->retrying) lost(s);
}

void WebSockets::lost(const std::shared_ptr<WsSession>& s) {
  auto& slot = sessions_.at(std::size_t(s->id));
  if (slot != s || s->retrying) return;
  end_session(*s);
  ctx_.engine().report(fmt::format("+WS_DISCONNECTED:{}\r\n", s->id));
  if (s->state == WsState::Closing) {
    // A close frame came from the server: esp_websocket_client (1.2.x, enable_close_reconnect
    // not set) answers it, waits for the TCP close and stops its task; no reconnection.
    slot.reset();
    return;
  }
  // A broken connection or a pong timeout: esp_websocket_client_abort_connection, state 3.
  s->retrying = true;
  s->state = WsState::PongTimeout;
  s->retry.start([this, s](async::StopToken st) { return retry_loop(*this, io_, s, st); });
}

asio::awaitable<bool> WebSockets::reconnect(std::shared_ptr<WsSession> s, async::StopToken stop) {
  s->state = WsState::Reconnecting;
  auto conn = co_await connect(s->target, stop);
  stop.throw_if_requested();
  if (sessions_.at(std::size_t(s->id)) != s) co_return true;  // gone meanwhile
  if (!conn) {
    s->state = WsState::PongTimeout;
    ctx_.engine().report(fmt::format("+WS_DISCONNECTED:{}\r\n", s->id));
    co_return false;
  }
  // The same client connected again: the settings of AT+WSOPEN's time, a new session.
  adopt(s->id, s->target, s->cfg, std::move(conn));
  start(s->id);
  co_return true;
}

asio::awaitable<WsOpen> WebSockets::open(int id, std::string uri, std::string subprotocol, std::string auth,
                                         std::chrono::milliseconds timeout, async::StopToken stop) {
  if (sessions_.at(std::size_t(id))) co_return WsOpen::InUse;
  if (!ws_url(uri)) co_return WsOpen::BadUri;
  WsTarget t;
  t.uri = std::move(uri);
  t.subprotocol = std::move(subprotocol);
  t.auth = std::move(auth);
  t.timeout = timeout;
  t.headers = headers_;
  auto conn = co_await connect(t, stop);
  stop.throw_if_requested();
  if (!conn) co_return WsOpen::Failed;
  if (sessions_.at(std::size_t(id))) co_return WsOpen::InUse;
  adopt(id, t, config_.at(std::size_t(id)), std::move(conn));
  co_return WsOpen::Ok;
}

asio::awaitable<std::unique_ptr<net::WsConnection>> WebSockets::connect(const WsTarget& target, async::StopToken stop) {
  const std::optional<Url> u = ws_url(target.uri);
  if (!u) co_return nullptr;
  const auto deadline = Clock::now() + target.timeout;
  ClientTarget t{"ws", u->host, u->port, std::nullopt};
  if (u->tls) {
    // 3.9 has no certificate settings in this version: the server is not verified, as
    // esp_websocket_client does without a CA.
    net::TlsClientOptions opts;
    std::error_code ec;
    asio::ip::make_address(u->host, ec);
    if (ec) opts.sni = u->host;
    t.tls = opts;
  }
  auto c = co_await open_client_stream(ctx_, t, target.timeout, stop);
  if (!c.stream) {
    spdlog::info("m{}: WebSocket {}: {}", ctx_.index(), target.uri, c.why);
    co_return nullptr;
  }
  net::WsOptions o;
  // esp_transport_ws writes the port in Host always.
  const bool v6 = u->host.find(':') != std::string::npos;
  o.host = fmt::format("{}{}{}:{}", v6 ? "[" : "", u->host, v6 ? "]" : "", u->port);
  o.path = u->target;
  o.subprotocol = target.subprotocol;
  o.headers = target.headers;
  if (!target.auth.empty()) o.headers.push_back("Authorization: " + target.auth);
  o.timeout = std::max(std::chrono::milliseconds(1),
                       std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  std::string why;
  auto conn = co_await handshake(std::move(c.stream), std::move(o), why);
  if (!conn) spdlog::info("m{}: WebSocket {}: {}", ctx_.index(), target.uri, why);
  co_return conn;
}

void WebSockets::adopt(int id, const WsTarget& t, const WsLinkConfig& cfg, std::unique_ptr<net::WsConnection> conn) {
  auto s = std::make_shared<WsSession>(io_);
  s->id = id;
  s->target = t;
  s->cfg = cfg;
  s->conn = std::move(conn);
  sessions_[std::size_t(id)] = s;
  std::erase_if(started_, [](const std::weak_ptr<WsSession>& w) { return w.expired(); });
  started_.push_back(s);
  ctx_.engine().report(fmt::format("+WS_CONNECTED:{}\r\n", id));
}

void WebSockets::start(int id) {
  auto s = sessions_.at(std::size_t(id));
  if (!s || s->reader.running()) return;
  s->reader.start([this, s](async::StopToken st) { return read_loop(*this, io_, ctx_, s, st); });
  s->pinger.start([this, s](async::StopToken st) { return ping_loop(io_, s, st); });
}

asio::awaitable<bool> WebSockets::send(int id, std::uint8_t opcode, std::string payload, std::chrono::milliseconds timeout,
                                       async::StopToken stop) {
  auto s = sessions_.at(std::size_t(id));
  if (!s || s->retrying || s->state != WsState::Established) co_return false;
  if (opcode == net::ws::Close) s->close_sent = true;
  try {
    auto sent = co_await stop.race(io_, send_frame(*s->conn, opcode, std::move(payload)), timeout);
    if (!sent) {
      // A frame cut short leaves the stream unusable: the connection is lost.
      s->conn->close();
      co_return false;
    }
  } catch (const std::system_error&) {
    co_return false;
  }
  co_return true;
}

asio::awaitable<bool> WebSockets::close(int id, async::StopToken stop) {
  auto s = sessions_.at(std::size_t(id));
  if (!s) co_return false;
  if (s->retrying) {
    // Waiting or connecting: esp_websocket_client_close has no connection to send a close
    // frame on; the client is stopped and the link is closed.
    end_session(*s);
    sessions_[std::size_t(id)].reset();
    ctx_.engine().report(fmt::format("+WS_CLOSED:{}\r\n", id));
    co_return true;
  }
  s->closing = true;
  if (!s->close_sent && !s->reader_done) {
    s->close_sent = true;
    const std::string normal("\x03\xe8", 2);  // 1000, normal closure (7.4.1)
    try {
      co_await stop.race(io_, send_frame(*s->conn, net::ws::Close, normal), kCloseWait);
    } catch (const std::system_error&) {
    }
  }
  // The server answers with its close frame and ends the TCP connection; the reader sees it.
  if (!s->reader_done) co_await stop.race(io_, wait_timer(s->ended), kCloseWait);
  if (sessions_.at(std::size_t(id)) == s) {
    end_session(*s);
    sessions_[std::size_t(id)].reset();
  }
  ctx_.engine().report(fmt::format("+WS_CLOSED:{}\r\n", id));
  co_return true;
}

}  // namespace espat::module
