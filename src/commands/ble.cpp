// Spec 3.4.2-3.4.12 (issue 11, first step): AT+BLEINIT, AT+BLEADDR, AT+BLENAME (the guide's
// heading says "BLENAM", its commands BLENAME), AT+BLESCANPARAM, AT+BLESCAN,
// AT+BLESCANRSPDATA, AT+BLEADVPARAM, AT+BLEADVDATA, AT+BLEADVDATAEX, AT+BLEADVSTART and
// AT+BLEADVSTOP on the module's Bluetooth LE (module/ble.hpp). README "Bluetooth LE" says what
// the guide leaves open and what was chosen.
#include "commands/ble.hpp"

#include "commands/handler.hpp"
#include "commands/needs.hpp"
#include "module/ble.hpp"
#include "module/net.hpp"

namespace espat::commands {

namespace {
using module::Ble;

constexpr int kTxPowerDbm = 3;  // ESP_PWR_LVL_P3, the controller's default advertising power

// Every command but AT+BLEINIT needs Bluetooth LE initialised (3.4.2 notes); scanning needs the
// client role, advertising the server role (the examples of 3.4.5-3.4.12).
std::optional<at::ErrCode> ble_needs(at::Host& host, at::Needs needs) {
  auto* b = static_cast<Ctx&>(host).ble();
  const int role = b ? b->settings().role : 0;
  const bool ok = (!(needs & need::ble) || role != 0) && (!(needs & need::ble_client) || role == 1) &&
                  (!(needs & need::ble_server) || role == 2);
  if (ok) return std::nullopt;
  return at::ErrCode::make(at::Sub::ExecFail);
}

bool valid_mac(std::string_view s) { return sim::Mac::parse(s).has_value(); }
bool valid_hex(std::string_view s) { return sim::hex_to_bytes(s).has_value(); }

// Saves a setting as AT+SYSSTORE says (always: AT+BLEADDR, protocol-rules §9).
void save_str(Ctx& ctx, std::string_view key, std::string_view value, bool always = false) {
  ctx.save("BLE", key, flash::nvs::Value::str(value), always);
}

// ---- AT+BLEINIT (3.4.2) ---------------------------------------------------------------------
Result bleinit_query(Ctx& ctx, Call& c) {
  if (!ctx.ble()) return Result::error();  // a test double without Bluetooth
  c.reply(line(c, std::to_string(ctx.ble()->settings().role)));
  return Result::ok();
}
Result bleinit_set(Ctx& ctx, Call& c) {
  if (!ctx.ble()) return Result::error();
  auto& b = *ctx.ble();
  const int role = int(c.args.integer(0));
  const int now = b.settings().role;
  if (role == 0) {
    b.set_role(0);
    return Result::ok();
  }
  // The role cannot change without AT+RST; BLE cannot start with sleep off (protocol-rules §10).
  if (now != 0 && now != role) return Result::error();
  if (b.hid_on() || b.blufi_on()) return Result::error();  // HID and BluFi stand apart (3.4.41, 3.4.45 notes)
  if (ctx.state().sleep_mode == 0) return Result::error();
  if (ctx.net().settings().mode == 1) return Result::error();  // not with AT+CIPMODE=1 (3.4.2 notes)
  b.set_role(role);
  return Result::ok();
}

// ---- AT+BLEADDR (3.4.3) ---------------------------------------------------------------------
Result bleaddr_query(Ctx& ctx, Call& c) {
  auto& b = *ctx.ble();
  const auto& s = b.settings();
  c.reply(line(c, at::quoted(b.own_addr(s.random_addr ? 1 : 0).str())));
  return Result::ok();
}
// 3.4.3 note: a static address has its two top bits 1 and a random part neither all 0 nor all 1.
bool static_random(const sim::Mac& m) {
  if ((m.b[0] & 0xc0) != 0xc0) return false;
  bool zero = false, one = false;
  for (int i = 0; i < 6; ++i) {
    const std::uint8_t bits = i == 0 ? std::uint8_t(m.b[0] & 0x3f) : m.b[i];
    const std::uint8_t mask = i == 0 ? 0x3f : 0xff;
    if (bits != mask) zero = true;
    if (bits != 0) one = true;
  }
  return zero && one;
}
Result bleaddr_set(Ctx& ctx, Call& c) {
  auto& b = *ctx.ble();
  auto& s = b.settings();
  const int type = int(c.args.integer(0));
  if (type == 0) {
    if (c.args.has(1)) return Result::invalid(1);
    s.random_addr.reset();
    save_str(ctx, "addr", "", true);
  } else if (c.args.has(1)) {
    auto m = sim::Mac::parse(c.args.text(1));
    if (!static_random(*m)) return Result::invalid(1);
    s.random_addr = *m;
    save_str(ctx, "addr", m->str(), true);
  } else {
    s.random_addr.reset();  // a private address (3.4.3 example)
    save_str(ctx, "addr", "", true);
    s.random_addr = b.own_addr(1);
  }
  b.refresh();
  return Result::ok();
}

// ---- AT+BLENAME (3.4.4) ---------------------------------------------------------------------
Result blename_query(Ctx& ctx, Call& c) {
  c.reply(line(c, ctx.ble()->settings().name));
  return Result::ok();
}
Result blename_set(Ctx& ctx, Call& c) {
  ctx.ble()->settings().name = c.args.text(0);
  save_str(ctx, "name", c.args.text(0));
  return Result::ok();
}

// ---- AT+BLESCANPARAM (3.4.5) ----------------------------------------------------------------
Result blescanparam_query(Ctx& ctx, Call& c) {
  const auto& p = ctx.ble()->settings().scan;
  c.reply(line(c, module::scan_params_text(p)));
  return Result::ok();
}
Result blescanparam_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  if (a.integer(3) < a.integer(4)) return Result::invalid(4);  // <scan_window> <= <scan_interval>
  auto& p = ctx.ble()->settings().scan;
  p = {int(a.integer(0)), int(a.integer(1)), int(a.integer(2)), int(a.integer(3)), int(a.integer(4))};
  save_str(ctx, "scan_param", module::scan_params_text(p));
  return Result::ok();
}

// ---- AT+BLESCAN (3.4.6) ---------------------------------------------------------------------
Result blescan_set(Ctx& ctx, Call& c) {
  auto* b = ctx.ble();
  const auto& a = c.args;
  if (a.integer(0) == 0) {
    if (a.given() > 1) return Result::invalid(1);  // "to disable the scanning, omit <duration>"
    b->stop_scan();
    return Result::ok();
  }
  sim::BleScanFilter filter;
  if (a.has(2) != a.has(3)) return Result::invalid(a.has(2) ? 3 : 2);
  if (a.has(2)) {
    filter.kind = sim::BleScanFilter::Kind(a.integer(2));
    filter.param = a.text(3);
    if (filter.kind == sim::BleScanFilter::Mac && !valid_mac(filter.param)) return Result::invalid(3);
  }
  if (b->scanning()) return Result::error();
  const int duration = int(a.integer(1, 0));
  // The lines come after the OK (guide example 4.3), though 3.4.6 allows either order.
  c.after_result([b, duration, filter] { b->start_scan(duration, filter); });
  return Result::ok();
}

// ---- AT+BLESCANRSPDATA (3.4.7), AT+BLEADVDATA (3.4.9) ---------------------------------------
Result blescanrspdata_set(Ctx& ctx, Call& c) {
  auto* b = ctx.ble();
  b->settings().scan_rsp = *sim::hex_to_bytes(c.args.text(0));
  save_str(ctx, "scan_rsp", c.args.text(0));
  b->refresh();
  return Result::ok();
}
Result bleadvdata_set(Ctx& ctx, Call& c) {
  auto* b = ctx.ble();
  b->settings().adv_data = *sim::hex_to_bytes(c.args.text(0));
  b->settings().adv_ex.reset();  // 3.4.9 note: overwrites AT+BLEADVDATAEX
  save_str(ctx, "adv_data", c.args.text(0));
  b->refresh();
  return Result::ok();
}

// ---- AT+BLEADVPARAM (3.4.8) -----------------------------------------------------------------
Result bleadvparam_query(Ctx& ctx, Call& c) {
  const auto& p = ctx.ble()->settings().adv;
  // 3.4.8 note: without a peer address the query shows all zeros.
  c.reply(line(c, module::adv_params_text(p)));
  return Result::ok();
}
Result bleadvparam_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  if (a.integer(0) > a.integer(1)) return Result::invalid(1);  // <adv_int_min> <= <adv_int_max>
  if (a.has(6) != a.has(7)) return Result::invalid(a.has(6) ? 7 : 6);
  module::BleAdvParams p;
  p.int_min = int(a.integer(0));
  p.int_max = int(a.integer(1));
  p.type = int(a.integer(2));
  p.own_addr_type = int(a.integer(3));
  p.channel_map = int(a.integer(4));
  p.filter_policy = int(a.integer(5, 0));
  if (a.has(6)) {
    p.peer_addr_type = int(a.integer(6));
    p.peer_addr = *sim::Mac::parse(a.text(7));
  }
  auto* b = ctx.ble();
  b->settings().adv = p;
  save_str(ctx, "adv_param", module::adv_params_text(p));
  b->refresh();
  return Result::ok();
}

