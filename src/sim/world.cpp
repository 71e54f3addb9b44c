#include "sim/world.hpp"

#include "sim/host_net.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace espat::sim {

namespace {
constexpr std::array<const char*, kSecurityCount> kSecurityNames = {
    "OPEN", "WEP", "WPA_PSK", "WPA2_PSK", "WPA_WPA2_PSK", "WPA2_ENTERPRISE", "WPA3_PSK", "WPA2_WPA3_PSK", "WAPI_PSK", "OWE"};

bool password_matches(const Ap& ap, const JoinRequest& r) {
  switch (ap.security) {
    case Security::Open:
    case Security::Owe: return true;
    case Security::Wpa2Enterprise: return false;  // needs AT+CWJEAP
    default: return r.password == ap.password;
  }
}

bool eap_matches(const Ap& ap, const EapAccount& a) {
  return std::any_of(ap.eap.begin(), ap.eap.end(), [&](const EapAccount& e) {
    if (e.method != a.method || e.identity != a.identity) return false;
    return a.method == 0 || (e.username == a.username && e.password == a.password);  // TLS: certificates only
  });
}
}  // namespace

const char* security_name(Security s) { return kSecurityNames[std::size_t(s)]; }

std::optional<Security> security_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kSecurityNames.size(); ++i)
    if (name == kSecurityNames[i]) return Security(i);
  return std::nullopt;
}

Ap* World::find_ap(std::string_view id) {
  auto it = std::find_if(aps_.begin(), aps_.end(), [&](const Ap& a) { return a.id == id; });
  return it == aps_.end() ? nullptr : &*it;
}

const Ap* World::find_ap_by_bssid(const Mac& bssid) const {
  auto it = std::find_if(aps_.begin(), aps_.end(), [&](const Ap& a) { return a.bssid == bssid; });
  return it == aps_.end() ? nullptr : &*it;
}

bool World::add_ap(Ap ap) {
  if (ap.id.empty() || find_ap(ap.id) || find_ap_by_bssid(ap.bssid)) return false;
  changed(fmt::format("ap {} added{}", ap.id, ap.up ? "" : " (down)"));
  if (ap.faults.any()) changed(fmt::format("ap {} faults {}", ap.id, ap.faults.describe()));
  aps_.push_back(std::move(ap));
  return true;
}

bool World::update_ap(const Ap& ap) {
  Ap* cur = find_ap(ap.id);
  if (!cur) return false;
  if (const Ap* other = find_ap_by_bssid(ap.bssid); other && other != cur) return false;
  const bool restart = !ap.up || ap.ssid != cur->ssid || ap.security != cur->security ||
                       ap.password != cur->password || ap.channel != cur->channel || ap.bssid != cur->bssid;
  const char* what = ap.up && !cur->up ? "up" : !ap.up && cur->up ? "down" : "changed";
  const bool faults_changed = ap.faults != cur->faults;
  *cur = ap;
  if (restart) drop_all(ap.id);
  if (auto l = leases_.find(ap.id); l != leases_.end()) l->second.low = 0;  // the pool may have moved
  changed(fmt::format("ap {} {}", ap.id, what));
  if (faults_changed) {
    changed(fmt::format("ap {} faults {}", ap.id, ap.faults.describe()));
    this->faults_changed();
  }
  return true;
}

bool World::remove_ap(std::string_view id) {
  auto it = std::find_if(aps_.begin(), aps_.end(), [&](const Ap& a) { return a.id == id; });
  if (it == aps_.end()) return false;
  std::string keep(id);
  drop_all(keep);
  aps_.erase(std::find_if(aps_.begin(), aps_.end(), [&](const Ap& a) { return a.id == keep; }));
  leases_.erase(keep);
  changed(fmt::format("ap {} removed", keep));
  return true;
}

std::vector<const Ap*> World::scan(int channel) const {
  std::vector<const Ap*> seen;
  for (const auto& ap : aps_)
    if (ap.up && (channel == 0 || ap.channel == channel)) seen.push_back(&ap);
  return seen;
}

JoinPlan World::plan_join(const JoinRequest& r) const {
  std::vector<const Ap*> candidates;
  for (const auto& ap : aps_)
    if (ap.up && ap.ssid == r.ssid && (!r.bssid || *r.bssid == ap.bssid)) candidates.push_back(&ap);
  // pci_en=1 leaves out OPEN and WEP APs (spec 3.2.5): for the station they are not there.
  if (r.pci_en)
    std::erase_if(candidates, [](const Ap* a) { return a->security == Security::Open || a->security == Security::Wep; });
  JoinPlan plan;
  if (candidates.empty()) {
    plan.error = JoinError::NotFound;
    plan.delay = scan_time;  // a full scan, then "no AP found"
    return plan;
  }
  const Ap* ap = candidates.front();
  if (r.strongest)
    ap = *std::max_element(candidates.begin(), candidates.end(), [](const Ap* a, const Ap* b) { return a->rssi < b->rssi; });
  plan.ap_id = ap->id;
  plan.delay = ap->join_time;
  if (ap->fault == "timeout") {
    plan.error = JoinError::Timeout;
    plan.delay = std::chrono::milliseconds::max();
    return plan;
  }
  const bool needs_pmf = (ap->pmf & 2) || ap->security == Security::Wpa3Psk;
  const bool pmf_clash = (needs_pmf && r.pmf == 0) || ((r.pmf & 2) && (ap->pmf & 1) == 0);
  const auto stations = std::count_if(assoc_.begin(), assoc_.end(), [&](const Association& a) { return a.ap_id == ap->id; });
  if (ap->fault == "reject" || ap->security == Security::WapiPsk || pmf_clash || stations >= ap->max_stations)
    plan.error = JoinError::Failed;
  else if (r.eap ? ap->security != Security::Wpa2Enterprise || !eap_matches(*ap, *r.eap) : !password_matches(*ap, r))
    plan.error = ap->security == Security::Wpa2Enterprise && !r.eap ? JoinError::Failed : JoinError::WrongPassword;
  return plan;
}

