// Spec 3.4.31-3.4.32 (issue 11): AT+BLESPPCFG and AT+BLESPP, the UART-Bluetooth LE passthrough
// over two characteristics of the first link (module/ble.hpp). README "Bluetooth LE" says what
// the guide leaves open and what was chosen.
#include "commands/ble.hpp"
#include "commands/handler.hpp"
#include "commands/needs.hpp"
#include "module/ble.hpp"

namespace espat::commands {

namespace {

Result sppcfg_query(Ctx& ctx, Call& c) {
  const auto& p = ctx.ble()->settings().spp;
  c.reply(line(c, fmt::format("{},{},{},{},{}", p.tx_srv, p.tx_char, p.rx_srv, p.rx_char, p.auto_conn)));
  return Result::ok();
}

Result sppcfg_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  auto& b = *ctx.ble();
  auto& cfg = b.settings().spp;
  if (a.integer(0) == 0) {  // "all the SPP parameters will be reset, and the following parameters do not need input"
    if (a.given() > 1) return Result::invalid(1);
    cfg = module::BleSppConfig{};
    return Result::ok();
  }
  for (std::size_t i = 1; i <= 4; ++i)
    if (!a.has(i)) return Result::invalid(i);
  const module::BleSppConfig old = cfg;
  cfg = {true, int(a.integer(1)), int(a.integer(2)), int(a.integer(3)), int(a.integer(4)), int(a.integer(5, 1))};
  // 3.4.31 notes: the properties the role needs (checked on what is known now).
  if (!b.spp_check(false)) {
    cfg = old;
    return Result::error();
  }
  return Result::ok();
}

Result spp_exec(Ctx& ctx, Call& c) {
  auto& b = *ctx.ble();
  if (!b.spp_check(true)) return Result::error();
  c.reply("\r\nOK\r\n\r\n>");  // 3.4.32: OK, then '>'
  b.enter_spp();
  return Result::nothing();
}

}  // namespace

std::vector<at::Command> ble_spp_commands() {
  using need::ble;
  const at::Int srv{"service_index", 1, 255, true}, chr{"char_index", 1, 255, true};
  std::vector<at::Command> r;
  r.push_back({.name = "+BLESPPCFG", .query = plain(sppcfg_query), .set = plain(sppcfg_set),
               .params = {at::Int{"cfg_enable", 0, 1}, srv, chr, srv, chr, at::Int{"auto_conn", 0, 1, true}},
               .needs = ble});
  r.push_back({.name = "+BLESPP", .exec = plain(spp_exec), .needs = ble});
  return r;
}

}  // namespace espat::commands
