// The radio world every module of a process shares (BRIEF "The world"; issue 4): the access
// points that can be scanned and joined, the modules' own softAPs, SmartConfig and WPS
// "phones", and the names the world resolves. It lives on the event loop; modules and the
// control API change it there, and it tells the stations and softAPs concerned.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "sim/addr.hpp"
#include "sim/ble_peer.hpp"
#include "sim/faults.hpp"

namespace espat::sim {

// <ecn> of AT+CWLAP (spec 3.2.8).
enum class Security { Open, Wep, WpaPsk, Wpa2Psk, WpaWpa2Psk, Wpa2Enterprise, Wpa3Psk, Wpa2Wpa3Psk, WapiPsk, Owe };
inline constexpr int kSecurityCount = 10;
const char* security_name(Security s);  // "WPA2_PSK", the guide's spelling
std::optional<Security> security_from_name(std::string_view name);

// A WPA2-Enterprise account (AT+CWJEAP, spec 3.2.26). method: 0 EAP-TLS, 1 PEAP, 2 TTLS.
struct EapAccount {
  int method = 1;
  std::string identity, username, password;
};

// What DHCP hands out on a network.
struct Lease {
  Ipv4 ip, gateway, netmask;
  std::vector<Ipv4> dns;
  int minutes = 120;
};

struct Network {
  Subnet subnet;
  Ipv4 gateway;
  std::vector<Ipv4> dns;
  int lease_minutes = 120;
  std::uint32_t pool_first = 100, pool_last = 200;  // host numbers inside the subnet
};

class SoftApHost;

struct Ap {
  std::string id;    // the control API's name for it; unique
  std::string ssid;  // raw bytes: commas, quotes and backslashes allowed
  Mac bssid;
  int channel = 1;
  int rssi = -50;
  Security security = Security::Wpa2Psk;
  std::string password;
  std::vector<EapAccount> eap;   // WPA2_ENTERPRISE: the accounts the RADIUS server accepts
  int pairwise_cipher = 4, group_cipher = 4;  // 4 = CCMP (spec 3.2.8)
  int bgn = 7;                   // bit 0 b, 1 g, 2 n
  bool wps = false;              // WPS supported (the <wps> flag of AT+CWLAP)
  bool hidden = false;
  bool up = true;
  int pmf = 1;                   // bit 0 capable, bit 1 required
  int max_stations = 10;
  Network net;
  std::chrono::milliseconds join_time{200};  // association + DHCP
  // Fault injection: "" behaves; "timeout" never answers; "reject" refuses association.
  std::string fault;
  // The host network model: stations get the host's own address (sim/host_net.hpp), not one
  // of `net`, so their sockets use the host's real network.
  bool host_network = false;
  NetFaults faults;              // what the AP does to its stations' traffic (README "Network faults")
  SoftApHost* owner = nullptr;   // set when this AP is a module's softAP
};

// What a module's station shows the world.
class Station {
 public:
  virtual ~Station() = default;
  virtual Mac station_mac() const = 0;
  // The link is gone: the AP went down, kicked the station, or changed its security.
  virtual void link_lost() = 0;
};

// What a module's softAP shows the world (the AP itself is an Ap entry with owner = this).
class SoftApHost {
 public:
  virtual ~SoftApHost() = default;
  // A station associated and was given ip (spec 3.17: +STA_CONNECTED, +DIST_STA_IP).
  virtual void station_joined(const Mac& mac, Ipv4 ip) = 0;
  virtual void station_left(const Mac& mac) = 0;
  // The lease this softAP's DHCP server gives the next station (AT+CWDHCPS); nullopt: none left.
  virtual std::optional<Lease> next_lease(const Mac& mac) = 0;
};

// AT+CWJAP's failure codes (spec 3.2.5).
enum class JoinError { None = 0, Timeout = 1, WrongPassword = 2, NotFound = 3, Failed = 4 };

struct JoinRequest {
  std::string ssid;
  std::string password;
  std::optional<Mac> bssid;
  bool pci_en = false;        // refuse OPEN and WEP
  bool strongest = false;     // scan_mode 1: the strongest of the matching APs
  int pmf = 1;
  std::optional<EapAccount> eap;  // AT+CWJEAP
};

// The decision for a join, made when the attempt starts.
struct JoinPlan {
  JoinError error = JoinError::None;
  std::string ap_id;                     // the AP chosen
  std::chrono::milliseconds delay{0};    // until the answer (or forever, for timeout)
};

// A station seen from the AP side (the control API, AT+CWLIF).
struct Association {
  Station* station = nullptr;   // null for a station injected through the control API
  Mac mac;
  std::string ap_id;
  Lease lease;
};

// A phone that sends credentials by SmartConfig (ESP-TOUCH, AirKiss, ESP-TOUCH v2).
struct SmartPhone {
  std::string id;
  int type = 1;  // 1 ESP-TOUCH, 2 AirKiss, 4 ESP-TOUCH v2
  std::string ssid, password;
  std::optional<Mac> bssid;
  std::string reserved_data;  // ESP-TOUCH v2 only: +SCRD
  std::string key;            // ESP-TOUCH v2 decryption key the module must be given
};

// An mDNS registration (AT+MDNS, spec 3.2.25).
struct MdnsEntry {
  std::string host, service;
  int port = 0;
  Ipv4 ip;
};

// espat's own OTA server (AT+CIPFWVER, AT+CIUPDATE; README "OTA server"): the firmware asks
// Espressif's cloud, a module of espat asks the base URLs the world names. `url` serves
// <ota mode> 0 and AT+CIPFWVER, `ssl_url` <ota mode> 1 (the firmware's two servers,
// CONFIG_AT_OTA_SERVER_* and CONFIG_AT_OTA_SSL_SERVER_*). Empty: no server reachable.
struct OtaServer {
  std::string url, ssl_url;
  std::chrono::seconds timeout{180};  // spec 3.3.24 note: the whole OTA takes at most 3 minutes
};

// "http[s]://host[:port][/path]", split; path without its trailing '/'.
struct HttpUrl {
  bool https = false;
  std::string host;
  int port = 80;
  std::string path;
  static std::optional<HttpUrl> parse(std::string_view url);
  std::string origin() const;  // "http://host:port"
};

class World {
 public:
  // A full scan of all channels (AT+CWLAP, and a join that finds nothing).
  std::chrono::milliseconds scan_time{500};
  // The UDP port the modules' SNTP client asks (AT+CIPSNTPCFG): 123, or a test's own server.
  int sntp_port = 123;
  // The UDP port the modules' resolver asks the servers of AT+CIPDNS=1 on: 53, or a test's own.
  int dns_port = 53;

