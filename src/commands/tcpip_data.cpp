// Spec 3.3.9, 3.3.12, 3.3.33-3.3.35: sending (AT+CIPSEND, AT+CIPSENDEX, passthrough) and the
// passive receive mode (AT+CIPRECVTYPE, AT+CIPRECVDATA, AT+CIPRECVLEN).
#include <asio/redirect_error.hpp>

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

// ---- AT+CIPSENDL (3.3.10) and AT+CIPSENDLCFG (3.3.11) -----------------------------------------
// The data streams to the link while the port still receives it: blocks of <transmit size>
// (or what AT+TRANSINTVL's flush gives), "+CIPSENDL:<had sent len>,<port recv len>" every
// <report size> bytes sent and once at the end, then SEND OK, SEND FAIL (not all of it went
// out), or SEND CANCELLED after "+++".
struct SendL {
  explicit SendL(asio::io_context& io) : wake(io, asio::steady_timer::time_point::max()) {}
  std::size_t handled = 0, sent = 0, next_report = 0, reported = 0;
  bool input_done = false, cancelled = false, failed = false;
  asio::steady_timer wake;
  void check(const at::Engine& e) {
    if (input_done && handled >= e.passthrough_taken()) wake.cancel();
  }
};

asio::awaitable<bool> until_woken(std::shared_ptr<SendL> st) {
  std::error_code ec;
  co_await st->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return true;
}

// One block of AT+CIPSENDL to the link, then the progress report when a <report size> was
// crossed. (A plain coroutine, not a capturing lambda one: its arguments live in its frame.)
asio::awaitable<void> sendl_block(Ctx& ctx, std::shared_ptr<SendL> st, int id, std::optional<std::pair<std::string, int>> to,
                                  std::size_t report, std::string packet) {
  const std::size_t size = packet.size();
  auto& e = ctx.engine();
  if (!st->failed) {
    const auto r = co_await ctx.net().send(id, std::move(packet), to, {});
    if (r == module::SendResult::Ok) st->sent += size;
    else st->failed = true;
  }
  st->handled += size;
  // 3.3.11: the reports count in steps of <report size> (100, 200, 300...).
  for (; st->sent >= st->next_report; st->next_report += report) {
    e.write(fmt::format("+CIPSENDL:{},{}\r\n", st->next_report, e.passthrough_taken()));
    st->reported = st->next_report;
  }
  st->check(e);
}

asio::awaitable<Result> cipsendl(Ctx& ctx, Call& c) {
  const int id = link_of(c);
  auto& n = net(ctx);
  auto& s = n.settings();
  if (!n.in_use(id) || s.mode == 1) co_return Result::error();
  std::optional<std::pair<std::string, int>> to;
  if (c.args.has(1) != c.args.has(2)) co_return Result::error();
  if (c.args.has(1)) {
    if (!n.is_udp(id)) co_return Result::error();
    to = {c.args.text(1), int(c.args.integer(2))};
  }
  auto& e = ctx.engine();
  auto& io = e.io();
  auto st = std::make_shared<SendL>(io);
  const std::size_t report = std::size_t(s.sendl_report);
  st->next_report = report;
  at::Engine::Passthrough p;
  p.packet = std::size_t(s.sendl_block);
  p.stream = false;  // each block of <transmit size> goes to the stack as it is (3.3.11)
  p.interval = std::chrono::milliseconds(ctx.state().transintvl_ms);
  p.limit = std::size_t(c.args.integer(0));
  p.send = [&ctx, st, id, to, report](std::string packet) { return sendl_block(ctx, st, id, to, report, std::move(packet)); };
  p.complete = [st, &e] {
    st->input_done = true;
    st->check(e);
  };
  p.exited = [st, &e] {
    st->cancelled = st->input_done = true;
    st->check(e);
  };
  c.reply("\r\nOK\r\n\r\n>");
  e.enter_passthrough(std::move(p));
  co_await c.stop.race(io, until_woken(st), std::chrono::hours(24 * 365));
  if (st->reported != st->sent || st->sent == 0)  // the last report is the total sent (3.3.11)
    c.reply(fmt::format("+CIPSENDL:{},{}\r\n", st->sent, e.passthrough_taken()));
  if (st->cancelled) {
    c.reply("\r\nSEND CANCELLED\r\n");
    co_return Result::nothing();
  }
  co_return st->failed ? Result::send_fail() : Result::send_ok();
}

Result cipsendlcfg_query(Ctx& ctx, Call& c) {
  const auto& s = ctx.net().settings();
  c.reply(line(c, fmt::format("{},{}", s.sendl_report, s.sendl_block)));
  return Result::ok();
}
Result cipsendlcfg_set(Ctx& ctx, Call& c) {
  auto& s = ctx.net().settings();
  s.sendl_report = int(c.args.integer(0));
  if (c.args.has(1)) s.sendl_block = int(c.args.integer(1));
  return Result::ok();
}

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
  r.push_back({.name = "+CIPSENDL", .set = coro(cipsendl),
               .params = at::Schema{at::Int{"length", 1, 0x7fffffff}, at::Str{"remote host", 64, 1, true},
                                    at::Int{"remote port", 0, 65535, true}}
                             .with_link_id(at::LinkId::Prefix)});
  r.push_back({.name = "+CIPSENDLCFG", .query = plain(cipsendlcfg_query), .set = plain(cipsendlcfg_set),
               .params = {at::Int{"report size", 100, 1 << 20}, at::Int{"transmit size", 100, 2920, true}}});
  r.push_back({.name = "+CIPSENDEX", .set = coro(cipsendex), .params = send});
  r.push_back({.name = "+CIPRECVTYPE", .query = plain(ciprecvtype_query), .set = plain(ciprecvtype_set),
               .params = {at::Int{"link ID or mode", 0, module::Net::kMaxLinks}, at::Int{"mode", 0, 1, true}},
               .aliases = {{"+CIPRECVMODE"}}});  // the guide's spelling and the firmware's legacy name
  r.push_back({.name = "+CIPRECVDATA", .set = plain(ciprecvdata),
               .params = at::Schema{at::Int{"len", 1, 0x7fffffff}}.with_link_id(at::LinkId::Prefix)});
  r.push_back({.name = "+CIPRECVLEN", .query = plain(ciprecvlen)});
  return r;
}

}  // namespace espat::commands
