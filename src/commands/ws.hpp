// Spec 3.9, WebSocket AT Commands.
#pragma once
#include "at/command.hpp"

namespace espat::commands {
at::Family ws_family();
}  // namespace espat::commands
