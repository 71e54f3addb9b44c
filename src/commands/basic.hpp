// Spec 3.1, Basic AT Commands: the family's table, in the guide's order, one file per group.
#pragma once
#include <vector>

#include "at/command.hpp"

namespace espat::commands {
at::Family basic_family();

std::vector<at::Command> system_commands();    // AT, RST, GMR, CMD, GSLP, ATE, RESTORE
std::vector<at::Command> uart_commands();      // SAVETRANSLINK, TRANSINTVL, UART_CUR/DEF, UART
std::vector<at::Command> power_commands();     // SLEEP, SYSRAM
std::vector<at::Command> messages_commands();  // SYSMSG, SYSMSGFILTER, SYSMSGFILTERCFG
std::vector<at::Command> storage_commands();   // SYSFLASH, SYSMFG
std::vector<at::Command> misc_commands();      // RFPOWER ... SYSREG
}  // namespace espat::commands
