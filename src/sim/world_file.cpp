#include "sim/world_file.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "sim/world_table.hpp"

namespace espat::sim {

namespace {
// toml++ keeps each node's position; every error names the line of the node at fault.
struct Reader {
  std::string source;

  [[noreturn]] void fail(const toml::node& at, std::string_view what) const {
    if (source.empty()) throw WorldError(std::string(what));  // built in memory: no lines to name
    throw WorldError(fmt::format("{}:{}: {}", source, at.source().begin.line, what));
  }

  // Every key must be known: a typo is an error, not a silent default.
  void only(const toml::table& t, std::initializer_list<std::string_view> keys) const {
    for (const auto& [k, v] : t) {
      if (std::find(keys.begin(), keys.end(), k.str()) == keys.end()) fail(v, fmt::format("unknown key \"{}\"", k.str()));
    }
  }

  std::optional<std::string> str(const toml::table& t, std::string_view key) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(*n, fmt::format("\"{}\" must be a string", key));
    return n->value<std::string>();
  }
  std::optional<std::int64_t> integer(const toml::table& t, std::string_view key, std::int64_t min, std::int64_t max) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(*n, fmt::format("\"{}\" must be an integer", key));
    auto v = *n->value<std::int64_t>();
    if (v < min || v > max) fail(*n, fmt::format("\"{}\" = {} is out of range [{}, {}]", key, v, min, max));
    return v;
  }
  std::optional<bool> boolean(const toml::table& t, std::string_view key) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) fail(*n, fmt::format("\"{}\" must be true or false", key));
    return n->value<bool>();
  }
  template <class T, class Parse>
  std::optional<T> parsed(const toml::table& t, std::string_view key, Parse parse, std::string_view expect) const {
    auto s = str(t, key);
    if (!s) return std::nullopt;
    auto v = parse(*s);
    if (!v) fail(*t.get(key), fmt::format("\"{}\" = \"{}\" is not {}", key, *s, expect));
    return *v;
  }

  std::optional<int> cipher(const toml::table& t, std::string_view key) const {
    static constexpr std::string_view names[] = {"NONE", "WEP40", "WEP104", "TKIP", "CCMP", "TKIP_CCMP", "AES_CMAC128", "UNKNOWN"};
    return parsed<int>(t, key, [](const std::string& s) -> std::optional<int> {
      for (int i = 0; i < 8; ++i) if (s == names[i]) return i;
      return std::nullopt;
    }, "a cipher (NONE, WEP40, WEP104, TKIP, CCMP, TKIP_CCMP, AES_CMAC128, UNKNOWN)");
  }

  int phy(const toml::table& t) const {
    auto s = str(t, "phy");
    if (!s) return 7;
    int bits = 0;
    for (char c : *s) {
      int bit = c == 'b' ? 1 : c == 'g' ? 2 : c == 'n' ? 4 : 0;
      if (!bit) fail(*t.get("phy"), fmt::format("\"phy\" = \"{}\": use the letters b, g and n", *s));
      bits |= bit;
    }
    return bits;
  }

  // The network fault keys of an [[ap]], a [[module]] or a PATCH (README "Network faults");
  // those absent keep base's value.
  NetFaults faults(const toml::table& t, NetFaults f) const {
    f.latency_ms = int(integer(t, "latency_ms", 0, 60000).value_or(f.latency_ms));
    f.bandwidth = integer(t, "bandwidth", 0, std::int64_t(1) << 40).value_or(f.bandwidth);
    if (const toml::node* n = t.get("udp_loss")) {
      if (!n->is_number()) fail(*n, "\"udp_loss\" must be a number from 0 to 1");
      const double v = n->is_integer() ? double(*n->value<std::int64_t>()) : *n->value<double>();
      if (!(v >= 0 && v <= 1)) fail(*n, fmt::format("\"udp_loss\" = {} is out of range [0, 1]", v));
      f.udp_loss = v;
    }
    f.dns_fail = boolean(t, "dns_fail").value_or(f.dns_fail);
    f.refuse = boolean(t, "refuse").value_or(f.refuse);
    return f;
  }

  EapAccount eap(const toml::node& n) const {
    const auto* t = n.as_table();
    if (!t) fail(n, "an eap account is a table: { method = \"PEAP\", identity = ..., username = ..., password = ... }");
    only(*t, {"method", "identity", "username", "password"});
    EapAccount a;
    a.method = parsed<int>(*t, "method", [](const std::string& s) -> std::optional<int> {
      if (s == "TLS") return 0;
      if (s == "PEAP") return 1;
      if (s == "TTLS") return 2;
      return std::nullopt;
    }, "TLS, PEAP or TTLS").value_or(1);
    a.identity = str(*t, "identity").value_or("");
    a.username = str(*t, "username").value_or("");
    a.password = str(*t, "password").value_or("");
    if (a.identity.empty()) fail(n, "an eap account needs an identity");
    return a;
  }

  Ap ap(const toml::table& t, int index) const {
    only(t, {"id", "ssid", "bssid", "channel", "rssi", "security", "password", "eap", "pairwise_cipher", "group_cipher",
             "phy", "wps", "hidden", "up", "pmf", "max_stations", "subnet", "gateway", "dns", "lease_minutes",
             "pool", "join_ms", "fault", "host_network", "latency_ms", "bandwidth", "udp_loss", "dns_fail",
             "refuse"});
    Ap ap;
    auto ssid = str(t, "ssid");
    if (!ssid) fail(t, "an [[ap]] needs an ssid");
    if (ssid->empty() || ssid->size() > 32) fail(*t.get("ssid"), "an SSID is 1 to 32 bytes");
    ap.ssid = *ssid;
    ap.id = str(t, "id").value_or(ap.ssid);
    // A made-up, locally administered BSSID when none is given: 1a:00:00:00:00:<n>.
    ap.bssid = parsed<Mac>(t, "bssid", Mac::parse, "a MAC address like \"aa:bb:cc:dd:ee:ff\"")
                   .value_or(default_bssid(index));
    ap.channel = int(integer(t, "channel", 1, 14).value_or(1));
    ap.rssi = int(integer(t, "rssi", -100, 0).value_or(-50));
    ap.security = parsed<Security>(t, "security", security_from_name,
                                   "one of OPEN, WEP, WPA_PSK, WPA2_PSK, WPA_WPA2_PSK, WPA2_ENTERPRISE, WPA3_PSK, "
                                   "WPA2_WPA3_PSK, WAPI_PSK, OWE").value_or(Security::Wpa2Psk);
    ap.password = str(t, "password").value_or("");
    const bool psk = ap.security != Security::Open && ap.security != Security::Owe && ap.security != Security::Wpa2Enterprise;
    if (psk && ap.security != Security::Wep && (ap.password.size() < 8 || ap.password.size() > 63))
      fail(t.get("password") ? *t.get("password") : static_cast<const toml::node&>(t),
           fmt::format("{} needs a password of 8 to 63 bytes", security_name(ap.security)));
    if (ap.security == Security::Wep && ap.password.size() != 5 && ap.password.size() != 13)
      fail(t, "WEP needs a password of 5 or 13 bytes");
    if (const toml::node* e = t.get("eap")) {
      const auto* arr = e->as_array();
      if (!arr) fail(*e, "\"eap\" is an array of accounts");
      for (const auto& n : *arr) ap.eap.push_back(eap(n));
    }
    if (ap.security == Security::Wpa2Enterprise && ap.eap.empty()) fail(t, "a WPA2_ENTERPRISE AP needs eap accounts");
    const int default_cipher = ap.security == Security::Open || ap.security == Security::Owe ? 0
                               : ap.security == Security::Wep ? 1 : 4;
    ap.pairwise_cipher = cipher(t, "pairwise_cipher").value_or(default_cipher);
    ap.group_cipher = cipher(t, "group_cipher").value_or(default_cipher);
    ap.bgn = phy(t);
    ap.wps = boolean(t, "wps").value_or(false);
    ap.hidden = boolean(t, "hidden").value_or(false);
    ap.up = boolean(t, "up").value_or(true);
    ap.pmf = int(integer(t, "pmf", 0, 3).value_or(ap.security == Security::Wpa3Psk ? 3 : 1));
    ap.max_stations = int(integer(t, "max_stations", 1, 65535).value_or(10));
    ap.net.subnet = parsed<Subnet>(t, "subnet", Subnet::parse, "a subnet like \"127.10.1.0/24\"")
                        .value_or(default_subnet(index));
    ap.net.gateway = parsed<Ipv4>(t, "gateway", Ipv4::parse, "an IPv4 address").value_or(ap.net.subnet.host(1));
    if (!ap.net.subnet.contains(ap.net.gateway)) fail(*t.get("gateway"), "the gateway is outside the subnet");
    ap.net.dns = {ap.net.gateway};
    if (const toml::node* d = t.get("dns")) {
      const auto* arr = d->as_array();
      if (!arr) fail(*d, "\"dns\" is an array of IPv4 addresses");
      ap.net.dns.clear();
      for (const auto& n : *arr) {
        auto ip = n.is_string() ? Ipv4::parse(*n.value<std::string>()) : std::nullopt;
        if (!ip) fail(n, "a DNS server is an IPv4 address string");
        ap.net.dns.push_back(*ip);
      }
    }
    ap.net.lease_minutes = int(integer(t, "lease_minutes", 1, 2880).value_or(120));
    // The default pool, hosts 100-200, shrinks to fit a small subnet (found by world_fuzz).
    const std::uint32_t broadcast = ~ap.net.subnet.mask.v;
    if (ap.net.pool_last >= broadcast) ap.net.pool_first = 2, ap.net.pool_last = broadcast - 1;
    if (const toml::node* p = t.get("pool")) {
      const auto* arr = p->as_array();
      if (!arr || arr->size() != 2 || !(*arr)[0].is_integer() || !(*arr)[1].is_integer())
        fail(*p, "\"pool\" is [first, last], host numbers inside the subnet");
      ap.net.pool_first = std::uint32_t(*(*arr)[0].value<std::int64_t>());
      ap.net.pool_last = std::uint32_t(*(*arr)[1].value<std::int64_t>());
      if (ap.net.pool_first < 1 || ap.net.pool_first > ap.net.pool_last || ap.net.pool_last >= ~ap.net.subnet.mask.v)
        fail(*p, "the pool must be inside the subnet, first <= last");
    }
    ap.join_time = std::chrono::milliseconds(integer(t, "join_ms", 0, 600000).value_or(200));
    ap.fault = str(t, "fault").value_or("");
    if (const auto* n = t.get("host_network")) {
      if (!n->is_boolean()) fail(*n, "host_network is true or false");
      ap.host_network = *n->value<bool>();
    }
    if (!ap.fault.empty() && ap.fault != "timeout" && ap.fault != "reject")
      fail(*t.get("fault"), "\"fault\" is \"timeout\" or \"reject\"");
    ap.faults = faults(t, {});
    return ap;
  }

  SmartPhone phone(const toml::table& t, int index) const {
    only(t, {"id", "type", "ssid", "password", "bssid", "reserved_data", "key"});
    SmartPhone p;
    p.id = str(t, "id").value_or(fmt::format("phone{}", index + 1));
    p.type = parsed<int>(t, "type", [](const std::string& s) -> std::optional<int> {
      if (s == "ESPTOUCH") return 1;
      if (s == "AIRKISS") return 2;
      if (s == "ESPTOUCH_V2") return 4;
      return std::nullopt;
    }, "ESPTOUCH, AIRKISS or ESPTOUCH_V2").value_or(1);
    auto ssid = str(t, "ssid");
    if (!ssid) fail(t, "a [[smartconfig]] phone needs the ssid it sends");
    p.ssid = *ssid;
    p.password = str(t, "password").value_or("");
    p.bssid = parsed<Mac>(t, "bssid", Mac::parse, "a MAC address");
    p.reserved_data = str(t, "reserved_data").value_or("");
    p.key = str(t, "key").value_or("");
    if (!p.key.empty() && p.key.size() != 16) fail(*t.get("key"), "an ESP-TOUCH v2 key is 16 bytes");
    return p;
  }

  // A [[ble_peer]] (issue 11): a beacon, a peripheral with services, a central (a phone) or an
  // HID host; each has an address, the first two advertise.
  BlePeerSpec ble_peer(const toml::table& t, int index) const {
    only(t, {"id", "role", "address", "address_type", "name", "adv_type", "adv_data", "scan_rsp", "interval_ms", "rssi",
             "service", "iocap", "auth_req"});
    BlePeerSpec p;
    p.role = parsed<BlePeerRole>(t, "role", role_from_name, "beacon, peripheral, central or hid_host").value_or(BlePeerRole::Beacon);
    BleAdvertiser& a = p.adv;
    a.id = str(t, "id").value_or(fmt::format("ble{}", index + 1));
    // "m<k>" is module k's own advertising on the medium.
    if (a.id.size() > 1 && a.id[0] == 'm' && a.id.find_first_not_of("0123456789", 1) == std::string::npos)
      fail(*t.get("id"), fmt::format("\"{}\" names a module's advertising: give the peer another id", a.id));
    if (a.id.empty() || a.id.find_first_of("/?#% ") != std::string::npos)
      fail(*t.get("id"), "a peer's id is not empty and has no '/', '?', '#', '%' or space (the control API names it in URLs)");
    auto addr = parsed<Mac>(t, "address", Mac::parse, "a BLE address like \"c2:34:45:78:66:89\"");
    if (!addr) fail(t, "a [[ble_peer]] needs an address");
    a.addr = *addr;
    a.addr_type = parsed<int>(t, "address_type", [](const std::string& s) -> std::optional<int> {
      if (s == "public") return 0;
      if (s == "random") return 1;
      return std::nullopt;
    }, "public or random").value_or(0);
    a.type = BleAdvType(integer(t, "adv_type", 0, 4).value_or(0));
    auto hex = [&](std::string_view key, std::size_t max) {
      auto v = str(t, key);
      if (!v) return std::string();
      auto bytes = hex_to_bytes(*v);
      if (!bytes) fail(*t.get(key), fmt::format("\"{}\" is a hex string, two digits a byte", key));
      if (bytes->size() > max) fail(*t.get(key), fmt::format("\"{}\" is at most {} bytes", key, max));
      return *bytes;
    };
    a.adv_data = hex("adv_data", 31);
    a.scan_rsp = hex("scan_rsp", 31);
    if (auto name = str(t, "name")) {
      // Shorthand: the name as a complete local name (AD type 0x09) after the advertising data.
      if (a.adv_data.size() + 2 + name->size() > 31) fail(*t.get("name"), "the name does not fit in the 31 bytes of advertising data");
      a.adv_data += char(name->size() + 1);
      a.adv_data += '\x09';
      a.adv_data += *name;
    }
    a.interval = std::chrono::milliseconds(integer(t, "interval_ms", 20, 10240).value_or(100));
    a.rssi = int(integer(t, "rssi", -127, 20).value_or(-60));
    p.sec = default_security(p.role);
    p.sec.iocap = int(integer(t, "iocap", 0, 4).value_or(p.sec.iocap));
    p.sec.auth_req = int(integer(t, "auth_req", 0, 15).value_or(p.sec.auth_req));
    if (const auto* n = t.get("service")) {
      if (p.role != BlePeerRole::Peripheral) fail(*n, "only a peripheral (role = \"peripheral\") serves services");
      const auto* arr = n->as_array();
      if (!arr) fail(*n, "services are written [[ble_peer.service]]");
      for (const auto& e : *arr) {
        if (!e.is_table()) fail(e, "services are written [[ble_peer.service]]");
        p.services.push_back(peer_service(*e.as_table()));
      }
    }
    return p;
  }

  std::string gatt_uuid(const toml::table& t) const {
    auto u = str(t, "uuid");
    if (!u) fail(t, "a service or characteristic needs its \"uuid\"");
    std::string s = *u;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.erase(0, 2);
    if ((s.size() != 4 && s.size() != 32) || !hex_to_bytes(s)) fail(*t.get("uuid"), fmt::format("\"{}\" is not a 16-bit (4 hex digits) or 128-bit (32) UUID", *u));
    for (auto& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }

  BlePeerService peer_service(const toml::table& t) const {
    only(t, {"uuid", "characteristic"});
    BlePeerService s{gatt_uuid(t), {}};
    const auto* n = t.get("characteristic");
    if (!n) return s;
    const auto* arr = n->as_array();
    if (!arr) fail(*n, "characteristics are written [[ble_peer.service.characteristic]]");
    for (const auto& e : *arr) {
      const auto* c = e.as_table();
      if (!c) fail(e, "characteristics are written [[ble_peer.service.characteristic]]");
      only(*c, {"uuid", "properties", "value", "notify_ms"});
      BlePeerChar ch;
      ch.uuid = gatt_uuid(*c);
      if (const auto* props = c->get("properties")) {
        const auto* list = props->as_array();
        if (!list) fail(*props, "\"properties\" is a list: [\"read\", \"write\", \"write_nr\", \"notify\", \"indicate\"]");
        ch.props = 0;
        for (const auto& pv : *list) {
          const auto name = pv.value<std::string>();
          static const std::pair<const char*, int> known[] = {{"read", gatt_prop::read}, {"write", gatt_prop::write},
                                                              {"write_nr", gatt_prop::write_nr}, {"notify", gatt_prop::notify},
                                                              {"indicate", gatt_prop::indicate}};
          auto it = std::find_if(std::begin(known), std::end(known), [&](const auto& k) { return name && *name == k.first; });
          if (it == std::end(known)) fail(pv, "a property is one of read, write, write_nr, notify, indicate");
          ch.props |= it->second;
        }
      }
      if (auto v = str(*c, "value")) {
        auto bytes = hex_to_bytes(*v);
        if (!bytes || bytes->size() > 512) fail(*c->get("value"), "\"value\" is a hex string of at most 512 bytes");
        ch.value = *bytes;
      }
      ch.notify_ms = int(integer(*c, "notify_ms", 0, 3600000).value_or(0));
      if (ch.notify_ms && !(ch.props & (gatt_prop::notify | gatt_prop::indicate)))
        fail(*c->get("notify_ms"), "\"notify_ms\" needs the notify or indicate property");
      s.chars.push_back(std::move(ch));
    }
    return s;
  }

  void load(World& w, const toml::table& root) const {
    only(root, {"world", "ap", "smartconfig", "dns", "ota", "module", "ble_peer"});
    if (const auto* n = root.get("world")) {
      const auto* t = n->as_table();
      if (!t) fail(*n, "[world] is a table");
      only(*t, {"scan_ms", "sntp_port", "dns_port", "seed", "ble_pacing"});
      if (auto seed = integer(*t, "seed", 0, INT64_MAX)) w.seed(std::uint64_t(*seed));
      w.scan_time = std::chrono::milliseconds(integer(*t, "scan_ms", 0, 60000).value_or(500));
      w.sntp_port = int(integer(*t, "sntp_port", 1, 65535).value_or(123));
      w.dns_port = int(integer(*t, "dns_port", 1, 65535).value_or(53));
      w.ble_pacing = boolean(*t, "ble_pacing").value_or(false);
    }
    if (const auto* n = root.get("ap")) {
      const auto* arr = n->as_array();
      if (!arr) fail(*n, "APs are written [[ap]]");
      int i = 0;
      for (const auto& e : *arr) {
        if (!e.is_table()) fail(e, "APs are written [[ap]]");
        Ap a = ap_from_table(*e.as_table(), i++, source);
        if (w.find_ap(a.id)) fail(e, fmt::format("a second AP with the id \"{}\" (give it an id)", a.id));
        if (w.find_ap_by_bssid(a.bssid)) fail(e, fmt::format("a second AP with the BSSID {}", a.bssid.str()));
        w.add_ap(std::move(a));
      }
    }
    if (const auto* n = root.get("module")) {
      const auto* arr = n->as_array();
      if (!arr) fail(*n, "modules are written [[module]]");
      std::set<std::int64_t> seen;
      for (const auto& e : *arr) {
        const auto* t = e.as_table();
        if (!t) fail(e, "modules are written [[module]]");
        only(*t, {"index", "latency_ms", "bandwidth", "udp_loss", "dns_fail", "refuse"});
        auto index = integer(*t, "index", 0, 65535);
        if (!index) fail(e, "a [[module]] needs its index (0 for the first module)");
        if (!seen.insert(*index).second) fail(e, fmt::format("a second [[module]] with index {}", *index));
        w.set_module_faults(int(*index), faults(*t, {}));
      }
    }
    if (const auto* n = root.get("smartconfig")) {
      const auto* arr = n->as_array();
      if (!arr) fail(*n, "phones are written [[smartconfig]]");
      int i = 0;
      for (const auto& e : *arr) {
        if (!e.is_table()) fail(e, "phones are written [[smartconfig]]");
        w.phones().push_back(phone_from_table(*e.as_table(), i++, source));
      }
    }
    if (const auto* n = root.get("ble_peer")) {
      const auto* arr = n->as_array();
      if (!arr) fail(*n, "BLE peers are written [[ble_peer]]");
      int i = 0;
      for (const auto& e : *arr) {
        if (!e.is_table()) fail(e, "BLE peers are written [[ble_peer]]");
        auto p = ble_peer_from_table(*e.as_table(), i++, source);
        if (w.find_ble_peer(p.adv.id)) fail(e, fmt::format("a second [[ble_peer]] with the id \"{}\"", p.adv.id));
        w.add_ble_peer(std::move(p));
      }
    }
    if (const auto* n = root.get("ota")) {
      const auto* t = n->as_table();
      if (!t) fail(*n, "[ota] is a table");
      only(*t, {"url", "ssl_url", "timeout_s"});
      for (const char* key : {"url", "ssl_url"}) {
        auto u = str(*t, key);
        if (!u) continue;
        auto parsed = HttpUrl::parse(*u);
        if (!parsed) fail(*t->get(key), fmt::format("\"{}\" = \"{}\" is not an http:// or https:// URL", key, *u));
        if (std::string_view(key) == "ssl_url" && !parsed->https) fail(*t->get(key), "\"ssl_url\" must be an https:// URL");
        (std::string_view(key) == "url" ? w.ota.url : w.ota.ssl_url) = *u;
      }
      w.ota.timeout = std::chrono::seconds(integer(*t, "timeout_s", 1, 3600).value_or(180));
    }
    if (const auto* n = root.get("dns")) {
      const auto* t = n->as_table();
      if (!t) fail(*n, "[dns] is a table of name = \"address\"");
      for (const auto& [k, v] : *t) {
        auto ip = v.is_string() ? Ipv4::parse(*v.value<std::string>()) : std::nullopt;
        if (!ip) fail(v, fmt::format("\"{}\" must map to an IPv4 address string", k.str()));
        w.dns()[std::string(k.str())] = *ip;
      }
    }
  }
};
}  // namespace

