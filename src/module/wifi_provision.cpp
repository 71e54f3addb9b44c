// Provisioning the station from outside, and announcing it: SmartConfig (spec 3.2.22-3.2.23,
// the messages of 3.17 / protocol-rules §3), WPS push button (3.2.24) and mDNS (3.2.25).
// The phones and WPS buttons are the world's (sim::World::trigger_smartconfig, push_wps).
#include <algorithm>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "module/context.hpp"
#include "module/wifi.hpp"
#include "module/wifi_settings.hpp"

namespace espat::module {

using namespace std::chrono_literals;

struct Wifi::Smart {
  int type = 3, auth_floor = 0;
  std::string key;
  bool stopped = false;  // AT+CWSTOPSMART came while a join ran: its outcome is not printed
};

struct Wifi::Wps {
  int auth_floor;
};

namespace {
// The spelling of "smartconfig type:<x>" (the firmware's examples: ESPTOUCH, AIRKISS, ESPTOUCH_V2).
const char* smart_type_name(int type) {
  switch (type) {
    case 1: return "ESPTOUCH";
    case 2: return "AIRKISS";
    case 4: return "ESPTOUCH_V2";
    default: return "UNKNOWN";
  }
}

// Type 3 listens for both ESP-TOUCH and AirKiss. An ESP-TOUCH v2 phone that encrypts needs the
// module's key to match, or the module cannot read what it sends.
bool hears(int type, const std::string& key, const sim::SmartPhone& p) {
  switch (type) {
    case 1:
    case 2: return p.type == type;
    case 3: return p.type == 1 || p.type == 2;
    case 4: return p.type == 4 && (p.key.empty() || p.key == key);
    default: return false;
  }
}
}  // namespace

// ---- SmartConfig -------------------------------------------------------------------------

bool Wifi::start_smartconfig(int type, int auth_floor, std::string v2_key) {
  if (!station_on() || smartconfig_running()) return false;
  auto sc = std::make_shared<Smart>(Smart{type, auth_floor, type == 4 ? std::move(v2_key) : std::string()});
  smart_ = sc;
  world_.listen_smartconfig(*this, [this, sc](const sim::SmartPhone& phone) {
    if (!hears(sc->type, sc->key, phone)) return;
    // One phone's credentials end the listening; the join keeps sc alive until it is done.
    world_.stop_smartconfig(*this);
    station_.start([this, sc, phone](async::StopToken stop) { return smart_join(sc, phone, stop); });
  });
  return true;
}

void Wifi::stop_smartconfig() {
  if (auto sc = smart_.lock()) sc->stopped = true;
  world_.stop_smartconfig(*this);
}

// A restart, a mode change or AT+CWQAP meanwhile stops the run: nothing more is printed.
asio::awaitable<void> Wifi::smart_join(std::shared_ptr<Smart> sc, sim::SmartPhone phone, async::StopToken stop) {
  report(fmt::format("smartconfig type:{}\r\n", smart_type_name(phone.type)));
  report("Smart get wifi info\r\n");
  report(fmt::format("ssid:{}\r\n", phone.ssid));
  report(fmt::format("password:{}\r\n", phone.password));
  if (phone.type == 4 && !phone.reserved_data.empty())
    report(fmt::format("+SCRD:{},\"{}\"\r\n", phone.reserved_data.size(), phone.reserved_data));

  StationConfig cfg;
  cfg.ssid = phone.ssid;
  cfg.password = phone.password;
  cfg.bssid = phone.bssid;
  const auto error = co_await join_provisioned(std::move(cfg), sc->auth_floor, stop);
  if (sc->stopped) co_return;
  report(error == sim::JoinError::None ? "smartconfig connected wifi\r\n" : "smartconfig connect fail\r\n");
}

// Credentials from outside (SmartConfig, BluFi) become the station configuration, saved as
// AT+CWJAP saves it, and are joined. <auth floor>: APs below it are not there for the station;
// when only some of the APs with this SSID qualify, the strongest of those is pinned by its BSSID.
asio::awaitable<sim::JoinError> Wifi::join_provisioned(StationConfig cfg, int auth_floor, async::StopToken stop) {
  std::vector<const sim::Ap*> seen, good;
  for (const sim::Ap* ap : world_.scan())
    if (ap->ssid == cfg.ssid && (!cfg.bssid || ap->bssid == *cfg.bssid) && ap->owner != this) seen.push_back(ap);
  std::copy_if(seen.begin(), seen.end(), std::back_inserter(good),
               [&](const sim::Ap* ap) { return int(ap->security) >= auth_floor; });
  if (!good.empty() && good.size() < seen.size() && !cfg.bssid)
    cfg.bssid = (*std::max_element(good.begin(), good.end(), [](auto* a, auto* b) { return a->rssi < b->rssi; }))->bssid;

  s_.station = cfg;
  save_wifi_station(ctx_, s_);

  auto error = sim::JoinError::NotFound;
  const bool was = link_.has_value() || state_ == StationState::Connecting;
  lose_link(true);
  if (!good.empty() || seen.empty()) {
    error = co_await attempt(cfg, 15s, stop);
  } else {
    if (was) state_ = StationState::Disconnected;
    co_await stop.sleep(io_, world_.scan_time);  // a scan that finds no acceptable AP
  }
  co_return error;
}

void Wifi::provision(StationConfig cfg, int auth_floor, std::function<void(sim::JoinError)> done) {
  station_.start([this, cfg = std::move(cfg), auth_floor, done = std::move(done)](async::StopToken stop) {
    return provision_join(cfg, auth_floor, done, stop);
  });
}

asio::awaitable<void> Wifi::provision_join(StationConfig cfg, int auth_floor, std::function<void(sim::JoinError)> done,
                                           async::StopToken stop) {
  const auto error = co_await join_provisioned(std::move(cfg), auth_floor, stop);
  done(error);
}

// ---- WPS ---------------------------------------------------------------------------------

bool Wifi::start_wps(int auth_floor) {
  if (!station_on()) return false;
  stop_wps();  // AT+WPS=1 again starts a new walk time
  auto wps = std::make_shared<Wps>(Wps{auth_floor});
  wps_ = wps;
  world_.listen_wps(*this, [this, wps](const sim::Ap& ap) {
    // 3.2.24 notes: no WEP; an enterprise AP has no PSK to hand out; <auth floor>.
    if (ap.security == sim::Security::Wep || ap.security == sim::Security::Wpa2Enterprise ||
        int(ap.security) < wps->auth_floor)
      return false;
    world_.stop_wps(*this);  // PBC gives one credential, then WPS is over
    wps_walk_.stop();
    station_.start([this, ap](async::StopToken stop) { return wps_join(ap, stop); });
    return true;
  });
  // The walk time: then the station stops listening, silently, as the firmware's AT+WPS
  // prints nothing then.
  wps_walk_.start([this](async::StopToken stop) -> asio::awaitable<void> {
    co_await stop.sleep(io_, wps_walk_time);
    world_.stop_wps(*this);
  });
  return true;
}

void Wifi::stop_wps() {
  wps_walk_.stop();
  world_.stop_wps(*this);
}

asio::awaitable<void> Wifi::wps_join(sim::Ap ap, async::StopToken stop) {
  StationConfig cfg;
  cfg.ssid = ap.ssid;
  cfg.password = ap.password;
  s_.station = cfg;
  save_wifi_station(ctx_, s_);
  lose_link(true);
  co_await attempt(cfg, 15s, stop);  // WIFI CONNECTED, WIFI GOT IP are all the firmware prints
}

// ---- mDNS --------------------------------------------------------------------------------

bool Wifi::start_mdns(const std::string& host, const std::string& service, int port) {
  sim::Ipv4 ip;
  if (station_on() && link_) ip = station_ip().ip;
  else if (softap_on()) ip = s_.ap_ip.ip;
  else return false;
  s_.mdns = true;
  s_.mdns_entry = {host, service, port, ip};
  world_.mdns_register(this, s_.mdns_entry);
  return true;
}

void Wifi::stop_mdns() {
  s_.mdns = false;
  world_.mdns_unregister(this);
}

}  // namespace espat::module
