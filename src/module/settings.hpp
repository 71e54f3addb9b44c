// The settings kept in the runtime NVS partition, under the namespaces and keys the ESP-AT
// firmware uses (reference esp-at-formats.md §7.2-7.3).
#pragma once
#include <string_view>

#include "module/context.hpp"

namespace espat::module {

// Namespace "UART" (open-source at_uart_cmd.c): always saved (spec 3.16).
bool save_uart_def(Context& ctx, const transport::LineConfig& cfg);
// The stored UART_DEF, or nullopt when the namespace is absent or out of range.
std::optional<transport::LineConfig> load_uart_def(const flash::nvs::Storage& nvs);

// NVM_005, AT+SAVETRANSLINK: always saved (spec 3.16).
bool save_translink(Context& ctx, const TransLink& t);
TransLink load_translink(const flash::nvs::Storage& nvs);

// NVM_012 "s_msg", AT+SYSMSG: saved when AT+SYSSTORE=1.
bool save_sysmsg(Context& ctx, int value);
int load_sysmsg(const flash::nvs::Storage& nvs);

// "aa:bb:cc:dd:ee:ff"
bool valid_mac_text(std::string_view s);

}  // namespace espat::module
