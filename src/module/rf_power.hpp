#pragma once

namespace espat::module {
// The ESP32's Wi-Fi TX power levels (spec 3.1.20 table, 0.25 dBm units): a set value, or the
// factory max_tx_power, maps to the level at or below it.
constexpr int wifi_power_level(int set) {
  constexpr int kFrom[] = {78, 72, 66, 60, 56, 52, 44};
  for (int from : kFrom)
    if (set >= from) return from;
  return 34;  // [40,43] and below
}
// The Bluetooth LE TX power of AT+RFPOWER's <ble_adv_power> (3.1.20: 0 is 7 dBm, each step 3 dB
// less, 7 is -14 dBm).
constexpr int ble_power_dbm(int level) { return 7 - 3 * level; }
}  // namespace espat::module
