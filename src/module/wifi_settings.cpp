#include "module/wifi_settings.hpp"

#include "module/context.hpp"

namespace espat::module {

using flash::nvs::Storage;
using flash::nvs::Type;
using flash::nvs::Value;

namespace {
constexpr std::string_view kCfg = "wifi_cfg";

std::optional<std::int64_t> get_int(const Storage& nvs, std::string_view ns, std::string_view key) {
  auto v = nvs.get(ns, key);
  if (!v || v->type == Type::Str || v->type == Type::Blob) return std::nullopt;
  return v->integer;
}
std::optional<std::string> get_bytes(const Storage& nvs, std::string_view ns, std::string_view key) {
  auto v = nvs.get(ns, key);
  if (!v || (v->type != Type::Str && v->type != Type::Blob)) return std::nullopt;
  return v->as_string();
}
template <class T>
void load_int(const Storage& nvs, std::string_view ns, std::string_view key, T& out) {
  if (auto v = get_int(nvs, ns, key)) out = T(*v);
}
Value bytes(std::string_view s) { return Value::blob({s.begin(), s.end()}); }
Value mac_value(const sim::Mac& m) { return Value::blob({m.b.begin(), m.b.end()}); }
std::optional<sim::Mac> get_mac(const Storage& nvs, std::string_view ns) {
  auto b = get_bytes(nvs, ns, "mac");
  if (!b || b->size() != 6) return std::nullopt;
  sim::Mac m;
  std::copy(b->begin(), b->end(), m.b.begin());
  return m;
}
std::optional<IpConfig> get_ip(const Storage& nvs, std::string_view ns) {
  auto ip = get_int(nvs, ns, "ip"), gw = get_int(nvs, ns, "gw"), mask = get_int(nvs, ns, "netmask");
  if (!ip || !gw || !mask || *ip == 0) return std::nullopt;
  return IpConfig{{std::uint32_t(*ip)}, {std::uint32_t(*gw)}, {std::uint32_t(*mask)}};
}
bool save_ip(Context& ctx, std::string_view ns, const IpConfig& c) {
  return ctx.save(ns, "ip", Value::u32(c.ip.v)) && ctx.save(ns, "gw", Value::u32(c.gateway.v)) &&
         ctx.save(ns, "netmask", Value::u32(c.netmask.v));
}
}  // namespace

void load_wifi(const Storage& nvs, WifiSettings& s) {
  load_int(nvs, kCfg, "mode", s.mode);
  if (auto set = get_int(nvs, kCfg, "sta.set"); set && *set) {
    StationConfig c;
    c.ssid = get_bytes(nvs, kCfg, "sta.ssid").value_or("");
    c.password = get_bytes(nvs, kCfg, "sta.pswd").value_or("");
    if (auto b = get_bytes(nvs, kCfg, "sta.bssid"); b && b->size() == 6) {
      sim::Mac m;
      std::copy(b->begin(), b->end(), m.b.begin());
      c.bssid = m;
    }
    load_int(nvs, kCfg, "sta.pci", c.pci_en);
    load_int(nvs, kCfg, "sta.li", c.listen_interval);
    load_int(nvs, kCfg, "sta.scan", c.scan_mode);
    load_int(nvs, kCfg, "sta.pmf", c.pmf);
    s.station = c;
  }
  if (auto ssid = get_bytes(nvs, kCfg, "ap.ssid")) {
    s.softap.ssid = *ssid;
    s.softap.password = get_bytes(nvs, kCfg, "ap.pswd").value_or("");
    load_int(nvs, kCfg, "ap.chan", s.softap.channel);
    load_int(nvs, kCfg, "ap.ecn", s.softap.ecn);
    load_int(nvs, kCfg, "ap.max", s.softap.max_conn);
    load_int(nvs, kCfg, "ap.hidden", s.softap.hidden);
  }
  load_int(nvs, kCfg, "sta.proto", s.sta_proto);
  load_int(nvs, kCfg, "ap.proto", s.ap_proto);
  load_int(nvs, "NVM_017", "wris", s.reconn_interval);
  load_int(nvs, "NVM_017", "wrrc", s.reconn_count);
  load_int(nvs, "NVM_022", "wac", s.autoconn);
  load_int(nvs, "NVM_006", "mode", s.dhcp);
  if (auto en = get_int(nvs, "NVM_007", "enable"); en && *en) {
    s.dhcps.custom = true;
    load_int(nvs, "NVM_007", "lease_time", s.dhcps.lease_minutes);
    s.dhcps.first.v = std::uint32_t(get_int(nvs, "NVM_007", "start_ip").value_or(0));
    s.dhcps.last.v = std::uint32_t(get_int(nvs, "NVM_007", "end_ip").value_or(0));
  }
  s.sta_static = get_ip(nvs, "NVM_002");
  if (auto ap = get_ip(nvs, "NVM_001")) s.ap_ip = *ap;
  if (auto m = get_mac(nvs, "NVM_004")) s.sta_mac = *m;
  if (auto m = get_mac(nvs, "NVM_003")) s.ap_mac = *m;
  if (auto ssid = get_bytes(nvs, "NVM_014", "ssid"); ssid && s.station) {
    sim::EapAccount a;
    a.identity = get_bytes(nvs, "NVM_014", "identity").value_or("");
    a.username = get_bytes(nvs, "NVM_014", "username").value_or("");
    a.password = get_bytes(nvs, "NVM_014", "password").value_or("");
    load_int(nvs, "NVM_014", "eap_method", a.method);
    load_int(nvs, "NVM_014", "security", s.station->eap_security);
    if (*ssid == s.station->ssid) s.station->eap = a;
  }
}

bool save_wifi_mode(Context& ctx, const WifiSettings& s) { return ctx.save(kCfg, "mode", Value::u8(std::uint8_t(s.mode))); }

bool save_wifi_station(Context& ctx, const WifiSettings& s) {
  if (!s.station) return ctx.save(kCfg, "sta.set", Value::u8(0));
  const auto& c = *s.station;
  std::string bssid = c.bssid ? std::string(c.bssid->b.begin(), c.bssid->b.end()) : std::string();
  return ctx.save(kCfg, "sta.ssid", bytes(c.ssid)) && ctx.save(kCfg, "sta.pswd", bytes(c.password)) &&
         ctx.save(kCfg, "sta.bssid", bytes(bssid)) && ctx.save(kCfg, "sta.pci", Value::u8(c.pci_en)) &&
         ctx.save(kCfg, "sta.li", Value::u8(std::uint8_t(c.listen_interval))) &&
         ctx.save(kCfg, "sta.scan", Value::u8(std::uint8_t(c.scan_mode))) &&
         ctx.save(kCfg, "sta.pmf", Value::u8(std::uint8_t(c.pmf))) && ctx.save(kCfg, "sta.set", Value::u8(1));
}

bool save_wifi_softap(Context& ctx, const WifiSettings& s) {
  const auto& a = s.softap;
  return ctx.save(kCfg, "ap.ssid", bytes(a.ssid)) && ctx.save(kCfg, "ap.pswd", bytes(a.password)) &&
         ctx.save(kCfg, "ap.chan", Value::u8(std::uint8_t(a.channel))) &&
         ctx.save(kCfg, "ap.ecn", Value::u8(std::uint8_t(a.ecn))) &&
         ctx.save(kCfg, "ap.max", Value::u8(std::uint8_t(a.max_conn))) &&
         ctx.save(kCfg, "ap.hidden", Value::u8(std::uint8_t(a.hidden)));
}

bool save_wifi_reconnect(Context& ctx, const WifiSettings& s) {
  return ctx.save("NVM_017", "wris", Value::u16(std::uint16_t(s.reconn_interval))) &&
         ctx.save("NVM_017", "wrrc", Value::u16(std::uint16_t(s.reconn_count)));
}

bool save_wifi_autoconn(Context& ctx, const WifiSettings& s) {
  return ctx.save("NVM_022", "wac", Value::u8(s.autoconn), true);
}

bool save_wifi_dhcp(Context& ctx, const WifiSettings& s) { return ctx.save("NVM_006", "mode", Value::u8(std::uint8_t(s.dhcp))); }

bool save_wifi_dhcps(Context& ctx, const WifiSettings& s) {
  const auto& d = s.dhcps;
  return ctx.save("NVM_007", "enable", Value::u8(d.custom)) && ctx.save("NVM_007", "start_ip", Value::u32(d.first.v)) &&
         ctx.save("NVM_007", "end_ip", Value::u32(d.last.v)) &&
         ctx.save("NVM_007", "lease_time", Value::u16(std::uint16_t(d.lease_minutes)));
}

bool save_wifi_station_ip(Context& ctx, const WifiSettings& s) {
  return save_ip(ctx, "NVM_002", s.sta_static.value_or(IpConfig{}));  // ip 0: none
}

bool save_wifi_softap_ip(Context& ctx, const WifiSettings& s) { return save_ip(ctx, "NVM_001", s.ap_ip); }

bool save_wifi_station_mac(Context& ctx, const WifiSettings& s) { return ctx.save("NVM_004", "mac", mac_value(s.sta_mac)); }

bool save_wifi_softap_mac(Context& ctx, const WifiSettings& s) { return ctx.save("NVM_003", "mac", mac_value(s.ap_mac)); }

bool save_wifi_protocols(Context& ctx, const WifiSettings& s) {
  return ctx.save(kCfg, "sta.proto", Value::u8(std::uint8_t(s.sta_proto))) &&
         ctx.save(kCfg, "ap.proto", Value::u8(std::uint8_t(s.ap_proto)));
}

bool save_wifi_eap(Context& ctx, const WifiSettings& s) {
  if (!s.station || !s.station->eap) return true;
  const auto& a = *s.station->eap;
  return ctx.save("NVM_014", "ssid", bytes(s.station->ssid)) && ctx.save("NVM_014", "identity", bytes(a.identity)) &&
         ctx.save("NVM_014", "username", bytes(a.username)) && ctx.save("NVM_014", "password", bytes(a.password)) &&
         ctx.save("NVM_014", "eap_method", Value::u8(std::uint8_t(a.method))) &&
         ctx.save("NVM_014", "security", Value::u8(std::uint8_t(s.station->eap_security)));
}

}  // namespace espat::module