std::optional<Lease> World::join(Station& sta, const JoinRequest& r, const std::string& ap_id, JoinError& error) {
  // The AP chosen when the attempt started is gone, or there was none (an AP that came up
  // during the scan is found by the next attempt, not this one).
  if (!find_ap(ap_id)) {
    leave(sta);
    error = JoinError::NotFound;
    return std::nullopt;
  }
  auto plan = plan_join(JoinRequest{r.ssid, r.password, find_ap(ap_id) ? std::optional(find_ap(ap_id)->bssid) : std::nullopt,
                                    r.pci_en, r.strongest, r.pmf, r.eap});
  leave(sta);
  error = plan.error;
  if (error != JoinError::None) return std::nullopt;
  Ap* ap = find_ap(ap_id);
  auto lease = lease_for(*ap, sta.station_mac());
  if (!lease) {
    error = JoinError::Failed;
    return std::nullopt;
  }
  associate({&sta, sta.station_mac(), ap->id, *lease});
  if (ap->owner) ap->owner->station_joined(sta.station_mac(), lease->ip);
  changed(fmt::format("station {} joined {}, lease {}", sta.station_mac().str(), ap->id, lease->ip.str()));
  return lease;
}

std::optional<Lease> World::join_foreign(std::string_view ap_id, const Mac& mac, std::string_view password, JoinError& error) {
  Ap* ap = find_ap(ap_id);
  if (!ap || !ap->up) {
    error = JoinError::NotFound;
    return std::nullopt;
  }
  JoinRequest r{ap->ssid, std::string(password), ap->bssid};
  auto plan = plan_join(r);
  error = plan.error;
  if (error != JoinError::None) return std::nullopt;
  std::erase_if(assoc_, [&](const Association& a) { return !a.station && a.mac == mac; });
  auto lease = lease_for(*ap, mac);
  if (!lease) {
    error = JoinError::Failed;
    return std::nullopt;
  }
  associate({nullptr, mac, ap->id, *lease});
  if (ap->owner) ap->owner->station_joined(mac, lease->ip);
  changed(fmt::format("station {} joined {}, lease {}", mac.str(), ap->id, lease->ip.str()));
  return lease;
}

// The first free address of the pool, as the world's DHCP servers hand them out. A fleet of
// thousands joins one AP: the taken addresses are kept per AP, with the lowest host that may be
// free, so a lease costs a lookup, not a pass over every station.
std::optional<Lease> World::lease_for(Ap& ap, const Mac& mac) {
  if (ap.owner) return ap.owner->next_lease(mac);
  if (ap.host_network) return host_lease();  // every station shares the host's address
  const auto& n = ap.net;
  auto& l = leases_[ap.id];
  std::uint32_t host = std::max(l.low, n.pool_first);
  while (host <= n.pool_last && l.taken.contains(n.subnet.host(host).v)) ++host;
  l.low = host;  // every host of the pool below it is taken
  if (host > n.pool_last) return std::nullopt;
  return Lease{n.subnet.host(host), n.gateway, n.subnet.mask, n.dns, n.lease_minutes};
}

void World::associate(Association a) {
  if (const Ap* ap = find_ap(a.ap_id); ap && !ap->owner) leases_[a.ap_id].taken.insert(a.lease.ip.v);
  assoc_.push_back(std::move(a));
}

void World::leave(Station& sta) {
  auto it = std::find_if(assoc_.begin(), assoc_.end(), [&](const Association& a) { return a.station == &sta; });
  if (it != assoc_.end()) drop(it, false);
}

bool World::kick(std::string_view ap_id, const Mac& mac) {
  auto it = std::find_if(assoc_.begin(), assoc_.end(), [&](const Association& a) { return a.ap_id == ap_id && a.mac == mac; });
  if (it == assoc_.end()) return false;
  drop(it, true);
  return true;
}

const Association* World::association_of(const Station& sta) const {
  auto it = std::find_if(assoc_.begin(), assoc_.end(), [&](const Association& a) { return a.station == &sta; });
  return it == assoc_.end() ? nullptr : &*it;
}

void World::drop(std::vector<Association>::iterator it, bool notify_station) {
  Association gone = *it;
  assoc_.erase(it);
  dropped(gone, notify_station);
}

