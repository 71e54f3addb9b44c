// Spec 3.6, MQTT AT Commands.
#pragma once
#include "at/command.hpp"

namespace espat::commands {
at::Family mqtt_family();
}  // namespace espat::commands
