// Spec 3.3.16, 3.3.17, 3.3.19: AT+CIPSERVER, AT+CIPSERVERMAXCONN, AT+CIPSTO.
#include "commands/handler.hpp"
#include "commands/kinds.hpp"
#include "commands/tcpip.hpp"
#include "module/net.hpp"

namespace espat::commands {

namespace {
using module::LinkKind;
using module::Net;

// +CIPSERVER:0, or +CIPSERVER:1,<port>,"<type>",<CA enable>.
Result cipserver_query(Ctx& ctx, Call& c) {
  const auto& srv = ctx.net().server();
  if (!srv) {
    c.reply(line(c, "0"));
    return Result::ok();
  }
  std::string type = srv->kind == LinkKind::Ssl ? "SSL" : "TCP";
  if (srv->v6) type += "v6";
  c.reply(line(c, fmt::format("1,{},\"{}\",{}", srv->port, type, srv->ca ? 1 : 0)));
  return Result::ok();
}

Result cipserver_set(Ctx& ctx, Call& c) {
  auto& n = ctx.net();
  const auto& a = c.args;
  if (a.integer(0) == 0) {  // delete; <param2> 1 also closes the server's clients
    if (!n.server()) return Result::error();
    n.stop_server(a.integer(1) == 1);
    return Result::ok();
  }
  // 3.3.16 notes: multiple connections only, one server at most.
  if (!n.settings().mux || n.server()) return Result::error();
  Net::ServerSpec spec;
  spec.port = int(a.integer(1));
  const std::string& type = a.has(2) ? a.text(2) : std::string("TCP");
  spec.kind = type.starts_with("SSL") ? LinkKind::Ssl : LinkKind::Tcp;
  spec.v6 = type.ends_with("v6");
  spec.ca = a.integer(3) == 1;
  if (spec.v6 && !n.settings().ipv6) return Result::error();
  return n.start_server(spec) ? Result::ok() : Result::error();
}

Result cipservermaxconn_query(Ctx& ctx, Call& c) {
  c.reply(line(c, std::to_string(ctx.net().settings().server_max_conn)));
  return Result::ok();
}
Result cipservermaxconn_set(Ctx& ctx, Call& c) {
  auto& n = ctx.net();
  const int num = int(c.args.integer(0));
  if (num > n.links()) return Result::invalid(0);
  if (n.server()) return Result::error();  // 3.3.17 note: set it before creating the server
  n.settings().server_max_conn = num;
  return Result::ok();
}

Result cipsto_query(Ctx& ctx, Call& c) {
  c.reply(line(c, std::to_string(ctx.net().settings().server_timeout)));
  return Result::ok();
}
Result cipsto_set(Ctx& ctx, Call& c) {
  ctx.net().settings().server_timeout = int(c.args.integer(0));
  return Result::ok();
}
}  // namespace

std::vector<at::Command> tcpip_server_commands() {
  std::vector<at::Command> r;
  r.push_back({.name = "+CIPSERVER", .query = plain(cipserver_query), .set = plain(cipserver_set),
               .params = at::Schema::by_first(
                   at::Int{"mode", 0, 1},
                   {{"0", {at::Int{"close all", 0, 1, true, 0}}},
                    {"1", {at::Int{"port", 1, 65535, true, 333}, one_of("type", {"TCP", "TCPv6", "SSL", "SSLv6"}, true),
                           at::Int{"CA enable", 0, 1, true, 0}}}})});
  r.push_back({.name = "+CIPSERVERMAXCONN", .query = plain(cipservermaxconn_query), .set = plain(cipservermaxconn_set),
               .params = {at::Int{"num", 1, module::Net::kMaxLinks}}});
  r.push_back({.name = "+CIPSTO", .query = plain(cipsto_query), .set = plain(cipsto_set), .params = {at::Int{"time", 0, 7200}}});
  return r;
}

}  // namespace espat::commands
