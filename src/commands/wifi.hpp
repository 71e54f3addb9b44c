// Spec 3.2, Wi-Fi AT Commands: the family's table, in the guide's order, one file per group.
#pragma once
#include <vector>

#include "at/command.hpp"
#include "commands/needs.hpp"

namespace espat::commands {
at::Family wifi_family();

std::vector<at::Command> wifi_station_commands();    // 3.2.2-3.2.9: CWINIT ... CWQAP
std::vector<at::Command> wifi_softap_commands();     // 3.2.10-3.2.14: CWSAP ... CWDHCPS
std::vector<at::Command> wifi_config_commands();     // 3.2.15-3.2.21: CWAUTOCONN ... CIPAP
std::vector<at::Command> wifi_provision_commands();  // 3.2.22-3.2.28: CWSTARTSMART ... CWCOUNTRY
}  // namespace espat::commands