// What follows an association's end: its lease freed, the softAP and the station told.
void World::dropped(const Association& gone, bool notify_station) {
  if (auto l = leases_.find(gone.ap_id); l != leases_.end() && l->second.taken.erase(gone.lease.ip.v))
    l->second.low = 0;  // its host is free again: the next lease looks from the pool's start
  if (Ap* ap = find_ap(gone.ap_id); ap && ap->owner) ap->owner->station_left(gone.mac);
  if (notify_station && gone.station) gone.station->link_lost();
  changed(fmt::format("station {} {} {}", gone.mac.str(), notify_station ? "dropped by" : "left", gone.ap_id));
}

void World::drop_all(std::string_view ap_id) {
  // All of them out of the list in one pass (10,000 stations of one AP: one move each, not a
  // search and an erase each), then each told, in the order they joined.
  const std::string id(ap_id);
  auto first = std::stable_partition(assoc_.begin(), assoc_.end(), [&](const Association& a) { return a.ap_id != id; });
  std::vector<Association> gone(std::make_move_iterator(first), std::make_move_iterator(assoc_.end()));
  assoc_.erase(first, assoc_.end());
  for (const auto& a : gone) dropped(a, true);
}

int World::trigger_smartconfig(std::string_view phone_id) {
  auto phone = std::find_if(phones_.begin(), phones_.end(), [&](const SmartPhone& p) { return p.id == phone_id; });
  if (phone == phones_.end()) return -1;
  SmartPhone p = *phone;
  changed(fmt::format("smartconfig phone {} sends {}", p.id, p.ssid));
  auto listeners = smart_;  // a listener may stop listening while it runs
  for (auto& [sta, f] : listeners) f(p);
  return int(listeners.size());
}

int World::push_wps(std::string_view ap_id) {
  const Ap* ap = find_ap(ap_id);
  if (!ap || !ap->up || !ap->wps) return -1;
  Ap copy = *ap;
  changed(fmt::format("wps button of {} pressed", copy.id));
  auto listeners = wps_;
  for (auto& [sta, f] : listeners)
    if (f(copy)) return 1;  // PBC gives the credentials to one enrollee
  return 0;
}

NetFaults World::module_faults(int index) const {
  auto it = module_faults_.find(index);
  return it == module_faults_.end() ? NetFaults{} : it->second;
}

void World::set_module_faults(int index, const NetFaults& f) {
  if (f == module_faults(index)) return;
  if (f.any()) module_faults_[index] = f;
  else module_faults_.erase(index);
  changed(fmt::format("module m{} faults {}", index, f.describe()));
  faults_changed();
}

void World::faults_changed() {
  auto watchers = fault_watchers_;  // a watcher may unwatch
  for (auto& [key, f] : watchers) f();
}

bool World::lose(double p) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return std::uniform_real_distribution<double>(0, 1)(rng_) < p;
}

std::optional<Ipv4> World::resolve(std::string_view name) const {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string n = lower(name);
  for (const auto& [k, v] : dns_)
    if (lower(k) == n) return v;
  for (const auto& [owner, e] : mdns_)
    if (lower(e.host) + ".local" == n && !e.ip.is_zero()) return e.ip;
  return std::nullopt;
}

std::optional<HttpUrl> HttpUrl::parse(std::string_view url) {
  HttpUrl u;
  if (url.starts_with("http://")) url.remove_prefix(7);
  else if (url.starts_with("https://")) url.remove_prefix(8), u.https = true, u.port = 443;
  else return std::nullopt;
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  u.path = slash == std::string_view::npos ? "" : std::string(url.substr(slash));
  while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
  if (authority.find_first_of("@?#[]") != std::string_view::npos) return std::nullopt;  // no users, IPv6 literals
  if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    const auto digits = authority.substr(colon + 1);
    if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string_view::npos)
      return std::nullopt;
    u.port = std::stoi(std::string(digits));
    if (u.port < 1 || u.port > 65535) return std::nullopt;
    authority = authority.substr(0, colon);
  }
  if (authority.empty() || u.path.find_first_of(" \r\n?#") != std::string::npos) return std::nullopt;
  u.host = std::string(authority);
  return u;
}

std::string HttpUrl::origin() const { return (https ? "https://" : "http://") + host + ":" + std::to_string(port); }

BlePeer* World::find_ble_peer(std::string_view id) {
  for (auto& p : ble_peers_)
    if (p->id() == id) return p.get();
  return nullptr;
}

BlePeer& World::add_ble_peer(BlePeerSpec spec) {
  ble_peers_.push_back(std::make_unique<BlePeer>(ble, std::move(spec)));
  changed("ble peer " + ble_peers_.back()->id() + " added");
  return *ble_peers_.back();
}

bool World::remove_ble_peer(std::string_view id) {
  auto it = std::find_if(ble_peers_.begin(), ble_peers_.end(), [&](const auto& p) { return p->id() == id; });
  if (it == ble_peers_.end()) return false;
  ble_peers_.erase(it);
  changed(fmt::format("ble peer {} removed", id));
  return true;
}

}  // namespace espat::sim
