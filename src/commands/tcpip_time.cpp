// Spec 3.3.20-3.3.22 and 3.3.36: AT+CIPSNTPCFG, AT+CIPSNTPTIME, AT+CIPSNTPINTV, AT+PING.
#include "commands/handler.hpp"
#include "commands/tcpip.hpp"
#include "module/net.hpp"
#include "net/ping.hpp"
#include "net/sntp.hpp"

namespace espat::commands {

namespace {
// +CIPSNTPCFG:<enable>,<timezone>[,"<server>"...]: the time zone as the firmware echoes it
// (3.3.20 note: 015 reads back as 0), the servers as set.
Result cipsntpcfg_query(Ctx& ctx, Call& c) {
  const auto& s = ctx.net().settings();
  std::string v = fmt::format("{},{}", s.sntp_enable ? 1 : 0, net::timezone_query_value(s.sntp_timezone));
  for (const auto& server : s.sntp_servers) v += fmt::format(",\"{}\"", server);
  c.reply(line(c, v));
  return Result::ok();
}

Result cipsntpcfg_set(Ctx& ctx, Call& c) {
  auto& s = ctx.net().settings();
  const auto& a = c.args;
  if (!net::parse_timezone(a.integer(1))) return Result::invalid(1);
  s.sntp_enable = a.integer(0) == 1;
  s.sntp_timezone = a.integer(1);
  s.sntp_servers.clear();
  for (std::size_t i = 2; i <= 4; ++i)
    if (a.has(i)) s.sntp_servers.push_back(a.text(i));
  c.after_result([&ctx] { ctx.net().restart_sntp(); });
  return Result::ok();
}

// +CIPSNTPTIME:<asctime style time> in the configured zone (3.3.21); before any sync, the
// module's clock counts from 1970 as the firmware's does.
Result cipsntptime(Ctx& ctx, Call& c) {
  const int tz = net::parse_timezone(ctx.net().settings().sntp_timezone).value_or(0);
  c.reply(line(c, net::asctime_string(ctx.now(), tz)));
  return Result::ok();
}

Result cipsntpintv_query(Ctx& ctx, Call& c) {
  c.reply(line(c, std::to_string(ctx.net().settings().sntp_interval)));
  return Result::ok();
}
Result cipsntpintv_set(Ctx& ctx, Call& c) {
  ctx.net().settings().sntp_interval = int(c.args.integer(0));
  return Result::ok();
}

// AT+PING="<host>": +PING:<time> in whole milliseconds (truncated, as ESP-IDF's ping measures),
// or +PING:TIMEOUT then ERROR when the name does not resolve or no reply comes (3.3.36).
constexpr auto kPingTimeout = std::chrono::seconds(1);
asio::awaitable<Result> ping(Ctx& ctx, Call& c) {
  auto& n = ctx.net();
  auto timeout = [&c] {
    c.reply(line(c, "TIMEOUT"));
    return Result::error();
  };
  if (!n.has_address()) co_return timeout();
  auto ip = co_await n.lookup(c.args.text(0), false, c.stop);
  if (!ip) ip = co_await n.lookup(c.args.text(0), true, c.stop);
  if (!ip) co_return timeout();
  std::optional<std::chrono::microseconds> rtt;
  try {
    rtt = co_await net::ping(ctx.engine().io(), *ip, n.source_for(*ip), kPingTimeout);
  } catch (const std::system_error&) {
  }
  c.stop.throw_if_requested();
  if (!rtt) co_return timeout();
  c.reply(line(c, std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(*rtt).count())));
  co_return Result::ok();
}
}  // namespace

std::vector<at::Command> tcpip_time_commands() {
  std::vector<at::Command> r;
  r.push_back({.name = "+CIPSNTPCFG", .query = plain(cipsntpcfg_query), .set = plain(cipsntpcfg_set),
               .params = {at::Int{"enable", 0, 1}, at::Int{"timezone", -1259, 1459}, at::Str{"SNTP server1", 64, 1, true},
                          at::Str{"SNTP server2", 64, 1, true}, at::Str{"SNTP server3", 64, 1, true}}});
  r.push_back({.name = "+CIPSNTPTIME", .query = plain(cipsntptime)});
  r.push_back({.name = "+CIPSNTPINTV", .query = plain(cipsntpintv_query), .set = plain(cipsntpintv_set),
               .params = {at::Int{"interval second", 15, 4294967}}});
  r.push_back({.name = "+PING", .set = coro(ping), .params = {at::Str{"host", 64, 1}}});
  return r;
}

}  // namespace espat::commands
