// Spec 3.2.2-3.2.9: AT+CWINIT, AT+CWMODE, AT+CWSTATE, AT+CWJAP, AT+CWRECONNCFG, AT+CWLAPOPT,
// AT+CWLAP, AT+CWQAP.
#include <algorithm>

#include "commands/handler.hpp"
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
  if (!wifi_ready(ctx)) return Result::error();
  auto& w = ctx.wifi();
  w.set_mode(int(c.args.integer(0)), c.args.integer(1, 1) == 1);
  persist(ctx, c, [&] { return module::save_wifi_mode(ctx, w.settings()); });
  return Result::ok();
}

// +CWJAP:<ssid>,<bssid>,<channel>,<rssi>,<pci_en>,<reconn_interval>,<listen_interval>,<scan_mode>,<pmf>
Result cwjap_query(Ctx& ctx, Call& c) {
  if (!wifi_ready(ctx) || !ctx.wifi().station_on()) return Result::error();
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
  if (!wifi_ready(ctx) || !w.station_on()) co_return Result::error();
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
  if (a.has(2)) {
    auto bssid = sim::Mac::parse(a.text(2));
    if (!bssid) co_return Result::invalid(2);
    cfg.bssid = bssid;
  }
  if (a.has(3)) cfg.pci_en = a.integer(3) == 1;
  if (a.has(5)) cfg.listen_interval = int(a.integer(5));
  if (a.has(6)) cfg.scan_mode = int(a.integer(6));
  if (a.has(8)) cfg.pmf = int(a.integer(8));
  cfg.eap.reset();
  auto& s = w.settings();
  s.station = cfg;
  s.reconn_interval = int(a.integer(4, 1));  // shared with AT+CWRECONNCFG; omitted means 1
  persist(ctx, c, [&] { return module::save_wifi_station(ctx, s) && module::save_wifi_reconnect(ctx, s); });
  auto error = co_await w.join(cfg, std::chrono::seconds(a.integer(7, 15)));
  if (error == sim::JoinError::None) co_return Result::ok();
  c.reply(fmt::format("+CWJAP:{}\r\n", int(error)));
  co_return Result::error();
}

asio::awaitable<Result> cwjap_exec(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  if (!wifi_ready(ctx) || !w.station_on() || !w.settings().station) co_return Result::error();
  auto error = co_await w.join(*w.settings().station, std::chrono::seconds(15));
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
  if (!wifi_ready(ctx) || !w.station_on()) co_return Result::error();
  const auto& a = c.args;
  std::optional<sim::Mac> mac;
  if (a.has(1)) {
    mac = sim::Mac::parse(a.text(1));
    if (!mac) co_return Result::invalid(1);
  }
  auto seen = co_await w.scan(int(a.integer(2, 0)));
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

void register_wifi_station(at::Registry& r, Ctx& ctx) {
  r.add({.name = "+CWINIT", .section = "3.2.2",
         .query = now([&ctx](Call& c) {
           c.reply(line(c, std::to_string(int(ctx.wifi().settings().initialized))));
           return Result::ok();
         }),
         .set = now([&ctx](Call& c) { return cwinit_set(ctx, c); }),
         .params = {at::Int{"init", 0, 1}}});

  r.add({.name = "+CWMODE", .section = "3.2.3",
         .query = now([&ctx](Call& c) {
           if (!wifi_ready(ctx)) return Result::error();
           c.reply(line(c, std::to_string(ctx.wifi().settings().mode)));
           return Result::ok();
         }),
         .set = now([&ctx](Call& c) { return cwmode_set(ctx, c); }),
         .params = {at::Int{"mode", 0, 3}, at::Int{"auto_connect", 0, 1, true}},
         .aliases = cur_def("+CWMODE")});

  r.add({.name = "+CWSTATE", .section = "3.2.4",
         .query = now([&ctx](Call& c) {
           if (!wifi_ready(ctx)) return Result::error();
           auto& w = ctx.wifi();
           c.reply(line(c, fmt::format("{},{}", int(w.state()), at::quoted(w.target_ssid()))));
           return Result::ok();
         })});

  r.add({.name = "+CWJAP", .section = "3.2.5",
         .query = now([&ctx](Call& c) { return cwjap_query(ctx, c); }),
         .set = [&ctx](Call& c) { return cwjap_set(ctx, c); },
         .exec = [&ctx](Call& c) { return cwjap_exec(ctx, c); },
         .params = {at::Str{"ssid", 32, 0, true}, at::Str{"pwd", 63, 0, true}, at::Str{"bssid", 17, 0, true},
                    at::Int{"pci_en", 0, 1, true}, at::Int{"reconn_interval", 0, 7200, true},
                    at::Int{"listen_interval", 1, 100, true}, at::Int{"scan_mode", 0, 1, true},
                    at::Int{"jap_timeout", 3, 600, true}, at::Int{"pmf", 0, 3, true}},
         .aliases = cur_def("+CWJAP")});

  r.add({.name = "+CWRECONNCFG", .section = "3.2.6",
         .query = now([&ctx](Call& c) {
           if (!wifi_ready(ctx)) return Result::error();
           const auto& s = ctx.wifi().settings();
           c.reply(line(c, fmt::format("{},{}", s.reconn_interval, s.reconn_count)));
           return Result::ok();
         }),
         .set = now([&ctx](Call& c) {
           if (!wifi_ready(ctx)) return Result::error();
           auto& s = ctx.wifi().settings();
           s.reconn_interval = int(c.args.integer(0));
           s.reconn_count = int(c.args.integer(1));
           module::save_wifi_reconnect(ctx, s);
           return Result::ok();
         }),
         .params = {at::Int{"interval_second", 0, 7200}, at::Int{"repeat_count", 0, 1000}}});

  r.add({.name = "+CWLAPOPT", .section = "3.2.7",
         .set = now([&ctx](Call& c) {
           if (!wifi_ready(ctx)) return Result::error();
           auto& o = ctx.wifi().settings().scan;
           const auto& a = c.args;
           o.sort_by_rssi = a.integer(0) == 1;  // the records come strongest first either way
           o.print_mask = int(a.integer(1));
           o.rssi_filter = int(a.integer(2, -100));
           o.auth_mask = int(a.integer(3, 0xFFFF));
           return Result::ok();
         }),
         .params = {at::Int{"reserved", 0, 1}, at::Int{"print mask", 0, 0x7FF}, at::Int{"rssi filter", -100, 40, true},
                    at::Int{"authmode mask", 0, 0xFFFF, true}}});

  r.add({.name = "+CWLAP", .section = "3.2.8",
         .set = [&ctx](Call& c) { return cwlap(ctx, c); },
         .exec = [&ctx](Call& c) { return cwlap(ctx, c); },
         .params = {at::Str{"ssid", 32, 0, true}, at::Str{"mac", 17, 0, true}, at::Int{"channel", 1, 14, true},
                    at::Int{"scan_type", 0, 1, true}, at::Int{"scan_time_min", 0, 1500, true},
                    at::Int{"scan_time_max", 0, 1500, true}}});

  r.add({.name = "+CWQAP", .section = "3.2.9",
         .exec = now([&ctx](Call& c) {
           if (!wifi_ready(ctx)) return Result::error();
           ctx.wifi().disconnect();
           return Result::ok();
         })});
}

}  // namespace espat::commands
