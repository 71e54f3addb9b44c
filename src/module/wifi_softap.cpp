// The module's softAP (spec 3.2.10-3.2.14, 3.2.19, 3.2.21): published in the world as an AP
// that other modules and injected stations join; its DHCP server hands out addresses.
#include <algorithm>

#include <fmt/format.h>

#include "module/context.hpp"
#include "module/wifi.hpp"

namespace espat::module {

std::string Wifi::softap_ssid() const {
  if (!s_.softap.ssid.empty()) return s_.softap.ssid;
  const auto& m = s_.ap_mac.b;
  return fmt::format("ESP_{:02X}{:02X}{:02X}", m[3], m[4], m[5]);
}

std::string Wifi::softap_id() const { return "softap-" + s_.ap_mac.str(); }

void Wifi::apply_softap() {
  // The AP this module published last: its id follows the softAP MAC, which AT+CIPAPMAC changes.
  std::string published;
  for (const auto& a : world_.aps())
    if (a.owner == this) published = a.id;
  if (!softap_on() || (!published.empty() && published != softap_id())) {
    if (!published.empty()) world_.remove_ap(published);  // its stations are dropped
    softap_published_ = false;
    clients_.clear();
    if (!softap_on()) return;
    published.clear();
  }
  sim::Ap ap;
  if (const sim::Ap* cur = world_.find_ap(softap_id())) ap = *cur;
  const sim::Network old_net = ap.net;
  ap.id = softap_id();
  ap.ssid = softap_ssid();
  ap.bssid = s_.ap_mac;
  ap.channel = s_.softap.channel;
  ap.rssi = -40;
  ap.security = sim::Security(s_.softap.ecn);
  ap.password = s_.softap.password;
  ap.hidden = s_.softap.hidden != 0;
  // ESP-IDF's softAP ciphers: TKIP for WPA, CCMP for WPA2, TKIP+CCMP (group TKIP) for both.
  switch (s_.softap.ecn) {
    case 0: ap.pairwise_cipher = ap.group_cipher = 0; break;
    case 2: ap.pairwise_cipher = ap.group_cipher = 2; break;
    case 4: ap.pairwise_cipher = 5, ap.group_cipher = 2; break;
    default: ap.pairwise_cipher = ap.group_cipher = 4; break;
  }
  ap.max_stations = s_.softap.max_conn;
  ap.bgn = s_.ap_proto & 7;
  ap.net.subnet = {{s_.ap_ip.ip.v & s_.ap_ip.netmask.v}, s_.ap_ip.netmask};
  ap.net.gateway = s_.ap_ip.gateway;
  ap.net.dns = {s_.ap_ip.ip};
  ap.join_time = std::chrono::milliseconds(100);
  ap.owner = this;
  if (published.empty()) {
    softap_published_ = world_.add_ap(ap);
    return;
  }
  const bool renumbered = old_net.subnet.base != ap.net.subnet.base || old_net.subnet.mask != ap.net.subnet.mask ||
                          old_net.dns != ap.net.dns;
  world_.update_ap(ap);
  // AT+CIPAP gave the softAP a new address: the leases handed out name the old one, so the
  // stations are dropped and join again.
  if (renumbered) softap_kick(std::nullopt);
}

std::vector<Wifi::Client> Wifi::softap_clients() const { return clients_; }

void Wifi::softap_kick(std::optional<sim::Mac> mac) {
  auto clients = clients_;
  for (const auto& c : clients)
    if (!mac || c.mac == *mac) world_.kick(softap_id(), c.mac);
}

void Wifi::station_joined(const sim::Mac& mac, sim::Ipv4 ip) {
  clients_.push_back({mac, ip});
  report(fmt::format("+STA_CONNECTED:\"{}\"\r\n", mac.str()));
  report(fmt::format("+DIST_STA_IP:\"{}\",\"{}\"\r\n", mac.str(), ip.str()));
}

void Wifi::station_left(const sim::Mac& mac) {
  auto it = std::find_if(clients_.begin(), clients_.end(), [&](const Client& c) { return c.mac == mac; });
  if (it == clients_.end()) return;
  clients_.erase(it);
  report(fmt::format("+STA_DISCONNECTED:\"{}\"\r\n", mac.str()));
}

std::optional<sim::Lease> Wifi::next_lease(const sim::Mac& mac) {
  if (!(s_.dhcp & 2)) return std::nullopt;  // DHCP server off: nobody gets an address
  const sim::Subnet net{s_.ap_ip.ip, s_.ap_ip.netmask};
  sim::Ipv4 first = net.host(2), last = net.host(101);  // ESP-IDF's default pool
  if (s_.dhcps.custom) first = s_.dhcps.first, last = s_.dhcps.last;
  for (auto ip = first; ip <= last; ip.v++) {
    if (ip == s_.ap_ip.ip) continue;
    bool taken = std::any_of(clients_.begin(), clients_.end(), [&](const Client& c) { return c.ip == ip; });
    if (!taken) return sim::Lease{ip, s_.ap_ip.ip, s_.ap_ip.netmask, {s_.ap_ip.ip}, s_.dhcps.lease_minutes};
  }
  return std::nullopt;
}

}  // namespace espat::module
