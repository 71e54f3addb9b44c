// Spec 3.4.33-3.4.40 (issue 11, security step): the SMP parameters, a pairing run across the
// link between two ends (sim/ble_smp.hpp: the association model of the two ends' IO
// capabilities), and the bonds a module keeps. README "Bluetooth LE" says what the guide leaves
// open and what was chosen.
#include "commands/ble.hpp"
#include "commands/handler.hpp"
#include "commands/needs.hpp"
#include "module/ble.hpp"

namespace espat::commands {

namespace {

sim::BleMedium& medium(Ctx& ctx) { return ctx.world().ble; }

// ---- AT+BLESECPARAM (3.4.33) ----------------------------------------------------------------
Result secparam_query(Ctx& ctx, Call& c) {
  const auto& p = ctx.ble()->settings().sec;
  c.reply(line(c, fmt::format("{},{},{},{},{},{}", p.auth_req, p.iocap, p.key_size, p.init_key, p.rsp_key, p.auth_option)));
  return Result::ok();
}
Result secparam_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  const int auth_req = int(a.integer(0));
  // 3.4.33: NO_BOND, BOND, MITM, SC_ONLY, SC_BOND, SC_MITM, SC_MITM_BOND.
  if (auth_req != 0 && auth_req != 1 && auth_req != 4 && auth_req != 8 && auth_req != 9 && auth_req != 12 && auth_req != 13)
    return Result::invalid(0);
  auto& p = ctx.ble()->settings().sec;
  p.auth_req = auth_req;
  p.iocap = int(a.integer(1));
  p.key_size = int(a.integer(2));
  p.init_key = int(a.integer(3));
  p.rsp_key = int(a.integer(4));
  p.auth_option = int(a.integer(5, 0));
  return Result::ok();
}

// ---- AT+BLEENC (3.4.34), AT+BLEENCRSP (3.4.35), AT+BLEKEYREPLY (3.4.36), AT+BLECONFREPLY (3.4.37)
// Each answers OK once the link took it; what follows comes as messages at both ends.
Result enc(Ctx& ctx, Call& c) {
  const int index = int(c.args.integer(0)), act = int(c.args.integer(1));
  auto* b = ctx.ble();
  if (!b->link(index)) return Result::error();
  c.after_result([&m = medium(ctx), id = b->id(), index, act] { m.encrypt(id, index, act); });
  return Result::ok();
}
Result encrsp(Ctx& ctx, Call& c) {
  const int index = int(c.args.integer(0));
  const bool accept = c.args.integer(1) == 1;
  auto* b = ctx.ble();
  const auto* l = b->link(index);
  if (!l || !l->pairing || l->pairing->stage != sim::BleLink::Pairing::AwaitAccept || l->pairing->asked_by == b->id())
    return Result::error();
  c.after_result([&m = medium(ctx), id = b->id(), index, accept] { m.pairing_response(id, index, accept); });
  return Result::ok();
}
Result keyreply(Ctx& ctx, Call& c) {
  const int index = int(c.args.integer(0)), key = int(c.args.integer(1));
  auto* b = ctx.ble();
  const auto* l = b->link(index);
  if (!l || !l->pairing || l->pairing->stage != sim::BleLink::Pairing::AwaitKey) return Result::error();
  c.after_result([&m = medium(ctx), id = b->id(), index, key] { m.passkey_reply(id, index, key); });
  return Result::ok();
}
Result confreply(Ctx& ctx, Call& c) {
  const int index = int(c.args.integer(0));
  const bool yes = c.args.integer(1) == 1;
  auto* b = ctx.ble();
  const auto* l = b->link(index);
  if (!l || !l->pairing || l->pairing->stage != sim::BleLink::Pairing::AwaitConfirm) return Result::error();
  c.after_result([&m = medium(ctx), id = b->id(), index, yes] { m.confirm_reply(id, index, yes); });
  return Result::ok();
}

// ---- AT+BLEENCDEV (3.4.38), AT+BLEENCCLEAR (3.4.39) -----------------------------------------
Result encdev_query(Ctx& ctx, Call& c) {
  const auto& bonds = ctx.ble()->bonds();
  for (std::size_t i = 0; i < bonds.size(); ++i) c.reply(line(c, fmt::format("{},{}", i, at::quoted(bonds[i].str()))));
  return Result::ok();
}
Result encclear_set(Ctx& ctx, Call& c) {
  return ctx.ble()->forget_bond(int(c.args.integer(0))) ? Result::ok() : Result::error();
}
Result encclear_exec(Ctx& ctx, Call&) {
  ctx.ble()->forget_bonds();
  return Result::ok();
}

// ---- AT+BLESETKEY (3.4.40) ------------------------------------------------------------------
Result setkey_query(Ctx& ctx, Call& c) {
  const auto& key = ctx.ble()->settings().sec.static_key;
  c.reply(line(c, std::to_string(key.value_or(-1))));  // "If it is not set, AT will return -1."
  return Result::ok();
}
Result setkey_set(Ctx& ctx, Call& c) {
  ctx.ble()->settings().sec.static_key = int(c.args.integer(0));
  return Result::ok();
}

}  // namespace

std::vector<at::Command> ble_sec_commands() {
  using need::ble;
  const at::Int conn_index{"conn_index", 0, 2};
  std::vector<at::Command> r;
  r.push_back({.name = "+BLESECPARAM", .query = plain(secparam_query), .set = plain(secparam_set),
               .params = {at::Int{"auth_req", 0, 13}, at::Int{"iocap", 0, 4}, at::Int{"enc_key_size", 7, 16},
                          at::Int{"init_key", 0, 15}, at::Int{"rsp_key", 0, 15}, at::Int{"auth_option", 0, 1, true}},
               .needs = ble});
  r.push_back({.name = "+BLEENC", .set = plain(enc), .params = {conn_index, at::Int{"sec_act", 0, 3}}, .needs = ble});
  r.push_back({.name = "+BLEENCRSP", .set = plain(encrsp), .params = {conn_index, at::Int{"accept", 0, 1}}, .needs = ble});
  r.push_back({.name = "+BLEKEYREPLY", .set = plain(keyreply), .params = {conn_index, at::Int{"key", 0, 999999}}, .needs = ble});
  r.push_back({.name = "+BLECONFREPLY", .set = plain(confreply), .params = {conn_index, at::Int{"confirm", 0, 1}}, .needs = ble});
  r.push_back({.name = "+BLEENCDEV", .query = plain(encdev_query), .needs = ble});
  r.push_back({.name = "+BLEENCCLEAR", .set = plain(encclear_set), .exec = plain(encclear_exec),
               .params = {at::Int{"enc_dev_index", 0, 14}}, .needs = ble});
  r.push_back({.name = "+BLESETKEY", .query = plain(setkey_query), .set = plain(setkey_set),
               .params = {at::Int{"static_key", 0, 999999}}, .needs = ble});
  return r;
}

}  // namespace espat::commands
