// The process-wide command table: every family's rows, each joined by name with the guide's
// catalog (section, saved in flash). Built once, shared by every module of the process.
#pragma once
#include "at/command.hpp"

namespace espat::commands {
const at::Registry& command_table();
}  // namespace espat::commands
