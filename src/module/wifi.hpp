// The module's Wi-Fi (spec 3.2): its settings, its station (joins, reconnects, scans) and its
// softAP, attached to the shared sim::World. Commands in commands/wifi_*.cpp drive it; the
// reports it prints (WIFI CONNECTED, +STA_CONNECTED, ...) go through the engine.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "async/activity.hpp"
#include "sim/world.hpp"

namespace espat::module {

class Context;

// AT+CWJAP's saved configuration (spec 3.2.5).
struct StationConfig {
  std::string ssid, password;
  std::optional<sim::Mac> bssid;
  bool pci_en = false;
  int listen_interval = 3;
  int scan_mode = 0;  // 0 fast (first found), 1 all channels (strongest)
  int pmf = 1;
  std::optional<sim::EapAccount> eap;  // set by AT+CWJEAP
  int eap_security = 0;                // AT+CWJEAP <security>: bit 0 client cert, bit 1 server cert
};

// AT+CWSAP (spec 3.2.10).
struct SoftApConfig {
  std::string ssid;  // empty: "ESP_" + the last three bytes of the softAP MAC
  std::string password;
  int channel = 1, ecn = 0, max_conn = 4, hidden = 0;
};

struct IpConfig {
  sim::Ipv4 ip, gateway, netmask;
};

// AT+CWDHCPS (spec 3.2.14).
struct DhcpServerConfig {
  bool custom = false;  // false: the default range
  int lease_minutes = 120;
  sim::Ipv4 first, last;
};

// AT+CWLAPOPT (spec 3.2.7): not saved.
struct ScanOptions {
  bool sort_by_rssi = false;
  int print_mask = 0x7FF;
  int rssi_filter = -100;
  int auth_mask = 0xFFFF;
};

// Every Wi-Fi setting. The saved ones follow AT+SYSSTORE (spec 3.16); AT+RESTORE erases them.
struct WifiSettings {
  bool initialized = true;  // AT+CWINIT: never saved, 1 again at boot
  int mode = 1;             // AT+CWMODE: 0 off, 1 station, 2 softAP, 3 both
  std::optional<StationConfig> station;  // the AP to join; none before the first AT+CWJAP
  SoftApConfig softap;
  int reconn_interval = 0, reconn_count = 0;  // AT+CWRECONNCFG
  bool autoconn = true;                       // AT+CWAUTOCONN, always saved
  int dhcp = 3;                               // AT+CWDHCP: bit 0 station, bit 1 softAP
  sim::Mac sta_mac, ap_mac;
  std::optional<IpConfig> sta_static;         // AT+CIPSTA
  IpConfig ap_ip;                             // AT+CIPAP
  DhcpServerConfig dhcps;
  int sta_proto = 7, ap_proto = 7;            // AT+CWSTAPROTO / AT+CWAPPROTO: b/g/n
  ScanOptions scan;
  std::string hostname = "espressif";        // AT+CWHOSTNAME, not saved
  int country_policy = 0;                     // AT+CWCOUNTRY, not saved; from factory parameters
  std::string country = "CN";
  int start_channel = 1, channel_count = 13;
  bool mdns = false;                          // AT+MDNS
  sim::MdnsEntry mdns_entry;
};

// Where a module's addresses come from: fixed per module so that restarts keep them.
struct WifiIdentity {
  sim::Mac base_mac;          // the eFuse MAC: station = base, softAP = base + 1
  sim::Subnet softap_subnet;  // the softAP's default network (127.64.0.0/24 for module 0)
};

// AT+CWSTATE's <state> (spec 3.2.4).
enum class StationState { Idle = 0, ConnectedNoIp = 1, GotIp = 2, Connecting = 3, Disconnected = 4 };

class Wifi final : public sim::Station, public sim::SoftApHost {
 public:
  Wifi(asio::io_context& io, Context& ctx, sim::World& world, WifiIdentity id);
  ~Wifi() override;

  WifiSettings& settings() { return s_; }
  const WifiIdentity& identity() const { return id_; }
  sim::World& world() { return world_; }

  // ---- life cycle ------------------------------------------------------------------------
  // Defaults for a module that has saved nothing (also what AT+RESTORE brings back).
  WifiSettings defaults() const;
  // After the settings were loaded at boot: radio up in the saved mode, softAP published,
  // auto-connect to the saved AP (spec 3.2.15).
  void start();
  // Reset, deep sleep, AT+CWINIT=0, shutdown: the radio goes quiet, silently.
  void stop();

  // ---- mode (AT+CWMODE) ------------------------------------------------------------------
  bool station_on() const { return s_.initialized && (s_.mode & 1); }
  bool softap_on() const { return s_.initialized && (s_.mode & 2); }
  // Switches the mode; with auto_connect the station joins the saved AP when it comes up.
  void set_mode(int mode, bool auto_connect);

  // ---- what TCP/IP hears of the addresses (module/net.hpp) ---------------------------------
  std::function<void(sim::Ipv4)> on_address_lost;  // the station's address is gone
  std::function<void()> on_address_gained;         // an interface has an address now