// ---- AT+BLEADVDATAEX (3.4.10) ---------------------------------------------------------------
Result bleadvdataex_query(Ctx& ctx, Call& c) {
  const auto& s = ctx.ble()->settings();
  const module::BleAdvDataEx ex = s.adv_ex.value_or(module::BleAdvDataEx{s.name, "", "", 0});
  c.reply(line(c, fmt::format("{},{},{},{}", at::quoted(ex.name), at::quoted(ex.uuid), at::quoted(ex.manufacturer),
                              ex.include_power)));
  return Result::ok();
}
Result bleadvdataex_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  module::BleAdvDataEx ex{a.text(0), a.text(1), a.text(2), int(a.integer(3))};
  auto data = module::build_adv_data_ex(ex, kTxPowerDbm);
  if (!data) return Result::error();
  auto* b = ctx.ble();
  auto& s = b->settings();
  s.adv_data = *data;
  s.adv_ex = ex;
  s.adv.type = 0;  // 3.4.10 note: the adv type goes back to 0
  save_str(ctx, "adv_data", sim::bytes_to_hex(*data));
  save_str(ctx, "adv_param", module::adv_params_text(s.adv));
  // "Set the advertising data and start advertising" (3.4.10).
  b->start_advertising();
  return Result::ok();
}

