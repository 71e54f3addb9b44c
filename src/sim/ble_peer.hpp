// The Bluetooth LE peers of the world (issue 11; README "Bluetooth LE", "World peers"): what the
// world file's [[ble_peer]] tables and the control API's /ble/peers declare besides the modules.
// A beacon advertises; a peripheral advertises and serves GATT (a heart-rate sensor notifying at
// an interval, its writes recorded); a central (a phone) connects, discovers, reads, writes,
// subscribes and pairs when told; an HID host connects by itself to a module advertising the HID
// service, pairs, subscribes to its input reports and records them. Pure: what takes time is
// handed to the medium's scheduler (BleMedium::after).
#pragma once
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/ble.hpp"
#include "sim/gatt.hpp"

namespace espat::sim {

enum class BlePeerRole { Beacon, Peripheral, Central, HidHost };
const char* role_name(BlePeerRole r);  // "beacon", "peripheral", "central", "hid_host"
std::optional<BlePeerRole> role_from_name(std::string_view name);

struct BlePeerChar {
  std::string uuid;  // upper-case hex, 4 or 32 digits
  int props = gatt_prop::read;
  std::string value;  // raw bytes
  int notify_ms = 0;  // > 0: the value is notified (or indicated) to subscribers at this interval
};

struct BlePeerService {
  std::string uuid;
  std::vector<BlePeerChar> chars;
};

struct BlePeerSpec {
  BleAdvertiser adv;  // its id and address always; what it advertises (beacon, peripheral)
  BlePeerRole role = BlePeerRole::Beacon;
  std::vector<BlePeerService> services;  // a peripheral's GATT server
  BleSecParams sec;                      // its pairing parameters (defaults by role)
};

// The pairing parameters a peer of each role has unless told: a phone displays and types, bonds
// and asks for MITM protection (LightBlue, guide example 4.3.7); the others are Just Works.
BleSecParams default_security(BlePeerRole role);

// What a peer saw, for GET /ble/peers/{id}/events. kind: "connected", "disconnected", "write"
// (its server was written), "read", "notify", "indicate" (its client received), "hid" (an HID
// input report: `report` names it), "passkey" (the key it displays), "key_request",
// "paired" (ok), "pairing_failed"; BluFi: "blufi_negotiated", "blufi_report" (report: the
// station's state, ssid), "blufi_data" (custom data), "blufi_error".
struct BlePeerEvent {
  std::string kind;
  int conn_index = 0;
  std::string peer;  // the other end's address
  std::string service, characteristic, report, ssid;
  std::string value;  // raw bytes
  int key = 0;
  int reason = 0;  // "disconnected": the HCI reason (0x08 timeout, 0x13 by the peer, 0x16 by this end)
};

class BlePeer : public BleHost {
 public:
  BlePeer(BleMedium& medium, BlePeerSpec spec);
  ~BlePeer() override;  // stops advertising; its links end
  BlePeer(const BlePeer&) = delete;
  BlePeer& operator=(const BlePeer&) = delete;

  const BlePeerSpec& spec() const { return spec_; }
  const std::string& id() const { return spec_.adv.id; }
  std::vector<const BleLink*> links() const { return medium_.links_of(id()); }

  // As a central (the control API's actions). Services and characteristics are named by UUID
  // ("A002"), the first match as the client discovers them; `desc` "" for the value. Each
  // returns false (or nullopt) with `why` filled.
  const BleLink* connect(Mac target, std::string& why);
  bool disconnect(int index, std::string& why);
  std::optional<std::vector<GattService>> discover(int index, std::string& why);
  std::optional<std::string> read(int index, std::string_view srv, std::string_view chr, std::string_view desc,
                                  std::string& why);
  bool write(int index, std::string_view srv, std::string_view chr, std::string_view desc, std::string_view value,
             std::string& why);
  // Writes the characteristic's CCCD: 01 00 (notifications) or 02 00 (indications).
  bool subscribe(int index, std::string_view srv, std::string_view chr, bool indicate, std::string& why);
  bool pair(int index, std::string& why);              // asks the peripheral for security
  bool passkey(int index, int key, std::string& why);  // types the key the module shows
  // BluFi (a central; sim/ble_peer_blufi.cpp), as Espressif's EspBlufi app provisions a device
  // on link `index`: it subscribes to 0xFF02, negotiates the key (DH), sets the security mode
  // (data frames checksummed and encrypted, control frames checksummed), sends station mode, the
  // SSID and the password, and asks to connect; the device's Wi-Fi report comes as a
  // "blufi_report" event. blufi_send: custom data (the module prints +BLUFIDATA).
  bool blufi_provision(int index, std::string ssid, std::string password, std::string& why);
  bool blufi_send(int index, std::string data, std::string& why);

  // As a peripheral: sets the characteristic's value and notifies (or indicates) every link
  // whose client enabled it. false: no such characteristic.
  bool notify(std::string_view srv, std::string_view chr, std::string_view value, bool indicate);

  const std::deque<BlePeerEvent>& events() const { return events_; }
  static constexpr std::size_t kMaxEvents = 1000;  // the oldest go first

  // BleHost
  GattDb* gatt_db() override { return db_ ? &*db_ : nullptr; }
  std::string device_name() const override;
  void gatt_read(const BleLink& l) override;
  void gatt_written(const BleLink& l, int srv, int chr, int desc, std::string_view value) override;
  void gatt_notified(const BleLink& l, int srv, int chr, std::string_view value, bool indication) override;
  BleSecParams security() const override { return spec_.sec; }
  bool bonded_with(Mac peer) const override { return bonds_.count(peer.str()) > 0; }
  void smp(const BleLink& l, const SmpEvent& e) override;

 private:
  void record(BlePeerEvent e);
  void on_link(const BleLink& l, BleLinkEvent e);
  void advertise_if_idle();
  void look_for_hid_device();  // an HID host with no link: connect to a module offering 0x1812
  void hid_subscribe(int index);
  void schedule_notifications();
  BlePeerEvent event(const char* kind, const BleLink& l) const;
  struct Blufi;
  std::shared_ptr<Blufi> blufi_;
  bool blufi_out(int index, bool data, int subtype, std::string payload);
  void blufi_frame(int index, std::string frame);
  bool is_blufi_frame(int srv, int chr) const;  // a notification on the BluFi session's 0xFF02
  BleMedium& medium_;
  BlePeerSpec spec_;
  std::optional<GattDb> db_;
  std::deque<BlePeerEvent> events_;
  std::set<std::string> bonds_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // scheduled work checks it
};

// True when advertising data lists the 16-bit service UUID `uuid16` (AD types 0x02, 0x03).
bool adv_lists_uuid16(std::string_view adv_data, unsigned uuid16);

}  // namespace espat::sim
