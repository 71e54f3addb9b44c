// Spec 3.3.5, 3.3.37: AT+CIPDOMAIN, AT+CIPDNS.
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>

#include "commands/handler.hpp"
#include "commands/kinds.hpp"
#include "commands/tcpip.hpp"
#include "module/net.hpp"
#include "module/net_settings.hpp"

namespace espat::commands {

namespace {
// AT+CIPDOMAIN="<domain name>"[,<ip network>]: 1 IPv4 first, 2 IPv4 only, 3 IPv6 only.
asio::awaitable<Result> cipdomain(Ctx& ctx, Call& c) {
  auto& n = ctx.net();
  if (!n.has_address()) co_return Result::error();  // no network to ask
  const int net_pref = int(c.args.integer(1));
  std::optional<asio::ip::address> a;
  if (net_pref != 3) a = co_await n.lookup(c.args.text(0), false, c.stop);
  if (!a && net_pref != 2) a = co_await n.lookup(c.args.text(0), true, c.stop);
  if (!a) co_return Result::error();
  c.reply(line(c, fmt::format("\"{}\"", a->to_string())));
  co_return Result::ok();
}

// +CIPDNS:<enable>[,"<DNS IP1>"][,"<DNS IP2>"][,"<DNS IP3>"]; automatic settings show the
// DHCP-given servers (the world AP's), else 208.67.222.222 and 8.8.8.8 (3.3.37).
Result cipdns_query(Ctx& ctx, Call& c) {
  const auto& s = ctx.net().settings();
  std::string v = s.dns_manual ? "1" : "0";
  for (const auto& d : ctx.net().dns_servers()) v += fmt::format(",\"{}\"", d);
  c.reply(line(c, v));
  return Result::ok();
}

Result cipdns_set(Ctx& ctx, Call& c) {
  auto& s = ctx.net().settings();
  const auto& a = c.args;
  std::vector<std::string> servers;
  for (std::size_t i = 1; i <= 3; ++i) {
    if (!a.has(i)) continue;
    std::error_code ec;
    asio::ip::make_address(a.text(i), ec);
    if (ec) return Result::invalid(unsigned(i));
    if (std::find(servers.begin(), servers.end(), a.text(i)) != servers.end()) return Result::invalid(unsigned(i));  // the same server twice
    servers.push_back(a.text(i));
  }
  if (a.integer(0) == 0 && !servers.empty()) return Result::error();
  s.dns_manual = a.integer(0) == 1;
  s.dns = s.dns_manual ? servers : std::vector<std::string>{};
  persist(ctx, c, [&] { return module::save_dns(ctx, s); });
  return Result::ok();
}
}  // namespace

std::vector<at::Command> tcpip_name_commands() {
  std::vector<at::Command> r;
  r.push_back({.name = "+CIPDOMAIN", .set = coro(cipdomain),
               .params = {at::Str{"domain name", 253, 1}, at::Int{"ip network", 1, 3, true, 1}}});
  r.push_back({.name = "+CIPDNS", .query = plain(cipdns_query), .set = plain(cipdns_set),
               .params = {at::Int{"enable", 0, 1}, at::Str{"DNS IP1", 45, 1, true}, at::Str{"DNS IP2", 45, 1, true},
                          at::Str{"DNS IP3", 45, 1, true}}});
  return r;
}

}  // namespace espat::commands