// ---- AT+BLEADVSTART (3.4.11), AT+BLEADVSTOP (3.4.12) ----------------------------------------
Result bleadvstart(Ctx& ctx, Call&) {
  ctx.ble()->start_advertising();
  return Result::ok();
}
Result bleadvstop(Ctx& ctx, Call&) {
  ctx.ble()->stop_advertising();
  return Result::ok();
}

// ---- AT+BLECONN (3.4.13), AT+BLEDISCONN (3.4.15) --------------------------------------------
Result bleconn_query(Ctx& ctx, Call& c) {
  auto& b = *ctx.ble();
  for (const auto* l : b.links())
    c.reply(line(c, fmt::format("{},{}", l->index_of(b.id()), at::quoted(l->peer_addr_of(b.id()).str()))));
  return Result::ok();
}
constexpr int kConnTimeoutDefault = 5;  // seconds; the guide gives none (README "Bluetooth LE")
asio::awaitable<Result> bleconn_set(Ctx& ctx, Call& c) {
  auto& b = *ctx.ble();
  const int index = int(c.args.integer(0));
  const sim::Mac target = *sim::Mac::parse(c.args.text(1));
  if (c.args.has(2) != c.args.has(3)) co_return Result::invalid(c.args.has(2) ? 3 : 2);
  const int addr_type = c.args.has(2) ? int(c.args.integer(2)) : -1;
  const int timeout = c.args.has(3) ? int(c.args.integer(3)) : kConnTimeoutDefault;
  // The server's form (guide example 4.3.3 step 3): the link its client made, named by the
  // client's address, is taken up as it is: OK, no message; ERROR without that link.
  if (b.settings().role == 2) {
    const sim::BleLink* l = b.link(index);
    co_return l && l->peer_addr_of(b.id()) == target ? Result::ok() : Result::error();
  }
  // The index taken, or that peer already connected: an error at once.
  if (b.link(index)) co_return Result::error();
  for (const auto* l : b.links())
    if (l->peer_addr_of(b.id()) == target) co_return Result::error();
  const sim::BleLink* l = co_await b.connect(index, target, addr_type, std::chrono::seconds(timeout));
  if (!l) {
    c.reply(line(c, fmt::format("{},-1", index)));  // 3.4.13: +BLECONN:<conn_index>,-1 then ERROR
    co_return Result::error();
  }
  c.reply(line(c, fmt::format("{},{}", index, at::quoted(target.str()))));
  co_return Result::ok();
}
Result bledisconn_set(Ctx& ctx, Call& c) {
  auto* b = ctx.ble();
  const int index = int(c.args.integer(0));
  if (!b->link(index)) return Result::error();
  // 3.4.15: OK when received, then +BLEDISCONN when done.
  c.after_result([b, index] { b->disconnect(index); });
  return Result::ok();
}