  // ---- access points ---------------------------------------------------------------------
  const std::vector<Ap>& aps() const { return aps_; }
  Ap* find_ap(std::string_view id);
  const Ap* find_ap_by_bssid(const Mac& bssid) const;
  // Adds an AP; fails (false) when the id or BSSID is taken.
  bool add_ap(Ap ap);
  // Replaces an AP's settings. Stations lose their link when it goes down, or when its SSID,
  // security or password changes, as a real AP restarting with new settings drops them.
  bool update_ap(const Ap& ap);
  bool remove_ap(std::string_view id);

  // What a scan on `channel` (0: all) sees: APs that are up; hidden ones with an empty SSID.
  std::vector<const Ap*> scan(int channel = 0) const;

  // ---- stations --------------------------------------------------------------------------
  JoinPlan plan_join(const JoinRequest& req) const;
  // Completes a join after plan.delay: checks again (the AP may have changed meanwhile) and
  // hands out a lease. Fills `error` on failure.
  std::optional<Lease> join(Station& sta, const JoinRequest& req, const std::string& ap_id, JoinError& error);
  void leave(Station& sta);  // the station left of its own accord: no link_lost call
  // Drops a station (control API "kick", AT+CWQIF on a softAP). True if it was associated.
  bool kick(std::string_view ap_id, const Mac& mac);
  // A station injected through the control API joins an AP (a phone joining a softAP).
  std::optional<Lease> join_foreign(std::string_view ap_id, const Mac& mac, std::string_view password,
                                    JoinError& error);
  const std::vector<Association>& associations() const { return assoc_; }
  const Association* association_of(const Station& sta) const;

  // ---- SmartConfig and WPS ---------------------------------------------------------------
  std::vector<SmartPhone>& phones() { return phones_; }
  // A station listening for SmartConfig (AT+CWSTARTSMART) or WPS (AT+WPS=1) registers here.
  using SmartListener = std::function<void(const SmartPhone&)>;
  using WpsListener = std::function<bool(const Ap&)>;  // true: the station took the credentials
  void listen_smartconfig(Station& sta, SmartListener f) { smart_[&sta] = std::move(f); }
  void stop_smartconfig(Station& sta) { smart_.erase(&sta); }
  void listen_wps(Station& sta, WpsListener f) { wps_[&sta] = std::move(f); }
  void stop_wps(Station& sta) { wps_.erase(&sta); }
  // The phone sends its credentials; returns how many modules listened.
  int trigger_smartconfig(std::string_view phone_id);
  // The WPS button of an AP is pressed: the first listening station gets its credentials.
  int push_wps(std::string_view ap_id);

