// Spec 3.3.2-3.3.7, 3.3.13-3.3.15, 3.3.18, 3.3.25, 3.3.32, 3.3.38: the links and the
// settings around them.
#include <spdlog/spdlog.h>

#include "commands/ble.hpp"
#include "commands/handler.hpp"
#include "commands/kinds.hpp"
#include "commands/tcpip.hpp"
#include "module/net.hpp"
#include "module/net_settings.hpp"
#include "module/wifi.hpp"

namespace espat::commands {

namespace {
using module::LinkKind;
using module::Net;

Net& net(Ctx& ctx) { return ctx.net(); }
module::NetSettings& settings(Ctx& ctx) { return ctx.net().settings(); }

// The link a command names: its id with AT+CIPMUX=1, else link 0.
int link_of(const Call& c) { return c.args.link().value_or(0); }

// Applies f to one link id, or to every one for the "all" id (links()).
template <class F>
void each_link(Ctx& ctx, const Call& c, F f) {
  const int id = link_of(c), n = net(ctx).links();
  if (id == n)
    for (int i = 0; i < n; ++i) f(i);
  else
    f(id);
}

// ---- AT+CIPV6 (3.3.2) ----------------------------------------------------------------------
Result cipv6_query(Ctx& ctx, Call& c) {
  c.reply(line(c, settings(ctx).ipv6 ? "1" : "0"));
  return Result::ok();
}
Result cipv6_set(Ctx& ctx, Call& c) {
  settings(ctx).ipv6 = c.args.integer(0) == 1;
  persist(ctx, c, [&] { return module::save_ipv6(ctx, settings(ctx)); });
  return Result::ok();
}

// ---- AT+CIPSTATE (3.3.3), AT+CIPSTATUS (3.3.4) ----------------------------------------------
std::string link_lines(Ctx& ctx, const std::string& prefix) {
  std::string out;
  for (const auto& l : net(ctx).link_infos())
    out += fmt::format("{}:{},\"{}\",\"{}\",{},{},{}\r\n", prefix, l.id, l.type, l.remote_ip, l.remote_port, l.local_port,
                       l.server_side ? 1 : 0);
  return out;
}
Result cipstate(Ctx& ctx, Call& c) {
  c.reply(link_lines(ctx, c.name));
  return Result::ok();
}
// <stat> of 3.3.4: 0 station off, 1 on and idle, 2 got IP, 3 links open, 4 links all closed
// since, 5 connecting or not connected.
int station_status(Ctx& ctx) {
  auto& w = ctx.wifi();
  if (!w.station_on()) return 0;
  if (!w.link()) return w.state() == module::StationState::Idle ? 1 : 5;
  if (net(ctx).any_link()) return 3;
  return net(ctx).all_links_closed() ? 4 : 2;
}
Result cipstatus(Ctx& ctx, Call& c) {
  c.reply(fmt::format("STATUS:{}\r\n", station_status(ctx)) + link_lines(ctx, "+CIPSTATUS"));
  return Result::ok();
}

// ---- AT+CIPSTART (3.3.6), AT+CIPSTARTEX (3.3.7) ---------------------------------------------
const std::vector<at::ParamSpec> kStreamParams = {at::Str{"remote host", 64, 1}, at::Int{"remote port", 0, 65535},
                                                  at::Int{"keep_alive", 0, 7200, true}, at::Str{"local IP", 64, 0, true}};
const std::vector<at::ParamSpec> kUdpParams = {at::Str{"remote host", 64, 1}, at::Int{"remote port", 0, 65535},
                                               at::Int{"local port", 0, 65535, true}, at::Int{"mode", 0, 2, true, 0},
                                               at::Str{"local IP", 64, 0, true}};
at::Schema start_schema() {
  return at::Schema::by_first(one_of("type", {"TCP", "TCPv6", "UDP", "UDPv6", "SSL", "SSLv6"}),
                              {{"TCP", kStreamParams},
                               {"TCPv6", kStreamParams},
                               {"SSL", kStreamParams},
                               {"SSLv6", kStreamParams},
                               {"UDP", kUdpParams},
                               {"UDPv6", kUdpParams}});
}

module::StartRequest start_request(const at::Args& a) {
  module::StartRequest r;
  const std::string& type = a.text(0);
  r.kind = type.starts_with("UDP") ? LinkKind::Udp : type.starts_with("SSL") ? LinkKind::Ssl : LinkKind::Tcp;
  r.v6 = type.ends_with("v6");
  r.host = a.text(1);
  r.port = int(a.integer(2));
  if (r.kind == LinkKind::Udp) {
    r.local_port = int(a.integer(3));
    r.udp_mode = int(a.integer(4));
    r.local_ip = a.text(5);
  } else {
    if (a.has(3)) r.keep_alive = int(a.integer(3));
    r.local_ip = a.text(4);
  }
  return r;
}

asio::awaitable<Result> start_on(Ctx& ctx, Call& c, int id) {
  auto& n = net(ctx);
  const auto r = start_request(c.args);
  if (r.kind == LinkKind::Udp && r.udp_mode != 0 && !c.args.has(3)) co_return Result::invalid(4);  // 3.3.6: <mode> needs <local port>
  if (r.v6 && !settings(ctx).ipv6) co_return Result::error();  // 3.3.2: AT+CIPV6=1 first
  if (n.in_use(id)) {
    c.reply("ALREADY CONNECTED\r\n");
    co_return Result::error();
  }
  auto outcome = co_await n.start(id, r, c.stop);
  if (outcome.ok) co_return Result::ok();
  // The firmware's failure: ERROR, then the link's CLOSED (as captured from a real ESP32).
  spdlog::info("AT+CIPSTART {} {}:{}: {}", c.args.text(0), r.host, r.port, outcome.error);
  ctx.engine().write_result(Result::error());
  c.reply(settings(ctx).mux ? fmt::format("{},CLOSED\r\n", id) : std::string("CLOSED\r\n"));
  co_return Result::nothing();
}

asio::awaitable<Result> cipstart(Ctx& ctx, Call& c) { co_return co_await start_on(ctx, c, link_of(c)); }

asio::awaitable<Result> cipstartex(Ctx& ctx, Call& c) {
  if (!settings(ctx).mux) co_return co_await start_on(ctx, c, 0);
  auto id = net(ctx).free_id();
  if (!id) co_return Result::error();
  co_return co_await start_on(ctx, c, *id);
}

// ---- AT+CIPCLOSE (3.3.13) ------------------------------------------------------------------
Result cipclose_set(Ctx& ctx, Call& c) {
  auto& n = net(ctx);
  if (!settings(ctx).mux) return Result::error();
  const int id = int(c.args.integer(0));
  if (id > n.links()) return Result::invalid(0);
  if (id == n.links()) {  // 5 with the default links: every link
    for (int i = 0; i < n.links(); ++i) n.close(i);
    return Result::ok();
  }
  return n.close(id) ? Result::ok() : Result::error();
}
Result cipclose_exec(Ctx& ctx, Call& c) {
  if (settings(ctx).mux) return Result::error();
  return net(ctx).close(0) ? Result::ok() : Result::error();
}

// ---- AT+CIFSR (3.3.14) ---------------------------------------------------------------------
Result cifsr(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  std::string out;
  const bool v6 = settings(ctx).ipv6;
  if (w.softap_on()) {
    out += fmt::format("+CIFSR:APIP,\"{}\"\r\n", w.settings().ap_ip.ip.str());
    if (v6) out += fmt::format("+CIFSR:APIP6LL,\"{}\"\r\n", w.settings().ap_mac.link_local_ipv6());
    out += fmt::format("+CIFSR:APMAC,\"{}\"\r\n", w.settings().ap_mac.str());
  }
  if (w.station_on()) {
    out += fmt::format("+CIFSR:STAIP,\"{}\"\r\n", w.link() ? w.station_ip().ip.str() : "0.0.0.0");
    if (v6 && w.link()) out += fmt::format("+CIFSR:STAIP6LL,\"{}\"\r\n", w.settings().sta_mac.link_local_ipv6());
    out += fmt::format("+CIFSR:STAMAC,\"{}\"\r\n", w.settings().sta_mac.str());
  }
  c.reply(out);
  return Result::ok();
}

// ---- AT+CIPMUX (3.3.15) --------------------------------------------------------------------
Result cipmux_query(Ctx& ctx, Call& c) {
  c.reply(line(c, settings(ctx).mux ? "1" : "0"));
  return Result::ok();
}
Result cipmux_set(Ctx& ctx, Call& c) {
  auto& s = settings(ctx);
  const bool mux = c.args.integer(0) == 1;
  if (mux == s.mux) return Result::ok();
  // 3.3.15 notes: only with no link open; multiple needs AT+CIPMODE=0; single, no server.
  if (net(ctx).any_link() || (mux && s.mode == 1) || (!mux && net(ctx).server())) return Result::error();
  s.mux = mux;
  return Result::ok();
}

// ---- AT+CIPMODE (3.3.18) -------------------------------------------------------------------
Result cipmode_query(Ctx& ctx, Call& c) {
  c.reply(line(c, std::to_string(settings(ctx).mode)));
  return Result::ok();
}
Result cipmode_set(Ctx& ctx, Call& c) {
  const int mode = int(c.args.integer(0));
  if (mode == 1 && !net(ctx).passthrough_allowed()) return Result::error();  // one link only (3.3.18)
  if (mode == 1 && ble_initialized(ctx)) return Result::error();              // nor with BLE (3.4.2 notes)
  settings(ctx).mode = mode;
  return Result::ok();
}

// ---- AT+CIPDINFO (3.3.25) ------------------------------------------------------------------
Result cipdinfo_query(Ctx& ctx, Call& c) {
  c.reply(line(c, settings(ctx).dinfo ? "true" : "false"));
  return Result::ok();
}
Result cipdinfo_set(Ctx& ctx, Call& c) {
  settings(ctx).dinfo = c.args.integer(0) == 1;
  return Result::ok();
}

// ---- AT+CIPRECONNINTV (3.3.32) -------------------------------------------------------------
Result cipreconnintv_query(Ctx& ctx, Call& c) {
  c.reply(line(c, std::to_string(settings(ctx).reconn_interval)));
  return Result::ok();
}
Result cipreconnintv_set(Ctx& ctx, Call& c) {
  settings(ctx).reconn_interval = int(c.args.integer(0));
  persist(ctx, c, [&] { return module::save_reconn_interval(ctx, settings(ctx)); });
  return Result::ok();
}

// ---- AT+CIPTCPOPT (3.3.38) -----------------------------------------------------------------
Result ciptcpopt_query(Ctx& ctx, Call& c) {
  std::string out;
  const auto& s = settings(ctx);
  for (int i = 0; i < net(ctx).links(); ++i) {
    const auto& o = s.tcp[std::size_t(i)];
    out += line(c, fmt::format("{},{},{},{},{}", i, o.linger, o.nodelay, o.sndtimeo_ms, o.keep_alive));
  }
  c.reply(out);
  return Result::ok();
}
Result ciptcpopt_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  each_link(ctx, c, [&](int id) {
    auto& o = settings(ctx).tcp[std::size_t(id)];
    if (a.has(0)) o.linger = int(a.integer(0));
    if (a.has(1)) o.nodelay = int(a.integer(1));
    if (a.has(2)) o.sndtimeo_ms = int(a.integer(2));
    if (a.has(3)) o.keep_alive = int(a.integer(3));
    net(ctx).apply_tcp_options(id);
  });
  persist(ctx, c, [&] { return module::save_tcp_options(ctx, settings(ctx)); });
  return Result::ok();
}
}  // namespace

