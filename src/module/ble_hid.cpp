// The module as a Bluetooth LE HID device (spec 3.4.41-3.4.44; README "Bluetooth LE", HID):
// HID over GATT with a keyboard, a mouse and a consumer control. AT+BLEHIDINIT=1 serves the HID,
// battery and device information services and advertises them; a host connects and pairs (Just
// Works, accepted without a message) and enables the input reports; AT+BLEHIDKB, BLEHIDMUS and
// BLEHIDCONSUMER notify them.
#include <fmt/format.h>

#include "module/ble.hpp"
#include "module/context.hpp"

namespace espat::module {

namespace {

// The report map, written from the USB HID Usage Tables 1.12: report 1 a mouse (3 buttons, X,
// Y, wheel), 2 a boot-style keyboard (modifiers, reserved, 6 keys; 5 LEDs out), 3 a consumer
// control carrying one 16-bit usage ID.
const unsigned char kReportMap[] = {
    0x05, 0x01, 0x09, 0x02, 0xA1, 0x01, 0x85, 0x01,              // Generic Desktop, Mouse, Application, ID 1
    0x09, 0x01, 0xA1, 0x00,                                      // Pointer, Physical
    0x05, 0x09, 0x19, 0x01, 0x29, 0x03, 0x15, 0x00, 0x25, 0x01,  // Buttons 1-3, 0..1
    0x95, 0x03, 0x75, 0x01, 0x81, 0x02,                          // 3 x 1 bit, Input (Data, Var, Abs)
    0x95, 0x01, 0x75, 0x05, 0x81, 0x03,                          // 5 bits padding
    0x05, 0x01, 0x09, 0x30, 0x09, 0x31, 0x09, 0x38,              // X, Y, Wheel
    0x15, 0x81, 0x25, 0x7F, 0x75, 0x08, 0x95, 0x03, 0x81, 0x06,  // -127..127, 3 x 8 bits, Input (Rel)
    0xC0, 0xC0,
    0x05, 0x01, 0x09, 0x06, 0xA1, 0x01, 0x85, 0x02,              // Keyboard, Application, ID 2
    0x05, 0x07, 0x19, 0xE0, 0x29, 0xE7, 0x15, 0x00, 0x25, 0x01,  // modifiers LeftControl..RightGUI
    0x75, 0x01, 0x95, 0x08, 0x81, 0x02,                          // 8 x 1 bit
    0x95, 0x01, 0x75, 0x08, 0x81, 0x01,                          // reserved byte
    0x95, 0x05, 0x75, 0x01, 0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02,  // 5 LEDs, Output
    0x95, 0x01, 0x75, 0x03, 0x91, 0x01,                          // 3 bits padding
    0x95, 0x06, 0x75, 0x08, 0x15, 0x00, 0x26, 0xFF, 0x00,        // 6 keys, 0..255
    0x05, 0x07, 0x19, 0x00, 0x29, 0xFF, 0x81, 0x00,              // Keyboard page, Input (Array)
    0xC0,
    0x05, 0x0C, 0x09, 0x01, 0xA1, 0x01, 0x85, 0x03,              // Consumer, Consumer Control, ID 3
    0x15, 0x00, 0x27, 0xFF, 0xFF, 0x00, 0x00,                    // 0..65535
    0x19, 0x00, 0x2A, 0xFF, 0xFF, 0x75, 0x10, 0x95, 0x01, 0x81, 0x00,  // one 16-bit usage, Input (Array)
    0xC0,
};

std::string bytes(std::initializer_list<int> b) {
  std::string out;
  for (int v : b) out.push_back(char(v));
  return out;
}

sim::GattDesc cccd() { return {"2902", sim::gatt_perm::read | sim::gatt_perm::write, 2, std::string(2, '\0')}; }
sim::GattDesc report_ref(int id, int type) { return {"2908", sim::gatt_perm::read, 2, bytes({id, type})}; }

// The services of the HID profile (HID Service 1.0; Bluetooth assigned numbers), all started.
sim::GattDb hid_services() {
  using namespace sim::gatt_prop;
  const int rw = sim::gatt_perm::read | sim::gatt_perm::write, r = sim::gatt_perm::read;
  sim::GattService hid{"1812", true, true, {}, {}};
  hid.chars = {
      {"2A4A", read, r, 4, bytes({0x11, 0x01, 0x00, 0x02}), {}},  // HID Information: 1.11, normally connectable
      {"2A4B", read, r, 512, std::string(reinterpret_cast<const char*>(kReportMap), sizeof kReportMap), {}},
      {"2A4C", write_nr, rw, 1, bytes({0}), {}},  // HID Control Point
      {"2A4E", read | write_nr, rw, 1, bytes({1}), {}},  // Protocol Mode: report
      {"2A4D", read | notify, r, 4, std::string(4, '\0'), {cccd(), report_ref(1, 1)}},  // mouse input
      {"2A4D", read | notify, r, 8, std::string(8, '\0'), {cccd(), report_ref(2, 1)}},  // keyboard input
      {"2A4D", read | write | write_nr, rw, 1, bytes({0}), {report_ref(2, 2)}},  // keyboard LEDs output
      {"2A4D", read | notify, r, 2, std::string(2, '\0'), {cccd(), report_ref(3, 1)}},  // consumer input
  };
  sim::GattService battery{"180F", true, true, {}, {{"2A19", read | notify, r, 1, bytes({100}), {cccd()}}}};
  // PnP ID: vendor ID source 2 (USB-IF), Espressif's 0x303A, product 0x0001, version 0x0100.
  sim::GattService info{"180A", true, true, {}, {{"2A50", read, r, 7, bytes({2, 0x3A, 0x30, 1, 0, 0, 1}), {}}}};
  return sim::GattDb{{hid, battery, info}};
}

constexpr int kInputChar[] = {0, 5, 6, 8};  // the characteristic of input report 1, 2, 3
}  // namespace

bool Ble::hid_init() {
  if (s_.role != 0 || blufi_) return false;
  if (hid_) return true;
  hid_ = true;
  gatt_ = hid_services();
  s_.sec = sim::BleSecParams{};  // bonding, no input, no output
  s_.sec.auth_req = 1;
  hid_advertise();
  return true;
}

void Ble::hid_deinit() {
  if (!hid_) return;
  drop_links();
  world_.ble.stop(id_);
  gatt_.reset();
  hid_ = false;
  s_.sec = sim::BleSecParams{};
}

void Ble::hid_advertise() {
  // Flags, Appearance 0x03C0 (generic HID), the HID service UUID, the device name.
  sim::BleAdvertiser a;
  a.id = id_;
  a.addr = public_;
  a.adv_data = bytes({2, 0x01, 0x06, 3, 0x19, 0xC0, 0x03, 3, 0x03, 0x12, 0x18});
  const std::string name = s_.name.substr(0, 31 - a.adv_data.size() - 2);
  a.adv_data += char(name.size() + 1);
  a.adv_data += '\x09';
  a.adv_data += name;
  a.interval = std::chrono::milliseconds(20);  // the HID demo's fast advertising
  a.rssi = advertised_rssi();
  a.module = true;
  world_.ble.advertise(std::move(a));
}

void Ble::hid_link(const sim::BleLink& l, sim::BleLinkEvent e) {
  if (e != sim::BleLinkEvent::Up && e != sim::BleLinkEvent::Down) return;
  const bool up = e == sim::BleLinkEvent::Up;
  if (world_.observed())
    world_.note(fmt::format("ble {} HID {} {}", id_, up ? "host connected:" : "host disconnected:", l.peer_addr_of(id_).str()));
  if (!up && links().empty()) hid_advertise();  // ready for the host to come back
}

int Ble::hid_host() const {
  for (const sim::BleLink* l : links())
    if (l->encrypted) return l->index_of(id_);
  return -1;
}

bool Ble::hid_send(int report_id, std::string_view report) {
  const int index = hid_host();
  if (!hid_ || index < 0 || report_id < 1 || report_id > 3) return false;
  const auto& c = gatt_->services[0].chars[std::size_t(kInputChar[report_id]) - 1];
  const auto* enabled = c.cccd();
  if (!enabled || enabled->value.empty() || !(enabled->value[0] & 1)) return false;
  return world_.ble.notify(id_, index, 1, kInputChar[report_id], report, false);
}

}  // namespace espat::module
