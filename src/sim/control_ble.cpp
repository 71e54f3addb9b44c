// The control API's Bluetooth LE endpoints (README "Bluetooth LE", "World peers"): the
// advertisers on the medium, the world's peers added and removed, and what a peer does when
// told: a central connects, discovers, reads, writes, subscribes, pairs; a peripheral notifies.
#include <fmt/format.h>

#include "sim/control_routes.hpp"
#include "sim/world_json.hpp"

namespace espat::sim {

using nlohmann::json;

namespace {
ApiReply error(int status, std::string message) { return {status, {{"error", std::move(message)}}}; }

// A body's member, or a 400 naming it.
struct Body {
  const json& j;
  std::string missing;
  std::optional<std::string> str(const char* key, bool needed = true) {
    if (j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
    if (needed && missing.empty()) missing = fmt::format("\"{}\" (a string) is needed", key);
    return std::nullopt;
  }
  int index(const char* key = "conn_index") {
    if (!j.contains(key)) return 0;
    if (j[key].is_number_integer()) return j[key].get<int>();
    if (missing.empty()) missing = fmt::format("\"{}\" is an integer", key);
    return 0;
  }
  bool flag(const char* key) {
    if (!j.contains(key)) return false;
    if (j[key].is_boolean()) return j[key].get<bool>();
    if (missing.empty()) missing = fmt::format("\"{}\" is true or false", key);
    return false;
  }
  std::optional<std::string> bytes(const char* key) {
    auto hex = str(key);
    if (!hex) return std::nullopt;
    auto b = hex_to_bytes(*hex);
    if (!b && missing.empty()) missing = fmt::format("\"{}\" is a hex string, two digits a byte", key);
    return b;
  }
};

json services_json(const std::vector<GattService>& view) {
  json all = json::array();
  for (const auto& s : view) {
    json chars = json::array();
    for (const auto& c : s.chars) {
      json descs = json::array();
      for (const auto& d : c.descs) descs.push_back(d.uuid);
      chars.push_back({{"uuid", c.uuid}, {"properties", c.props}, {"descriptors", descs}});
    }
    all.push_back({{"uuid", s.uuid}, {"characteristics", chars}});
  }
  return all;
}
}  // namespace

json ControlRoutes::ble_peers_json() const {
  json all = json::array();
  for (const auto& p : world_.ble_peers()) all.push_back(to_json(*p, world_.ble));
  for (const auto& a : world_.ble.advertisers())
    if (a.module) all.push_back(to_json(a));
  return all;
}

ApiReply ControlRoutes::ble_route(std::string_view method, const std::vector<std::string>& seg, const json& body) {
  const std::size_t n = seg.size();
  if (n == 2) {  // /ble/peers
    if (method == "GET") return {200, ble_peers_json()};
    if (method != "POST") return error(405, "GET or POST");
    BlePeerSpec spec = ble_peer_from_json(body, int(world_.ble_peers().size()));
    if (world_.find_ble_peer(spec.adv.id) || world_.ble.find(spec.adv.id))
      return error(409, fmt::format("a BLE peer with the id \"{}\" exists", spec.adv.id));
    return {201, to_json(world_.add_ble_peer(std::move(spec)), world_.ble)};
  }
  BlePeer* peer = world_.find_ble_peer(seg[2]);
  if (n == 3) {
    if (!peer) {
      const BleAdvertiser* a = world_.ble.find(seg[2]);
      if (!a) return error(404, fmt::format("no BLE peer with the id \"{}\"", seg[2]));
      if (method == "DELETE") return error(409, "a module's own advertising: AT+BLEADVSTOP ends it");
      return {200, to_json(*a)};
    }
    if (method == "GET") return {200, to_json(*peer, world_.ble)};
    if (method == "DELETE") {
      world_.remove_ble_peer(seg[2]);
      return {204, nullptr};
    }
    return error(405, "GET or DELETE");
  }
  if (!peer) return error(404, fmt::format("no BLE peer with the id \"{}\"", seg[2]));
  const std::string& action = seg[3];
  if (action == "events") {
    if (method != "GET") return error(405, "GET");
    json all = json::array();
    for (const auto& e : peer->events()) all.push_back(to_json(e));
    return {200, all};
  }
  if (method != "POST") return error(405, "POST");
  Body b{body, {}};
  std::string why;
  const bool central = peer->spec().role == BlePeerRole::Central || peer->spec().role == BlePeerRole::HidHost;
  if (action == "notify") {
    if (peer->spec().role != BlePeerRole::Peripheral) return error(409, "only a peripheral notifies");
    auto srv = b.str("service"), chr = b.str("characteristic");
    auto value = b.bytes("value");
    const bool indicate = b.flag("indicate");
    if (!b.missing.empty()) return error(400, b.missing);
    if (!peer->notify(*srv, *chr, *value, indicate))
      return error(404, fmt::format("the peer serves no characteristic {} in a service {}", *chr, *srv));
    return {200, {{"links", peer->links().size()}}};
  }
  if (!central) return error(409, fmt::format("\"{}\" is for a central or an HID host", action));
  if (action == "connect") {
    auto addr = b.str("address");
    if (!b.missing.empty()) return error(400, b.missing);
    auto mac = Mac::parse(*addr);
    if (!mac) return error(400, fmt::format("\"{}\" is not a BLE address", *addr));
    const BleLink* l = peer->connect(*mac, why);
    if (!l) return error(409, why);
    return {200, {{"conn_index", l->index_of(peer->id())}}};
  }
  const int index = b.index();
  if (!b.missing.empty()) return error(400, b.missing);
  if (action == "disconnect") {
    if (!peer->disconnect(index, why)) return error(404, why);
    return {200, {{"disconnected", index}}};
  }
  if (action == "discover") {
    auto view = peer->discover(index, why);
    if (!view) return error(404, why);
    return {200, services_json(*view)};
  }
  if (action == "pair") {
    if (!peer->pair(index, why)) return error(409, why);
    return {200, {{"pairing", index}}};
  }
  if (action == "passkey") {
    if (!body.contains("key") || !body["key"].is_number_integer()) return error(400, "\"key\" (an integer) is needed");
    if (!peer->passkey(index, body["key"].get<int>(), why)) return error(409, why);
    return {200, {{"passkey", index}}};
  }
  if (action == "blufi") {
    auto ssid = b.str("ssid");
    const std::string password = b.str("password", false).value_or("");
    if (!b.missing.empty()) return error(400, b.missing);
    if (!peer->blufi_provision(index, *ssid, password, why)) return error(409, why);
    return {200, {{"provisioning", index}}};
  }
  if (action == "blufi_send") {
    auto data = b.bytes("data");
    if (!b.missing.empty()) return error(400, b.missing);
    if (!peer->blufi_send(index, *data, why)) return error(409, why);
    return {200, {{"sent", data->size()}}};
  }
  auto srv = b.str("service"), chr = b.str("characteristic");
  const std::string desc = b.str("descriptor", false).value_or("");
  if (action == "read") {
    if (!b.missing.empty()) return error(400, b.missing);
    auto value = peer->read(index, *srv, *chr, desc, why);
    if (!value) return error(409, why);
    return {200, {{"value", bytes_to_hex(*value)}}};
  }
  if (action == "write") {
    auto value = b.bytes("value");
    if (!b.missing.empty()) return error(400, b.missing);
    if (!peer->write(index, *srv, *chr, desc, *value, why)) return error(409, why);
    return {200, {{"written", value->size()}}};
  }
  if (action == "subscribe") {
    const bool indicate = b.flag("indicate");
    if (!b.missing.empty()) return error(400, b.missing);
    if (!peer->subscribe(index, *srv, *chr, indicate, why)) return error(409, why);
    return {200, {{"subscribed", *chr}}};
  }
  return error(404, fmt::format("no action \"{}\" for a BLE peer", action));
}

}  // namespace espat::sim