std::vector<at::Command> tcpip_link_commands() {
  std::vector<at::Command> r;
  r.push_back({.name = "+CIPV6", .query = plain(cipv6_query), .set = plain(cipv6_set), .params = {at::Int{"enable", 0, 1}}});
  r.push_back({.name = "+CIPSTATE", .query = plain(cipstate)});
  r.push_back({.name = "+CIPSTATUS", .exec = plain(cipstatus)});
  r.push_back({.name = "+CIPSTART", .set = coro(cipstart), .params = start_schema().with_link_id(at::LinkId::Prefix)});
  r.push_back({.name = "+CIPSTARTEX", .set = coro(cipstartex), .params = start_schema()});
  r.push_back({.name = "+CIPCLOSE", .set = plain(cipclose_set), .exec = plain(cipclose_exec),
               .params = {at::Int{"link ID", 0, module::Net::kMaxLinks}}});
  r.push_back({.name = "+CIFSR", .exec = plain(cifsr)});
  r.push_back({.name = "+CIPMUX", .query = plain(cipmux_query), .set = plain(cipmux_set), .params = {at::Int{"mode", 0, 1}}});
  r.push_back({.name = "+CIPMODE", .query = plain(cipmode_query), .set = plain(cipmode_set), .params = {at::Int{"mode", 0, 1}}});
  r.push_back({.name = "+CIPDINFO", .query = plain(cipdinfo_query), .set = plain(cipdinfo_set), .params = {at::Int{"mode", 0, 1}}});
  r.push_back({.name = "+CIPRECONNINTV", .query = plain(cipreconnintv_query), .set = plain(cipreconnintv_set),
               .params = {at::Int{"interval", 1, 36000}}});
  r.push_back({.name = "+CIPTCPOPT", .query = plain(ciptcpopt_query), .set = plain(ciptcpopt_set),
               .params = at::Schema{at::Int{"so_linger", -1, INT32_MAX, true}, at::Int{"tcp_nodelay", 0, 1, true},
                                    at::Int{"so_sndtimeo", 0, INT32_MAX, true}, at::Int{"keep_alive", 0, 7200, true}}
                             .with_link_id(at::LinkId::PrefixOrAll)});
  return r;
}

}  // namespace espat::commands
