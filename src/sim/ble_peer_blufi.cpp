// A world central provisioning a device by BluFi (sim/ble_peer.hpp), the steps of ESP-IDF's
// api-guides/blufi "BluFi Flow" as the EspBlufi app takes them; the frames are sim/blufi.hpp's.
#include <memory>

#include "sim/ble_peer.hpp"
#include "sim/blufi.hpp"
#include "sim/blufi_dh.hpp"
#include "sim/blufi_payload.hpp"

namespace espat::sim {

namespace bf = blufi;
using namespace std::chrono_literals;

struct BlePeer::Blufi {
  bf::Channel channel{false};
  std::unique_ptr<bf::DhPhone> dh;
  int srv = 0, to_device = 0, from_device = 0;  // client indexes of 0xFFFF, 0xFF01, 0xFF02
  std::string ssid, password;
  bool provision = false;  // after the key: send the station's configuration and connect
};

namespace {
// Data frames checksummed and encrypted, control frames checksummed (the app's default).
constexpr int kSecurity = bf::kSecDataChecksum | bf::kSecDataEncrypted | bf::kSecCtrlChecksum;

const char* sta_state_name(int s) {
  switch (s) {
    case bf::StaConnected: return "connected";
    case bf::StaFailed: return "failed";
    case bf::StaConnecting: return "connecting";
    case bf::StaNoIp: return "no_ip";
  }
  return "unknown";
}
}  // namespace

bool BlePeer::is_blufi_frame(int srv, int chr) const {
  return blufi_ && srv == blufi_->srv && chr == blufi_->from_device;
}

bool BlePeer::blufi_out(int index, bool data, int subtype, std::string payload) {
  const BleLink* l = medium_.link(id(), index);
  if (!l || !blufi_) return false;
  bf::Message m = data ? bf::data_message(subtype, std::move(payload)) : bf::ctrl_message(subtype, std::move(payload));
  for (const auto& f : blufi_->channel.encode(m, bf::max_frame_for_mtu(l->mtu)))
    if (!medium_.write(id(), index, blufi_->srv, blufi_->to_device, 0, f)) return false;
  return true;
}

bool BlePeer::blufi_provision(int index, std::string ssid, std::string password, std::string& why) {
  auto view = discover(index, why);
  if (!view) return false;
  auto b = std::make_shared<Blufi>();
  for (std::size_t s = 0; s < view->size(); ++s) {
    if ((*view)[s].uuid != "FFFF") continue;
    b->srv = int(s) + 1;
    for (std::size_t c = 0; c < (*view)[s].chars.size(); ++c) {
      if ((*view)[s].chars[c].uuid == "FF01") b->to_device = int(c) + 1;
      if ((*view)[s].chars[c].uuid == "FF02") b->from_device = int(c) + 1;
    }
  }
  if (!b->to_device || !b->from_device) {
    why = "the device serves no BluFi service (0xFFFF with 0xFF01 and 0xFF02): AT+BLUFI=1 first";
    return false;
  }
  b->dh = std::make_unique<bf::DhPhone>();
  b->ssid = std::move(ssid);
  b->password = std::move(password);
  b->provision = true;
  blufi_ = b;
  if (!subscribe(index, "FFFF", "FF02", false, why)) return false;
  // The negotiation: the parameters' length, then p, g and the phone's public key.
  if (!blufi_out(index, true, bf::data::Neg, b->dh->param_len_message()) ||
      !blufi_out(index, true, bf::data::Neg, b->dh->param_data_message())) {
    why = "the device did not take the negotiation frames";
    return false;
  }
  return true;
}

bool BlePeer::blufi_send(int index, std::string data, std::string& why) {
  if (!blufi_ || !medium_.link(id(), index)) {
    why = "no BluFi session on connection " + std::to_string(index) + " (POST .../blufi first)";
    return false;
  }
  if (blufi_out(index, true, bf::data::Custom, std::move(data))) return true;
  why = "the device did not take the frames";
  return false;
}

void BlePeer::blufi_frame(int index, std::string frame) {
  const BleLink* l = medium_.link(id(), index);
  if (!blufi_ || !l) return;
  auto& b = *blufi_;
  const auto got = b.channel.receive(frame);
  if (got.ack) blufi_out(index, false, bf::ctrl::Ack, std::string(1, char(*got.ack)));
  BlePeerEvent e = event("blufi_error", *l);
  if (got.error) {
    e.value = bf::encode_error(*got.error);
    record(std::move(e));
    return;
  }
  if (!got.message || !got.message->data) return;
  const bf::Message& m = *got.message;
  e.value = m.payload;
  switch (m.subtype) {
    case bf::data::Neg:
      if (!b.dh || !b.dh->receive(m.payload) || !b.dh->key()) {
        record(std::move(e));
        return;
      }
      b.channel.set_key(*b.dh->key());
      e.kind = "blufi_negotiated";
      e.value.clear();
      record(std::move(e));
      blufi_out(index, false, bf::ctrl::SetSecMode, std::string(1, char(kSecurity)));
      b.channel.set_security(kSecurity);
      if (b.provision) {
        b.provision = false;
        blufi_out(index, false, bf::ctrl::SetOpmode, std::string(1, '\x01'));  // station
        blufi_out(index, true, bf::data::StaSsid, b.ssid);
        blufi_out(index, true, bf::data::StaPassword, b.password);
        blufi_out(index, false, bf::ctrl::ConnectAp, {});
      }
      return;
    case bf::data::WifiReport:
      e.kind = "blufi_report";
      if (auto r = bf::parse_wifi_report(m.payload)) {
        e.report = sta_state_name(r->sta_state);
        e.ssid = r->sta_ssid.value_or("");
      }
      record(std::move(e));
      return;
    case bf::data::Custom: e.kind = "blufi_data"; break;
    case bf::data::Version: e.kind = "blufi_version"; break;
    case bf::data::WifiList: e.kind = "blufi_wifi_list"; break;
    case bf::data::Error: break;
    default: return;
  }
  record(std::move(e));
}

}  // namespace espat::sim