  // ---- station ---------------------------------------------------------------------------
  StationState state() const { return state_; }
  // AT+CWJAP: joins cfg, printing WIFI DISCONNECT / WIFI CONNECTED / WIFI GOT IP as they
  // happen. Returns the +CWJAP error code, None on success. Cancels any background attempt;
  // `stop` is the command's (a reset ends the join).
  asio::awaitable<sim::JoinError> join(StationConfig cfg, std::chrono::seconds timeout, async::StopToken stop);
  // AT+CWQAP: leaves the AP (WIFI DISCONNECT if connected) and stops reconnecting.
  void disconnect();
  // The AP the station is associated with, and its lease.
  struct Link {
    sim::Ap ap;
    sim::Lease lease;
  };
  const std::optional<Link>& link() const { return link_; }
  // The station's IPv4 configuration now: static, leased, or zeros.
  IpConfig station_ip() const;
  // The SSID of the AP the station is joined to or trying to join (AT+CWSTATE).
  std::string target_ssid() const;
  // AT+CWLAP: waits for a scan and returns what it saw.
  asio::awaitable<std::vector<sim::Ap>> scan(int channel, async::StopToken stop);

  // ---- softAP (wifi_softap.cpp) -------------------------------------------------------------
  // Publishes, updates or withdraws this module's AP in the world after a setting changed.
  void apply_softap();
  std::string softap_ssid() const;  // the configured SSID or the default "ESP_XXXXXX"
  std::string softap_id() const;    // its id in the world
  struct Client {
    sim::Mac mac;
    sim::Ipv4 ip;
  };
  std::vector<Client> softap_clients() const;
  // AT+CWQIF: disconnects one station, or all.
  void softap_kick(std::optional<sim::Mac> mac);

  // ---- sim::Station ------------------------------------------------------------------------
  sim::Mac station_mac() const override { return s_.sta_mac; }
  void link_lost() override;

  // ---- sim::SoftApHost ---------------------------------------------------------------------
  void station_joined(const sim::Mac& mac, sim::Ipv4 ip) override;
  void station_left(const sim::Mac& mac) override;
  std::optional<sim::Lease> next_lease(const sim::Mac& mac) override;

 private:
  sim::JoinRequest request(const StationConfig& cfg) const;
  // One attempt: wait, associate, get an address. Prints the reports. Ends (async::Stopped)
  // when its run is stopped by a newer join, a disconnect or a reset while it waits.
  asio::awaitable<sim::JoinError> attempt(StationConfig cfg, std::chrono::milliseconds timeout, async::StopToken stop);
  // Background joining: auto-connect at boot, after a mode change, and reconnecting after a
  // loss, as AT+CWRECONNCFG says.
  void start_background(bool first_attempt_now);
  asio::awaitable<void> background(async::StopToken stop, bool first_attempt_now);
  void lose_link(bool report);
  void report(std::string_view line);

  asio::io_context& io_;
  Context& ctx_;
  sim::World& world_;
  WifiIdentity id_;
  WifiSettings s_;
  StationState state_ = StationState::Idle;
  std::optional<Link> link_;
  std::string target_ssid_;
  // The station's background work: auto-connect, reconnecting, a SmartConfig or WPS join.
  async::Activity station_;
  bool softap_published_ = false;
  std::vector<Client> clients_;

  // ==== provisioning: SmartConfig, WPS, mDNS (wifi_provision.cpp; spec 3.2.22-3.2.25) ========
 public:
  // AT+CWSTARTSMART: listens for a SmartConfig phone of `type` (1 ESP-TOUCH, 2 AirKiss, 3 both,
  // 4 ESP-TOUCH v2 with `v2_key`, "" for none). The phone's AP becomes the saved station
  // configuration and is joined unless its security is below auth_floor (<ecn> numbering).
  // False when the station is off or SmartConfig already runs.
  bool start_smartconfig(int type, int auth_floor, std::string v2_key);
  void stop_smartconfig();  // AT+CWSTOPSMART
  bool smartconfig_running() const { return !smart_.expired(); }
  // AT+WPS=1: waits wps_walk_time for an AP's WPS button (sim::World::push_wps). False when the
  // station is off. AT+WPS=0: stop_wps().
  bool start_wps(int auth_floor);
  void stop_wps();
  bool wps_running() const { return !wps_.expired(); }
  // BluFi's "connect to AP" (3.4.45): cfg becomes the saved station configuration and is joined
  // in the background (WIFI CONNECTED... as ever) unless its security is below auth_floor;
  // `done` gets the outcome. A restart or another join ends it without calling `done`.
  void provision(StationConfig cfg, int auth_floor, std::function<void(sim::JoinError)> done);
  std::chrono::milliseconds wps_walk_time{std::chrono::seconds(120)};  // WPS PBC walk time
  // AT+MDNS: announces host.local at the station's address, else the softAP's. False when
  // neither has one.
  bool start_mdns(const std::string& host, const std::string& service, int port);
  void stop_mdns();

 private:
  struct Smart;
  struct Wps;
  asio::awaitable<void> smart_join(std::shared_ptr<Smart> sc, sim::SmartPhone phone, async::StopToken stop);
  asio::awaitable<void> wps_join(sim::Ap ap, async::StopToken stop);
  asio::awaitable<sim::JoinError> join_provisioned(StationConfig cfg, int auth_floor, async::StopToken stop);
  asio::awaitable<void> provision_join(StationConfig cfg, int auth_floor, std::function<void(sim::JoinError)> done,
                                       async::StopToken stop);
  async::Activity wps_walk_;  // AT+WPS=1 listens for wps_walk_time
  std::weak_ptr<Smart> smart_;  // alive while the world holds the listener (or a join runs)
  std::weak_ptr<Wps> wps_;
  // ==== end of provisioning ====================================================================
};

}  // namespace espat::module
