// Spec 3.4, Bluetooth LE AT Commands: GAP advertising and scanning (3.4.2-3.4.12) so far.
#pragma once
#include "at/command.hpp"

namespace espat::commands {
at::Family ble_family();
}  // namespace espat::commands
