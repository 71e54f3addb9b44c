// The preconditions a row can declare (at::Command::needs): one bit each, checked by the
// predicate of the row's family before its handler runs. A failed one answers ERROR.
#pragma once
#include "at/command.hpp"

namespace espat::commands::need {
inline constexpr at::Needs wifi = 1u << 0;     // the Wi-Fi driver initialised (AT+CWINIT=1, spec 3.2.2)
inline constexpr at::Needs station = 1u << 1;  // station mode on (AT+CWMODE=1 or 3), Wi-Fi initialised
inline constexpr at::Needs softap = 1u << 2;   // softAP mode on (AT+CWMODE=2 or 3), Wi-Fi initialised
inline constexpr at::Needs ble = 1u << 3;         // Bluetooth LE initialised (AT+BLEINIT=1 or 2, spec 3.4.2)
inline constexpr at::Needs ble_client = 1u << 4;  // initialised as client (AT+BLEINIT=1)
inline constexpr at::Needs ble_server = 1u << 5;  // initialised as server (AT+BLEINIT=2)
}  // namespace espat::commands::need
