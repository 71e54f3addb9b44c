// Spec 3.1, Basic AT Commands. Registered in the guide's order.
#pragma once
#include "at/command.hpp"
#include "module/context.hpp"

namespace espat::commands {
void register_basic(at::Registry& r, module::Context& ctx);

// One file per group of 3.1; register_basic calls them in the guide's order.
void register_system(at::Registry& r, module::Context& ctx);   // AT, RST, GMR, CMD, GSLP, ATE, RESTORE
void register_uart(at::Registry& r, module::Context& ctx);     // SAVETRANSLINK, TRANSINTVL, UART_CUR/DEF, UART
void register_power(at::Registry& r, module::Context& ctx);    // SLEEP, SYSRAM
void register_messages(at::Registry& r, module::Context& ctx); // SYSMSG, SYSMSGFILTER, SYSMSGFILTERCFG
void register_storage(at::Registry& r, module::Context& ctx);  // SYSFLASH, SYSMFG
void register_misc(at::Registry& r, module::Context& ctx);     // RFPOWER ... SYSREG
}  // namespace espat::commands
