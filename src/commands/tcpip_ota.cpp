// Spec 3.3.23 AT+CIPFWVER, 3.3.24 AT+CIUPDATE (and 6.14): OTA from the world's OTA server
// (module/ota.hpp does the work; README "OTA server" gives the protocol and the choices).
#include <spdlog/spdlog.h>

#include "commands/handler.hpp"
#include "commands/tcpip.hpp"
#include "module/ota.hpp"

namespace espat::commands {

namespace {
// +CIPFWVER:"<version>" per version the server lists, quoted as the guide writes <"version">
// (the firmware prints the JSON string with its quotes), then OK; ERROR when the server
// cannot be asked.
asio::awaitable<Result> cipfwver(Ctx& ctx, Call& c) {
  auto* ota = ctx.ota();
  if (!ota) co_return Result::error();
  auto versions = co_await ota->versions(c.stop);
  if (!versions) co_return Result::error();
  for (const auto& v : *versions) c.reply(line(c, fmt::format("\"{}\"", v)));
  co_return Result::ok();
}

// The query prints "+CIUPDATE:<state>", not the guide's "+CIPUPDATE:<state>": the firmware
// formats it with the command's own name (at_ota_cmd.c, "%s:%d" with cmd_name; reference
// §9.5), and the guide spells this command CIPUPDATE by mistake throughout (spec README).
// The progress lines keep the firmware's fixed "+CIPUPDATE:<n>".
Result ciupdate_query(Ctx& ctx, Call& c) {
  auto* ota = ctx.ota();
  c.reply(line(c, std::to_string(ota ? ota->state() : 0)));
  return Result::ok();
}

asio::awaitable<Result> ciupdate_run(Ctx& ctx, Call& c, module::UpdateRequest r) {
  auto* ota = ctx.ota();
  if (!ota || ota->running()) co_return Result::error();  // one OTA at a time ("ALREADY IN OTA")
  if (r.nonblocking) {
    // OK first, then the states; no restart: "You need to manually restart" (3.3.24).
    c.after_result([ota, r] { ota->start(r); });
    co_return Result::ok();
  }
  if (!co_await ota->update(r, c.stop)) co_return Result::error();
  // A new application boots at once, after its OK; a custom partition needs no restart.
  if (r.name.starts_with("ota")) c.after_result([&ctx] { ctx.restart(); });
  co_return Result::ok();
}

// AT+CIUPDATE: the latest "ota" over HTTP, blocking.
asio::awaitable<Result> ciupdate_exec(Ctx& ctx, Call& c) { return ciupdate_run(ctx, c, {}); }

// AT+CIUPDATE=<ota mode>[,<version>][,<firmware name>][,<nonblocking>]; an empty version is
// the latest, an empty name "ota" (at_ota_cmd.c).
asio::awaitable<Result> ciupdate_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  module::UpdateRequest r;
  r.mode = int(a.integer(0));
  if (a.has(1)) r.version = a.text(1);
  if (a.has(2) && !a.text(2).empty()) r.name = a.text(2);
  r.nonblocking = a.integer(3) == 1;
  return ciupdate_run(ctx, c, std::move(r));
}
}  // namespace

std::vector<at::Command> tcpip_ota_commands() {
  std::vector<at::Command> r;
  r.push_back({.name = "+CIPFWVER", .query = coro(cipfwver)});
  r.push_back({.name = "+CIUPDATE", .query = plain(ciupdate_query), .set = coro(ciupdate_set), .exec = coro(ciupdate_exec),
               .params = {at::Int{"ota mode", 0, 1}, at::Str{"version", 64, 0, true},
                          at::Str{"firmware name", 64, 0, true}, at::Int{"nonblocking", 0, 1, true, 0}}});
  return r;
}

}  // namespace espat::commands
