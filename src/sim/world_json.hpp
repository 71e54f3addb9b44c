// The world's things as the control API's JSON (README "Control API"). An AP or a phone has the
// keys of the world file (README "The world file"), and JSON coming in is checked by the world
// file's own rules (world_table.hpp): the same values are accepted and refused in both.
#pragma once
#include <nlohmann/json.hpp>

#include "sim/world.hpp"

namespace espat::sim {

// Every world-file key of the AP, defaults included (not `owner`: the caller marks softAPs).
nlohmann::json to_json(const Ap& ap);
nlohmann::json to_json(const SmartPhone& phone);
nlohmann::json to_json(const MdnsEntry& e);
// latency_ms, bandwidth, udp_loss, dns_fail, refuse: the keys of the world file.
nlohmann::json to_json(const NetFaults& f);
// base with the fault keys of j changed; checked by the world file's rules (WorldError).
NetFaults faults_from_json(const nlohmann::json& j, const NetFaults& base);

// Builds an AP or a phone from a JSON object of world-file keys. `index` chooses the default
// BSSID and subnet (world_table.hpp). Throws WorldError naming the key at fault.
Ap ap_from_json(const nlohmann::json& j, int index);
SmartPhone phone_from_json(const nlohmann::json& j, int index);
// A BLE advertiser (GET /ble/peers): the [[ble_peer]] keys, the data in hex, the name left in
// adv_data; "module": true for a module's own advertising. From JSON: a [[ble_peer]]'s keys.
nlohmann::json to_json(const BleAdvertiser& a);
BlePeerSpec ble_peer_from_json(const nlohmann::json& j, int index);
// A world peer (GET /ble/peers/{id}): its advertiser's keys, "role", its services, whether it
// advertises now and its links; and one of its events (GET /ble/peers/{id}/events).
nlohmann::json to_json(const BlePeer& p, const BleMedium& medium);
nlohmann::json to_json(const BlePeerEvent& e);

// The AP with the changes of a PATCH (an object of world-file keys) applied, checked as a whole.
// "id" cannot change. When the security changes, the ciphers and PMF that followed from the old
// one are derived again unless the patch names them.
Ap patched_ap(const Ap& ap, const nlohmann::json& patch);

// JSON text for the wire: bytes that are not UTF-8 (an SSID may hold any) become U+FFFD.
std::string dump(const nlohmann::json& j);

}  // namespace espat::sim