Mac default_bssid(int index) { return Mac{{0x1a, 0, 0, 0, std::uint8_t(index >> 8), std::uint8_t(index)}}; }

Subnet default_subnet(int index) {
  return Subnet{{(127u << 24) | (10u << 16) | std::uint32_t(index + 1) << 8}, {0xffffff00u}};
}

Ap ap_from_table(const toml::table& t, int index, std::string_view source) {
  return Reader{std::string(source)}.ap(t, index);
}

NetFaults faults_from_table(const toml::table& t, const NetFaults& base, std::string_view source) {
  Reader r{std::string(source)};
  r.only(t, {"latency_ms", "bandwidth", "udp_loss", "dns_fail", "refuse"});
  return r.faults(t, base);
}

BlePeerSpec ble_peer_from_table(const toml::table& t, int index, std::string_view source) {
  return Reader{std::string(source)}.ble_peer(t, index);
}

SmartPhone phone_from_table(const toml::table& t, int index, std::string_view source) {
  return Reader{std::string(source)}.phone(t, index);
}

void load_world(World& world, std::string_view text, std::string_view source) {
  Reader r{std::string(source)};
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    throw WorldError(fmt::format("{}:{}: {}", source, e.source().begin.line, e.description()));
  }
  r.load(world, root);
}

void load_world_file(World& world, const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw WorldError(path + ": cannot read the world file");
  std::stringstream ss;
  ss << f.rdbuf();
  load_world(world, ss.str(), path);
}

std::string_view default_world_toml() {
  // src/sim/default_world.toml, made into a string literal by CMake.
  static constexpr std::string_view text =
#include "sim/default_world.inc"
      ;
  return text;
}

}  // namespace espat::sim
