// Spec 3.3.9, 3.3.12, 3.3.33-3.3.35: sending (AT+CIPSEND, AT+CIPSENDEX, passthrough) and the
// passive receive mode (AT+CIPRECVTYPE, AT+CIPRECVDATA, AT+CIPRECVLEN).
#include "commands/handler.hpp"
#include "commands/tcpip.hpp"
#include "module/net.hpp"

namespace espat::commands {

namespace {
using module::Net;
using module::SendResult;

Net& net(Ctx& ctx) { return ctx.net(); }
int link_of(const Call& c) { return c.args.link().value_or(0); }

// AT+CIPSENDEX's data (3.3.12 notes): "\0" ends it; "\<any>" is <any>. The raw bytes count
// toward <length>.
struct ExEnd {
  bool escaped = false;
  bool operator()(char ch) {
    if (escaped) {
      escaped = false;
      return ch == '0';
    }
    escaped = ch == '\\';
    return false;
  }
};
std::string unescape_ex(std::string_view raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 == raw.size()) {
      out += raw[i];
      continue;
    }
    if (raw[++i] == '0') break;
    out += raw[i];
  }
  return out;
}

// AT+CIPSEND=[<link ID>,]<length>[,<"remote host">,<remote port>] and AT+CIPSENDEX: OK and
// '>', <length> bytes, "Recv <n> bytes", then SEND OK, SEND FAIL, or ERROR for a link that
// broke (3.3.9, 4.2.1).
asio::awaitable<Result> send_data(Ctx& ctx, Call& c, bool ex) {
  const int id = link_of(c);
  auto& n = net(ctx);
  if (!n.in_use(id) || ctx.net().settings().mode == 1) co_return Result::error();
  std::optional<std::pair<std::string, int>> to;
  if (c.args.has(1) != c.args.has(2)) co_return Result::error();
  if (c.args.has(1)) {
    if (!n.is_udp(id)) co_return Result::error();  // only a UDP link takes another remote
    to = {c.args.text(1), int(c.args.integer(2))};
  }
  const auto len = std::size_t(c.args.integer(0));
  // (No co_await inside ?: or a switch condition: GCC 12 destroys such temporaries twice.)
  std::string data;
  if (ex) data = co_await c.read_data(len, ExEnd{});
  else data = co_await c.read_data(len);
  c.reply(fmt::format("\r\nRecv {} bytes\r\n", data.size()));
  if (ex) data = unescape_ex(data);
  const SendResult sent = co_await n.send(id, std::move(data), to, c.stop);
  switch (sent) {
    case SendResult::Ok: co_return Result::send_ok();
    case SendResult::Fail: co_return Result::send_fail();
    case SendResult::LinkGone: break;
  }
  co_return Result::error();
}

asio::awaitable<Result> cipsend_set(Ctx& ctx, Call& c) { co_return co_await send_data(ctx, c, false); }
asio::awaitable<Result> cipsendex(Ctx& ctx, Call& c) { co_return co_await send_data(ctx, c, true); }

// AT+CIPSEND with AT+CIPMODE=1: "OK", ">", then passthrough until "+++" (3.3.9).
Result cipsend_exec(Ctx& ctx, Call& c) {
  if (!net(ctx).can_passthrough()) return Result::error();
  c.reply("\r\nOK\r\n\r\n>");
  net(ctx).enter_passthrough();
  return Result::nothing();
}

// ---- AT+CIPRECVTYPE (3.3.33) and its older spelling AT+CIPRECVMODE ---------------------------
Result ciprecvtype_query(Ctx& ctx, Call& c) {
  const auto& s = ctx.net().settings();
  if (!s.mux) {
    c.reply(line(c, std::to_string(s.recv_mode[0])));
    return Result::ok();
  }
  std::string out;
  for (int i = 0; i < net(ctx).links(); ++i) out += line(c, fmt::format("{},{}", i, s.recv_mode[std::size_t(i)]));
  c.reply(out);
  return Result::ok();
}
void set_recv_mode(Ctx& ctx, int id, int mode) {
  auto& s = ctx.net().settings();
  const int n = net(ctx).links();
  for (int i = 0; i < n; ++i)
    if (id == n || id == i) s.recv_mode[std::size_t(i)] = mode;
}
// AT+CIPRECVTYPE=[<link ID>,]<mode>. Host drivers (lwESP, WiFiEspAT) send the older spelling
// AT+CIPRECVMODE=1 right after AT+CIPMUX=1 and need OK: <mode> alone sets every link, with
// multiple connections too; <link ID>,<mode> sets one (or all with the "all" id).
Result ciprecvtype_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  const int n = net(ctx).links();
  if (!a.has(1)) {
    if (a.integer(0) > 1) return Result::invalid(0);
    set_recv_mode(ctx, n, int(a.integer(0)));
    return Result::ok();
  }
  if (a.integer(0) > n) return Result::invalid(0);
  set_recv_mode(ctx, int(a.integer(0)), int(a.integer(1)));
  return Result::ok();
}

// ---- AT+CIPRECVDATA (3.3.34) ---------------------------------------------------------------
Result ciprecvdata(Ctx& ctx, Call& c) {
  const int id = link_of(c);
  auto& n = net(ctx);
  if (n.buffered(id) <= 0) return Result::error();
  auto t = n.take(id, std::size_t(c.args.integer(0)));
  if (!t) return Result::error();
  std::string head = fmt::format("{}:{},", c.name, t->data.size());
  if (ctx.net().settings().dinfo) head += fmt::format("\"{}\",{},", t->ip, t->port);
  c.reply(head);
  ctx.engine().write_unfiltered(std::move(t->data));
  // A link the peer closed prints its CLOSED once its data is read (3.3.33 notes).
  c.after_result([&ctx, id] { ctx.net().settle(id); });
  return Result::ok();
}

// ---- AT+CIPRECVLEN? (3.3.35): -1 for a link that is not open (host-drivers.md: WiFiEspAT) -------
Result ciprecvlen(Ctx& ctx, Call& c) {
  std::string v;
  for (int i = 0; i < net(ctx).links(); ++i) v += (i ? "," : "") + std::to_string(net(ctx).buffered(i));
  c.reply(line(c, v));
  return Result::ok();
}
}  // namespace

std::vector<at::Command> tcpip_data_commands() {
  const at::Schema send = at::Schema{at::Int{"length", 1, 8192}, at::Str{"remote host", 64, 1, true},
                                     at::Int{"remote port", 0, 65535, true}}
                              .with_link_id(at::LinkId::Prefix);
  std::vector<at::Command> r;
  r.push_back({.name = "+CIPSEND", .set = coro(cipsend_set), .exec = plain(cipsend_exec), .params = send});
  r.push_back({.name = "+CIPSENDEX", .set = coro(cipsendex), .params = send});
  r.push_back({.name = "+CIPRECVTYPE", .query = plain(ciprecvtype_query), .set = plain(ciprecvtype_set),
               .params = {at::Int{"link ID or mode", 0, 5}, at::Int{"mode", 0, 1, true}},
               .aliases = {{"+CIPRECVMODE"}}});  // the guide's spelling and the firmware's legacy name
  r.push_back({.name = "+CIPRECVDATA", .set = plain(ciprecvdata),
               .params = at::Schema{at::Int{"len", 1, 0x7fffffff}}.with_link_id(at::LinkId::Prefix)});
  r.push_back({.name = "+CIPRECVLEN", .query = plain(ciprecvlen)});
  return r;
}

}  // namespace espat::commands
