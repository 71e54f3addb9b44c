// Spec 3.2.10-3.2.14: AT+CWSAP, AT+CWLIF, AT+CWQIF, AT+CWDHCP, AT+CWDHCPS.
#include <algorithm>

#include "commands/handler.hpp"
#include "commands/kinds.hpp"
#include "commands/wifi.hpp"
#include "module/wifi.hpp"
#include "module/wifi_settings.hpp"

namespace espat::commands {

namespace {
using module::Wifi;


// +CWSAP:"<ssid>","<pwd>",<channel>,<ecn>,<max conn>,<ssid hidden> (a real ESP32:
// +CWSAP:"ESP_57E062","",1,0,4,0).
Result cwsap_query(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  const auto& a = w.settings().softap;
  c.reply(line(c, fmt::format("{},{},{},{},{},{}", at::quoted(w.softap_ssid()), at::quoted(a.password), a.channel,
                              a.ecn, a.max_conn, a.hidden)));
  return Result::ok();
}

Result cwsap_set(Ctx& ctx, Call& c) {
  auto& s = ctx.wifi().settings();
  const auto& a = c.args;
  module::SoftApConfig cfg = s.softap;  // omitted <max conn> and <ssid hidden> keep their values
  cfg.ssid = a.text(0);
  cfg.password = a.text(1);
  cfg.channel = int(a.integer(2));
  cfg.ecn = int(a.integer(3));
  if (cfg.ecn == 1) return Result::invalid(3);  // WEP is not supported
  // An open AP has no password; the others take 8..63 bytes.
  if (cfg.ecn == 0 ? !cfg.password.empty() : cfg.password.size() < 8) return Result::invalid(1);
  if (cfg.channel < s.start_channel || cfg.channel >= s.start_channel + s.channel_count) return Result::invalid(2);
  if (a.has(4)) cfg.max_conn = int(a.integer(4));
  if (a.has(5)) cfg.hidden = int(a.integer(5));
  s.softap = cfg;
  persist(ctx, c, [&] { return module::save_wifi_softap(ctx, s); });
  // The AP restarts with its new settings after the OK: stations of the old one are dropped.
  c.after_result([&ctx] { ctx.wifi().apply_softap(); });
  return Result::ok();
}

// +CWLIF:<ip addr>,<mac>, unquoted as the firmware prints it (esp-at issue #312 shows
// "+CWLIF:0.0.0.0,00:00:00:00:00:00" from an ESP32-family build).
Result cwlif(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  std::string out;
  for (const auto& client : w.softap_clients()) out += line(c, client.ip.str() + "," + client.mac.str());
  c.reply(out);
  return Result::ok();
}

Result cwqif(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  std::optional<sim::Mac> mac;
  if (c.form == at::Form::Set) {
    mac = sim::Mac::parse(c.args.text(0));
    const auto clients = w.softap_clients();
    if (std::none_of(clients.begin(), clients.end(), [&](const Wifi::Client& x) { return x.mac == *mac; }))
      return Result::error();  // no such station
  }
  // The deauthentication's +STA_DISCONNECTED reports follow the OK.
  c.after_result([&ctx, mac] { ctx.wifi().softap_kick(mac); });
  return Result::ok();
}

Result cwdhcp_set(Ctx& ctx, Call& c) {
  auto& s = ctx.wifi().settings();
  const bool on = c.args.integer(0) == 1;
  const int mode = int(c.args.integer(1));
  s.dhcp = on ? (s.dhcp | mode) : (s.dhcp & ~mode);
  // 3.2.13 notes: DHCP on disables the station's static IPv4 address (AT+CIPSTA). The softAP
  // always has its own address; its bit is the DHCP server's.
  const bool drop_static = on && (mode & 1) && s.sta_static;
  if (drop_static) s.sta_static.reset();
  persist(ctx, c, [&] {
    return module::save_wifi_dhcp(ctx, s) && (!drop_static || module::save_wifi_station_ip(ctx, s));
  });
  return Result::ok();
}

// The pool the softAP's DHCP server hands out (Wifi::next_lease): the custom one, or hosts
// .2 to .101 of the softAP's subnet, ESP-IDF's default.
std::pair<sim::Ipv4, sim::Ipv4> dhcp_pool(const module::WifiSettings& s) {
  if (s.dhcps.custom) return {s.dhcps.first, s.dhcps.last};
  const sim::Subnet net{s.ap_ip.ip, s.ap_ip.netmask};
  return {net.host(2), net.host(101)};
}

// 3.2.14 notes: softAP (a precondition of the row) and its DHCP server both enabled.
bool dhcps_usable(Ctx& ctx) { return ctx.wifi().settings().dhcp & 2; }

// +CWDHCPS:<lease time>,<start IP>,<end IP>: unquoted, like +CWLIF.
Result cwdhcps_query(Ctx& ctx, Call& c) {
  if (!dhcps_usable(ctx)) return Result::error();
  const auto& s = ctx.wifi().settings();
  auto [first, last] = dhcp_pool(s);
  c.reply(line(c, fmt::format("{},{},{}", s.dhcps.lease_minutes, first.str(), last.str())));
  return Result::ok();
}

// ESP-IDF's DHCP server refuses a pool of more than 100 addresses past the first.
constexpr std::uint32_t kMaxPoolSpan = 100;

Result cwdhcps_set(Ctx& ctx, Call& c) {
  if (!dhcps_usable(ctx)) return Result::error();
  auto& s = ctx.wifi().settings();
  const auto& a = c.args;
  module::DhcpServerConfig d;  // <enable> 0: the default range and lease time
  if (a.integer(0) == 0) {
    for (std::size_t i = 1; i < 4; ++i)
      if (a.has(i)) return Result::invalid(unsigned(i));
  } else {
    for (std::size_t i = 1; i < 4; ++i)
      if (!a.has(i)) return Result::invalid(unsigned(i));
    const auto first = *sim::Ipv4::parse(a.text(2)), last = *sim::Ipv4::parse(a.text(3));
    const sim::Subnet net{s.ap_ip.ip, s.ap_ip.netmask};
    if (!net.contains(first) || first == net.host(0) || first == net.host(~0u)) return Result::invalid(2);
    if (!net.contains(last) || last == net.host(~0u) || last < first || last.v - first.v > kMaxPoolSpan)
      return Result::invalid(3);
    d = {true, int(a.integer(1)), first, last};
  }
  s.dhcps = d;
  persist(ctx, c, [&] { return module::save_wifi_dhcps(ctx, s); });
  return Result::ok();
}
}  // namespace

std::vector<at::Command> wifi_softap_commands() {
  using namespace need;
  std::vector<at::Command> r;
  // 3.2.10-3.2.14 notes: only with AT+CWMODE=2 or 3 (AT+CWDHCP also serves the station).
  r.push_back({.name = "+CWSAP",
               .query = plain(cwsap_query),
               .set = plain(cwsap_set),
               .params = {at::Str{"ssid", 32, 1}, at::Str{"pwd", 63}, at::Int{"channel", 1, 14}, at::Int{"ecn", 0, 4},
                          at::Int{"max conn", 1, 10, true},  // the ESP32's limit; 4 by default
                          at::Int{"ssid hidden", 0, 1, true}},
               .needs = softap,
               .aliases = cur_def("+CWSAP")});

  r.push_back({.name = "+CWLIF", .exec = plain(cwlif), .needs = softap});

  r.push_back({.name = "+CWQIF", .set = plain(cwqif), .exec = plain(cwqif), .params = {mac("mac")}, .needs = softap});

  r.push_back({.name = "+CWDHCP",
               .query = plain([](Ctx& ctx, Call& c) {
                 c.reply(line(c, std::to_string(ctx.wifi().settings().dhcp)));
                 return Result::ok();
               }),
               .set = plain(cwdhcp_set),
               // <mode> bit 2 is Ethernet, which this module does not have.
               .params = {at::Int{"operate", 0, 1}, at::Int{"mode", 1, 3}},
               .needs = wifi,
               .aliases = cur_def("+CWDHCP")});

  r.push_back({.name = "+CWDHCPS",
               .query = plain(cwdhcps_query),
               .set = plain(cwdhcps_set),
               .params = {at::Int{"enable", 0, 1}, at::Int{"lease time", 1, 2880, true}, ipv4("start IP", true),
                          ipv4("end IP", true)},
               .needs = softap,
               .aliases = cur_def("+CWDHCPS")});
  return r;
}

}  // namespace espat::commands
