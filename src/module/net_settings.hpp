// The TCP/IP settings kept in the runtime NVS partition, under the firmware's namespaces
// (reference esp-at-formats.md §7.3): NVM_008 AT+CIPDNS, NVM_009 AT+CIPSSLCCONF, NVM_018
// AT+CIPRECONNINTV, NVM_020 AT+CIPTCPOPT, NVM_021 AT+CIPV6. All follow AT+SYSSTORE (spec 3.16).
#pragma once
#include "flash/nvs.hpp"
#include "module/net.hpp"

namespace espat::module {

class Context;

void load_net(const flash::nvs::Storage& nvs, NetSettings& s);
bool save_dns(Context& ctx, const NetSettings& s);
bool save_ssl_conf(Context& ctx, const NetSettings& s);
bool save_reconn_interval(Context& ctx, const NetSettings& s);
bool save_tcp_options(Context& ctx, const NetSettings& s);
bool save_ipv6(Context& ctx, const NetSettings& s);

}  // namespace espat::module
