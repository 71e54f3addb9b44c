// Spec 3.2.2-3.2.9: AT+CWINIT, AT+CWMODE, AT+CWSTATE, AT+CWJAP, AT+CWRECONNCFG, AT+CWLAPOPT,
// AT+CWLAP, AT+CWQAP.
#include <algorithm>

#include "commands/handler.hpp"
#include "commands/kinds.hpp"
#include "commands/wifi.hpp"
#include "module/wifi.hpp"
#include "module/wifi_settings.hpp"

namespace espat::commands {

namespace {
using module::Wifi;


Result cwinit_set(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  const bool on = c.args.integer(0) == 1;
  if (on == w.settings().initialized) return Result::ok();
  if (!on) {
    w.stop();
    w.settings().initialized = false;
  } else {
    w.settings().initialized = true;
    w.start();
  }
  return Result::ok();
}

Result cwmode_set(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  w.set_mode(int(c.args.integer("mode")), c.args.integer("auto_connect") == 1);
  persist(ctx, c, [&] { return module::save_wifi_mode(ctx, w.settings()); });
  return Result::ok();
}

// +CWJAP:<ssid>,<bssid>,<channel>,<rssi>,<pci_en>,<reconn_interval>,<listen_interval>,<scan_mode>,<pmf>
Result cwjap_query(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  const auto& link = w.link();
  if (!link) {
    c.reply("No AP\r\n");  // what the firmware prints when the station is not connected
    return Result::ok();
  }
  const auto& s = w.settings();
  const auto cfg = s.station.value_or(module::StationConfig{});
  c.reply(line(c, fmt::format("{},\"{}\",{},{},{:d},{},{},{},{}", at::quoted(link->ap.ssid), link->ap.bssid.str(),
                              link->ap.channel, link->ap.rssi, cfg.pci_en, s.reconn_interval, cfg.listen_interval,
                              cfg.scan_mode, cfg.pmf)));
  return Result::ok();
}

// The set form: omitted <ssid> and <pwd> reuse the last configuration (3.2.5 notes).
asio::awaitable<Result> cwjap_set(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  const auto& a = c.args;
  module::StationConfig cfg = w.settings().station.value_or(module::StationConfig{});
  if (a.has(0) || a.has(1)) {
    if (!a.has(0)) co_return Result::invalid(0);
    cfg = module::StationConfig{};
    cfg.ssid = a.text(0);
    cfg.password = a.text(1);
  } else if (!w.settings().station) {
    co_return Result::error();
  }
  if (a.has(2)) cfg.bssid = sim::Mac::parse(a.text(2));
  if (a.has(3)) cfg.pci_en = a.integer(3) == 1;
  if (a.has(5)) cfg.listen_interval = int(a.integer(5));
  if (a.has(6)) cfg.scan_mode = int(a.integer(6));
  if (a.has(8)) cfg.pmf = int(a.integer(8));
  cfg.eap.reset();
  auto& s = w.settings();
  s.station = cfg;
  s.reconn_interval = int(a.integer("reconn_interval"));  // shared with AT+CWRECONNCFG
  persist(ctx, c, [&] { return module::save_wifi_station(ctx, s) && module::save_wifi_reconnect(ctx, s); });
  auto error = co_await w.join(cfg, std::chrono::seconds(a.integer("jap_timeout")), c.stop);
  if (error == sim::JoinError::None) co_return Result::ok();
  c.reply(fmt::format("+CWJAP:{}\r\n", int(error)));
  co_return Result::error();
}

asio::awaitable<Result> cwjap_exec(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  if (!w.settings().station) co_return Result::error();
  auto error = co_await w.join(*w.settings().station, std::chrono::seconds(15), c.stop);
  if (error == sim::JoinError::None) co_return Result::ok();
  c.reply(fmt::format("+CWJAP:{}\r\n", int(error)));
  co_return Result::error();
}

// One +CWLAP line with the fields AT+CWLAPOPT's mask keeps (3.2.7).
std::string cwlap_line(const Call& c, const sim::Ap& ap, int mask) {
  const std::string fields[] = {
      std::to_string(int(ap.security)), at::quoted(ap.ssid), std::to_string(ap.rssi), "\"" + ap.bssid.str() + "\"",
      std::to_string(ap.channel),
      "-1", "-1",  // freq_offset, freqcal_val: reserved, the ESP32 prints -1
      std::to_string(ap.pairwise_cipher), std::to_string(ap.group_cipher), std::to_string(ap.bgn),
      std::to_string(int(ap.wps))};
  std::string out;
  for (int bit = 0; bit < 11; ++bit) {
    if (!(mask & (1 << bit))) continue;
    if (!out.empty()) out += ',';
    out += fields[bit];
  }
  return fmt::format("{}:({})\r\n", c.name, out);
}

asio::awaitable<Result> cwlap(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  const auto& a = c.args;
  std::optional<sim::Mac> mac;
  if (a.has(1)) mac = sim::Mac::parse(a.text(1));
  auto seen = co_await w.scan(int(a.integer("channel")), c.stop);
  const auto& opt = w.settings().scan;
  std::erase_if(seen, [&](const sim::Ap& ap) {
    return (a.has(0) && ap.ssid != a.text(0)) || (mac && ap.bssid != *mac) || ap.rssi < opt.rssi_filter ||
           !(opt.auth_mask & (1 << int(ap.security)));
  });
  // ESP-IDF returns scan records strongest first.
  std::stable_sort(seen.begin(), seen.end(), [](const sim::Ap& x, const sim::Ap& y) { return x.rssi > y.rssi; });
  std::string out;
  for (const auto& ap : seen) out += cwlap_line(c, ap, opt.print_mask);
  c.reply(out);
  co_return Result::ok();
}
}  // namespace

std::vector<at::Command> wifi_station_commands() {
  using namespace need;
  std::vector<at::Command> r;
  r.push_back({.name = "+CWINIT",
               .query = plain([](Ctx& ctx, Call& c) {
                 c.reply(line(c, std::to_string(int(ctx.wifi().settings().initialized))));
                 return Result::ok();
               }),
               .set = plain(cwinit_set),
               .params = {at::Int{"init", 0, 1}}});

  r.push_back({.name = "+CWMODE",
               .query = plain([](Ctx& ctx, Call& c) {
                 c.reply(line(c, std::to_string(ctx.wifi().settings().mode)));
                 return Result::ok();
               }),
               .set = plain(cwmode_set),
               .params = {at::Int{"mode", 0, 3}, at::Int{"auto_connect", 0, 1, true, 1}},
               .needs = wifi,
               .aliases = cur_def("+CWMODE")});

  r.push_back({.name = "+CWSTATE",
               .query = plain([](Ctx& ctx, Call& c) {
                 auto& w = ctx.wifi();
                 c.reply(line(c, fmt::format("{},{}", int(w.state()), at::quoted(w.target_ssid()))));
                 return Result::ok();
               }),
               .needs = wifi});

  // <reconn_interval> is shared with AT+CWRECONNCFG; omitted, it is 1 (3.2.5).
  r.push_back({.name = "+CWJAP",
               .query = plain(cwjap_query),
               .set = coro(cwjap_set),
               .exec = coro(cwjap_exec),
               .params = {at::Str{"ssid", 32, 0, true}, at::Str{"pwd", 63, 0, true}, mac("bssid", true),
                          at::Int{"pci_en", 0, 1, true}, at::Int{"reconn_interval", 0, 7200, true, 1},
                          at::Int{"listen_interval", 1, 100, true}, at::Int{"scan_mode", 0, 1, true},
                          at::Int{"jap_timeout", 3, 600, true, 15}, at::Int{"pmf", 0, 3, true}},
               .needs = station,
               .aliases = cur_def("+CWJAP")});

  r.push_back({.name = "+CWRECONNCFG",
               .query = plain([](Ctx& ctx, Call& c) {
                 const auto& s = ctx.wifi().settings();
                 c.reply(line(c, fmt::format("{},{}", s.reconn_interval, s.reconn_count)));
                 return Result::ok();
               }),
               .set = plain([](Ctx& ctx, Call& c) {
                 auto& s = ctx.wifi().settings();
                 s.reconn_interval = int(c.args.integer("interval_second"));
                 s.reconn_count = int(c.args.integer("repeat_count"));
                 module::save_wifi_reconnect(ctx, s);
                 return Result::ok();
               }),
               .params = {at::Int{"interval_second", 0, 7200}, at::Int{"repeat_count", 0, 1000}},
               .needs = wifi});

  r.push_back({.name = "+CWLAPOPT",
               .set = plain([](Ctx& ctx, Call& c) {
                 auto& o = ctx.wifi().settings().scan;
                 const auto& a = c.args;
                 o.sort_by_rssi = a.integer("reserved") == 1;  // the records come strongest first either way
                 o.print_mask = int(a.integer("print mask"));
                 o.rssi_filter = int(a.integer("rssi filter"));
                 o.auth_mask = int(a.integer("authmode mask"));
                 return Result::ok();
               }),
               .params = {at::Int{"reserved", 0, 1}, at::Int{"print mask", 0, 0x7FF},
                          at::Int{"rssi filter", -100, 40, true, -100}, at::Int{"authmode mask", 0, 0xFFFF, true, 0xFFFF}},
               .needs = wifi});

  r.push_back({.name = "+CWLAP",
               .set = coro(cwlap),
               .exec = coro(cwlap),
               .params = {at::Str{"ssid", 32, 0, true}, mac("mac", true), at::Int{"channel", 1, 14, true, 0},
                          at::Int{"scan_type", 0, 1, true}, at::Int{"scan_time_min", 0, 1500, true},
                          at::Int{"scan_time_max", 0, 1500, true}},
               .needs = station});

  r.push_back({.name = "+CWQAP",
               .exec = plain([](Ctx& ctx, Call&) {
                 ctx.wifi().disconnect();
                 return Result::ok();
               }),
               .needs = wifi});
  return r;
}

}  // namespace espat::commands