// ---- AT+BLECONNPARAM (3.4.14) ---------------------------------------------------------------
Result bleconnparam_query(Ctx& ctx, Call& c) {
  auto& b = *ctx.ble();
  const auto links = b.links();
  if (links.empty()) return Result::error();  // nothing to show (README "Bluetooth LE")
  for (const auto* l : links)
    c.reply(line(c, fmt::format("{},{},{},{},{},{}", l->index_of(b.id()), l->min_interval, l->max_interval,
                                l->interval, l->latency, l->timeout)));
  return Result::ok();
}
Result bleconnparam_set(Ctx& ctx, Call& c) {
  const auto& a = c.args;
  if (!ctx.ble()->link(int(a.integer(0)))) return Result::error();
  if (a.integer(1) > a.integer(2)) return Result::invalid(2);  // <min_interval> <= <max_interval>
  // The update is done after the OK; both ends report the new parameters.
  const int index = int(a.integer(0)), min = int(a.integer(1)), max = int(a.integer(2));
  const int latency = int(a.integer(3)), timeout = int(a.integer(4));
  auto* b = ctx.ble();
  c.after_result([b, index, min, max, latency, timeout] { b->set_conn_params(index, min, max, latency, timeout); });
  return Result::ok();
}

// ---- AT+BLEDATALEN (3.4.16), AT+BLECFGMTU (3.4.17) ------------------------------------------
Result bledatalen_set(Ctx& ctx, Call& c) {
  return ctx.ble()->link(int(c.args.integer(0))) ? Result::ok() : Result::error();
}
Result blecfgmtu_query(Ctx& ctx, Call& c) {
  auto& b = *ctx.ble();
  const auto links = b.links();
  if (links.empty()) return Result::error();
  for (const auto* l : links) c.reply(line(c, fmt::format("{},{}", l->index_of(b.id()), l->mtu)));
  return Result::ok();
}
Result blecfgmtu_set(Ctx& ctx, Call& c) {
  auto* b = ctx.ble();
  const int index = int(c.args.integer(0));
  if (!b->link(index)) return Result::error();
  // Both ends are ESP32s taking up to 517: the exchange settles on the size asked for, and each
  // end reports it after the OK ("The OK response only indicates an attempt", 3.4.17).
  const int mtu = int(c.args.integer(1));
  c.after_result([b, index, mtu] { b->set_mtu(index, mtu); });
  return Result::ok();
}

const at::Str kHex31{"data", 62, 0, false, valid_hex};  // 31 bytes in hex
}  // namespace

bool ble_initialized(Ctx& ctx) { return ctx.ble() && ctx.ble()->settings().role != 0; }

