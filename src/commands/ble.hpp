// Spec 3.4, Bluetooth LE AT Commands: GAP (3.4.2-3.4.17, ble.cpp), GATT (3.4.18-3.4.30,
// ble_gatt.cpp) SPP (3.4.31-3.4.32, ble_spp.cpp)
// security (3.4.33-3.4.40, ble_sec.cpp), HID (3.4.41-3.4.44, ble_hid.cpp) and BluFi (3.4.45-3.4.47,
// ble_blufi.cpp).
#pragma once
#include "at/command.hpp"

namespace espat::module {
class Context;
}

namespace espat::commands {
at::Family ble_family();
std::vector<at::Command> ble_gatt_commands();  // its rows 3.4.18-3.4.30
std::vector<at::Command> ble_spp_commands();   // its rows 3.4.31-3.4.32
std::vector<at::Command> ble_sec_commands();   // its rows 3.4.33-3.4.40
std::vector<at::Command> ble_hid_commands();   // its rows 3.4.41-3.4.44
std::vector<at::Command> ble_blufi_commands(); // its rows 3.4.45-3.4.47
// Bluetooth LE is initialised (AT+BLEINIT=1 or 2): AT+SLEEP=0 and AT+CIPMODE=1 are then refused
// (protocol-rules §10, spec 3.4.2 notes).
bool ble_initialized(module::Context& ctx);
}  // namespace espat::commands
