// Spec 3.9: AT+WSCFG, AT+WSHEAD, AT+WSOPEN, AT+WSSEND (the guide's "AT+WSEND" is its alias,
// protocol-rules §0) and AT+WSCLOSE, on the module's WebSocket links (module/websocket.hpp).
#include "commands/ws.hpp"

#include "commands/handler.hpp"
#include "module/websocket.hpp"

namespace espat::commands {

namespace {
using module::WebSockets;
using namespace std::chrono_literals;

constexpr int kMaxBuffer = 8192;        // 3.9.2 <buffer_size> range
constexpr int kSendOverhead = 10;       // 3.9.5: at most <buffer_size> - 10 bytes per AT+WSSEND
constexpr auto kOpenTimeout = 15000ms;  // 3.9.4 <timeout_ms> default
constexpr auto kSendTimeout = 10000ms;  // 3.9.5 <timeout_ms> default

// ---- AT+WSCFG (3.9.2) ---------------------------------------------------------------------------
Result wscfg(Ctx& ctx, Call& c) {
  auto* ws = ctx.websockets();
  if (!ws) return Result::error();
  // Read by the next AT+WSOPEN of the link (3.9.2 notes).
  auto& cfg = ws->config(int(c.args.integer(0)));
  cfg.ping_interval_s = int(c.args.integer(1));
  cfg.ping_timeout_s = int(c.args.integer(2));
  cfg.buffer_size = int(c.args.integer(3, 1024));
  return Result::ok();
}

// ---- AT+WSHEAD (3.9.3) --------------------------------------------------------------------------
Result wshead_query(Ctx& ctx, Call& c) {
  auto* ws = ctx.websockets();
  if (!ws) return Result::error();
  return header_list_query(ws->headers(), c);
}
asio::awaitable<Result> wshead_set(Ctx& ctx, Call& c) {
  auto* ws = ctx.websockets();
  if (!ws) co_return Result::error();
  co_return co_await header_list_set(ws->headers(), c);
}

// ---- AT+WSOPEN (3.9.4) --------------------------------------------------------------------------
Result wsopen_query(Ctx& ctx, Call& c) {
  auto* ws = ctx.websockets();
  if (!ws) return Result::error();
  std::string out;
  for (const auto& l : ws->links()) out += line(c, fmt::format("{},{},\"{}\"", l.id, int(l.state), l.uri));
  if (!out.empty()) c.reply(out);
  return Result::ok();
}
asio::awaitable<Result> wsopen_set(Ctx& ctx, Call& c) {
  auto* ws = ctx.websockets();
  if (!ws) co_return Result::error();
  const auto& a = c.args;
  const int id = int(a.integer(0));
  const auto t = a.integer(3, kOpenTimeout.count());
  const auto timeout = t == 0 ? kOpenTimeout : std::chrono::milliseconds(t);
  // "+WS_CONNECTED:<id>" comes from the link before this OK (websocket_at_examples), what the
  // server sends after it.
  const auto r = co_await ws->open(id, a.text(1), a.text(2), a.text(4), timeout, c.stop);
  switch (r) {
    case module::WsOpen::Ok:
      c.after_result([ws, id] { ws->start(id); });
      co_return Result::ok();
    case module::WsOpen::BadUri: co_return Result::invalid(1);
    case module::WsOpen::InUse:
    case module::WsOpen::Failed: break;
  }
  co_return Result::error();
}

// ---- AT+WSSEND (3.9.5) --------------------------------------------------------------------------
asio::awaitable<Result> wssend(Ctx& ctx, Call& c) {
  auto* ws = ctx.websockets();
  if (!ws) co_return Result::error();
  const auto& a = c.args;
  const int id = int(a.integer(0));
  const auto len = std::size_t(a.integer(1));
  // The link is checked before '>', as AT+CIPSEND checks its link: a link waiting to
  // reconnect (states 1 and 3) cannot send (esp_websocket_client_send needs CONNECTED).
  if (!ws->is_established(id)) co_return Result::error();
  if (len + kSendOverhead > std::size_t(ws->config(id).buffer_size)) co_return Result::invalid(1);
  const auto opcode = std::uint8_t(a.integer(2, 1));
  const auto t = a.integer(3, kSendTimeout.count());
  const auto timeout = t == 0 ? kSendTimeout : std::chrono::milliseconds(t);
  std::string data = co_await c.read_data(len);
  const bool sent = co_await ws->send(id, opcode, std::move(data), timeout, c.stop);
  co_return sent ? Result::send_ok() : Result::error();
}

// ---- AT+WSCLOSE (3.9.6) -------------------------------------------------------------------------
asio::awaitable<Result> wsclose(Ctx& ctx, Call& c) {
  auto* ws = ctx.websockets();
  if (!ws) co_return Result::error();
  const bool was_open = co_await ws->close(int(c.args.integer(0)), c.stop);
  co_return was_open ? Result::ok() : Result::error();
}

const at::Int kLinkId{"link_id", 0, WebSockets::kLinks - 1};
}  // namespace

at::Family ws_family() {
  at::Family f{.name = "ws"};
  auto& r = f.rows;
  r.push_back({.name = "+WSCFG", .set = plain(wscfg),
               .params = {kLinkId, at::Int{"ping_intv_sec", 1, 7200}, at::Int{"ping_timeout_sec", 1, 7200},
                          at::Int{"buffer_size", 1, kMaxBuffer, true, 1024}}});
  r.push_back({.name = "+WSHEAD", .query = plain(wshead_query), .set = coro(wshead_set),
               .params = {at::Int{"req_header_len", 0, 2048}}});
  r.push_back({.name = "+WSOPEN", .query = plain(wsopen_query), .set = coro(wsopen_set),
               .params = {kLinkId, at::Str{"uri", 256, 1}, at::Str{"subprotocol", 256, 0, true},
                          at::Int{"timeout_ms", 0, 180000, true, kOpenTimeout.count()}, at::Str{"auth", 256, 0, true}}});
  r.push_back({.name = "+WSSEND", .set = coro(wssend),
               .params = {kLinkId, at::Int{"length", 0, kMaxBuffer - kSendOverhead}, at::Int{"opcode", 0, 0xF, true, 1},
                          at::Int{"timeout_ms", 0, 60000, true, kSendTimeout.count()}},
               .aliases = {{"+WSEND"}}});
  r.push_back({.name = "+WSCLOSE", .set = coro(wsclose), .params = {kLinkId}});
  return f;
}

}  // namespace espat::commands