  // ---- names -----------------------------------------------------------------------------
  std::map<std::string, Ipv4>& dns() { return dns_; }  // name → address, before the host resolver
  void mdns_register(const void* owner, MdnsEntry e) { mdns_[owner] = std::move(e); }
  void mdns_unregister(const void* owner) { mdns_.erase(owner); }
  const std::map<const void*, MdnsEntry>& mdns() const { return mdns_; }
  // The world's answer for a name: its DNS entries, then "<host>.local" of the mDNS hosts.
  std::optional<Ipv4> resolve(std::string_view name) const;

  // ---- Bluetooth LE (issue 11) --------------------------------------------------------------
  // The advertisers: modules advertising (AT+BLEADVSTART) and the world file's [[ble_peer]]s.
  BleMedium ble;
  // The RSSI one module's advertisement shows another module's scan.
  int ble_module_rssi = -40;
  // The world's own peers (README "Bluetooth LE"): [[ble_peer]]s and those the control API adds.
  // An id is unique among them and the modules' "m<k>".
  BlePeer* find_ble_peer(std::string_view id);
  BlePeer& add_ble_peer(BlePeerSpec spec);
  bool remove_ble_peer(std::string_view id);
  const std::vector<std::unique_ptr<BlePeer>>& ble_peers() const { return ble_peers_; }
  // [world] ble_pacing: true, every ATT exchange waits its connection interval and SPP sends one
  // MTU - 3 piece per connection event (real-radio speed); false (default), no air time at all.
  bool ble_pacing = false;

  // ---- the OTA server ----------------------------------------------------------------------
  OtaServer ota;

  // ---- network faults (README "Network faults") --------------------------------------------
  // A module's own faults, by its index (none until set).
  NetFaults module_faults(int index) const;
  void set_module_faults(int index, const NetFaults& f);
  const std::map<int, NetFaults>& all_module_faults() const { return module_faults_; }
  // True with probability p: a datagram lost to udp_loss. Seeded by [world] seed, so a run
  // with the same traffic loses the same datagrams.
  bool lose(double p);
  // Called after any AP's or module's faults changed (a module's server listens again, or no
  // longer, where `refuse` says). The key forgets the watcher.
  void watch_faults(const void* key, std::function<void()> f) { fault_watchers_[key] = std::move(f); }
  void unwatch_faults(const void* key) { fault_watchers_.erase(key); }
  void seed(std::uint64_t s) { rng_.seed(s); }

  // ---- observers -------------------------------------------------------------------------
  // Called after any change (the control API's event list, tests).
  std::function<void(std::string_view what)> on_change;
  // An event of a module's links for the trace ("link m0 0 connect TCP ..."); nothing without
  // an observer, so callers check observed() before building the text.
  bool observed() const { return bool(on_change); }
  void note(std::string_view what) { changed(what); }

 private:
  void drop(std::vector<Association>::iterator it, bool notify_station);
  void dropped(const Association& gone, bool notify_station);
  void drop_all(std::string_view ap_id);
  std::optional<Lease> lease_for(Ap& ap, const Mac& mac);
  void associate(Association a);
  void changed(std::string_view what) {
    if (on_change) on_change(what);
  }

  std::vector<Ap> aps_;
  std::vector<Association> assoc_;
  struct Leases {
    std::set<std::uint32_t> taken;  // addresses of the AP's stations
    std::uint32_t low = 0;          // no free host of the pool below it
  };
  std::map<std::string, Leases, std::less<>> leases_;  // by AP id; softAPs lease their own
  std::vector<SmartPhone> phones_;
  std::map<Station*, SmartListener> smart_;
  std::map<Station*, WpsListener> wps_;
  std::map<std::string, Ipv4> dns_;
  std::map<const void*, MdnsEntry> mdns_;
  std::map<int, NetFaults> module_faults_;
  std::map<const void*, std::function<void()>> fault_watchers_;
  void faults_changed();
  std::mt19937_64 rng_{1};
  std::vector<std::unique_ptr<BlePeer>> ble_peers_;  // after `ble`: they go first
};

}  // namespace espat::sim
