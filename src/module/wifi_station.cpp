// The module's Wi-Fi life cycle and its station: joining (AT+CWJAP, auto-connect), losing the
// link and reconnecting (AT+CWRECONNCFG), scanning (AT+CWLAP). Spec 3.2.3-3.2.9, 3.2.15.
#include <algorithm>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "module/context.hpp"
#include "module/net.hpp"
#include "module/wifi.hpp"

namespace espat::module {

using namespace std::chrono_literals;

Wifi::Wifi(asio::io_context& io, Context& ctx, sim::World& world, WifiIdentity id)
    : io_(io), ctx_(ctx), world_(world), id_(id), s_(defaults()), station_(io), wps_walk_(io) {}

Wifi::~Wifi() { stop(); }

WifiSettings Wifi::defaults() const {
  WifiSettings d;
  d.sta_mac = id_.base_mac;
  d.ap_mac = id_.base_mac.plus(1);
  d.ap_ip = {id_.softap_subnet.host(1), id_.softap_subnet.host(1), id_.softap_subnet.mask};
  const auto& f = ctx_.factory();
  d.country = f.country_code;
  d.start_channel = f.start_channel;
  d.channel_count = f.channel_num;
  return d;
}

void Wifi::start() {
  state_ = StationState::Idle;
  apply_softap();
  if (station_on() && s_.autoconn && s_.station) start_background(true);
}

void Wifi::stop() {
  station_.stop();
  wps_walk_.stop();
  world_.leave(*this);
  world_.stop_smartconfig(*this);
  world_.stop_wps(*this);
  world_.mdns_unregister(this);
  link_.reset();
  state_ = StationState::Idle;
  target_ssid_.clear();
  if (softap_published_) world_.remove_ap(softap_id());
  softap_published_ = false;
  clients_.clear();
}

void Wifi::set_mode(int mode, bool auto_connect) {
  const int old = s_.initialized ? s_.mode : 0;
  s_.mode = mode;
  if ((old & 1) && !(mode & 1)) {
    station_.stop();
    lose_link(true);
    world_.stop_smartconfig(*this);
    world_.stop_wps(*this);
    state_ = StationState::Idle;
    target_ssid_.clear();
  }
  apply_softap();
  if (!(old & 1) && (mode & 1) && auto_connect && s_.station) start_background(true);
}

sim::JoinRequest Wifi::request(const StationConfig& c) const {
  return {c.ssid, c.password, c.bssid, c.pci_en, c.scan_mode == 1, c.pmf, c.eap};
}

asio::awaitable<sim::JoinError> Wifi::join(StationConfig cfg, std::chrono::seconds timeout, async::StopToken stop) {
  station_.stop();
  lose_link(true);
  co_return co_await attempt(std::move(cfg), timeout, stop);
}

asio::awaitable<sim::JoinError> Wifi::attempt(StationConfig cfg, std::chrono::milliseconds timeout,
                                              async::StopToken stop) {
  target_ssid_ = cfg.ssid;
  state_ = StationState::Connecting;
  const auto req = request(cfg);
  const auto plan = world_.plan_join(req);
  co_await stop.sleep(io_, std::min(plan.delay, timeout));
  if (plan.delay > timeout) {
    state_ = StationState::Disconnected;
    co_return sim::JoinError::Timeout;
  }
  sim::JoinError error = sim::JoinError::None;
  auto lease = world_.join(*this, req, plan.ap_id, error);
  if (!lease) {
    state_ = StationState::Disconnected;
    co_return error;
  }
  link_ = Link{*world_.find_ap(plan.ap_id), *lease};
  state_ = StationState::ConnectedNoIp;
  report("WIFI CONNECTED\r\n");
  state_ = StationState::GotIp;
  report("WIFI GOT IP\r\n");
  // 3.2.5: the link-local IPv6 address comes from the MAC, without the AP (AT+CIPV6=1).
  if (ctx_.net().settings().ipv6) report("WIFI GOT IPv6 LL\r\n");
  if (on_address_gained) on_address_gained();
  co_return sim::JoinError::None;
}

void Wifi::start_background(bool first_attempt_now) {
  station_.start([this, first_attempt_now](async::StopToken stop) { return background(stop, first_attempt_now); });
}

asio::awaitable<void> Wifi::background(async::StopToken stop, bool first_attempt_now) {
  for (int tries = 0;; ++tries) {
    if (!first_attempt_now || tries > 0) {
      // AT+CWRECONNCFG (3.2.6): interval 0 never reconnects; count 0 tries for ever.
      if (s_.reconn_interval == 0 || (s_.reconn_count > 0 && tries >= s_.reconn_count)) co_return;
      state_ = StationState::Connecting;  // 3.2.4: 3 is "connecting or reconnecting", waits included
      co_await stop.sleep(io_, std::chrono::seconds(s_.reconn_interval));
    }
    if (!s_.station || !station_on()) co_return;
    if (co_await attempt(*s_.station, 15s, stop) == sim::JoinError::None) co_return;
  }
}

void Wifi::disconnect() {
  station_.stop();
  const bool was = link_.has_value() || state_ == StationState::Connecting;
  lose_link(true);
  if (was) state_ = StationState::Disconnected;
}

void Wifi::lose_link(bool report_it) {
  world_.leave(*this);
  if (!link_) return;
  const auto ip = station_ip().ip;
  link_.reset();
  state_ = StationState::Disconnected;
  if (report_it) report("WIFI DISCONNECT\r\n");
  if (on_address_lost) on_address_lost(ip);
}

void Wifi::link_lost() {
  if (!link_) return;
  const auto ip = station_ip().ip;
  link_.reset();
  state_ = StationState::Disconnected;
  report("WIFI DISCONNECT\r\n");
  if (on_address_lost) on_address_lost(ip);
  if (station_on() && s_.station && s_.reconn_interval > 0) start_background(false);
}

IpConfig Wifi::station_ip() const {
  if (s_.sta_static && !(s_.dhcp & 1)) return *s_.sta_static;
  if (link_) return {link_->lease.ip, link_->lease.gateway, link_->lease.netmask};
  return {};
}

std::string Wifi::target_ssid() const { return link_ ? link_->ap.ssid : target_ssid_; }

asio::awaitable<std::vector<sim::Ap>> Wifi::scan(int channel, async::StopToken stop) {
  co_await stop.sleep(io_, channel ? std::max(world_.scan_time / 13, 10ms) : world_.scan_time);
  std::vector<sim::Ap> seen;
  const int first = s_.start_channel, last = s_.start_channel + s_.channel_count - 1;
  for (const sim::Ap* ap : world_.scan(channel)) {
    if (ap->owner == this) continue;  // a radio does not hear its own beacon
    if (ap->channel < first || ap->channel > last) continue;  // outside the country's channels
    seen.push_back(*ap);
    if (ap->hidden) seen.back().ssid.clear();
  }
  co_return seen;
}

void Wifi::report(std::string_view line) {
  // 3.1.15: during passthrough, status messages reach the host only with AT+SYSMSG bit 2.
  if (ctx_.engine().in_passthrough() && !(ctx_.state().sysmsg & 4)) return;
  ctx_.engine().report(std::string(line));
}

}  // namespace espat::module
