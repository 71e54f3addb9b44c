// Spec 3.2, Wi-Fi AT Commands. Registered in the guide's order, one file per group.
#pragma once
#include <string>

#include "at/command.hpp"
#include "module/context.hpp"

namespace espat::commands {
void register_wifi(at::Registry& r, module::Context& ctx);

void register_wifi_station(at::Registry& r, module::Context& ctx);  // 3.2.2-3.2.9: CWINIT ... CWQAP
void register_wifi_softap(at::Registry& r, module::Context& ctx);   // 3.2.10-3.2.14: CWSAP ... CWDHCPS
void register_wifi_config(at::Registry& r, module::Context& ctx);   // 3.2.15-3.2.21: CWAUTOCONN ... CIPAP
void register_wifi_provision(at::Registry& r, module::Context& ctx);// 3.2.22-3.2.28: CWSTARTSMART ... CWCOUNTRY

// A Wi-Fi command with the driver deinitialised (AT+CWINIT=0) fails.
bool wifi_ready(module::Context& ctx);

// The ESP8266-era spellings host drivers still send (BRIEF "both dialects"): "+CWJAP_CUR"
// sets without saving, "+CWJAP_DEF" sets and saves; the guide's name follows AT+SYSSTORE.
std::vector<std::string> cur_def(const std::string& name);
// Runs save() as the spelling the host typed asks: never (_CUR), always (_DEF), or as
// AT+SYSSTORE says.
bool persist(module::Context& ctx, const at::Call& c, const std::function<bool()>& save);
}  // namespace espat::commands
