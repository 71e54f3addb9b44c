// The module as a BluFi device (spec 3.4.45-3.4.47; ESP-IDF docs api-guides/blufi; README
// "Bluetooth LE", BluFi): AT+BLUFI=1 serves the BluFi service (0xFFFF: the phone writes frames
// to 0xFF01, the module notifies its own on 0xFF02) and advertises it under AT+BLUFINAME's name.
// A phone negotiates a key (DH), sets the security mode, sends the station's SSID and password
// and asks to connect: the station joins as AT+CWJAP does (WIFI CONNECTED, WIFI GOT IP) and the
// phone gets the Wi-Fi connection state report. Custom data goes both ways (+BLUFIDATA,
// AT+BLUFISEND). The frames themselves are sim/blufi.hpp's.
#include <fmt/format.h>

#include "module/ble.hpp"
#include "module/context.hpp"
#include "module/wifi.hpp"
#include "sim/blufi_dh.hpp"
#include "sim/blufi_payload.hpp"

namespace espat::module {

namespace bf = sim::blufi;

struct Ble::Blufi {
  int auth_floor = 0;
  bf::Channel channel{true};
  bf::DhDevice dh;
  StationConfig station;  // what the phone sent
};

namespace {
constexpr int kPhoneToDevice = 1, kDeviceToPhone = 2;  // the characteristics of service 1

sim::GattDb blufi_services() {
  using namespace sim::gatt_prop;
  const int rw = sim::gatt_perm::read | sim::gatt_perm::write;
  sim::GattService s{"FFFF", true, true, {}, {}};
  s.chars = {{"FF01", write, rw, 512, {}, {}},
             {"FF02", read | notify, sim::gatt_perm::read, 512, {}, {{"2902", rw, 2, std::string(2, '\0')}}}};
  return sim::GattDb{{s}};
}
}  // namespace

bool Ble::blufi_start(int auth_floor) {
  if (s_.role != 0 || hid_) return false;
  if (!blufi_) {
    blufi_ = std::make_shared<Blufi>();
    gatt_ = blufi_services();
    s_.sec = sim::BleSecParams{};
    blufi_advertise();
  }
  blufi_->auth_floor = auth_floor;
  return true;
}

bool Ble::blufi_stop() {
  if (s_.role != 0) return false;
  if (!blufi_) return true;
  blufi_.reset();  // first: the links' ends below are not BluFi's any more
  drop_links();
  world_.ble.stop(id_);
  gatt_.reset();
  return true;
}

void Ble::blufi_advertise() {
  // Flags, the 16-bit service UUID 0xFFFF, the BluFi name (ESP-IDF's blufi example advertises
  // the service and the name).
  sim::BleAdvertiser a;
  a.id = id_;
  a.addr = public_;
  a.adv_data = std::string("\x02\x01\x06\x03\x03\xff\xff", 7);
  const std::string name = blufi_name.substr(0, 31 - a.adv_data.size() - 2);
  a.adv_data += char(name.size() + 1);
  a.adv_data += '\x09';
  a.adv_data += name;
  a.interval = std::chrono::milliseconds(100);
  a.rssi = advertised_rssi();
  a.module = true;
  world_.ble.advertise(std::move(a));
}

void Ble::blufi_link(const sim::BleLink& l, sim::BleLinkEvent e) {
  if (e == sim::BleLinkEvent::Up) {
    // A new connection: sequence numbers, security and key start afresh (api-guides/blufi).
    blufi_->channel.reset();
    blufi_->dh = bf::DhDevice{};
    if (world_.observed()) world_.note(fmt::format("ble {} BluFi phone connected: {}", id_, l.peer_addr_of(id_).str()));
  } else if (e == sim::BleLinkEvent::Down && links().empty()) {
    blufi_advertise();
  }
}

bool Ble::blufi_out(int index, bf::Message m) {
  const sim::BleLink* l = link(index);
  if (!l || !blufi_) return false;
  const auto* cccd = gatt_->services[0].chars[kDeviceToPhone - 1].cccd();
  if (!cccd || cccd->value.empty() || !(cccd->value[0] & 1)) return false;  // the phone is not listening
  auto frames = blufi_->channel.encode(m, bf::max_frame_for_mtu(l->mtu));
  if (frames.empty()) return false;
  for (const auto& f : frames) world_.ble.notify(id_, index, 1, kDeviceToPhone, f, false);
  return true;
}

bool Ble::blufi_send(std::string_view data) {
  const auto all = links();
  return !all.empty() && blufi_out(all.front()->index_of(id_), bf::data_message(bf::data::Custom, std::string(data)));
}

void Ble::blufi_report(int index) {
  // The Wi-Fi connection state report (data subtype 15): the mode, the station's state, the
  // softAP's stations; the AP's BSSID and SSID when connected.
  auto& wifi = ctx_.wifi();
  bf::WifiReport r;
  r.opmode = (wifi.station_on() ? 1 : 0) | (wifi.softap_on() ? 2 : 0);
  r.softap_conn = int(wifi.softap_clients().size());
  const auto& link = wifi.link();
  if (link) {
    r.sta_state = !wifi.station_ip().ip.is_zero() ? bf::StaConnected : bf::StaNoIp;
    r.sta_bssid = link->ap.bssid.b;
    r.sta_ssid = link->ap.ssid;
  } else {
    r.sta_state = wifi.state() == StationState::Connecting ? bf::StaConnecting : bf::StaFailed;
  }
  blufi_out(index, bf::data_message(bf::data::WifiReport, bf::encode_wifi_report(r)));
}

void Ble::blufi_received(int index, std::string frame) {
  auto& b = *blufi_;
  const auto got = b.channel.receive(frame);
  if (got.ack) blufi_out(index, bf::ack_message(*got.ack));
  if (got.error) {
    blufi_out(index, bf::data_message(bf::data::Error, bf::encode_error(*got.error)));
    return;
  }
  if (!got.message) return;
  const bf::Message& m = *got.message;
  const std::string& p = m.payload;
  if (m.data) {
    switch (m.subtype) {
      case bf::data::Neg: {
        const auto step = b.dh.receive(p);
        if (step.reply) blufi_out(index, bf::data_message(bf::data::Neg, *step.reply));
        if (step.error) blufi_out(index, bf::data_message(bf::data::Error, bf::encode_error(*step.error)));
        if (b.dh.key()) b.channel.set_key(*b.dh.key());
        return;
      }
      case bf::data::StaSsid: b.station.ssid = p; return;
      case bf::data::StaPassword: b.station.password = p; return;
      case bf::data::StaBssid:
        if (p.size() == 6) {
          sim::Mac mac;
          std::copy(p.begin(), p.end(), mac.b.begin());
          b.station.bssid = mac;
        }
        return;
      case bf::data::Custom:  // 3.17, protocol-rules §0: +BLUFIDATA:<len>,<data>
        ctx_.engine().report(fmt::format("+BLUFIDATA:{},", p.size()) + p + "\r\n");
        return;
      default: return;  // softAP settings, certificates: the AT firmware provisions the station
    }
  }
  switch (m.subtype) {
    case bf::ctrl::SetOpmode:
      if (!p.empty() && p[0] >= 0 && p[0] <= 3) ctx_.wifi().set_mode(p[0], false);
      return;
    case bf::ctrl::ConnectAp: {
      auto floor = b.auth_floor;
      ctx_.wifi().provision(b.station, floor, [this, index, weak = std::weak_ptr(blufi_)](sim::JoinError) {
        if (!weak.expired()) blufi_report(index);
      });
      return;
    }
    case bf::ctrl::DisconnectAp: ctx_.wifi().disconnect(); return;
    case bf::ctrl::GetWifiStatus: blufi_report(index); return;
    case bf::ctrl::GetVersion: blufi_out(index, bf::data_message(bf::data::Version, bf::encode_version())); return;
    case bf::ctrl::DisconnectBle: disconnect(index); return;
    case bf::ctrl::GetWifiList: {
      std::vector<bf::ApRecord> aps;
      for (const sim::Ap* ap : world_.scan())
        if (!ap->ssid.empty()) aps.push_back({ap->ssid, ap->rssi});
      blufi_out(index, bf::data_message(bf::data::WifiList, bf::encode_wifi_list(aps)));
      return;
    }
    default: return;  // SetSecMode: the channel took it; ACKs; deauthenticating softAP stations
  }
}

}  // namespace espat::module
