// One [[ap]] or [[smartconfig]] table of the world file made into an Ap or a SmartPhone, with
// the world file's rules. Shared by the TOML loader (world_file.cpp) and the control API, which
// turns its JSON into such a table (world_json.cpp), so both accept and refuse the same things.
#pragma once
#include <string_view>

#include <toml++/toml.h>

#include "sim/world.hpp"

namespace espat::sim {

// Throw WorldError (world_file.hpp). `source` names the file: errors read "world.toml:12: ...";
// empty (a table built in memory, no lines): just the message.
Ap ap_from_table(const toml::table& t, int index, std::string_view source);
SmartPhone phone_from_table(const toml::table& t, int index, std::string_view source);
BlePeerSpec ble_peer_from_table(const toml::table& t, int index, std::string_view source);  // [[ble_peer]]
// The network fault keys only (latency_ms, bandwidth, udp_loss, dns_fail, refuse); those the
// table lacks keep base's value. PATCH /modules/{k}/faults.
NetFaults faults_from_table(const toml::table& t, const NetFaults& base, std::string_view source);

// What an AP without "bssid" or "subnet" gets: the index-th AP of a file (counted from 0) has
// 1a:00:00:00:<hi>:<lo> and 127.10.<index + 1>.0/24.
Mac default_bssid(int index);
Subnet default_subnet(int index);

}  // namespace espat::sim
