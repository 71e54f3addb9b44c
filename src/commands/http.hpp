// Spec 3.7, HTTP AT Commands.
#pragma once
#include "at/command.hpp"

namespace espat::commands {
at::Family http_family();
}  // namespace espat::commands
