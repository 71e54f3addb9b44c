// Spec 3.2.15-3.2.21: AT+CWAUTOCONN, AT+CWAPPROTO, AT+CWSTAPROTO, AT+CIPSTAMAC, AT+CIPAPMAC,
// AT+CIPSTA, AT+CIPAP.
#include <bit>

#include "commands/handler.hpp"
#include "commands/kinds.hpp"
#include "commands/wifi.hpp"
#include "module/net.hpp"
#include "module/wifi.hpp"
#include "module/wifi_settings.hpp"

namespace espat::commands {

namespace {
using module::IpConfig;
using module::Wifi;


// ---- 3.2.16-3.2.17 <protocol> ----------------------------------------------------------------
// ESP-IDF takes 802.11b, b/g or b/g/n, each with or without LR, or LR alone; g or n without b
// is refused.
bool valid_protocol(int p) { return p == 8 || (p & 7) == 1 || (p & 7) == 3 || (p & 7) == 7; }

int& protocol_of(Ctx& ctx, bool softap) {
  auto& s = ctx.wifi().settings();
  return softap ? s.ap_proto : s.sta_proto;
}

// The interface must be enabled (AT+CWMODE): a precondition of the row.
at::Command proto_command(const char* name, bool softap) {
  return {.name = name,
          .query = plain([softap](Ctx& ctx, Call& c) {
            c.reply(line(c, std::to_string(protocol_of(ctx, softap))));
            return Result::ok();
          }),
          .set = plain([softap](Ctx& ctx, Call& c) {
            const int p = int(c.args.integer(0));
            if (!valid_protocol(p)) return Result::invalid(0);
            protocol_of(ctx, softap) = p;
            persist(ctx, c, [&] { return module::save_wifi_protocols(ctx, ctx.wifi().settings()); });
            if (softap) c.after_result([&ctx] { ctx.wifi().apply_softap(); });  // its beacon changes
            return Result::ok();
          }),
          .params = {at::Int{"protocol", 0, 15}},
          .needs = softap ? need::softap : need::station};
}

// ---- 3.2.18-3.2.19 MAC addresses -------------------------------------------------------------
Result mac_query(Call& c, const sim::Mac& mac) {
  c.reply(line(c, "\"" + mac.str() + "\""));
  return Result::ok();
}

// The new address, if it may be set: notes of 3.2.18-3.2.19 (not multicast, not all 0 or FF,
// and never the other interface's address).
std::optional<sim::Mac> new_mac(const Call& c, const sim::Mac& other) {
  auto mac = sim::Mac::parse(c.args.text(0));
  if (!mac || !mac->assignable() || *mac == other) return std::nullopt;
  return mac;
}

Result cipstamac_set(Ctx& ctx, Call& c) {
  auto& s = ctx.wifi().settings();
  auto mac = new_mac(c, s.ap_mac);
  if (!mac) return Result::invalid(0);
  s.sta_mac = *mac;  // used from the next association on
  persist(ctx, c, [&] { return module::save_wifi_station_mac(ctx, s); });
  return Result::ok();
}

Result cipapmac_set(Ctx& ctx, Call& c) {
  auto& s = ctx.wifi().settings();
  auto mac = new_mac(c, s.sta_mac);
  if (!mac) return Result::invalid(0);
  s.ap_mac = *mac;
  persist(ctx, c, [&] { return module::save_wifi_softap_mac(ctx, s); });
  c.after_result([&ctx] { ctx.wifi().apply_softap(); });  // a new BSSID: the AP restarts
  return Result::ok();
}

// ---- 3.2.20-3.2.21 IPv4 addresses ------------------------------------------------------------
// +X:ip:"a.b.c.d", +X:gateway:"...", +X:netmask:"...", then with AT+CIPV6=1 the interface's
// link-local address, +X:ip6ll:"fe80::...". No world AP announces an IPv6 prefix yet, so no
// +X:ip6gl line.
Result ip_query(Call& c, const IpConfig& ip, std::optional<sim::Mac> ipv6_of = std::nullopt) {
  std::string ll;
  if (ipv6_of) ll = line(c, "ip6ll:\"" + ipv6_of->link_local_ipv6() + "\"");
  c.reply(line(c, "ip:\"" + ip.ip.str() + "\"") + line(c, "gateway:\"" + ip.gateway.str() + "\"") +
          line(c, "netmask:\"" + ip.netmask.str() + "\"") + ll);
  return Result::ok();
}
// The MAC whose link-local address an interface has: with AT+CIPV6=1, once it is up.
std::optional<sim::Mac> ipv6_station(Ctx& ctx) {
  auto& w = ctx.wifi();
  if (!ctx.net().settings().ipv6 || !w.link()) return std::nullopt;
  return w.settings().sta_mac;
}
std::optional<sim::Mac> ipv6_softap(Ctx& ctx) {
  auto& w = ctx.wifi();
  if (!ctx.net().settings().ipv6 || !w.softap_on()) return std::nullopt;
  return w.settings().ap_mac;
}

bool valid_netmask(sim::Ipv4 m) { return m.v != 0 && std::has_single_bit(~m.v + 1); }

// <"ip">[,<"gateway">,<"netmask">]: gateway and netmask come together. Without them the
// interface keeps its current ones, as the ESP8266 AT firmware did (read the IP info, replace
// the address); a station without any takes a /24 with gateway .1.
std::variant<IpConfig, Result> parse_ip(const Call& c, IpConfig cur) {
  const auto& a = c.args;
  auto ip = sim::Ipv4::parse(a.text(0));
  if (!ip || ip->is_zero()) return Result::invalid(0);
  if (a.has(1) != a.has(2)) return Result::invalid(a.has(1) ? 2 : 1);
  IpConfig cfg = cur;
  cfg.ip = *ip;
  if (a.has(1)) {
    auto gw = sim::Ipv4::parse(a.text(1)), mask = sim::Ipv4::parse(a.text(2));
    if (!gw) return Result::invalid(1);
    if (!mask || !valid_netmask(*mask)) return Result::invalid(2);
    cfg.gateway = *gw;
    cfg.netmask = *mask;
  } else if (cfg.netmask.is_zero()) {
    cfg.netmask = {0xffffff00u};
    cfg.gateway = sim::Subnet{*ip, cfg.netmask}.host(1);
  }
  return cfg;
}

Result cipsta_set(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  auto parsed = parse_ip(c, w.station_ip());
  if (auto* r = std::get_if<Result>(&parsed)) return *r;
  auto& s = w.settings();
  s.sta_static = std::get<IpConfig>(parsed);
  s.dhcp &= ~1;  // 3.2.20 notes: a static IPv4 address disables the DHCP client
  persist(ctx, c, [&] { return module::save_wifi_station_ip(ctx, s) && module::save_wifi_dhcp(ctx, s); });
  return Result::ok();
}

Result cipap_set(Ctx& ctx, Call& c) {
  auto& w = ctx.wifi();
  auto& s = w.settings();
  auto parsed = parse_ip(c, s.ap_ip);
  if (auto* r = std::get_if<Result>(&parsed)) return *r;
  s.ap_ip = std::get<IpConfig>(parsed);
  // The firmware restarts the DHCP server on the new address, on even when it was off (esp-at
  // issue #950, v3.3.0: AT+CWDHCP=0,2 then AT+CIPAP=... reads back bit 1 set).
  s.dhcp |= 2;
  // A custom pool outside the new subnet gives way to the default one, as ESP-IDF's server does.
  const sim::Subnet net{s.ap_ip.ip, s.ap_ip.netmask};
  const bool reset_pool = s.dhcps.custom && !(net.contains(s.dhcps.first) && net.contains(s.dhcps.last));
  if (reset_pool) s.dhcps = {};
  persist(ctx, c, [&] {
    return module::save_wifi_softap_ip(ctx, s) && module::save_wifi_dhcp(ctx, s) &&
           (!reset_pool || module::save_wifi_dhcps(ctx, s));
  });
  c.after_result([&ctx] { ctx.wifi().apply_softap(); });
  return Result::ok();
}

const std::vector<at::ParamSpec> kIpParams = {ipv4("ip"), ipv4("gateway", true),
                                              ipv4("netmask", true)};
}  // namespace

std::vector<at::Command> wifi_config_commands() {
  using namespace need;
  std::vector<at::Command> r;
  r.push_back({.name = "+CWAUTOCONN",
               .query = plain([](Ctx& ctx, Call& c) {
                 c.reply(line(c, std::to_string(int(ctx.wifi().settings().autoconn))));
                 return Result::ok();
               }),
               .set = plain([](Ctx& ctx, Call& c) {
                 auto& s = ctx.wifi().settings();
                 s.autoconn = c.args.integer(0) == 1;
                 module::save_wifi_autoconn(ctx, s);  // always saved (3.2.15 note, 3.16)
                 return Result::ok();
               }),
               .params = {at::Int{"enable", 0, 1}},
               .needs = wifi});

  r.push_back(proto_command("+CWAPPROTO", true));
  r.push_back(proto_command("+CWSTAPROTO", false));

  r.push_back({.name = "+CIPSTAMAC",
               .query = plain([](Ctx& ctx, Call& c) { return mac_query(c, ctx.wifi().settings().sta_mac); }),
               .set = plain(cipstamac_set),
               .params = {mac("mac")},
               .needs = wifi,
               .set_needs = station,
               .aliases = cur_def("+CIPSTAMAC")});

  r.push_back({.name = "+CIPAPMAC",
               .query = plain([](Ctx& ctx, Call& c) { return mac_query(c, ctx.wifi().settings().ap_mac); }),
               .set = plain(cipapmac_set),
               .params = {mac("mac")},
               .needs = wifi,
               .set_needs = softap,
               .aliases = cur_def("+CIPAPMAC")});

  r.push_back({.name = "+CIPSTA",
               // zeros when neither connected nor static
               .query = plain([](Ctx& ctx, Call& c) { return ip_query(c, ctx.wifi().station_ip(), ipv6_station(ctx)); }),
               .set = plain(cipsta_set),
               .params = kIpParams,
               .needs = station,
               .aliases = cur_def("+CIPSTA")});

  r.push_back({.name = "+CIPAP",
               .query = plain([](Ctx& ctx, Call& c) { return ip_query(c, ctx.wifi().settings().ap_ip, ipv6_softap(ctx)); }),
               .set = plain(cipap_set),
               .params = kIpParams,
               .needs = softap,
               .aliases = cur_def("+CIPAP")});
  return r;
}

}  // namespace espat::commands