at::Family ble_family() {
  using need::ble, need::ble_client, need::ble_server;
  at::Family f{.name = "ble", .check = ble_needs};
  auto& r = f.rows;
  r.push_back({.name = "+BLEINIT", .query = plain(bleinit_query), .set = plain(bleinit_set),
               .params = {at::Int{"init", 0, 2}}});
  r.push_back({.name = "+BLEADDR", .query = plain(bleaddr_query), .set = plain(bleaddr_set),
               .params = {at::Int{"addr_type", 0, 1}, at::Str{"random_addr", 17, 17, true, valid_mac}}, .needs = ble});
  r.push_back({.name = "+BLENAME", .query = plain(blename_query), .set = plain(blename_set),
               .params = {at::Str{"device_name", 32, 1}}, .needs = ble, .aliases = {{"+BLENAM"}}});
  r.push_back({.name = "+BLESCANPARAM", .query = plain(blescanparam_query), .set = plain(blescanparam_set),
               .params = {at::Int{"scan_type", 0, 1}, at::Int{"own_addr_type", 0, 3}, at::Int{"filter_policy", 0, 3},
                          at::Int{"scan_interval", 0x4, 0x4000}, at::Int{"scan_window", 0x4, 0x4000}},
               .needs = ble, .set_needs = ble_client});
  r.push_back({.name = "+BLESCAN", .set = plain(blescan_set),
               .params = {at::Int{"enable", 0, 1}, at::Int{"duration", 0, INT32_MAX, true, 0},
                          at::Int{"filter_type", 1, 2, true}, at::Str{"filter_param", 32, 1, true}},
               .needs = ble_client});
  r.push_back({.name = "+BLESCANRSPDATA", .set = plain(blescanrspdata_set), .params = {kHex31}, .needs = ble_server});
  r.push_back({.name = "+BLEADVPARAM", .query = plain(bleadvparam_query), .set = plain(bleadvparam_set),
               .params = {at::Int{"adv_int_min", 0x20, 0x4000}, at::Int{"adv_int_max", 0x20, 0x4000},
                          at::Int{"adv_type", 0, 4}, at::Int{"own_addr_type", 0, 1}, at::Int{"channel_map", 1, 7},
                          at::Int{"adv_filter_policy", 0, 3, true, 0}, at::Int{"peer_addr_type", 0, 1, true},
                          at::Str{"peer_addr", 17, 17, true, valid_mac}},
               .needs = ble, .set_needs = ble_server});
  r.push_back({.name = "+BLEADVDATA", .set = plain(bleadvdata_set), .params = {kHex31}, .needs = ble_server});
  r.push_back({.name = "+BLEADVDATAEX", .query = plain(bleadvdataex_query), .set = plain(bleadvdataex_set),
               .params = {at::Str{"dev_name", 29, 0}, at::Str{"uuid", 32, 0, false, valid_hex},
                          at::Str{"manufacturer_data", 58, 0, false, valid_hex}, at::Int{"include_power", 0, 1}},
               .needs = ble, .set_needs = ble_server});
  r.push_back({.name = "+BLEADVSTART", .exec = plain(bleadvstart), .needs = ble_server});
  r.push_back({.name = "+BLEADVSTOP", .exec = plain(bleadvstop), .needs = ble_server});
  const at::Int conn_index{"conn_index", 0, 2};
  r.push_back({.name = "+BLECONN", .query = plain(bleconn_query), .set = coro(bleconn_set),
               .params = {conn_index, at::Str{"remote_address", 17, 17, false, valid_mac}, at::Int{"addr_type", 0, 1, true},
                          at::Int{"timeout", 3, 30, true}},
               .needs = ble});
  r.push_back({.name = "+BLECONNPARAM", .query = plain(bleconnparam_query), .set = plain(bleconnparam_set),
               .params = {conn_index, at::Int{"min_interval", 0x6, 0xc80}, at::Int{"max_interval", 0x6, 0xc80},
                          at::Int{"latency", 0, 0x1f3}, at::Int{"timeout", 0xa, 0xc80}},
               .needs = ble});
  r.push_back({.name = "+BLEDISCONN", .set = plain(bledisconn_set), .params = {conn_index}, .needs = ble});
  r.push_back({.name = "+BLEDATALEN", .set = plain(bledatalen_set),
               .params = {conn_index, at::Int{"pkt_data_len", 0x1b, 0xfb}}, .needs = ble});
  r.push_back({.name = "+BLECFGMTU", .query = plain(blecfgmtu_query), .set = plain(blecfgmtu_set),
               .params = {conn_index, at::Int{"mtu_size", 23, 517}}, .needs = ble, .set_needs = ble_client});
  for (auto* rows : {ble_gatt_commands, ble_spp_commands, ble_sec_commands, ble_hid_commands, ble_blufi_commands})
    for (auto& c : rows()) r.push_back(std::move(c));
  return f;
}

}  // namespace espat::commands
