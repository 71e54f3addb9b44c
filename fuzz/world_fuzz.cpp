// libFuzzer: the world file reader (README "The radio world"; sim/world_file.cpp, toml++). Any
// input is either loaded or refused with a WorldError naming the line, never a crash, a hang or
// another exception; what is loaded keeps the world's rules (unique ids and BSSIDs, gateways
// inside their subnets, DHCP pools inside them too; BLE peers' data within 31 bytes).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "sim/world_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  espat::sim::World world;
  try {
    espat::sim::load_world(world, std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml");
  } catch (const espat::sim::WorldError&) {
    return 0;
  }
  std::set<std::string> ids;
  std::set<espat::sim::Mac> bssids;
  for (const auto& ap : world.aps()) {
    if (!ids.insert(ap.id).second || !bssids.insert(ap.bssid).second) std::abort();
    if (!ap.net.subnet.contains(ap.net.gateway)) std::abort();
    if (ap.ssid.empty() || ap.ssid.size() > 32) std::abort();
    auto first = ap.net.subnet.host(ap.net.pool_first), last = ap.net.subnet.host(ap.net.pool_last);
    if (!ap.net.subnet.contains(first) || !ap.net.subnet.contains(last) || last < first) std::abort();
  }
  // [[ble_peer]]s (issue 11): unique ids, at most 31 bytes of data each, an interval in range.
  std::set<std::string> peers;
  for (const auto& a : world.ble.advertisers()) {
    if (!peers.insert(a.id).second) std::abort();
    if (a.adv_data.size() > 31 || a.scan_rsp.size() > 31) std::abort();
    if (a.interval.count() < 20 || a.interval.count() > 10240) std::abort();
  }
  return 0;
}
