// Spec 3.3, TCP/IP AT Commands: the family's table, in the guide's order, one file per group.
#pragma once
#include <vector>

#include "at/command.hpp"

namespace espat::commands {
at::Family tcpip_family();

std::vector<at::Command> tcpip_link_commands();    // links: CIPV6 ... CIPCLOSE, CIFSR, CIPMUX, CIPMODE, CIPDINFO, CIPTCPOPT
std::vector<at::Command> tcpip_data_commands();    // data: CIPSEND, CIPSENDEX, CIPRECVTYPE, CIPRECVDATA, CIPRECVLEN
std::vector<at::Command> tcpip_server_commands();  // CIPSERVER, CIPSERVERMAXCONN, CIPSTO
std::vector<at::Command> tcpip_name_commands();    // CIPDOMAIN, CIPDNS
std::vector<at::Command> tcpip_time_commands();    // CIPSNTPCFG, CIPSNTPTIME, CIPSNTPINTV, PING
std::vector<at::Command> tcpip_ssl_commands();     // CIPSSLCCONF, CIPSSLCCN, CIPSSLCSNI, CIPSSLCALPN, CIPSSLCPSK(HEX)
std::vector<at::Command> tcpip_ota_commands();     // CIPFWVER, CIUPDATE
}  // namespace espat::commands
