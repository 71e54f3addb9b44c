#include "sim/world_json.hpp"

#include <fmt/format.h>

#include "sim/world_file.hpp"
#include "sim/world_table.hpp"

namespace espat::sim {

namespace {
using nlohmann::json;

constexpr const char* kCiphers[] = {"NONE", "WEP40", "WEP104", "TKIP", "CCMP", "TKIP_CCMP", "AES_CMAC128", "UNKNOWN"};
constexpr const char* kEapMethods[] = {"TLS", "PEAP", "TTLS"};

const char* cipher_name(int c) { return c >= 0 && c < 8 ? kCiphers[c] : "UNKNOWN"; }

const char* phone_type_name(int t) { return t == 2 ? "AIRKISS" : t == 4 ? "ESPTOUCH_V2" : "ESPTOUCH"; }

std::string phy_letters(int bgn) {
  std::string s;
  if (bgn & 1) s += 'b';
  if (bgn & 2) s += 'g';
  if (bgn & 4) s += 'n';
  return s;
}

// JSON → TOML of the same shape, for the world file's reader. `put` receives the value; a
// null has no TOML counterpart and is refused, naming its key.
toml::table table_of(const json& j, std::string_view what);
toml::array array_of(const json& j, std::string_view key);

template <class Put>
void convert(const json& j, std::string_view key, Put&& put) {
  switch (j.type()) {
    case json::value_t::string: put(j.get<std::string>()); return;
    case json::value_t::boolean: put(j.get<bool>()); return;
    case json::value_t::number_integer: put(j.get<std::int64_t>()); return;
    case json::value_t::number_unsigned: {
      auto u = j.get<std::uint64_t>();
      if (u > std::uint64_t(INT64_MAX)) put(double(u));  // out of range, as the reader will say
      else put(std::int64_t(u));
      return;
    }
    case json::value_t::number_float: put(j.get<double>()); return;
    case json::value_t::array: put(array_of(j, key)); return;
    case json::value_t::object: put(table_of(j, fmt::format("\"{}\"", key))); return;
    default: throw WorldError(fmt::format("\"{}\" must not be null", key));
  }
}

toml::array array_of(const json& j, std::string_view key) {
  toml::array a;
  for (const auto& e : j) convert(e, key, [&](auto&& v) { a.push_back(std::move(v)); });
  return a;
}

toml::table table_of(const json& j, std::string_view what) {
  if (!j.is_object()) throw WorldError(fmt::format("{} must be a JSON object", what));
  toml::table t;
  for (const auto& [k, v] : j.items()) convert(v, k, [&](auto&& x) { t.insert(k, std::move(x)); });
  return t;
}
}  // namespace

json to_json(const Ap& ap) {
  json j = {
      {"id", ap.id},
      {"ssid", ap.ssid},
      {"bssid", ap.bssid.str()},
      {"channel", ap.channel},
      {"rssi", ap.rssi},
      {"security", security_name(ap.security)},
      {"password", ap.password},
      {"pairwise_cipher", cipher_name(ap.pairwise_cipher)},
      {"group_cipher", cipher_name(ap.group_cipher)},
      {"phy", phy_letters(ap.bgn)},
      {"wps", ap.wps},
      {"hidden", ap.hidden},
      {"up", ap.up},
      {"pmf", ap.pmf},
      {"max_stations", ap.max_stations},
      {"subnet", ap.net.subnet.str()},
      {"gateway", ap.net.gateway.str()},
      {"dns", json::array()},
      {"lease_minutes", ap.net.lease_minutes},
      {"pool", {ap.net.pool_first, ap.net.pool_last}},
      {"join_ms", ap.join_time.count()},
      {"fault", ap.fault},
      {"host_network", ap.host_network},
  };
  j.update(to_json(ap.faults));
  for (const auto& d : ap.net.dns) j["dns"].push_back(d.str());
  if (!ap.eap.empty()) {
    j["eap"] = json::array();
    for (const auto& a : ap.eap)
      j["eap"].push_back({{"method", a.method >= 0 && a.method < 3 ? kEapMethods[a.method] : "PEAP"},
                          {"identity", a.identity},
                          {"username", a.username},
                          {"password", a.password}});
  }
  return j;
}

json to_json(const NetFaults& f) {
  return {{"latency_ms", f.latency_ms}, {"bandwidth", f.bandwidth}, {"udp_loss", f.udp_loss},
          {"dns_fail", f.dns_fail}, {"refuse", f.refuse}};
}

NetFaults faults_from_json(const json& j, const NetFaults& base) {
  return faults_from_table(table_of(j, "the faults"), base, "");
}

json to_json(const SmartPhone& p) {
  json j = {{"id", p.id}, {"type", phone_type_name(p.type)}, {"ssid", p.ssid}, {"password", p.password},
            {"reserved_data", p.reserved_data}, {"key", p.key}};
  if (p.bssid) j["bssid"] = p.bssid->str();
  return j;
}

json to_json(const MdnsEntry& e) {
  return {{"host", e.host}, {"service", e.service}, {"port", e.port}, {"ip", e.ip.str()}};
}

Ap ap_from_json(const json& j, int index) { return ap_from_table(table_of(j, "an AP"), index, ""); }

SmartPhone phone_from_json(const json& j, int index) {
  return phone_from_table(table_of(j, "a phone"), index, "");
}

json to_json(const BleAdvertiser& a) {
  json j = {{"id", a.id},
            {"address", a.addr.str()},
            {"address_type", a.addr_type == 1 ? "random" : "public"},
            {"adv_type", int(a.type)},
            {"adv_data", bytes_to_hex(a.adv_data)},
            {"scan_rsp", bytes_to_hex(a.scan_rsp)},
            {"interval_ms", a.interval.count()},
            {"rssi", a.rssi}};
  if (a.module) j["module"] = true;
  return j;
}

BlePeerSpec ble_peer_from_json(const json& j, int index) {
  return ble_peer_from_table(table_of(j, "a BLE peer"), index, "");
}

json to_json(const BlePeer& p, const BleMedium& medium) {
  const BlePeerSpec& s = p.spec();
  json j = to_json(s.adv);
  j["role"] = role_name(s.role);
  j["advertising"] = medium.find(s.adv.id) != nullptr;
  j["iocap"] = s.sec.iocap;
  j["auth_req"] = s.sec.auth_req;
  if (s.role == BlePeerRole::Peripheral) {
    json services = json::array();
    for (const auto& srv : s.services) {
      json chars = json::array();
      for (const auto& c : srv.chars) {
        json props = json::array();
        for (auto [bit, name] : {std::pair{gatt_prop::read, "read"}, {gatt_prop::write, "write"}, {gatt_prop::write_nr, "write_nr"},
                                 {gatt_prop::notify, "notify"}, {gatt_prop::indicate, "indicate"}})
          if (c.props & bit) props.push_back(name);
        json cj = {{"uuid", c.uuid}, {"properties", props}, {"value", bytes_to_hex(c.value)}};
        if (c.notify_ms) cj["notify_ms"] = c.notify_ms;
        chars.push_back(cj);
      }
      services.push_back({{"uuid", srv.uuid}, {"characteristic", chars}});
    }
    j["service"] = services;
  }
  json links = json::array();
  for (const BleLink* l : p.links())
    links.push_back({{"conn_index", l->index_of(s.adv.id)}, {"peer", l->peer_addr_of(s.adv.id).str()},
                     {"encrypted", l->encrypted}, {"mtu", l->mtu}});
  j["links"] = links;
  return j;
}

json to_json(const BlePeerEvent& e) {
  json j = {{"event", e.kind}, {"conn_index", e.conn_index}, {"peer", e.peer}};
  if (!e.service.empty()) j["service"] = e.service;
  if (!e.characteristic.empty()) j["characteristic"] = e.characteristic;
  if (!e.report.empty()) j["report"] = e.report;
  if (!e.ssid.empty()) j["ssid"] = e.ssid;
  if (!e.value.empty() || e.kind == "write" || e.kind == "notify" || e.kind == "indicate" || e.kind == "hid" ||
      e.kind == "blufi_data")
    j["value"] = bytes_to_hex(e.value);
  if (e.kind == "passkey") j["key"] = e.key;
  if (e.kind == "disconnected") j["reason"] = e.reason;
  return j;
}

Ap patched_ap(const Ap& ap, const json& patch) {
  if (!patch.is_object()) throw WorldError("the changes must be a JSON object");
  if (patch.contains("id") && patch["id"] != ap.id) throw WorldError("\"id\" cannot change");
  json j = to_json(ap);
  if (patch.contains("security") && patch["security"] != j["security"]) {
    for (const char* k : {"pairwise_cipher", "group_cipher", "pmf"}) j.erase(k);
    if (patch["security"] != "WPA2_ENTERPRISE" && !patch.contains("eap")) j.erase("eap");
  }
  for (const auto& [k, v] : patch.items()) j[k] = v;
  // The index only picks defaults, and every key is present: the AP keeps what it had.
  Ap out = ap_from_json(j, 0);
  out.owner = ap.owner;
  return out;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace espat::sim
